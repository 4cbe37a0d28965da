import Foundation
import Hummingbird
import Logging
import SightglassConfig
import SightglassStore
import SightglassTelemetry

/// The operational endpoints: logs, audit, errors, security, alerts, resources, and the
/// honest answers for capabilities Sightglass does not have (cache, jobs).
extension ControlPlane {
    // MARK: - logs

    static let levelNames: [Logger.Level: String] = [
        .trace: "trace", .debug: "debug", .info: "info", .notice: "notice",
        .warning: "warn", .error: "error", .critical: "critical",
    ]

    /// `level` keeps entries at that level or more severe, as log viewers do.
    func dashboardLogs(_ p: DashboardParameters) throws -> Response {
        let levelNames = ["trace", "debug", "info", "notice", "warn", "warning", "error", "critical"]
        let minimum: Logger.Level? = try p.choice("level", levelNames).map { name in
            Self.levelNames.first { $0.value == (name == "warning" ? "warn" : name) }!.key
        }
        let since = try p.since(fallback: nil)
        let limit = try p.limit()
        let component = p["component"]
        let (entries, total) = services.logs.snapshot()
        let matching = entries.filter { e in
            (minimum == nil || e.level >= minimum!) && (since == nil || e.timestamp >= since!) && (component == nil || e.component == component)
        }
        let logs: [[String: Any]] = matching.prefix(limit).map { e in
            [
                "timestamp": ISO8601.string(epoch: e.timestamp), "level": Self.levelNames[e.level] ?? "info", "component": e.component,
                "message": e.message, "metadata": e.metadata,
            ]
        }
        return JSONResponse.make(["logs": logs, "total_count": total, "filtered_count": matching.count, "buffer_capacity": services.logs.capacity])
    }

    // MARK: - audit

    func dashboardAudit(_ p: DashboardParameters) async throws -> Response {
        var q = AuditQuery()
        q.user = p["user"]
        q.action = p["action"]
        q.resource = p["resource"]
        q.level = try p.choice("level", ["info", "warning", "error"])
        q.since = try p.since(fallback: nil)
        q.limit = try p.limit()
        let (entries, total, filtered) = await services.audit.query(q)
        let items: [[String: Any]] = entries.map { e in
            [
                "id": e.id, "timestamp": ISO8601.string(epoch: e.timestamp), "user": e.user ?? NSNull(), "action": e.action,
                "resource": e.resource ?? NSNull(), "level": e.level, "source_ip": e.sourceIP ?? NSNull(), "user_agent": e.userAgent ?? NSNull(),
                "details": (try? JSONSerialization.jsonObject(with: Data(e.detailsJSON.utf8))) ?? [String: Any](), "result": e.result,
            ]
        }
        return JSONResponse.make(["entries": items, "total_count": total, "filtered_count": filtered, "persistent": services.audit.persistent])
    }

    /// Records an admin or system action in the audit trail.
    public func audit(
        _ action: String, user: String?, resource: String?, request: Request? = nil, ip: String? = nil,
        details: [String: Any] = [:], level: String = "info", result: String = "success"
    ) {
        services.audit.record(
            AuditEntry(
                user: user, action: action, resource: resource, level: level, sourceIP: ip,
                userAgent: request?.headers[.userAgent], detailsJSON: JSONResponse.string(details), result: result))
    }

    // MARK: - errors

    static func severity(_ type: String) -> String {
        switch type {
        case "connection_error", "invalid_response": return "critical"
        case "timeout", "upstream_error", "queue_full": return "high"
        case "client_cancelled", "request_too_large": return "low"
        default: return "medium"
        }
    }

