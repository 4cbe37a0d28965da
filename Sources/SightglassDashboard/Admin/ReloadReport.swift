import Foundation
import SightglassTelemetry

/// What a configuration reload did: the answer of `POST /admin/reload`, the audit entry's
/// details and the log line of a `SIGHUP`.
public struct ReloadReport: Codable, Sendable, Equatable {
    public var reloaded: Bool
    /// Settings that took effect for new requests, as paths in the file.
    public var changed: [String]
    /// Settings that differ in the file but keep their running value until a restart.
    public var restartRequired: [String]
    /// The backends in service after the reload.
    public var backends: [String]
    /// The file read, when there is one.
    public var source: String?
    /// `SIGHUP` or `POST /admin/reload`.
    public var trigger: String
    public var timestamp: String

    public init(changed: [String], restartRequired: [String], backends: [String], source: String?, trigger: String, at: Date = Date()) {
        reloaded = true
        self.changed = changed
        self.restartRequired = restartRequired
        self.backends = backends
        self.source = source
        self.trigger = trigger
        timestamp = ISO8601.string(at)
    }

    enum CodingKeys: String, CodingKey {
        case reloaded, changed, backends, source, trigger, timestamp
        case restartRequired = "restart_required"
    }
}

/// Carries out a reload for the control plane; the runtime that owns the services installs it.
public typealias Reloader = @Sendable (_ trigger: String, _ user: String?) async throws -> ReloadReport
