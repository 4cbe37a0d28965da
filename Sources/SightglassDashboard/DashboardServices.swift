import Foundation
import Logging
import SightglassConfig
import SightglassStore
import SightglassTelemetry

/// What the dashboard API needs beyond the telemetry hub: the process's logs, the audit trail,
/// the alert engine, the live feed, and the access checks. Built once per gateway.
public struct DashboardServices: Sendable {
    public let logs: LogRing
    public let audit: AuditLog
    public let alerts: AlertEngine
    public let feed: LiveFeed
    public let auth: DashboardAuth
    /// Nil when rate limiting is off.
    public let limiter: RateLimiter?
    public let logger: Logger

    public static func make(config: GatewayConfig, ledger: LedgerWriter?, logs: LogRing, logger: Logger) async throws -> DashboardServices {
        let d = config.dashboard
        return DashboardServices(
            logs: logs,
            audit: AuditLog { ledger?.ledger },
            alerts: AlertEngine(settings: d.alerts),
            feed: LiveFeed(queueLimit: d.live.queueLimit),
            auth: try await DashboardAuth(settings: d.auth, host: config.server.controlHost ?? config.server.host),
            limiter: d.rateLimit.enabled ? RateLimiter(settings: d.rateLimit) : nil,
            logger: logger)
    }
}
