import Foundation
import Logging
import SightglassConfig
import SightglassDashboard
import SightglassProxy
import SightglassTelemetry

/// Re-reads the configuration and applies it to the running gateway, one reload at a time
/// (`SIGHUP` and `POST /admin/reload` both land here).
///
/// New requests get the new backends, model maps, prices, timeouts, limits and alert rules;
/// requests in flight finish on the settings they started with. A file that does not load is
/// refused whole: the error is logged, answered and audited, and the running configuration stays.
/// Settings that only a restart can change keep their running value and are named in the answer.
actor ConfigReloader {
    /// Loads the configuration as the gateway was started with it: file, environment, flags.
    let source: @Sendable () throws -> GatewayConfig
    let sourceName: String?
    let proxy: ProxyServer
    let hub: TelemetryHub
    let monitor: BackendMonitor
    let controlPlane: ControlPlane
    let logger: Logger

    init(
        source: @escaping @Sendable () throws -> GatewayConfig, sourceName: String?, proxy: ProxyServer, hub: TelemetryHub,
        monitor: BackendMonitor, controlPlane: ControlPlane, logger: Logger
    ) {
        self.source = source
        self.sourceName = sourceName
        self.proxy = proxy
        self.hub = hub
        self.monitor = monitor
        self.controlPlane = controlPlane
        self.logger = logger
    }

    func reload(trigger: String, user: String?) async throws -> ReloadReport {
        // The configuration in force lives in one place, the control plane; reloads run one at a time here.
        let running = controlPlane.config
        let loaded: GatewayConfig
        let next: GatewayConfig
        let slots: [Int]
        do {
            loaded = try source()
            try loaded.validate()
            next = loaded.reloadable(over: running)
            slots = try proxy.apply(next)
        } catch {
            logger.error(
                "configuration reload refused; the running configuration stays",
                metadata: [
                    "trigger": "\(trigger)", "source": "\(sourceName ?? "flags and environment")", "error": "\(error)",
                ])
            controlPlane.audit(
                "config_reload", user: user ?? "system", resource: sourceName ?? "configuration",
                details: ["trigger": trigger, "error": "\(error)"], level: "error", result: "failure")
            throw error
        }
        let changed = next.changes(from: running)
        let restartRequired = GatewayConfig.needsRestart(loaded.changes(from: running))
        hub.apply(next, slots: slots)
        monitor.apply(next, slots: slots)
        controlPlane.apply(next)
        if changed.contains(where: { $0 == "backends" }) {
            // New backends' models are routable (and listed) as soon as the answer is given.
            await monitor.checkAll()
        }
        let report = ReloadReport(
            changed: changed, restartRequired: restartRequired, backends: next.backends.map(\.name),
            source: sourceName, trigger: trigger)
        logger.info(
            "configuration reloaded",
            metadata: [
                "trigger": "\(trigger)", "changed": "\(changed.isEmpty ? "nothing" : changed.joined(separator: ", "))",
                "backends": "\(report.backends.joined(separator: ", "))",
            ])
        if !restartRequired.isEmpty {
            logger.warning("some changed settings take effect only after a restart", metadata: ["settings": "\(restartRequired.joined(separator: ", "))"])
        }
        controlPlane.audit(
            "config_reload", user: user ?? "system", resource: sourceName ?? "configuration",
            details: ["trigger": trigger, "changed": changed, "restart_required": restartRequired, "backends": report.backends])
        return report
    }
}