    /// Failed requests grouped by error type, from the ledger (the in-memory window when there is none).
    func dashboardErrors(_ p: DashboardParameters) async throws -> Response {
        let since = try p.since(fallback: 86_400)!
        let limit = try p.limit(fallback: 20, max: 200)
        var recent: [[String: Any]] = []
        var groups: [[String: Any]] = []
        var bySeverity = ["critical": 0, "high": 0, "medium": 0, "low": 0]
        var total = 0
        var source = "ledger"
        if let l = ledger?.ledger {
            for g in try await l.errorGroups(since: since) {
                total += g.count
                bySeverity[Self.severity(g.type), default: 0] += g.count
                groups.append([
                    "type": g.type, "count": g.count, "first_seen": ISO8601.string(epoch: g.firstSeen), "last_seen": ISO8601.string(epoch: g.lastSeen),
                    "example_request_ids": g.exampleIds, "last_message": g.lastMessage ?? NSNull(), "last_status": g.lastStatus,
                    "severity": Self.severity(g.type),
                ])
            }
            var page = RequestFilter()
            page.since = since
            page.limit = limit
            page.onlyErrors = true
            recent = try await l.requests(page).requests.map { r in
                [
                    "id": r.id, "timestamp": ISO8601.string(epoch: r.startTime), "type": r.errorType ?? "http_\(r.status)",
                    "severity": Self.severity(r.errorType ?? ""), "component": r.backend.isEmpty ? "gateway" : r.backend,
                    "message": r.errorMessage ?? "HTTP \(r.status)",
                    "details": [
                        "status": r.status, "route": r.route, "model": r.model.isEmpty ? NSNull() : r.model,
                        "backend": r.backend.isEmpty ? NSNull() : r.backend, "latency_ms": Units.ms(r.latency),
                    ] as [String: Any],
                ]
            }
        } else {
            source = "memory"
            let (window, _) = windowTotals()
            var types: [String: Int] = [:]
            for w in window.byRoute.values { for (t, n) in w.errorsByType { types[t, default: 0] += n } }
            for (t, n) in types.sorted(by: { $0.value > $1.value }) {
                total += n
                bySeverity[Self.severity(t), default: 0] += n
                groups.append(["type": t, "count": n, "severity": Self.severity(t)])
            }
        }
        var summary: [String: Any] = bySeverity
        summary["total_errors"] = total
        let body: [String: Any] = [
            "recent_errors": recent,
            "error_summary": [
                "period": ["since": ISO8601.string(epoch: since), "until": ISO8601.string(Date())], "last_24_hours": summary,
                "top_error_types": groups.prefix(10).map { ["type": $0["type"]!, "count": $0["count"]!] }, "groups": groups,
            ] as [String: Any],
            "source": source,
        ]
        return JSONResponse.make(body)
    }

    // MARK: - security

    func dashboardSecurity() -> [String: Any] {
        let auth = services.auth
        let now = Date().timeIntervalSince1970
        let enabled = auth.mode != .off
        let rl = config.dashboard.rateLimit
        let violations = services.limiter?.violations(now: now) ?? (count: 0, clients: [])
        let events: [[String: Any]] = auth.recentEvents().map { e in
            ["timestamp": ISO8601.string(epoch: e.timestamp), "type": e.type, "source_ip": e.sourceIP, "details": e.details, "severity": e.severity]
        }
        let httpsBackends = config.backends.filter { $0.url.lowercased().hasPrefix("https://") }
        return [
            // There are no server-side sessions: every request carries its credential (API key
            // or JWT), so `active_sessions` is null and the live-feed sockets are counted as such.
            "authentication": [
                "enabled": enabled, "mode": auth.mode.rawValue, "methods": auth.methods, "active_sessions": NSNull(),
                "live_feed_connections": services.feed.connectionCount,
                "api_keys": config.dashboard.auth.apiKeys.count, "failed_attempts_last_hour": auth.failures(since: now - 3600),
            ] as [String: Any],
            // With API keys each key is one principal; JWT users are whoever the issuer vouches
            // for, which the gateway cannot count.
            "authorization": [
                "rbac_enabled": enabled, "permissions": ["dashboard:read", "dashboard:admin"],
                "total_users": auth.mode == .jwt ? NSNull() : (enabled ? config.dashboard.auth.apiKeys.count : 0) as Any,
            ] as [String: Any],
            "rate_limiting": [
                "enabled": services.limiter != nil,
                "current_limits": ["requests_per_minute": rl.requestsPerMinute, "burst_size": rl.burst, "burst_window_seconds": rl.burstWindowSeconds],
                "violations_last_hour": violations.count, "rate_limited_clients": violations.clients,
            ] as [String: Any],
            "security_events": events,
            "ssl_tls": [
                "enabled": false, "listener": "plain HTTP (terminate TLS in front of Sightglass)",
                "upstream_tls_backends": httpsBackends.map { ["backend": $0.name, "verify": $0.tlsVerify, "ca_file": $0.caFile ?? NSNull()] as [String: Any] },
            ]
                as [String: Any],
        ]
    }

