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

    public init(inference: Mode? = nil) { self.inference = inference }

    enum CodingKeys: String, CodingKey, CaseIterable { case inference }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inference = try c.decodeIfPresent(Mode.self, forKey: .inference)
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
