import Foundation

/// A bad query parameter, named so the API can say which one.
public struct LedgerQueryError: Error, Sendable {
    public var field: String
    public var message: String
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// Which requests `GET /api/requests` (and the export) return.
public struct RequestFilter: Sendable {
    public var model: String?
    public var backend: String?
    public var route: String?
    /// An exact status, or a class as its first digit (4 for "4xx").
    public var status: Int?
    public var statusClass: Int?
    public var errorType: String?
    public var user: String?
    public var apiKeyId: String?
    public var projectId: String?
    /// Seconds since 1970.
    public var since: Double?
    public var until: Double?
    public var minLatencyMs: Double?
    /// Text the request id contains.
    public var idSearch: String?
    /// Continue after this cursor (from a previous page's `next_cursor`).
    public var cursor: (ts: Int64, seq: Int64)?
    public var limit = 100
    /// Only failed requests (walks the partial error index).
    public var onlyErrors = false

    public init() {}

    public static let maxLimit = 1000

    /// Parses the query parameters of the list and export routes.
    public static func parse(_ q: [String: String], now: Double = Date().timeIntervalSince1970) throws(LedgerQueryError) -> RequestFilter {
        var f = RequestFilter()
        f.model = q["model"]
        f.backend = q["backend"]
        f.route = q["route"]
        f.errorType = q["error_type"]
        f.user = q["user"]
        f.apiKeyId = q["api_key_id"]
        f.projectId = q["project_id"]
        f.idSearch = q["q"] ?? q["id"]
        if let s = q["status"] {
            let lower = s.lowercased()
            if lower.count == 3, lower.hasSuffix("xx"), let d = Int(lower.prefix(1)), (1...5).contains(d) {
                f.statusClass = d
            } else if let n = Int(s), (100...599).contains(n) {
                f.status = n
            } else {
                throw LedgerQueryError(field: "status", message: "status must be a code like 404 or a class like 5xx")
            }
        }
        if let s = q["status_class"] {
            let lower = s.lowercased().replacingOccurrences(of: "xx", with: "")
            guard let d = Int(lower), (1...5).contains(d) else {
                throw LedgerQueryError(field: "status_class", message: "status_class must be one of 1xx, 2xx, 3xx, 4xx, 5xx")
            }
            f.statusClass = d
        }
        f.since = try q["since"].map { v throws(LedgerQueryError) in try TimeParameter.parse(v, field: "since", now: now) }
        f.until = try q["until"].map { v throws(LedgerQueryError) in try TimeParameter.parse(v, field: "until", now: now) }
        if let s = f.since, let u = f.until, u <= s {
            throw LedgerQueryError(field: "until", message: "until must be later than since")
        }
        if let v = q["min_latency_ms"] {
            guard let ms = Double(v), ms >= 0, ms.isFinite else {
                throw LedgerQueryError(field: "min_latency_ms", message: "min_latency_ms must be a non-negative number")
            }
            f.minLatencyMs = ms
        }
        if let v = q["limit"] {
            guard let n = Int(v), n >= 1, n <= maxLimit else {
                throw LedgerQueryError(field: "limit", message: "limit must be an integer from 1 to \(maxLimit)")
            }
            f.limit = n
        }
        if let v = q["cursor"] {
            let parts = v.split(separator: "_")
            guard parts.count == 2, let ts = Int64(parts[0]), let seq = Int64(parts[1]) else {
                throw LedgerQueryError(field: "cursor", message: "cursor must be a next_cursor value from a previous page")
            }
            f.cursor = (ts, seq)
        }
        return f
    }
}

/// Times in query parameters: ISO 8601, seconds since 1970, or relative to now (`15m`, `24h`, `7d`).
public enum TimeParameter {
    public static func parse(_ value: String, field: String, now: Double) throws(LedgerQueryError) -> Double {
        let v = value.trimmingCharacters(in: .whitespaces)
        if let last = v.last, let n = Double(v.dropLast()), n >= 0, n.isFinite {
            let unit: Double? =
                switch last {
                case "s": 1
                case "m": 60
                case "h": 3600
                case "d": 86400
                case "w": 604800
                default: nil
                }
            if let unit { return now - n * unit }
        }
        if let epoch = Double(v), epoch.isFinite, epoch > 0 { return epoch }
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = iso.date(from: v) { return d.timeIntervalSince1970 }
        iso.formatOptions = [.withInternetDateTime]
        if let d = iso.date(from: v) { return d.timeIntervalSince1970 }
        throw LedgerQueryError(field: field, message: "\(field) must be ISO 8601 (2026-11-23T10:00:00Z), seconds since 1970, or relative like 15m, 24h, 7d")
    }
}
