import Foundation
import Yams

extension GatewayConfig {
    /// What stands in for a secret wherever the configuration is shown.
    public static let redactedMark = "[REDACTED]"

    /// A copy that is safe to print, log or serve: `mark` replaces upstream API keys, dashboard
    /// keys and the JWT secret, and every password in a URL becomes `REDACTED`. `hidingDigests`
    /// also replaces the dashboard keys' SHA-256 digests (the control plane serves the
    /// configuration without them; `config check` keeps them so that its output loads back).
    public func redacted(mark: String = redactedMark, hidingDigests: Bool = false) -> GatewayConfig {
        var c = self
        for i in c.backends.indices {
            c.backends[i].url = Self.withoutPassword(c.backends[i].url)
            c.backends[i].apiKey = c.backends[i].apiKey.map { _ in mark }
        }
        for i in c.dashboard.auth.apiKeys.indices {
            c.dashboard.auth.apiKeys[i].key = c.dashboard.auth.apiKeys[i].key.map { _ in mark }
            if hidingDigests { c.dashboard.auth.apiKeys[i].sha256 = c.dashboard.auth.apiKeys[i].sha256.map { _ in mark } }
        }
        if var jwt = c.dashboard.auth.jwt {
            jwt.hs256Secret = jwt.hs256Secret.map { _ in mark }
            jwt.issuer = jwt.issuer.map(Self.withoutPassword)
            jwt.audience = jwt.audience.map(Self.withoutPassword)
            c.dashboard.auth.jwt = jwt
        }
        if let url = c.dashboard.alerts.webhook?.url { c.dashboard.alerts.webhook?.url = Self.withoutPassword(url) }
        c.ledger.path = c.ledger.path.map(Self.withoutPassword)
        return c
    }

    /// `url` with its password, if it has one, replaced by `REDACTED` (a PostgreSQL ledger URL,
    /// a backend's `https://user:password@…`); anything else, file paths included, unchanged.
    public static func withoutPassword(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "REDACTED"
        return parts.string ?? url
    }

    /// The effective configuration as YAML under the file's own key names, defaults included,
    /// secrets redacted: what `sightglass config check` prints. Loading it gives the same settings.
    public func effectiveYAML() throws -> String {
        let text = try YAMLEncoder().encode(redacted())
        guard let node = try Yams.compose(yaml: text) else { return text }
        return try Yams.serialize(node: Self.plainNumbers(node))
    }

    /// Mappings whose keys the user names (models, tiers, backends): printed in key order, so the
    /// output is the same each time (a dictionary's own order is not).
    static let namedTables: Set<String> = ["pricing", "tiers", "models", "backends"]

    /// Yams writes doubles in exponent form (`1e+1`); people write `10` and `0.15`.
    static func plainNumbers(_ node: Node, under parent: String = "") -> Node {
        switch node {
        case .scalar(var s):
            if s.style == .plain, s.string.contains("e"), let d = Double(s.string), d.isFinite {
                s.string = d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
            }
            return .scalar(s)
        case .mapping(var m):
            for i in m.indices { m[i].value = plainNumbers(m[i].value, under: m[i].key.string ?? "") }
            if namedTables.contains(parent) {
                m = Node.Mapping(m.sorted { ($0.key.string ?? "") < ($1.key.string ?? "") }, m.tag, m.style)
            }
            return .mapping(m)
        case .sequence(var q):
            for i in q.indices { q[i] = plainNumbers(q[i]) }
            return .sequence(q)
        case .alias:
            return node
        }
    }
}