    // MARK: - alerts

    static func json(_ a: Alert) -> [String: Any] {
        var details: [String: Any] = [
            "value": a.value, "fired_value": a.firedValue, "threshold": a.rule.threshold, "condition": a.rule.condition,
            "window_seconds": a.rule.windowSeconds, "rule": a.rule.name,
        ]
        for (k, v) in a.labels { details[k] = Double(v) ?? v as Any }
        var o: [String: Any] = [
            "id": a.id, "timestamp": ISO8601.string(epoch: a.startedAt), "level": a.rule.severity, "category": a.rule.metric.category,
            "title": a.title, "message": a.message, "details": details, "actions": [String](), "acknowledged": a.acknowledged,
        ]
        o["acknowledged_by"] = a.acknowledgedBy ?? NSNull()
        o["acknowledged_at"] = a.acknowledgedAt.map { ISO8601.string(epoch: $0) } ?? NSNull()
        if let r = a.resolvedAt {
            o["resolved_at"] = ISO8601.string(epoch: r)
            o["resolution"] = "condition cleared (\(a.rule.metric.rawValue) = \(Units.round2(a.value)))"
        }
        return o
    }

    func dashboardAlerts() -> [String: Any] {
        let rules: [[String: Any]] = config.dashboard.alerts.rules.map { r in
            [
                "name": r.name, "condition": r.condition, "metric": r.metric.rawValue, "threshold": r.threshold, "window_seconds": r.windowSeconds,
                "severity": r.severity, "enabled": r.enabled,
            ]
        }
        return [
            "active_alerts": services.alerts.active.map(Self.json), "resolved_alerts": services.alerts.resolved.map(Self.json), "alert_rules": rules,
            "evaluation_interval_seconds": config.dashboard.alerts.intervalSeconds,
        ]
    }

    func acknowledge(_ req: Request, _ ctx: ControlContext) -> Response {
        let id = ctx.parameters.get("id") ?? ""
        let user = ctx.principal?.user ?? "anonymous"
        guard let alert = services.alerts.acknowledge(id: id, by: user) else {
            if services.alerts.resolvedAlert(id: id) != nil {
                return JSONResponse.error(.conflict, code: "ALERT_RESOLVED", message: "alert '\(id)' is already resolved", details: ["field": "id"])
            }
            return JSONResponse.error(.notFound, code: "NOT_FOUND", message: "no active alert with id '\(id)'", details: ["field": "id"])
        }
        audit("alert_acknowledge", user: user, resource: id, request: req, ip: ctx.clientIP(req), details: ["rule": alert.rule.name, "title": alert.title])
        services.feed.publish("alerts") { LiveMessage.text(topic: "alerts", event: "acknowledged", data: Self.json(alert)) }
        return JSONResponse.make(["alert": Self.json(alert), "acknowledged": true])
    }

    // MARK: - cache and jobs (capabilities that do not exist yet)

    static func dashboardCache() -> [String: Any] {
        let off: [String: Any] = ["enabled": false]
        return [
            "enabled": false, "message": "Sightglass has no response or model cache; requests always go to a backend.",
            "cache_types": ["model": off, "response": off, "metadata": off], "compression": off, "performance": NSNull(),
        ]
    }

    static func dashboardJobs() -> [String: Any] {
        [
            "enabled": false, "message": "Sightglass runs no batch jobs.", "active_jobs": [Any](), "completed_jobs": [Any](), "scheduled_jobs": [Any](),
            "queue_stats": ["pending_jobs": 0],
        ]
    }

    // MARK: - resources

