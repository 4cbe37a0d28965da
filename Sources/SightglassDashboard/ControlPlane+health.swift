import Foundation
import Hummingbird
import SightglassTelemetry

extension ControlPlane {
    /// Health over the metrics window: healthy < 5 %, degraded 5–10 %, unhealthy > 10 % (seed 003),
    /// of server-side failures; a client asking for a model that does not exist is not the gateway failing.
    static func status(errorRate: Double) -> String {
        if errorRate > 0.10 { return "unhealthy" }
        if errorRate >= 0.05 { return "degraded" }
        return "healthy"
    }

    struct WindowTotals {
        var requests = 0
        var errors = 0
        var failures = 0
        var latency = LogHistogram()
        var span = 1.0
        var byRoute: [String: WindowStats] = [:]
        var errorRate: Double { requests > 0 ? Double(errors) / Double(requests) : 0 }
        /// Share of requests that failed on the serving side; what health is judged on.
        var failureRate: Double { requests > 0 ? Double(failures) / Double(requests) : 0 }
    }

    func windowTotals() -> (WindowTotals, MetricsAggregator) {
        let now = Date().timeIntervalSince1970
        return hub.read { agg in
            var t = WindowTotals()
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

    /// seed 002 `GET /health`.
    func health() -> Response {
        let (window, agg) = windowTotals()
        let board = hub.board.all
        let live = hub.live()
        let admission = hub.admissionSnapshot
        let sys = hub.system.snapshot
        var services: [String: Any] = [:]
        for b in board {
            var entry: [String: Any] = ["status": b.healthy.map { $0 ? "healthy" : "unhealthy" } ?? "unknown", "url": b.url, "kind": b.kind.rawValue]
            if let rt = b.responseTimeMs { entry["response_time_ms"] = rt }
            if let err = b.lastError { entry["error"] = err }
            if let last = b.lastCheck { entry["last_check"] = ISO8601.string(epoch: last) }
            services[b.name] = entry
        }
        let inFlight = live.activeByBackend.values.reduce(0, +)
        let full = admission.maxQueue > 0 && admission.queued >= admission.maxQueue
        services["proxy"] = ["status": full ? "degraded" : "healthy", "active_requests": inFlight, "queue_size": admission.queued]
        services["metrics"] = ["status": "healthy", "total_requests": agg.total.requests, "avg_response_time": agg.total.averageLatency]
        if let writer = ledger {
            let l = writer.status
            var entry: [String: Any] = [
                "status": l.healthy ? "healthy" : "degraded", "path": writer.displayLocation, "records_written": l.written,
                "records_pending": l.pending, "records_dropped": l.dropped, "records_pruned": l.pruned,
            ]
            if let reason = l.degradedReason { entry["error"] = reason }
            if let last = l.lastFlushAt { entry["last_flush"] = ISO8601.string(epoch: last) }
            services["ledger"] = entry
        } else {
            services["ledger"] = ["status": "disabled", "enabled": false]
        }
        var status = Self.status(errorRate: window.failureRate)
        let checked = board.filter { $0.healthy != nil }
        let down = checked.filter { $0.healthy == false }
        if !checked.isEmpty && down.count == checked.count {
            status = "unhealthy"
        } else if !down.isEmpty && status == "healthy" {
            status = "degraded"
        }
        // A store that cannot be written does not stop the proxy, but it is not healthy either.
        if status == "healthy", let l = ledger?.status, !l.healthy { status = "degraded" }
        var system: [String: Any] = [:]
        if let v = sys.cpuPercent { system["cpu_percent"] = v }
        if let v = sys.memoryPercent { system["memory_percent"] = v }
        if let v = sys.diskPercent { system["disk_usage_percent"] = v }
        let body: [String: Any] = ["status": status, "timestamp": ISO8601.string(Date()), "version": hub.version, "services": services, "system": system]
        return JSONResponse.make(body, status: status == "unhealthy" ? .serviceUnavailable : .ok)
    }

    /// seed 003 `GET /health/detailed`.
    func detailedHealth() -> Response {
        let (window, _) = windowTotals()
        var endpoints: [String: Any] = [:]
        for (route, w) in window.byRoute {
            endpoints[route] = [
                "requests_per_second": Double(w.requests) / window.span,
                "latency_p50_ms": w.latency.quantile(0.5) * 1000,
                "latency_p99_ms": w.latency.quantile(0.99) * 1000,
            ]
        }
        let body: [String: Any] = [
            "status": Self.status(errorRate: window.failureRate),
            "timestamp": Date().timeIntervalSince1970,
            "uptime_seconds": uptime,
            "window_seconds": window.span,
            "metrics_summary": [
                "total_requests_per_second": Double(window.requests) / window.span,
                "total_errors_per_second": Double(window.errors) / window.span,
                "error_rate_percentage": window.errorRate * 100,
                "server_error_rate_percentage": window.failureRate * 100,
                "average_latency_seconds": window.latency.average,
                "active_streams": hub.live().activeStreams,
            ],
            "endpoints": endpoints,
        ]
        return JSONResponse.make(body)
    }

    /// seed 002 `GET /api/metrics/summary`: totals since start, per-model figures.
    func summary() -> Response { JSONResponse.make(summaryBody()) }

    func summaryBody() -> [String: Any] {
        let (_, agg) = windowTotals()
        let live = hub.live()
        let admission = hub.admissionSnapshot
        let sys = hub.system.snapshot
        let total = agg.total
        // The GPU as the probe sees it (the same object `/dashboard/stats` shows), and seed 002's
        // flat figures when there is one: mean utilization, summed power where the driver reports it.
        var system: [String: Any] = ["gpu": gpuJSON(detailed: false)]
        let gpu = hub.system.gpu
        if gpu.available {
            let use = gpu.devices.compactMap(\.utilizationPercent)
            if !use.isEmpty { system["gpu_utilization_percent"] = use.reduce(0, +) / Double(use.count) }
            let power = gpu.devices.compactMap(\.powerWatts)
            if !power.isEmpty { system["power_gpu_watts"] = power.reduce(0, +) }
        }
        if let v = sys.cpuPercent { system["cpu_percent"] = v }
        if let v = sys.memoryPercent { system["memory_percent"] = v }
        if let v = sys.memoryAvailableBytes { system["memory_available_gb"] = v / 1_073_741_824 }
        if let v = sys.memoryUsedBytes { system["memory_used_gb"] = v / 1_073_741_824 }
        var models: [String: Any] = [:]
        for (name, m) in agg.byModel {
            models[name] = [
                "requests": m.requests, "avg_latency": m.averageLatency, "tokens_per_second": m.tokensPerSecond,
                "error_rate": m.errorRate, "input_tokens": m.inputTokens, "output_tokens": m.outputTokens,
                "cost_usd": m.cost, "estimated_cost_usd": m.estimatedCost, "last_request": ISO8601.string(epoch: m.lastRequest),
            ]
        }
        let body: [String: Any] = [
            "timestamp": ISO8601.string(Date()),
            "summary": [
                "total_requests": total.requests,
                "active_requests": live.activeByBackend.values.reduce(0, +),
                "queue_size": admission.queued,
                "avg_latency": total.averageLatency,
                "tokens_per_second": total.tokensPerSecond,
                "success_rate": total.requests > 0 ? 1 - total.errorRate : 0,
                "error_rate": total.errorRate,
                "total_cost_usd": total.cost,
                // Of the cost, what was priced from estimated tokens (as `estimated_requests` marks tokens).
                "estimated_cost_usd": total.estimatedCost,
            ],
            "system": system,
            "models": models,
        ]
        return body
    }

    /// seed 002 `GET /api/status`.
    func status() -> Response {
        let (_, agg) = windowTotals()
        let last = agg.total.lastRequest
        let body: [String: Any] = [
            "status": "online",
            "version": hub.version,
            "uptime_seconds": uptime,
            "connected_clients": services.feed.connectionCount,
            "last_update": last > 0 ? ISO8601.string(epoch: last) : NSNull(),
            "ai_status_enabled": false,
            "monitoring_active": true,
        ]
        return JSONResponse.make(body)
    }
}
