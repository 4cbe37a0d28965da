import Foundation
import Hummingbird
import Logging
import SightglassConfig
import SightglassStore
import SightglassTelemetry

/// The operational endpoints: logs, audit, errors, security, alerts, resources. The honest
/// answers for capabilities Sightglass does not have (cache, jobs) are constant values.
extension DashboardRoutes {
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
        return JSONResponse.encode(
            DashboardLogsAnswer(
                logs: matching.prefix(limit).map(Self.logLine), totalCount: total, filteredCount: matching.count,
                bufferCapacity: services.logs.capacity))
    }

    static func logLine(_ e: LogRing.Entry) -> LogLine {
        LogLine(
            timestamp: ISO8601.string(epoch: e.timestamp), level: levelNames[e.level] ?? "info", component: e.component, message: e.message,
            metadata: e.metadata)
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
        let items = entries.map { e in
            DashboardAuditAnswer.Entry(
                id: e.id, timestamp: ISO8601.string(epoch: e.timestamp), user: e.user, action: e.action, resource: e.resource, level: e.level,
                sourceIp: e.sourceIP, userAgent: e.userAgent,
                details: (try? JSONDecoder().decode([String: JSONValue].self, from: Data(e.detailsJSON.utf8))) ?? [:], result: e.result)
        }
        return JSONResponse.encode(DashboardAuditAnswer(entries: items, totalCount: total, filteredCount: filtered, persistent: services.audit.persistent))
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
        var recent: [DashboardErrorsAnswer.RecentError] = []
        var groups: [DashboardErrorsAnswer.Group] = []
        var bySeverity = DashboardErrorsAnswer.Severities()
        var source = "ledger"
        if let l = ledger?.ledger {
            for g in try await l.errorGroups(since: since) {
                bySeverity.add(g.count, severity: Self.severity(g.type))
                groups.append(
                    DashboardErrorsAnswer.Group(
                        type: g.type, count: g.count, firstSeen: ISO8601.string(epoch: g.firstSeen), lastSeen: ISO8601.string(epoch: g.lastSeen),
                        exampleRequestIds: g.exampleIds, lastMessage: ExplicitNull(wrappedValue: g.lastMessage), lastStatus: g.lastStatus,
                        severity: Self.severity(g.type)))
            }
            var page = RequestFilter()
            page.since = since
            page.limit = limit
            page.onlyErrors = true
            recent = try await l.requests(page).requests.map { r in
                DashboardErrorsAnswer.RecentError(
                    id: r.id, timestamp: ISO8601.string(epoch: r.startTime), type: r.errorType ?? "http_\(r.status)",
                    severity: Self.severity(r.errorType ?? ""), component: r.backend.isEmpty ? "gateway" : r.backend,
                    message: r.errorMessage ?? "HTTP \(r.status)",
                    details: .init(
                        status: r.status, route: r.route, model: r.model.isEmpty ? nil : r.model, backend: r.backend.isEmpty ? nil : r.backend,
                        latencyMs: Units.ms(r.latency)))
            }
        } else {
            source = "memory"
            let (window, _) = hub.trafficWindow()
            var types: [String: Int] = [:]
            for w in window.byRoute.values { for (t, n) in w.errorsByType { types[t, default: 0] += n } }
            for (t, n) in types.sorted(by: { $0.value > $1.value }) {
                bySeverity.add(n, severity: Self.severity(t))
                groups.append(DashboardErrorsAnswer.Group(type: t, count: n, severity: Self.severity(t)))
            }
        }
        let summary = DashboardErrorsAnswer.Summary(
            period: .init(since: ISO8601.string(epoch: since), until: ISO8601.string(Date())), last24Hours: bySeverity,
            topErrorTypes: groups.prefix(10).map { .init(type: $0.type, count: $0.count) }, groups: groups)
        return JSONResponse.encode(DashboardErrorsAnswer(recentErrors: recent, errorSummary: summary, source: source))
    }

    // MARK: - security

    func dashboardSecurity() async -> DashboardSecurityAnswer {
        let auth = services.auth
        let now = Date().timeIntervalSince1970
        let enabled = auth.mode != .off
        let rl = config.dashboard.rateLimit
        let violations = services.limiter?.violations(now: now) ?? (count: 0, clients: [])
        let events = auth.recentEvents().map { e in
            DashboardSecurityAnswer.Event(
                timestamp: ISO8601.string(epoch: e.timestamp), type: e.type, sourceIp: e.sourceIP, details: e.details, severity: e.severity)
        }
        let httpsBackends = config.backends.filter { $0.url.lowercased().hasPrefix("https://") }
        return DashboardSecurityAnswer(
            authentication: .init(
                enabled: enabled, mode: auth.mode.rawValue, methods: auth.methods, liveFeedConnections: services.feed.connectionCount,
                apiKeys: config.dashboard.auth.apiKeys.count, failedAttemptsLastHour: auth.failures(since: now - 3600)),
            authorization: .init(
                rbacEnabled: enabled, permissions: ["dashboard:read", "dashboard:admin"],
                totalUsers: auth.mode == .jwt ? nil : (enabled ? config.dashboard.auth.apiKeys.count : 0)),
            rateLimiting: .init(
                enabled: services.limiter != nil,
                currentLimits: .init(requestsPerMinute: rl.requestsPerMinute, burstSize: rl.burst, burstWindowSeconds: rl.burstWindowSeconds),
                violationsLastHour: violations.count, rateLimitedClients: violations.clients),
            securityEvents: events,
            sslTls: .init(upstreamTlsBackends: httpsBackends.map { .init(backend: $0.name, verify: $0.tlsVerify, caFile: $0.caFile) }),
            inference: await inferenceSecurity(now: now))
    }

    func inferenceSecurity(now: Double) async -> DashboardSecurityAnswer.Inference {
        let counts = try? await ledger?.ledger?.organization.counts()
        return .init(
            authMode: config.auth.effectiveInference(host: config.server.host).rawValue, liveKeys: counts?.liveKeys, projects: counts?.projects,
            users: counts?.users, failedAuthenticationsLastHour: services.auth.failures(since: now - 3600, types: ["inference_auth_failure"]))
    }

    // MARK: - alerts

    static func record(_ a: Alert) -> AlertRecord {
        AlertRecord(
            id: a.id, timestamp: ISO8601.string(epoch: a.startedAt), level: a.rule.severity, category: a.rule.metric.category, title: a.title,
            message: a.message,
            details: .init(
                value: a.value, firedValue: a.firedValue, threshold: a.rule.threshold, condition: a.rule.condition, windowSeconds: a.rule.windowSeconds,
                rule: a.rule.name, labels: a.labels),
            acknowledged: a.acknowledged, acknowledgedBy: a.acknowledgedBy, acknowledgedAt: a.acknowledgedAt.map { ISO8601.string(epoch: $0) },
            resolvedAt: a.resolvedAt.map { ISO8601.string(epoch: $0) },
            resolution: a.resolvedAt.map { _ in "condition cleared (\(a.rule.metric.rawValue) = \(Units.round2(a.value)))" })
    }

    func dashboardAlerts() -> DashboardAlertsAnswer {
        let rules = config.dashboard.alerts.rules.map { r in
            DashboardAlertsAnswer.Rule(
                name: r.name, condition: r.condition, metric: r.metric.rawValue, threshold: r.threshold, windowSeconds: r.windowSeconds,
                severity: r.severity, enabled: r.enabled)
        }
        return DashboardAlertsAnswer(
            activeAlerts: services.alerts.active.map(Self.record), resolvedAlerts: services.alerts.resolved.map(Self.record), alertRules: rules,
            evaluationIntervalSeconds: config.dashboard.alerts.intervalSeconds)
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
        services.audit.record(
            "alert_acknowledge", user: user, resource: id, request: req, ip: ctx.clientIP(req), details: ["rule": alert.rule.name, "title": alert.title])
        let record = Self.record(alert)
        services.feed.publish("alerts") { LiveMessage.typed(topic: "alerts", event: "acknowledged", data: record) }
        return JSONResponse.encode(AlertAcknowledgement(alert: record))
    }

    // MARK: - resources

    func dashboardResources() -> DashboardResourcesAnswer {
        let host = hub.system.host
        let sys = hub.system.snapshot
        let cpu = DashboardResourcesAnswer.CPU(
            usagePercent: host.cpuPercent.map(Units.round2), loadAverage: host.loadAverage, cores: host.cores,
            frequencyMhz: host.frequencyMHz.map(Units.round2), perCoreUsage: host.perCorePercent.map(Units.round2))
        let memory = DashboardResourcesAnswer.Memory(
            totalGb: host.memoryTotal.map(Units.gb), usedGb: host.memoryUsed.map(Units.gb), availableGb: host.memoryAvailable.map(Units.gb),
            usagePercent: host.memoryPercent.map(Units.round2), swapTotalGb: host.swapTotal.map(Units.gb), swapUsedGb: host.swapUsed.map(Units.gb),
            buffersGb: host.memory["Buffers"].map(Units.gb), cachedGb: host.memory["Cached"].map(Units.gb), totalBytes: host.memoryTotal,
            availableBytes: host.memoryAvailable)
        let filesystems = host.filesystems.map { f in
            DashboardResourcesAnswer.Filesystem(
                mount: f.mount, device: f.device, type: f.type, totalGb: Units.gb(f.totalBytes), usedGb: Units.gb(f.usedBytes),
                availableGb: Units.gb(f.availableBytes), usagePercent: Units.round2(f.usagePercent), totalBytes: f.totalBytes, usedBytes: f.usedBytes,
                availableBytes: f.availableBytes)
        }
        let io = host.diskIO.map { d in
            DashboardResourcesAnswer.IOStats(
                readsPerSecond: Units.round2(d.readsPerSecond), writesPerSecond: Units.round2(d.writesPerSecond),
                readMbPerSecond: Units.round2(d.readBytesPerSecond / 1_048_576), writeMbPerSecond: Units.round2(d.writeBytesPerSecond / 1_048_576))
        }
        let interfaces = host.interfaces.map { i in
            DashboardResourcesAnswer.Interface(
                name: i.name, bytesSent: i.bytesSent, bytesReceived: i.bytesReceived, packetsSent: i.packetsSent, packetsReceived: i.packetsReceived,
                errors: i.errorsReceived + i.errorsSent, errorsReceived: i.errorsReceived, errorsSent: i.errorsSent, drops: i.dropsReceived + i.dropsSent,
                receiveBytesPerSecond: i.receiveBytesPerSecond.map(Units.round2), sendBytesPerSecond: i.sendBytesPerSecond.map(Units.round2))
        }
        let tcp = host.tcpStates
        let connections = DashboardResourcesAnswer.Connections(
            active: tcp["established"] ?? 0, timeWait: tcp["time_wait"] ?? 0, listening: tcp["listen"] ?? 0, byState: tcp)
        let process = DashboardResourcesAnswer.ProcessFigures(
            pid: Int(getpid()), uptimeSeconds: Int(uptime), rssMb: sys.processResidentBytes.map(Units.mb),
            cpuSeconds: sys.processCPUSeconds.map(Units.round2), openFds: sys.processOpenFDs, maxFds: sys.processMaxFDs, threads: sys.processThreads)
        return DashboardResourcesAnswer(
            timestamp: ISO8601.string(epoch: host.timestamp > 0 ? host.timestamp : Date().timeIntervalSince1970), cpu: cpu, memory: memory,
            disk: .init(filesystems: filesystems, ioStats: io), network: .init(interfaces: interfaces, connections: connections),
            gpu: GPUStatus(hub.system.gpu, detailed: true), process: process)
    }
}
