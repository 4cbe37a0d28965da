import Foundation
import SightglassConfig
import SightglassTelemetry

/// Removes secrets from captured bodies before they are stored: the values of the configured
/// JSON keys (at any depth, string values) and every match of the configured patterns become
/// `[REDACTED]`. Works on text, so a body cut at the size cap is redacted as far as it goes.
/// Runs on the ledger writer's thread, never on the request path.
public final class BodyRedactor: @unchecked Sendable {  // immutable; NSRegularExpression matching is thread-safe
    let keyValue: NSRegularExpression?
    let patterns: [NSRegularExpression]
    public static let mark = "[REDACTED]"

    public init(_ settings: LedgerSettings.Bodies) {
        let keys = settings.redactKeys.filter { !$0.isEmpty }.map(NSRegularExpression.escapedPattern(for:))
        keyValue =
            keys.isEmpty
            ? nil
            : try? NSRegularExpression(pattern: #"("(?:"# + keys.joined(separator: "|") + #")"\s*:\s*)"(?:[^"\\]|\\.)*"?"#, options: [.caseInsensitive])
        patterns = settings.redactPatterns.compactMap { try? NSRegularExpression(pattern: $0) }
    }

    public func redact(_ text: String) -> String {
        var out = text
        if let keyValue {
            out = keyValue.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: "$1\"\(Self.mark)\"")
        }
        for p in patterns {
            out = p.stringByReplacingMatches(
                in: out, range: NSRange(out.startIndex..., in: out),
                withTemplate: NSRegularExpression.escapedTemplate(for: Self.mark))
        }
        return out
    }

    /// The event with its captured bodies redacted (as UTF-8 text).
    func redacted(_ e: RequestEvent) -> RequestEvent {
        guard let b = e.bodies else { return e }
        var copy = e
        copy.bodies = CapturedBodies(
            request: Array(redact(String(decoding: b.request, as: UTF8.self)).utf8), requestTruncated: b.requestTruncated,
            response: Array(redact(String(decoding: b.response, as: UTF8.self)).utf8), responseTruncated: b.responseTruncated)
        return copy
    }
}

/// Bodies as the ledger returns them.
public struct StoredBodies: Sendable, Equatable {
    public var request: String
    public var requestTruncated: Bool
    public var response: String
    public var responseTruncated: Bool
}
