import Foundation
import Hummingbird
import SightglassConfig
import SightglassStore
import SightglassTelemetry

/// Seed 000's fourteen `/dashboard/*` endpoints. Shapes follow the seed; every value is
/// measured here, derived from measurements, or configured. Where a capability does not exist
/// (response cache, batch jobs, a GPU) the answer says so instead of inventing numbers.
extension ControlPlane {
    func addDashboardRoutes(to router: Router<ControlContext>) {
        let plane = self
        let guardMiddleware = DashboardGuard(auth: services.auth, limiter: services.limiter, audit: services.audit)
        let d = router.group("/dashboard").add(middleware: WebShellMiddleware()).add(middleware: guardMiddleware)
        d.get("stats") { req, _ in
            plane.answer {
                _ = try DashboardParameters(req, known: []); return JSONResponse.make(plane.dashboardStats())
            }
        }
        d.get("models") { req, _ in
            await plane.answer {
                _ = try DashboardParameters(req, known: []); return JSONResponse.make(await plane.dashboardModels())
            }
        }
        d.get("health") { req, _ in
            await plane.answer {
                _ = try DashboardParameters(req, known: []); return await plane.dashboardHealth()
            }
        }
        d.get("config") { req, _ in
            plane.answer {
                _ = try DashboardParameters(req, known: []); return JSONResponse.make(plane.dashboardConfig())
            }
        }
        d.get("logs") { req, _ in plane.answer { try plane.dashboardLogs(DashboardParameters(req, known: ["level", "since", "limit", "component"])) } }
        d.get("metrics") { req, _ in
            await plane.answer {
                _ = try DashboardParameters(req, known: [])
                var body = plane.dashboardMetrics()
                body["time_series"] = await plane.recentSeries()
                return JSONResponse.make(body)
            }
        }
        d.get("cache") { req, _ in
            plane.answer {
                _ = try DashboardParameters(req, known: []); return JSONResponse.make(Self.dashboardCache())
            }
        }
        d.get("jobs") { req, _ in
            plane.answer {
                _ = try DashboardParameters(req, known: []); return JSONResponse.make(Self.dashboardJobs())
            }
        }
        d.get("audit") { req, _ in
            await plane.answer { try await plane.dashboardAudit(DashboardParameters(req, known: ["user", "action", "resource", "since", "level", "limit"])) }
        }
        d.get("workers") { req, _ in
            plane.answer {
                _ = try DashboardParameters(req, known: []); return JSONResponse.make(plane.dashboardWorkers())
            }
        }
        d.get("resources") { req, _ in
            plane.answer {
                _ = try DashboardParameters(req, known: []); return JSONResponse.make(plane.dashboardResources())
            }
        }
        d.get("errors") { req, _ in await plane.answer { try await plane.dashboardErrors(DashboardParameters(req, known: ["since", "limit"])) } }
        d.get("security") { req, _ in
            plane.answer {
                _ = try DashboardParameters(req, known: []); return JSONResponse.make(plane.dashboardSecurity())
            }
        }
        d.get("alerts") { req, _ in
            plane.answer {
                _ = try DashboardParameters(req, known: []); return JSONResponse.make(plane.dashboardAlerts())
            }
        }
        d.post("alerts/{id}/acknowledge") { req, ctx in plane.acknowledge(req, ctx) }
    }

    // MARK: - stats

    func dashboardStats() -> [String: Any] {
        let (window, agg) = windowTotals()
        let sys = hub.system.snapshot
        let host = hub.system.host
        let live = hub.live()
        let external = host.interfaces.filter { $0.name != "lo" }
        var system: [String: Any] = [
            "cpu_usage_percent": Units.orNull(sys.cpuPercent),
            "memory_usage_percent": Units.orNull(host.memoryPercent),
            "memory_used_gb": Units.gb(host.memoryUsed),
            "memory_total_gb": Units.gb(host.memoryTotal),
            "disk_usage_percent": Units.orNull(sys.diskPercent),
            "disk_used_gb": Units.gb(sys.diskUsedBytes),
            "disk_available_gb": Units.gb(sys.diskAvailableBytes),
            "disk_total_gb": Units.gb(sys.diskTotalBytes),
            "load_average": host.loadAverage,
        ]
        system["network_io"] = [
            "bytes_sent": external.reduce(0) { $0 + Int($1.bytesSent) }, "bytes_received": external.reduce(0) { $0 + Int($1.bytesReceived) },
            "packets_sent": external.reduce(0) { $0 + Int($1.packetsSent) }, "packets_received": external.reduce(0) { $0 + Int($1.packetsReceived) },
        ]
        let inference: [String: Any] = [
            "requests_per_second": Units.round2(Double(window.requests) / window.span),
            "average_latency_ms": window.requests > 0 ? Units.ms(window.latency.average) : NSNull(),
            "active_requests": live.activeByBackend.values.reduce(0, +),
            "active_streams": live.activeStreams,
            "total_requests": agg.total.requests,
            "total_errors": agg.total.errors,
            "window_seconds": window.span,
        ]
        return ["timestamp": ISO8601.string(Date()), "uptime_seconds": Int(uptime), "system": system, "gpu": gpuJSON(detailed: false), "inference": inference]
    }

