import Foundation

/// `auth:`: who may use the inference routes. Keys themselves live in the ledger's database
/// (created through the Admin API or `sightglass keys create`), never in this file.
public struct GatewayAuthSettings: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable, CaseIterable {
        /// Every request is let through, as before keys existed.
        case off
        /// A request without a key is let through; an unknown, revoked or expired key is refused.
        case optional
        /// Every request needs a live key.
        case required
    }

    /// Nil: decided by the listen address (`off` on loopback only, `required` on any other).
    public var inference: Mode?
    /// An address with this many failed authentications within a minute is refused (403) for
    /// `ban_seconds`; 0 never bans.
    public var banAfterFailures = 20
    public var banSeconds = 300.0

    public init(inference: Mode? = nil) { self.inference = inference }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case inference
        case banAfterFailures = "ban_after_failures", banSeconds = "ban_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inference = try c.decodeIfPresent(Mode.self, forKey: .inference)
        banAfterFailures = try c.decodeIfPresent(Int.self, forKey: .banAfterFailures) ?? 20
        banSeconds = try c.decodeIfPresent(Double.self, forKey: .banSeconds) ?? 300
    }

    func validate() throws {
        guard banAfterFailures >= 0 else { throw ConfigError.field("auth.ban_after_failures", "must not be negative (0: never ban)") }
        guard banSeconds > 0, banSeconds <= 86_400 * 365 else {
            throw ConfigError.field("auth.ban_seconds", "must be a positive number of seconds, at most a year")
        }
    }

    /// The mode in force for a gateway listening on `host`: a gateway reachable from the network
    /// is closed unless `off` is written down.
    public func effectiveInference(host: String) -> Mode {
        inference ?? (ServerSettings.isLoopback(host) ? .off : .required)
    }
}

extension ServerSettings {
    /// Whether `host` accepts connections from this machine only.
    public static func isLoopback(_ host: String) -> Bool {
        host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.")
    }
}
