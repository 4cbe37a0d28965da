import Foundation
import SightglassTelemetry

/// The live window's traffic summed over routes: what health, stats and the metrics pages judge.
struct TrafficWindow {
    var requests = 0
    var errors = 0
    var failures = 0
    var latency = LogHistogram()
    var span = 1.0
    var byRoute: [String: WindowStats] = [:]
    var errorRate: Double { requests > 0 ? Double(errors) / Double(requests) : 0 }
    /// Share of requests that failed on the serving side; what health is judged on.
    var failureRate: Double { requests > 0 ? Double(failures) / Double(requests) : 0 }

    /// Health over the window: healthy < 5 %, degraded 5–10 %, unhealthy > 10 % (seed 003),
    /// of server-side failures; a client asking for a model that does not exist is not the gateway failing.
    static func status(errorRate: Double) -> String {
        if errorRate > 0.10 { return "unhealthy" }
        if errorRate >= 0.05 { return "degraded" }
        return "healthy"
    }
}

extension TelemetryHub {
    /// The window and, from the same moment, the cumulative aggregates.
    func trafficWindow() -> (TrafficWindow, MetricsAggregator) {
        let now = Date().timeIntervalSince1970
        return read { agg in
            var t = TrafficWindow()
            t.byRoute = agg.window(now: now)
            t.span = agg.effectiveWindow(now: now)
            for w in t.byRoute.values {
                t.requests += w.requests
                t.errors += w.errors
                t.failures += w.failures
                t.latency.merge(w.latency)
            }
            return (t, agg)
        }
    }
}