    /// `{"available": false}` and nothing else where there is no GPU.
    /// The GPUs as `/dashboard/stats`, `/dashboard/resources` (detailed) and `/api/metrics/summary` show them.
    func gpuStatus(detailed: Bool) -> GPUStatus {
        let gpu = hub.system.gpu
        guard gpu.available else { return .unavailable }
        let devices = gpu.devices.map { d in
            GPUDevice(
                id: d.index, name: d.name, memoryUsedMb: d.memoryUsedMB.map(Units.round2), memoryTotalMb: d.memoryTotalMB.map(Units.round2),
                utilizationPercent: d.utilizationPercent.map(Units.round2), temperatureCelsius: d.temperatureCelsius.map(Units.round2),
                memoryFreeMb: detailed ? ExplicitNull(wrappedValue: d.memoryFreeMB.map(Units.round2)) : nil,
                powerUsageWatts: detailed ? ExplicitNull(wrappedValue: d.powerWatts.map(Units.round2)) : nil,
                fanSpeedPercent: detailed ? ExplicitNull(wrappedValue: d.fanPercent.map(Units.round2)) : nil)
        }
        return GPUStatus(available: true, count: devices.count, source: gpu.source, devices: devices)
    }

    /// The same, as a plain object for the answers not yet typed.
    func gpuJSON(detailed: Bool) -> Any {
        (try? JSONSerialization.jsonObject(with: JSONResponse.data(gpuStatus(detailed: detailed)))) ?? ["available": false]
    }

    // MARK: - models

    func dashboardModels() async -> [String: Any] {
        let (_, agg) = windowTotals()
        let byModel = agg.byModel
        var models: [[String: Any]] = []
        var totalSize = 0.0, memory = 0.0, loadedCount = 0
        for b in hub.board.all {
            // Ollama says what is loaded in memory right now.
            var loaded: [String: [String: Any]] = [:]
            if b.kind == .ollama, let data = await fetch(b.url + "/api/ps"),
                let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let list = obj["models"] as? [[String: Any]]
            {
                for m in list { if let name = (m["name"] ?? m["model"]) as? String { loaded[name] = m } }
            }
            for model in b.models {
                let tag = b.ollamaEntries[model].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                let details = tag?["details"] as? [String: Any]
                let size = (tag?["size"] as? NSNumber)?.doubleValue
                let ps = loaded[model]
                let status: String
                if b.healthy == false {
                    status = "unavailable"
                } else if ps != nil {
                    status = "loaded"
                } else {
                    status = b.kind == .ollama ? "available" : "served"
                }
                if let size { totalSize += size }
                if ps != nil { loadedCount += 1 }
                let psSize = (ps?["size"] as? NSNumber)?.doubleValue
                if let psSize { memory += psSize }
                let stats = byModel[model]
                var performance: [String: Any] = ["total_requests": stats?.requests ?? 0, "cache_hit_rate": NSNull()]
                performance["average_tokens_per_second"] = Units.orNull(stats.flatMap { $0.generationSeconds > 0 ? $0.tokensPerSecond : nil })
                performance["average_latency_ms"] = Units.value(stats.flatMap { $0.requests > 0 ? Units.ms($0.averageLatency) : nil })
                performance["error_rate"] = Units.value(stats.flatMap { $0.requests > 0 ? $0.errorRate : nil })
                performance["total_tokens"] = stats.map { $0.inputTokens + $0.outputTokens } ?? 0
                var entry: [String: Any] = [
                    "id": model, "name": model, "backend": b.name, "backend_type": b.kind.rawValue, "status": status,
                    "format": details?["format"] ?? NSNull(), "file_path": NSNull(), "size_bytes": size.map { Int64($0) } ?? NSNull(),
                    "loaded_at": NSNull(), "performance": performance,
                ]
                entry["metadata"] =
                    [
                        "architecture": details?["family"] ?? NSNull(), "parameters": details?["parameter_size"] ?? NSNull(),
                        "quantization": details?["quantization_level"] ?? NSNull(), "context_length": ps?["context_length"] ?? NSNull(),
                    ] as [String: Any]
                entry["resource_usage"] =
                    [
                        "memory_usage_mb": Units.mb(psSize), "gpu_memory_usage_mb": Units.mb((ps?["size_vram"] as? NSNumber)?.doubleValue),
                        "expires_at": ps?["expires_at"] ?? NSNull(),
                    ] as [String: Any]
                models.append(entry)
            }
        }
        let summary: [String: Any] = [
            "total_models": models.count, "loaded_models": loadedCount, "total_size_gb": Units.gb(totalSize),
            "memory_usage_gb": Units.gb(memory), "backends": hub.board.all.count,
        ]
        return ["models": models, "summary": summary]
    }

