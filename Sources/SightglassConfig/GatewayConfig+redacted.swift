import Foundation
import Yams

extension GatewayConfig {
    /// What stands in for a secret wherever the configuration is shown.
    public static let redactedMark = "[REDACTED]"

    /// A copy that is safe to print, log or serve: upstream API keys, dashboard keys, the JWT
    /// secret and a PostgreSQL password are replaced by `[REDACTED]`.
    public var redacted: GatewayConfig {
        var c = self
        for i in c.backends.indices where c.backends[i].apiKey != nil { c.backends[i].apiKey = Self.redactedMark }
        for i in c.dashboard.auth.apiKeys.indices where c.dashboard.auth.apiKeys[i].key != nil {
            c.dashboard.auth.apiKeys[i].key = Self.redactedMark
        }
        if c.dashboard.auth.jwt?.hs256Secret != nil { c.dashboard.auth.jwt?.hs256Secret = Self.redactedMark }
        c.ledger.path = c.ledger.path.map(LedgerSettings.redacted)
        return c
    }

    /// The effective configuration as YAML under the file's own key names, defaults included,
    /// secrets redacted: what `sightglass config check` prints. Loading it gives the same settings.
    public func effectiveYAML() throws -> String {
        let text = try YAMLEncoder().encode(redacted)
        guard let node = try Yams.compose(yaml: text) else { return text }
        return try Yams.serialize(node: Self.plainNumbers(node))
    }

    /// Yams writes doubles in exponent form (`1e+1`); people write `10` and `0.15`.
    static func plainNumbers(_ node: Node) -> Node {
        switch node {
        case .scalar(var s):
            if s.style == .plain, s.string.contains("e"), let d = Double(s.string), d.isFinite {
                s.string = d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
            }
            return .scalar(s)
        case .mapping(var m):
            for i in m.indices { m[i].value = plainNumbers(m[i].value) }
            return .mapping(m)
        case .sequence(var q):
            for i in q.indices { q[i] = plainNumbers(q[i]) }
            return .sequence(q)
        case .alias:
            return node
        }
    }
}

extension LedgerSettings {
    /// A ledger location fit to show: a PostgreSQL URL's password replaced.
    public static func redacted(_ location: String) -> String {
        guard location.hasPrefix("postgres://") || location.hasPrefix("postgresql://"),
            var parts = URLComponents(string: location), parts.password != nil
        else { return location }
        parts.password = "REDACTED"
        return parts.string ?? location
    }
}
