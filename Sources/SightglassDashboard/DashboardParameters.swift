import Foundation
import Hummingbird
import SightglassStore

/// Query parameters of a `/dashboard/*` route: unknown names and bad values are refused with
/// 400 naming the parameter, so a typo is never silently ignored.
struct DashboardParameters {
    let values: [String: String]
    let now: Double

    /// `access_token` is the credential of clients that cannot send headers; every route accepts it.
    init(_ request: Request, known: Set<String>, now: Double = Date().timeIntervalSince1970) throws(LedgerQueryError) {
        var q: [String: String] = [:]
        for (k, v) in request.uri.queryParameters { q[String(k)] = String(v) }
        q["access_token"] = nil
        for k in q.keys.sorted() where !known.contains(k) {
            let list = known.isEmpty ? "this route takes none" : "known: \(known.sorted().joined(separator: ", "))"
            throw LedgerQueryError(field: k, message: "unknown parameter '\(k)'; \(list)")
        }
        values = q
        self.now = now
    }

    subscript(_ name: String) -> String? {
        values[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// `since` as `1h`, `30m`, `1d`, ISO 8601 or epoch seconds; `fallback` seconds back when absent.
    func since(fallback: Double?) throws(LedgerQueryError) -> Double? {
        guard let v = self["since"] else { return fallback.map { now - $0 } }
        let t = try TimeParameter.parse(v, field: "since", now: now)
        guard t <= now + 60 else { throw LedgerQueryError(field: "since", message: "since is in the future") }
        return t
    }

    func limit(fallback: Int = 100, max: Int = 1_000) throws(LedgerQueryError) -> Int {
        guard let v = values["limit"] else { return fallback }
        guard let n = Int(v), n >= 1, n <= max else {
            throw LedgerQueryError(field: "limit", message: "limit must be an integer from 1 to \(max)")
        }
        return n
    }

    /// One of `allowed`, or nil when absent.
    func choice(_ name: String, _ allowed: [String]) throws(LedgerQueryError) -> String? {
        guard let v = values[name] else { return nil }
        guard allowed.contains(v.lowercased()) else {
            throw LedgerQueryError(field: name, message: "\(name) must be one of \(allowed.joined(separator: ", "))")
        }
        return v.lowercased()
    }
}

/// Units the dashboard JSON uses: sizes from bytes, durations from seconds, two decimals.
enum Units {
    static func gb(_ bytes: Double) -> Double { round2(bytes / 1_073_741_824) }
    static func mb(_ bytes: Double) -> Double { round2(bytes / 1_048_576) }
    static func round2(_ v: Double) -> Double { (v * 100).rounded() / 100 }
    static func ms(_ seconds: Double) -> Double { (seconds * 1e6).rounded() / 1000 }
}
