import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import SightglassConfig
import SightglassStore
import SightglassTelemetry

/// Seed 000's fourteen `/dashboard/*` endpoints. Shapes follow the seed; every value is
/// measured here, derived from measurements, or configured. Where a capability does not exist
/// (response cache, batch jobs, a GPU) the answer says so instead of inventing numbers.
struct DashboardRoutes: RouteGroup {
    let hub: TelemetryHub
    /// The configuration in force; a reload replaces it.
    let current: NIOLockedValueBox<GatewayConfig>
    /// The request ledger's writer; nil when disabled.
    let ledger: LedgerWriter?
    /// Logs, audit, alerts, live feed and access checks.
    let services: DashboardServices
    /// For what Ollama backends report loaded (`/api/ps`).
    let httpClient: HTTPClient
    let startedAt: Date

    var config: GatewayConfig { current.withLockedValue { $0 } }
    var uptime: Double { Date().timeIntervalSince(startedAt) }

    func add(to router: Router<ControlContext>) {
        let plane = self
        let guardMiddleware = DashboardGuard(auth: services.auth, limiter: services.limiter, audit: services.audit)
        let d = router.group("/dashboard").add(middleware: WebShellMiddleware()).add(middleware: guardMiddleware)
        d.get("stats") { req, _ in await plane.answer(req) { plane.dashboardStats() } }
        d.get("models") { req, _ in await plane.answer(req) { await plane.dashboardModels() } }
        d.get("health") { req, _ in await plane.answer(req) { await plane.dashboardHealth() } }
        d.get("config") { req, _ in await plane.answer(req) { plane.dashboardConfig() } }
        d.get("logs") { req, _ in plane.answer { try plane.dashboardLogs(DashboardParameters(req, known: ["level", "since", "limit", "component"])) } }
        d.get("metrics") { req, _ in
            await plane.answer(req) {
                var answer = plane.dashboardMetrics()
                answer.timeSeries = await plane.recentSeries()
                return answer
            }
        }
        d.get("cache") { req, _ in await plane.answer(req) { DashboardCacheAnswer() } }
        d.get("jobs") { req, _ in await plane.answer(req) { DashboardJobsAnswer() } }
        d.get("audit") { req, _ in
            await plane.answer { try await plane.dashboardAudit(DashboardParameters(req, known: ["user", "action", "resource", "since", "level", "limit"])) }
        }
        d.get("workers") { req, _ in await plane.answer(req) { plane.dashboardWorkers() } }
        d.get("resources") { req, _ in await plane.answer(req) { plane.dashboardResources() } }
        d.get("errors") { req, _ in await plane.answer { try await plane.dashboardErrors(DashboardParameters(req, known: ["since", "limit"])) } }
        d.get("security") { req, _ in await plane.answer(req) { await plane.dashboardSecurity() } }
        d.get("alerts") { req, _ in await plane.answer(req) { plane.dashboardAlerts() } }
        d.post("alerts/{id}/acknowledge") { req, ctx in plane.acknowledge(req, ctx) }
    }
}

extension DashboardRoutes {

    // MARK: - stats

    func dashboardStats() -> DashboardStatsAnswer {
        let (window, agg) = hub.trafficWindow()
        let sys = hub.system.snapshot
        let host = hub.system.host
        let live = hub.live()
        let external = host.interfaces.filter { $0.name != "lo" }
        let system = DashboardStatsAnswer.System(
            cpuUsagePercent: sys.cpuPercent.map(Units.round2), memoryUsagePercent: host.memoryPercent.map(Units.round2),
            memoryUsedGb: host.memoryUsed.map(Units.gb), memoryTotalGb: host.memoryTotal.map(Units.gb),
            diskUsagePercent: sys.diskPercent.map(Units.round2), diskUsedGb: sys.diskUsedBytes.map(Units.gb),
            diskAvailableGb: sys.diskAvailableBytes.map(Units.gb), diskTotalGb: sys.diskTotalBytes.map(Units.gb), loadAverage: host.loadAverage,
            networkIo: .init(
                bytesSent: external.reduce(0) { $0 + Int($1.bytesSent) }, bytesReceived: external.reduce(0) { $0 + Int($1.bytesReceived) },
                packetsSent: external.reduce(0) { $0 + Int($1.packetsSent) }, packetsReceived: external.reduce(0) { $0 + Int($1.packetsReceived) }))
        let inference = DashboardStatsAnswer.Inference(
            requestsPerSecond: Units.round2(Double(window.requests) / window.span),
            averageLatencyMs: window.requests > 0 ? Units.ms(window.latency.average) : nil, activeRequests: live.activeByBackend.values.reduce(0, +),
            activeStreams: live.activeStreams, totalRequests: agg.total.requests, totalErrors: agg.total.errors, windowSeconds: window.span)
        return DashboardStatsAnswer(
            timestamp: ISO8601.string(Date()), uptimeSeconds: Int(uptime), system: system, gpu: GPUStatus(hub.system.gpu, detailed: false), inference: inference
        )
    }