    // MARK: - health

    func dashboardHealth() async -> Response {
        let (window, _) = windowTotals()
        let board = hub.board.all
        let live = hub.live()
        let now = ISO8601.string(Date())
        var status = Self.status(errorRate: window.failureRate)
        let checked = board.filter { $0.healthy != nil }
        let down = checked.filter { $0.healthy == false }
        let backendsStatus = checked.isEmpty ? "unknown" : down.isEmpty ? "healthy" : down.count == checked.count ? "unhealthy" : "degraded"
        if backendsStatus == "unhealthy" { status = "unhealthy" } else if backendsStatus == "degraded" && status == "healthy" { status = "degraded" }
        var components: [String: Any] = [:]
        components["api_server"] =
            [
                "status": "healthy", "uptime_seconds": Int(uptime), "active_requests": live.activeByBackend.values.reduce(0, +),
                "requests_in_window": window.requests, "server_error_rate": window.failureRate, "last_check": now,
            ] as [String: Any]
        var backends: [String: Any] = [:]
        for b in board {
            backends[b.name] =
                [
                    "status": b.healthy.map { $0 ? "healthy" : "unhealthy" } ?? "unknown", "url": Self.redactURL(b.url),
                    "response_time_ms": Units.orNull(b.responseTimeMs), "error": b.lastError ?? NSNull(),
                    "models": b.models.count, "last_check": b.lastCheck.map { ISO8601.string(epoch: $0) } ?? NSNull(),
                ] as [String: Any]
        }
        components["model_backends"] =
            [
                "status": backendsStatus, "loaded_models": Set(board.flatMap(\.models)).count,
                "active_inference": live.activeByBackend.values.reduce(0, +), "backends": backends,
                "last_check": board.compactMap(\.lastCheck).max().map { ISO8601.string(epoch: $0) } ?? NSNull(),
            ] as [String: Any]
        components["cache_system"] = ["status": "disabled", "enabled": false]
        components["database"] = await databaseHealth()
        let audit = services.audit
        components["audit_system"] =
            [
                "status": audit.persistent ? "healthy" : (ledger == nil ? "memory_only" : "degraded"), "persistent": audit.persistent,
                "pending_logs": audit.pendingCount,
            ] as [String: Any]
        if case .some(let l) = ledger?.status, !l.healthy, status == "healthy" { status = "degraded" }
        let alerts: [[String: Any]] = services.alerts.active.map { a in
            ["id": a.id, "level": a.rule.severity, "component": a.rule.metric.category, "message": a.message, "timestamp": ISO8601.string(epoch: a.startedAt)]
        }
        let body: [String: Any] = ["status": status, "timestamp": now, "components": components, "alerts": alerts]
        return JSONResponse.make(body)
    }