    func dashboardResources() -> [String: Any] {
        let host = hub.system.host
        let sys = hub.system.snapshot
        let cpu: [String: Any] = [
            "usage_percent": Units.orNull(host.cpuPercent), "load_average": host.loadAverage, "cores": host.cores,
            "frequency_mhz": Units.orNull(host.frequencyMHz), "per_core_usage": host.perCorePercent.map(Units.round2),
        ]
        let memory: [String: Any] = [
            "total_gb": Units.gb(host.memoryTotal), "used_gb": Units.gb(host.memoryUsed), "available_gb": Units.gb(host.memoryAvailable),
            "usage_percent": Units.orNull(host.memoryPercent), "swap_total_gb": Units.gb(host.swapTotal), "swap_used_gb": Units.gb(host.swapUsed),
            "buffers_gb": Units.gb(host.memory["Buffers"]), "cached_gb": Units.gb(host.memory["Cached"]),
            "total_bytes": host.memoryTotal ?? NSNull(), "available_bytes": host.memoryAvailable ?? NSNull(),
        ]
        let filesystems: [[String: Any]] = host.filesystems.map { f in
            [
                "mount": f.mount, "device": f.device, "type": f.type, "total_gb": Units.gb(f.totalBytes), "used_gb": Units.gb(f.usedBytes),
                "available_gb": Units.gb(f.availableBytes), "usage_percent": Units.round2(f.usagePercent),
                "total_bytes": f.totalBytes, "used_bytes": f.usedBytes, "available_bytes": f.availableBytes,
            ]
        }
        let io: Any =
            host.diskIO.map { d in
                [
                    "reads_per_second": Units.round2(d.readsPerSecond), "writes_per_second": Units.round2(d.writesPerSecond),
                    "read_mb_per_second": Units.round2(d.readBytesPerSecond / 1_048_576),
                    "write_mb_per_second": Units.round2(d.writeBytesPerSecond / 1_048_576),
                ] as [String: Any]
            } ?? NSNull()
        let interfaces: [[String: Any]] = host.interfaces.map { i in
            [
                "name": i.name, "bytes_sent": i.bytesSent, "bytes_received": i.bytesReceived, "packets_sent": i.packetsSent,
                "packets_received": i.packetsReceived, "errors": i.errorsReceived + i.errorsSent, "errors_received": i.errorsReceived,
                "errors_sent": i.errorsSent, "drops": i.dropsReceived + i.dropsSent,
                "receive_bytes_per_second": Units.orNull(i.receiveBytesPerSecond), "send_bytes_per_second": Units.orNull(i.sendBytesPerSecond),
            ]
        }
        let tcp = host.tcpStates
        let connections: [String: Any] = [
            "active": tcp["established"] ?? 0, "time_wait": tcp["time_wait"] ?? 0, "listening": tcp["listen"] ?? 0,
            "by_state": tcp,
        ]
        var process: [String: Any] = ["pid": Int(getpid()), "uptime_seconds": Int(uptime)]
        process["rss_mb"] = Units.mb(sys.processResidentBytes)
        process["cpu_seconds"] = Units.orNull(sys.processCPUSeconds)
        process["open_fds"] = sys.processOpenFDs ?? NSNull()
        process["max_fds"] = sys.processMaxFDs ?? NSNull()
        process["threads"] = sys.processThreads ?? NSNull()
        return [
            "timestamp": ISO8601.string(epoch: host.timestamp > 0 ? host.timestamp : Date().timeIntervalSince1970), "cpu": cpu, "memory": memory,
            "disk": ["filesystems": filesystems, "io_stats": io] as [String: Any],
            "network": ["interfaces": interfaces, "connections": connections] as [String: Any],
            "gpu": gpuJSON(detailed: true), "process": process,
        ]
    }
}

/// Live-feed message text: `{"type": topic, "topic", "event", "timestamp", "data"}`.
enum LiveMessage {
    static func text(topic: String, event: String = "snapshot", data: Any) -> String {
        JSONResponse.string(["type": topic, "topic": topic, "event": event, "timestamp": ISO8601.string(Date()), "data": data])
    }

    /// The same envelope around a typed payload.
    static func typed<Payload: Codable & Sendable>(topic: String, event: String = "snapshot", data: Payload) -> String {
        String(decoding: JSONResponse.data(LiveEnvelope(type: topic, topic: topic, event: event, timestamp: ISO8601.string(Date()), data: data)), as: UTF8.self)
    }
}

/// One live-feed message: the topic (twice: `type` for seed 000's clients), what happened, when, and the payload.
public struct LiveEnvelope<Payload: Codable & Sendable>: Codable, Sendable {
    public var type: String
    public var topic: String
    public var event: String
    public var timestamp: String
    public var data: Payload
}