    // MARK: - models

    func dashboardModels() async -> DashboardModelsAnswer {
        let (_, agg) = hub.trafficWindow()
        let byModel = agg.byModel
        var models: [DashboardModelsAnswer.Model] = []
        var totalSize = 0.0, memory = 0.0, loadedCount = 0
        for b in hub.board.all {
            // Ollama says what is loaded in memory right now.
            var loaded: [String: OllamaRunningModel] = [:]
            if b.kind == .ollama, let data = await httpClient.fetchData(b.url + "/api/ps"),
                let ps = try? JSONDecoder().decode(OllamaRunningModels.self, from: data)
            {
                for m in ps.models { if let name = m.name ?? m.model { loaded[name] = m } }
            }
            for model in b.models {
                let tag = b.ollamaEntries[model].flatMap { try? JSONDecoder().decode(OllamaTag.self, from: Data($0.utf8)) }
                let ps = loaded[model]
                let status: String
                if b.healthy == false {
                    status = "unavailable"
                } else if ps != nil {
                    status = "loaded"
                } else {
                    status = b.kind == .ollama ? "available" : "served"
                }
                if let size = tag?.size { totalSize += size }
                if ps != nil { loadedCount += 1 }
                if let size = ps?.size { memory += size }
                let stats = byModel[model]
                let performance = DashboardModelsAnswer.Model.Performance(
                    totalRequests: stats?.requests ?? 0,
                    averageTokensPerSecond: stats.flatMap { $0.generationSeconds > 0 ? Units.round2($0.tokensPerSecond) : nil },
                    averageLatencyMs: stats?.averageLatencyMs, errorRate: stats?.observedErrorRate,
                    totalTokens: stats.map { $0.inputTokens + $0.outputTokens } ?? 0)
                let details = tag?.details
                models.append(
                    DashboardModelsAnswer.Model(
                        id: model, name: model, backend: b.name, backendType: b.kind.rawValue, status: status, format: details?.format,
                        sizeBytes: tag?.size.map { Int64($0) }, performance: performance,
                        metadata: .init(
                            architecture: details?.family, parameters: details?.parameterSize, quantization: details?.quantizationLevel,
                            contextLength: ps?.contextLength),
                        resourceUsage: .init(memoryUsageMb: ps?.size.map(Units.mb), gpuMemoryUsageMb: ps?.sizeVram.map(Units.mb), expiresAt: ps?.expiresAt)))
            }
        }
        let summary = DashboardModelsAnswer.Summary(
            totalModels: models.count, loadedModels: loadedCount, totalSizeGb: Units.gb(totalSize), memoryUsageGb: Units.gb(memory),
            backends: hub.board.all.count)
        return DashboardModelsAnswer(models: models, summary: summary)
    }

    // MARK: - health

    func dashboardHealth() async -> DashboardHealthAnswer {
        let (window, _) = hub.trafficWindow()
        let board = hub.board.all
        let live = hub.live()
        let now = ISO8601.string(Date())
        var status = TrafficWindow.status(errorRate: window.failureRate)
        let checked = board.filter { $0.healthy != nil }
        let down = checked.filter { $0.healthy == false }
        let backendsStatus = checked.isEmpty ? "unknown" : down.isEmpty ? "healthy" : down.count == checked.count ? "unhealthy" : "degraded"
        if backendsStatus == "unhealthy" { status = "unhealthy" } else if backendsStatus == "degraded" && status == "healthy" { status = "degraded" }
        let active = live.activeByBackend.values.reduce(0, +)
        var backends: [String: DashboardHealthAnswer.Backend] = [:]
        for b in board {
            backends[b.name] = DashboardHealthAnswer.Backend(
                status: b.healthy.map { $0 ? "healthy" : "unhealthy" } ?? "unknown", url: GatewayConfig.withoutPassword(b.url),
                responseTimeMs: b.responseTimeMs.map(Units.round2), error: b.lastError, models: b.models.count,
                lastCheck: b.lastCheck.map { ISO8601.string(epoch: $0) })
        }
        let audit = services.audit
        let components = DashboardHealthAnswer.Components(
            apiServer: .init(
                status: "healthy", uptimeSeconds: Int(uptime), activeRequests: active, requestsInWindow: window.requests,
                serverErrorRate: window.failureRate, lastCheck: now),
            modelBackends: .init(
                status: backendsStatus, loadedModels: Set(board.flatMap(\.models)).count, activeInference: active, backends: backends,
                lastCheck: board.compactMap(\.lastCheck).max().map { ISO8601.string(epoch: $0) }),
            cacheSystem: DisabledComponent(), database: await databaseHealth(),
            auditSystem: .init(
                status: audit.persistent ? "healthy" : (ledger == nil ? "memory_only" : "degraded"), persistent: audit.persistent,
                pendingLogs: audit.pendingCount))
        if case .some(let l) = ledger?.status, !l.healthy, status == "healthy" { status = "degraded" }
        let alerts = services.alerts.active.map { a in
            DashboardHealthAnswer.ActiveAlert(
                id: a.id, level: a.rule.severity, component: a.rule.metric.category, message: a.message, timestamp: ISO8601.string(epoch: a.startedAt))
        }
        return DashboardHealthAnswer(status: status, timestamp: now, components: components, alerts: alerts)
    }