    /// The store's state, with the time one small query takes now.
    func databaseHealth() async -> [String: Any] {
        guard let writer = ledger else { return ["status": "disabled", "enabled": false] }
        let s = writer.status
        var o: [String: Any] = [
            "status": s.healthy ? "healthy" : "degraded", "enabled": true,
            "backend": writer.ledger?.engine ?? (LedgerStores.isPostgres(writer.location) ? "postgresql" : "sqlite"),
            "path": writer.displayLocation,
            "records_written": s.written, "records_pending": s.pending, "records_dropped": s.dropped,
            "last_flush": s.lastFlushAt.map { ISO8601.string(epoch: $0) } ?? NSNull(), "last_check": ISO8601.string(Date()),
        ]
        if let reason = s.degradedReason { o["error"] = reason }
        if let l = writer.ledger {
            let start = DispatchTime.now().uptimeNanoseconds
            if (try? await l.latestSequence()) != nil {
                o["query_time_ms"] = Units.round2(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
        }
        return o
    }

    static func redactURL(_ url: String) -> String {
        guard var c = URLComponents(string: url), c.password != nil || c.user != nil else { return url }
        if c.password != nil { c.password = "REDACTED" }
        return c.string ?? url
    }

    // MARK: - config

    /// The effective configuration (defaults, file, environment and flags merged), secrets redacted,
    /// with seed 000's summary sections on top.
    func dashboardConfig() -> [String: Any] {
        let encoder = JSONEncoder()
        var full = (try? encoder.encode(config)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
        full = Self.redact(full) as? [String: Any] ?? [:]
        var server = full["server"] as? [String: Any] ?? [:]
        server["bind_address"] = "\(config.server.host):\(config.server.port)"
        server["max_concurrent_requests"] = config.limits.maxConcurrentRequests
        server["request_timeout_seconds"] = config.timeouts.totalSeconds
        server["tls_enabled"] = false
        full["server"] = server
        full["cache"] = ["enabled": false]
        let auth = services.auth
        full["security"] =
            [
                "auth_enabled": auth.mode != .off, "auth_mode": auth.mode.rawValue, "rate_limiting": services.limiter != nil,
                "max_requests_per_minute": config.dashboard.rateLimit.requestsPerMinute, "burst": config.dashboard.rateLimit.burst,
                "audit_enabled": true,
            ] as [String: Any]
        full["models"] = ["backends": config.backends.count, "auto_discovery": config.backends.contains { $0.models.isEmpty }] as [String: Any]
        return full
    }

    static let secretKeys: Set<String> = ["api_key", "key", "sha256", "hs256_secret", "password", "secret", "token"]

    static func redact(_ value: Any) -> Any {
        if let d = value as? [String: Any] {
            var out: [String: Any] = [:]
            for (k, v) in d {
                if secretKeys.contains(k), !(v is NSNull) {
                    out[k] = "REDACTED"
                } else if let s = v as? String, s.contains("://") {
                    out[k] = redactURL(s)
                } else {
                    out[k] = redact(v)
                }
            }
            return out
        }
        if let a = value as? [Any] { return a.map(redact) }
        return value
    }

    // MARK: - metrics

    /// The live window's figures (`/dashboard/metrics` adds the ledger's last hour as `time_series`).
    func dashboardMetrics() -> [String: Any] {
        let (window, agg) = windowTotals()
        let host = hub.system.host
        var out = WindowStats()
        for w in window.byRoute.values { out.merge(w) }
        let span = window.span
        let lat = window.latency
        var metrics: [String: Any] = [:]
        metrics["requests"] =
            [
                "total": agg.total.requests, "rate_per_second": Units.round2(Double(window.requests) / span),
                "rate_per_minute": Units.round2(Double(window.requests) / span * 60),
                "success_rate": window.requests > 0 ? Double(out.successes) / Double(window.requests) : NSNull(),
            ] as [String: Any]
        metrics["latency"] =
            window.requests > 0
            ? [
                "p50_ms": Units.ms(lat.quantile(0.5)), "p90_ms": Units.ms(lat.quantile(0.9)), "p95_ms": Units.ms(lat.quantile(0.95)),
                "p99_ms": Units.ms(lat.quantile(0.99)), "average_ms": Units.ms(lat.average),
            ]
            : ["p50_ms": NSNull(), "p90_ms": NSNull(), "p95_ms": NSNull(), "p99_ms": NSNull(), "average_ms": NSNull()]
        metrics["throughput"] =
            [
                "tokens_per_second": Units.round2(Double(out.outputTokens) / span),
                "input_tokens_per_second": Units.round2(Double(out.inputTokens) / span),
                "requests_per_second": Units.round2(Double(window.requests) / span),
                "bytes_per_second": Units.round2(Double(out.requestBytes + out.responseBytes) / span),
            ] as [String: Any]
        metrics["errors"] =
            [
                "total": agg.total.errors, "in_window": window.errors, "rate_per_hour": Units.round2(Double(window.errors) / span * 3600),
                "types": out.errorsByType,
            ] as [String: Any]
        metrics["ttft"] =
            out.ttft.count > 0
            ? ["p50_ms": Units.ms(out.ttft.quantile(0.5)), "p95_ms": Units.ms(out.ttft.quantile(0.95)), "count": out.ttft.count] as [String: Any]
            : ["p50_ms": NSNull(), "p95_ms": NSNull(), "count": 0] as [String: Any]
        let gpu = hub.system.gpu
        let gpuUse: Any = gpu.available ? Units.orNull(gpu.devices.compactMap(\.utilizationPercent).reduce(0, +) / Double(max(1, gpu.devices.count))) : NSNull()
        metrics["resources"] =
            [
                "cpu_usage": Units.orNull(host.cpuPercent), "memory_usage": Units.orNull(host.memoryPercent), "gpu_usage": gpuUse,
                "disk_io_rate": host.diskIO.map { Units.round2($0.readBytesPerSecond + $0.writeBytesPerSecond) } ?? NSNull(),
            ] as [String: Any]
        return ["timestamp": ISO8601.string(Date()), "window_seconds": span, "metrics": metrics]
    }

    /// The last hour per minute from the ledger's rollups; empty lists when there is no ledger.
    func recentSeries() async -> [String: Any] {
        let names: [(String, AnalyticsMetric)] = [
            ("requests_per_minute", .requests), ("errors_per_minute", .errors),
            ("latency_p95_ms", .latencyP95), ("tokens_out_per_minute", .tokensOut),
        ]
        var out: [String: Any] = [:]
        let now = Date().timeIntervalSince1970
        for (name, metric) in names {
            var points: [[String: Any]] = []
            if let l = ledger?.ledger,
                let series = try? await l.timeseries(metric: metric, interval: .oneMinute, group: nil, since: now - 3600, until: now).first
            {
                points = series.points.map { ["timestamp": ISO8601.string(epoch: Double($0.time)), "value": $0.value ?? NSNull()] }
            }
            out[name] = points
        }
        out["source"] = ledger?.ledger == nil ? "unavailable" : "ledger"
        return out
    }

    // MARK: - workers

    func dashboardWorkers() -> [String: Any] {
        let board = hub.board.all
        let live = hub.live()
        let admission = hub.admissionSnapshot
        let (window, agg) = windowTotals()
        _ = window
        let byBackend = agg.byBackend
        let workers: [[String: Any]] = board.map { b in
            let stats = byBackend[b.name]
            let status = b.healthy.map { $0 ? "active" : "down" } ?? "unknown"
            let load: [String: Any] = [
                "active_requests": live.activeByBackend[b.name] ?? 0,
                "average_latency_ms": Units.value(stats.flatMap { $0.requests > 0 ? Units.ms($0.averageLatency) : nil }),
                "total_requests": stats?.requests ?? 0, "error_rate": Units.value(stats.flatMap { $0.requests > 0 ? $0.errorRate : nil }),
            ]
            return [
                "id": b.name, "address": Self.redactURL(b.url), "status": status, "kind": b.kind.rawValue,
                "last_heartbeat": b.lastCheck.map { ISO8601.string(epoch: $0) } ?? NSNull(),
                "health_check_latency_ms": Units.orNull(b.responseTimeMs), "last_error": b.lastError ?? NSNull(),
                "capabilities": [b.kind.rawValue], "current_load": load, "models_loaded": b.models,
                "capacity": NSNull(),
            ]
        }
        let inFlight = live.activeByBackend.values.reduce(0, +)
        let coordinator: [String: Any] = [
            "status": "active", "address": "\(config.server.host):\(config.server.port)", "uptime_seconds": Int(uptime),
            "connected_workers": board.filter { $0.healthy == true }.count,
        ]
        let cluster: [String: Any] = [
            "total_capacity": admission.maxConcurrent > 0 ? admission.maxConcurrent : NSNull(), "current_usage": inFlight,
            "pending_requests": admission.queued, "max_queue": admission.maxQueue,
        ]
        return ["coordinator": coordinator, "workers": workers, "cluster_stats": cluster]
    }
}
