import Foundation
import Hummingbird
import SightglassTelemetry

extension ExportRoutes {
    /// seed 002 `GET /health`.
    func health() -> Response {
        let answer = healthAnswer()
        return JSONResponse.encode(answer, status: answer.status == "unhealthy" ? .serviceUnavailable : .ok)
    }

    func healthAnswer() -> HealthAnswer {
        let (window, agg) = hub.trafficWindow()
        let board = hub.board.all
        let live = hub.live()
        let admission = hub.admissionSnapshot
        let sys = hub.system.snapshot
        var services: [String: ServiceHealth] = [:]
        for b in board {
            var entry = ServiceHealth(status: b.healthy.map { $0 ? "healthy" : "unhealthy" } ?? "unknown")
            entry.url = b.url
            entry.kind = b.kind.rawValue
            entry.responseTimeMs = b.responseTimeMs
            entry.error = b.lastError
            entry.lastCheck = b.lastCheck.map { ISO8601.string(epoch: $0) }
            services[b.name] = entry
        }
        let full = admission.maxQueue > 0 && admission.queued >= admission.maxQueue
        var proxy = ServiceHealth(status: full ? "degraded" : "healthy")
        proxy.activeRequests = live.activeByBackend.values.reduce(0, +)
        proxy.queueSize = admission.queued
        services["proxy"] = proxy
        var metrics = ServiceHealth(status: "healthy")
        metrics.totalRequests = agg.total.requests
        metrics.avgResponseTime = agg.total.averageLatency
        services["metrics"] = metrics
        if let writer = ledger {
            let l = writer.status
            var entry = ServiceHealth(status: l.healthy ? "healthy" : "degraded")
            entry.path = writer.displayLocation
            entry.recordsWritten = l.written
            entry.recordsPending = l.pending
            entry.recordsDropped = l.dropped
            entry.recordsPruned = l.pruned
            entry.error = l.degradedReason
            entry.lastFlush = l.lastFlushAt.map { ISO8601.string(epoch: $0) }
            services["ledger"] = entry
        } else {
            var entry = ServiceHealth(status: "disabled")
            entry.enabled = false
            services["ledger"] = entry
        }
        var status = TrafficWindow.status(errorRate: window.failureRate)
        let checked = board.filter { $0.healthy != nil }
        let down = checked.filter { $0.healthy == false }
        if !checked.isEmpty && down.count == checked.count {
            status = "unhealthy"
        } else if !down.isEmpty && status == "healthy" {
            status = "degraded"
        }
        // A store that cannot be written does not stop the proxy, but it is not healthy either.
        if status == "healthy", let l = ledger?.status, !l.healthy { status = "degraded" }
        return HealthAnswer(
            status: status, timestamp: ISO8601.string(Date()), version: hub.version, services: services,
            system: HostFigures(cpuPercent: sys.cpuPercent, memoryPercent: sys.memoryPercent, diskUsagePercent: sys.diskPercent))
    }

    /// seed 003 `GET /health/detailed`.
    func detailedHealth() -> Response { JSONResponse.encode(detailedHealthAnswer()) }

    func detailedHealthAnswer() -> DetailedHealthAnswer {
        let (window, _) = hub.trafficWindow()
        let endpoints = window.byRoute.mapValues { w in
            DetailedHealthAnswer.Endpoint(
                requestsPerSecond: Double(w.requests) / window.span, latencyP50Ms: w.latency.quantile(0.5) * 1000,
                latencyP99Ms: w.latency.quantile(0.99) * 1000)
        }
        let summary = DetailedHealthAnswer.Summary(
            totalRequestsPerSecond: Double(window.requests) / window.span, totalErrorsPerSecond: Double(window.errors) / window.span,
            errorRatePercentage: window.errorRate * 100, serverErrorRatePercentage: window.failureRate * 100,
            averageLatencySeconds: window.latency.average, activeStreams: hub.live().activeStreams)
        return DetailedHealthAnswer(
            status: TrafficWindow.status(errorRate: window.failureRate), timestamp: Date().timeIntervalSince1970, uptimeSeconds: uptime,
            windowSeconds: window.span, metricsSummary: summary, endpoints: endpoints)
    }

    /// seed 002 `GET /api/metrics/summary`: totals since start, per-model figures.
    func summary() -> Response { JSONResponse.encode(summaryAnswer()) }

    func summaryAnswer() -> MetricsSummaryAnswer {
        let (_, agg) = hub.trafficWindow()
        let live = hub.live()
        let admission = hub.admissionSnapshot
        let sys = hub.system.snapshot
        let total = agg.total
        // The GPU as the probe sees it (the same object `/dashboard/stats` shows), and seed 002's
        // flat figures when there is one: mean utilization, summed power where the driver reports it.
        let gpu = hub.system.gpu
        let use = gpu.devices.compactMap(\.utilizationPercent)
        let power = gpu.devices.compactMap(\.powerWatts)
        let system = MetricsSummaryAnswer.System(
            gpu: GPUStatus(hub.system.gpu, detailed: false),
            gpuUtilizationPercent: gpu.available && !use.isEmpty ? use.reduce(0, +) / Double(use.count) : nil,
            powerGpuWatts: gpu.available && !power.isEmpty ? power.reduce(0, +) : nil,
            cpuPercent: sys.cpuPercent, memoryPercent: sys.memoryPercent,
            memoryAvailableGb: sys.memoryAvailableBytes.map { $0 / 1_073_741_824 }, memoryUsedGb: sys.memoryUsedBytes.map { $0 / 1_073_741_824 })
        let models = agg.byModel.mapValues { m in
            MetricsSummaryAnswer.Model(
                requests: m.requests, avgLatency: m.averageLatency, tokensPerSecond: m.tokensPerSecond, errorRate: m.errorRate,
                inputTokens: m.inputTokens, outputTokens: m.outputTokens, costUsd: m.cost, estimatedCostUsd: m.estimatedCost,
                lastRequest: ISO8601.string(epoch: m.lastRequest))
        }
        let summary = MetricsSummaryAnswer.Summary(
            totalRequests: total.requests, activeRequests: live.activeByBackend.values.reduce(0, +), queueSize: admission.queued,
            avgLatency: total.averageLatency, tokensPerSecond: total.tokensPerSecond, successRate: total.requests > 0 ? 1 - total.errorRate : 0,
            errorRate: total.errorRate, totalCostUsd: total.cost, estimatedCostUsd: total.estimatedCost)
        return MetricsSummaryAnswer(timestamp: ISO8601.string(Date()), summary: summary, system: system, models: models)
    }

    /// seed 002 `GET /api/status`.
    func status() -> Response { JSONResponse.encode(statusAnswer()) }

    func statusAnswer() -> StatusAnswer {
        let (_, agg) = hub.trafficWindow()
        let last = agg.total.lastRequest
        return StatusAnswer(
            status: "online", version: hub.version, uptimeSeconds: uptime, connectedClients: feed.connectionCount,
            lastUpdate: last > 0 ? ISO8601.string(epoch: last) : nil, aiStatusEnabled: false, monitoringActive: true)
    }
}
