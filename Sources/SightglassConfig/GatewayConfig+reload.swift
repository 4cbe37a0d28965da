import Foundation

/// What a reload may change while the gateway runs, and what only a restart can.
extension GatewayConfig {
    /// Settings fixed for the life of the process: listeners, event loops, the ledger's location
    /// and writer, dashboard access and pacing, the metrics window, logging. A reload that
    /// changes one keeps the running value and says a restart is needed.
    public static let restartOnlySettings = [
        "server.host", "server.port", "server.event_loops", "server.control_host", "server.control_port",
        "ledger", "metrics", "logging",
        "dashboard.auth", "dashboard.rate_limit", "dashboard.live", "dashboard.log_entries",
        "dashboard.alerts.interval_seconds", "dashboard.alerts.webhook",
    ]

    /// This configuration with every restart-only setting taken from `running`: what a reload applies.
    public func reloadable(over running: GatewayConfig) -> GatewayConfig {
        var c = self
        c.server.host = running.server.host
        c.server.port = running.server.port
        c.server.eventLoops = running.server.eventLoops
        c.server.controlHost = running.server.controlHost
        c.server.controlPort = running.server.controlPort
        c.ledger = running.ledger
        c.metrics = running.metrics
        c.logging = running.logging
        c.dashboard.auth = running.dashboard.auth
        c.dashboard.rateLimit = running.dashboard.rateLimit
        c.dashboard.live = running.dashboard.live
        c.dashboard.logEntries = running.dashboard.logEntries
        c.dashboard.alerts.intervalSeconds = running.dashboard.alerts.intervalSeconds
        c.dashboard.alerts.webhook = running.dashboard.alerts.webhook
        return c
    }

    /// The settings that differ from `other`, as paths in the file (`limits.max_queue_size`,
    /// `pricing.gpt-4o-mini`, `backends`), sorted. Lists count as one setting.
    public func changes(from other: GatewayConfig) -> [String] {
        var out: [String] = []
        Self.diff(Self.tree(self), Self.tree(other), path: "", into: &out)
        return out.sorted()
    }

    /// Of `changes`, those only a restart applies.
    public static func needsRestart(_ changes: [String]) -> [String] {
        changes.filter { path in restartOnlySettings.contains { path == $0 || path.hasPrefix($0 + ".") } }
    }

    static func tree(_ config: GatewayConfig) -> Any {
        let data = (try? JSONEncoder().encode(config)) ?? Data("{}".utf8)
        return (try? JSONSerialization.jsonObject(with: data)) ?? [String: Any]()
    }

    static func diff(_ a: Any, _ b: Any, path: String, into out: inout [String]) {
        if let x = a as? [String: Any], let y = b as? [String: Any] {
            for key in Set(x.keys).union(y.keys) {
                let sub = path.isEmpty ? key : "\(path).\(key)"
                switch (x[key], y[key]) {
                case let (l?, r?): diff(l, r, path: sub, into: &out)
                default: out.append(sub)
                }
            }
        } else if canonical(a) != canonical(b) {
            out.append(path)
        }
    }

    /// A leaf or list as sorted-key JSON, so equal values compare equal whatever their boxing.
    static func canonical(_ value: Any) -> Data? {
        try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys])
    }
}