    /// The store's state, with the time one small query takes now.
    func databaseHealth() async -> DatabaseHealth {
        guard let writer = ledger else { return .disabled }
        let s = writer.status
        var o = DatabaseHealth(status: s.healthy ? "healthy" : "degraded", enabled: true)
        o.backend = writer.ledger?.engine ?? (LedgerStores.isPostgres(writer.location) ? "postgresql" : "sqlite")
        o.path = writer.displayLocation
        o.recordsWritten = s.written
        o.recordsPending = s.pending
        o.recordsDropped = s.dropped
        o.lastFlush = ExplicitNull(wrappedValue: s.lastFlushAt.map { ISO8601.string(epoch: $0) })
        o.lastCheck = ISO8601.string(Date())
        o.error = s.degradedReason
        if let l = writer.ledger {
            let start = DispatchTime.now().uptimeNanoseconds
            if (try? await l.latestSequence()) != nil {
                o.queryTimeMs = Units.round2(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
        }
        return o
    }

    // MARK: - config

    /// The effective configuration (defaults, file, environment and flags merged), secrets redacted,
    /// with seed 000's summary sections beside it.
    func dashboardConfig() -> DashboardConfigAnswer {
        let auth = services.auth
        let serving = DashboardConfigSections.Serving(
            bindAddress: "\(config.server.host):\(config.server.port)", maxConcurrentRequests: config.limits.maxConcurrentRequests,
            requestTimeoutSeconds: config.timeouts.totalSeconds)
        let security = DashboardConfigSections.Security(
            authEnabled: auth.mode != .off, authMode: auth.mode.rawValue, rateLimiting: services.limiter != nil,
            maxRequestsPerMinute: config.dashboard.rateLimit.requestsPerMinute, burst: config.dashboard.rateLimit.burst)
        let redacted = config.redacted(mark: "REDACTED", hidingDigests: true)
        return DashboardConfigAnswer(
            redacted,
            DashboardConfigSections(
                server: Merged(redacted.server, serving), security: security,
                models: .init(backends: config.backends.count, autoDiscovery: config.backends.contains { $0.models.isEmpty })))
    }

    // MARK: - metrics

    /// The live window's figures (`/dashboard/metrics` adds the ledger's last hour as `time_series`).
    func dashboardMetrics() -> DashboardMetricsAnswer {
        let (window, agg) = hub.trafficWindow()
        let host = hub.system.host
        var out = WindowStats()
        for w in window.byRoute.values { out.merge(w) }
        let span = window.span
        let lat = window.latency
        let served = window.requests > 0
        // Percentiles in milliseconds, null when nothing was measured.
        let latencyMs = { (q: Double) in served ? Units.ms(lat.quantile(q)) : nil }
        let ttftMs = { (q: Double) in out.ttft.count > 0 ? Units.ms(out.ttft.quantile(q)) : nil }
        let gpu = hub.system.gpu
        let metrics = DashboardMetricsAnswer.Metrics(
            requests: .init(
                total: agg.total.requests, ratePerSecond: Units.round2(Double(window.requests) / span),
                ratePerMinute: Units.round2(Double(window.requests) / span * 60),
                successRate: served ? Double(out.successes) / Double(window.requests) : nil),
            latency: .init(
                p50Ms: latencyMs(0.5), p90Ms: latencyMs(0.9), p95Ms: latencyMs(0.95), p99Ms: latencyMs(0.99),
                averageMs: served ? Units.ms(lat.average) : nil),
            throughput: .init(
                tokensPerSecond: Units.round2(Double(out.outputTokens) / span), inputTokensPerSecond: Units.round2(Double(out.inputTokens) / span),
                requestsPerSecond: Units.round2(Double(window.requests) / span),
                bytesPerSecond: Units.round2(Double(out.requestBytes + out.responseBytes) / span)),
            errors: .init(
                total: agg.total.errors, inWindow: window.errors, ratePerHour: Units.round2(Double(window.errors) / span * 3600), types: out.errorsByType),
            ttft: .init(p50Ms: ttftMs(0.5), p95Ms: ttftMs(0.95), count: out.ttft.count),
            resources: .init(
                cpuUsage: host.cpuPercent.map(Units.round2), memoryUsage: host.memoryPercent.map(Units.round2),
                gpuUsage: gpu.available ? Units.round2(gpu.devices.compactMap(\.utilizationPercent).reduce(0, +) / Double(max(1, gpu.devices.count))) : nil,
                diskIoRate: host.diskIO.map { Units.round2($0.readBytesPerSecond + $0.writeBytesPerSecond) }))
        return DashboardMetricsAnswer(timestamp: ISO8601.string(Date()), windowSeconds: span, metrics: metrics)
    }

    /// The last hour per minute from the ledger's rollups; empty lists when there is no ledger.
    func recentSeries() async -> RecentSeries {
        let now = Date().timeIntervalSince1970
        func points(_ metric: AnalyticsMetric) async -> [RecentSeries.Point] {
            guard let l = ledger?.ledger,
                let series = try? await l.timeseries(metric: metric, interval: .oneMinute, group: nil, since: now - 3600, until: now).first
            else { return [] }
            return series.points.map { RecentSeries.Point(timestamp: ISO8601.string(epoch: Double($0.time)), value: $0.value) }
        }
        return RecentSeries(
            requestsPerMinute: await points(.requests), errorsPerMinute: await points(.errors), latencyP95Ms: await points(.latencyP95),
            tokensOutPerMinute: await points(.tokensOut), source: ledger?.ledger == nil ? "unavailable" : "ledger")
    }

    // MARK: - workers

    func dashboardWorkers() -> DashboardWorkersAnswer {
        let board = hub.board.all
        let live = hub.live()
        let admission = hub.admissionSnapshot
        let byBackend = hub.trafficWindow().1.byBackend
        let workers = board.map { b in
            let stats = byBackend[b.name]
            return DashboardWorkersAnswer.Worker(
                id: b.name, address: GatewayConfig.withoutPassword(b.url), status: b.healthy.map { $0 ? "active" : "down" } ?? "unknown", kind: b.kind.rawValue,
                lastHeartbeat: b.lastCheck.map { ISO8601.string(epoch: $0) }, healthCheckLatencyMs: b.responseTimeMs.map(Units.round2),
                lastError: b.lastError, capabilities: [b.kind.rawValue],
                currentLoad: .init(
                    activeRequests: live.activeByBackend[b.name] ?? 0, averageLatencyMs: stats?.averageLatencyMs, totalRequests: stats?.requests ?? 0,
                    errorRate: stats?.observedErrorRate),
                modelsLoaded: b.models)
        }
        return DashboardWorkersAnswer(
            coordinator: .init(
                address: "\(config.server.host):\(config.server.port)", uptimeSeconds: Int(uptime),
                connectedWorkers: board.filter { $0.healthy == true }.count),
            workers: workers,
            clusterStats: .init(
                totalCapacity: admission.maxConcurrent > 0 ? admission.maxConcurrent : nil, currentUsage: live.activeByBackend.values.reduce(0, +),
                pendingRequests: admission.queued, maxQueue: admission.maxQueue))
    }
}

extension CumulativeStats {
    /// The mean latency in milliseconds; nil before the first request.
    var averageLatencyMs: Double? { requests > 0 ? Units.ms(averageLatency) : nil }
    /// The share of requests that failed; nil before the first request.
    var observedErrorRate: Double? { requests > 0 ? errorRate : nil }
}

/// What the dashboard reads of an Ollama `/api/tags` entry.
struct OllamaTag: Decodable {
    struct Details: Decodable {
        var format: String?
        var family: String?
        var parameterSize: String?
        var quantizationLevel: String?

        enum CodingKeys: String, CodingKey {
            case format, family
            case parameterSize = "parameter_size", quantizationLevel = "quantization_level"
        }
    }

    var size: Double?
    var details: Details?
}

/// Ollama's `/api/ps`: the models in memory now.
struct OllamaRunningModels: Decodable {
    var models: [OllamaRunningModel]
}

/// What the dashboard reads of one `/api/ps` entry.
struct OllamaRunningModel: Decodable {
    var name: String?
    var model: String?
    var size: Double?
    var sizeVram: Double?
    var expiresAt: String?
    var contextLength: Int?

    enum CodingKeys: String, CodingKey {
        case name, model, size
        case sizeVram = "size_vram", expiresAt = "expires_at", contextLength = "context_length"
    }
}
