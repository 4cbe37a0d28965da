import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle
import SightglassConfig
import SightglassDashboard
import SightglassGovernance
import SightglassProxy
import SightglassStore
import SightglassTelemetry
import UnixSignals

/// A running gateway: data plane, control plane, ledger, backend monitor and telemetry timers,
/// each a swift-service-lifecycle `Service` in one `ServiceGroup`.
///
/// `start` returns once the gateway accepts connections. Shutdown (a signal from `signals`, or
/// `shutdown()`) runs in the reverse of the start order: stop accepting and drain in-flight
/// requests, stop the control plane and the timers, drain telemetry one last time, flush the
/// ledger. `wait()` returns when that is done.
public final class GatewayRuntime: Sendable {
    public static let version = "0.1.0"

    /// The configuration in force; a reload replaces it.
    public var config: GatewayConfig { controlPlane.config }
    /// Nil when the gateway was started without a way to load its configuration again.
    let reloader: ConfigReloader?
    public let hub: TelemetryHub
    public let proxy: ProxyServer
    public let port: Int
    /// The control plane's own port when it does not share the proxy's.
    public let controlPort: Int?
    let group: ServiceGroup
    let task: Task<Void, Never>
    let logger: Logger
    /// The request ledger's writer, nil when disabled.
    public let ledger: LedgerWriter?
    /// The control plane's routes and dashboard services (logs, audit, alerts, live feed).
    public let controlPlane: ControlPlane

    /// Starts a gateway on `config`. With `reloadSource`, `SIGHUP` (when `signals` holds it),
    /// `reload` and `POST /admin/reload` load the configuration again from it (`sourceName`
    /// names the file). `signals` among SIGINT and SIGTERM shut the gateway down gracefully.
    /// `continueTotals` starts the live totals from the ledger's; the demo turns it off, since
    /// its ledger holds synthetic history that must never count as traffic.
    public static func start(
        config: GatewayConfig, logger baseLogger: Logger,
        reloadSource: (@Sendable () throws -> GatewayConfig)? = nil, sourceName: String? = nil,
        signals: [UnixSignal] = [], continueTotals: Bool = true
    ) async throws -> GatewayRuntime {
        try config.validate()
        // Everything the gateway logs also lands in a bounded ring for /dashboard/logs and the live feed.
        let logs = LogRing(capacity: config.dashboard.logEntries)
        let next = baseLogger.handler
        let logger = Logger(label: "sightglass.gateway") { label in RingLogHandler(label: label, ring: logs, next: next) }
        let loops = config.server.eventLoops > 0 ? config.server.eventLoops : ProxyServer.defaultLoopCount()
        let hub = TelemetryHub(config: config, loops: loops, version: version)
        hub.system.sample()
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        // The ledger is fed from the hub's drain, off the request path; a store that cannot be
        // opened degrades the ledger, never the proxy.
        var ledger: LedgerWriter?
        if config.ledger.enabled {
            let writer = LedgerWriter(location: config.ledger.effectivePath, settings: config.ledger, logger: logger)
            hub.subscribe { writer.enqueue($0) }
            writer.start()
            ledger = writer
            if continueTotals { Self.continueTotals(hub: hub, writer: writer, logger: logger) }
        }
        let services: DashboardServices
        do {
            services = try await DashboardServices.make(config: config, ledger: ledger, logs: logs, logger: logger)
        } catch {
            ledger?.stop()
            try? await httpClient.shutdown()
            throw error
        }
        // Limits and budgets: one limiter for the process, enforced by the data plane and shown by
        // the control plane. With the ledger in PostgreSQL, every instance using it shares them.
        let writerRef = ledger
        let leases =
            config.ledger.enabled && LedgerStores.isPostgres(config.ledger.effectivePath)
            ? LedgerLeaseSource { writerRef?.ledger } : nil
        let limiter = UsageLimiter(
            unixNow: Date().timeIntervalSince1970, shared: leases != nil, monotonic: { Int64(DispatchTime.now().uptimeNanoseconds) })
        let controlPlane = ControlPlane(hub: hub, config: config, httpClient: httpClient, ledger: ledger, services: services, limiter: limiter)
        let webhook = config.dashboard.alerts.webhook.map { AlertWebhook(settings: $0, client: httpClient, logger: logger) }
        controlPlane.wireLiveSources(webhook: webhook)
        let requestLogger = logger
        hub.subscribe { events in
            services.alerts.observe(events)
            controlPlane.throttles.observe(events)
            controlPlane.publishRequests(events)
            Self.logFailures(events, logger: requestLogger)
            Self.auditRefusals(events, services: services)
        }

        // The control plane listens privately on a Unix socket, reached through the data plane,
        // unless it is given its own port.
        var socketPath: String?
        let address: BindAddress
        if let cport = config.server.controlPort {
            address = .hostname(config.server.controlHost ?? config.server.host, port: cport)
        } else {
            let path = NSTemporaryDirectory() + "sightglass-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
            unlink(path)
            socketPath = path
            address = .unixDomainSocket(path: path)
        }
        var quiet = logger
        quiet.logLevel = .warning
        let (controlPorts, controlBound) = AsyncStream<Int>.makeStream()
        let control = Application(
            router: controlPlane.router(),
            server: .http1WebSocketUpgrade(
                webSocketRouter: controlPlane.webSocketRouter(),
                configuration: .init(ws: .init(maxFrameSize: 1 << 16, autoPing: .enabled(timePeriod: .seconds(30))))),
            configuration: .init(address: address, serverName: nil, backlog: 1024),
            onServerRunning: { channel in
                controlBound.yield(channel.localAddress?.port ?? 0)
                controlBound.finish()
            }, logger: quiet)

        let proxy: ProxyServer
        do {
            proxy = try ProxyServer(
                config: config, telemetry: hub, controlPlane: socketPath.map { .unixSocket($0) } ?? .none,
                routing: RoutingTable(modelToBackends: [:]), limiter: limiter, leases: leases)
        } catch {
            ledger?.stop()
            try? await httpClient.shutdown()
            throw error
        }
        let monitor = BackendMonitor(config: config, board: hub.board, client: httpClient, logger: logger) { table in
            proxy.updateRouting(table)
        }
        proxy.updateRouting(monitor.routingTable())
        hub.subscribe { events in
            // A model pulled, created, copied or deleted through the gateway: learn the backends'
            // new catalogs now rather than at the next health check.
            if events.contains(where: { Self.managementRoutes.contains($0.route) && $0.status < 400 }) {
                Task { await monitor.checkAll() }
            }
        }
        // A restart keeps what budgets spent (shared limits keep it in PostgreSQL instead).
        let budgetLogger = logger
        let seedBudgets: @Sendable (KeyTable, any LedgerStore) async -> Void = { table, store in
            guard leases == nil else { return }
            do {
                try await BudgetSeed.seed(limiter, table: table, store: store, now: Date().timeIntervalSince1970)
            } catch {
                budgetLogger.error("cannot read budgets' spend so far from the ledger; they count from zero", metadata: ["error": "\(error)"])
            }
        }
        let keySync = KeySync(proxy: proxy, logger: logger, installed: { controlPlane.keysUpdated($0) }, first: seedBudgets) { writerRef?.ledger }
        controlPlane.setKeysChanged { await keySync.refresh(force: true) }
        let inferenceAuth = config.auth.effectiveInference(host: config.server.host)
        let reloader = reloadSource.map { source in
            ConfigReloader(
                source: source, sourceName: sourceName, proxy: proxy, hub: hub, monitor: monitor,
                controlPlane: controlPlane, logger: logger)
        }
        if let reloader {
            controlPlane.setReloader { trigger, user in try await reloader.reload(trigger: trigger, user: user) }
        }

        // Started in this order, shut down in the reverse one.
        let audit = services.audit
        let writer = ledger
        var all: [any Service] = [
            ShutdownService("ledger") {
                // Runs last: everything drained has reached the writer; write it and stop.
                _ = try? await BlockingWork.run {
                    audit.flush()
                    writer?.stop()
                }
            },
            // Telemetry leaves the data plane here, twenty times a second: small batches keep the
            // fold from taking the core in bursts when the gateway is pinned to one.
            PeriodicService("telemetry drain", every: .milliseconds(50), tick: { hub.drain() }, last: { hub.drain() }),
            PeriodicService("host sampler", every: .seconds(1)) { hub.system.sample() },
            // GPUs: NVML is fast, nvidia-smi is a process start; every 5 s either way.
            PeriodicService("GPU sampler", every: .seconds(5)) { _ = try? await BlockingWork.run { hub.system.sampleGPU() } },
            LoopService("backend monitor") { await monitor.run() },
            // Keys changed on another instance sharing the database reach this one within ~2 s.
            PeriodicService("key sync", every: .seconds(1)) { await keySync.refresh() },
            PeriodicService("alert evaluator", every: .milliseconds(Int64(config.dashboard.alerts.intervalSeconds * 1000))) {
                let now = Date().timeIntervalSince1970
                services.alerts.evaluate(
                    .init(now: now, host: hub.system.host, backends: hub.board.all, budgets: controlPlane.budgetReadings(now: now)))
            },
            LoopService("live feed") { await controlPlane.runLiveFeed() },
            control,
            ShutdownService("data plane") {
                // Runs first: stop accepting, let in-flight requests and streams finish.
                let drain = controlPlane.config.server.drainTimeoutSeconds
                logger.info("draining in-flight requests", metadata: ["timeout_seconds": "\(drain)"])
                controlPlane.audit("gateway_stop", user: "system", resource: "gateway", details: ["uptime_seconds": Int(controlPlane.uptime)])
                await proxy.shutdown(timeout: .nanoseconds(Int64(drain * 1e9)))
            },
        ]
        if let leases {
            // Shared limits: windows follow PostgreSQL's clock; ended windows are deleted.
            all.append(LoopService("limit windows") { await leases.run(limiter) })
        }
        if let reloader, signals.contains(.sigint) || signals.contains(.sigterm) {
            all.append(
                LoopService("reload on SIGHUP") {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) {
                        _ = try? await reloader.reload(trigger: "SIGHUP", user: nil)
                    }
                })
        }
        let group = ServiceGroup(
            configuration: .init(
                services: all.map { .init(service: $0) }, gracefulShutdownSignals: signals,
                logger: quiet))
        let task = Task {
            do { try await group.run() } catch { logger.error("gateway stopped on an error", metadata: ["error": "\(error)"]) }
            controlBound.finish()
            try? await httpClient.shutdown()
            if let socketPath { unlink(socketPath) }
        }

        let port: Int
        var bound: Int?
        do {
            for await p in controlPorts { bound = p }
            guard bound != nil else { throw RunnerError.failedToStart("control plane on \(address)") }
            await monitor.checkAll()
            if inferenceAuth != .off {
                // Keys are loaded before the first request, so a valid key never meets an empty table.
                for _ in 0..<50 where writerRef?.ledger == nil { try? await Task.sleep(for: .milliseconds(100)) }
                await keySync.refresh(force: true)
            }
            port = try await proxy.start(host: config.server.host, port: config.server.port)
        } catch {
            await group.triggerGracefulShutdown()
            await task.value
            throw error
        }
        let controlPort = config.server.controlPort != nil ? bound : nil
        logger.info(
            "gateway listening",
            metadata: [
                "address": "\(config.server.host):\(port)", "backends": "\(config.backends.count)",
                "ledger": "\(ledger?.displayLocation ?? "disabled")", "auth": "\(services.auth.mode.rawValue)",
                "inference_auth": "\(inferenceAuth.rawValue)",
            ])
        if !ServerSettings.isLoopback(config.server.host) && config.dashboard.auth.mode == nil && config.dashboard.auth.apiKeys.isEmpty
            && config.dashboard.auth.jwt == nil
        {
            logger.warning(
                "the dashboard, ledger and admin routes answer 401: \(config.server.host) is reachable from the network and no dashboard credential is configured; add dashboard.auth.api_keys (id, sha256 of a key, permissions [dashboard:admin]) or write dashboard.auth.mode: off. /health and /metrics stay open"
            )
        }
        if inferenceAuth == .off && !ServerSettings.isLoopback(config.server.host) {
            logger.warning(
                "inference routes are open to anyone who can reach \(config.server.host): auth.inference is off; set it to required and create keys with `sightglass keys create`"
            )
        }
        if inferenceAuth != .off && ledger == nil {
            logger.error("auth.inference is \(inferenceAuth.rawValue) but the ledger is disabled: keys live in the ledger's database, so no key can be valid")
        }
        controlPlane.audit(
            "gateway_start", user: "system", resource: "gateway",
            details: [
                "version": version, "address": "\(config.server.host):\(port)", "backends": config.backends.map(\.name),
                "auth_mode": services.auth.mode.rawValue, "ledger": ledger?.displayLocation ?? "disabled",
            ])
        return GatewayRuntime(
            reloader: reloader, hub: hub, proxy: proxy, port: port, controlPort: controlPort,
            group: group, task: task, ledger: ledger, logger: logger, controlPlane: controlPlane)
    }

    /// Reads the store's all-time totals once it is open (PostgreSQL opens on the writer's
    /// thread) and starts the live totals from them. Skipped if this process has already
    /// written requests by then, which would be counted twice.
    static func continueTotals(hub: TelemetryHub, writer: LedgerWriter, logger: Logger) {
        Task.detached {
            for _ in 0..<100 where writer.ledger == nil { try? await Task.sleep(for: .milliseconds(100)) }
            guard let store = writer.ledger, writer.status.written == 0 else { return }
            do {
                // All time, by route: day rollups (the whole range is far over 90 days).
                let (routes, stored) = try await store.breakdown(by: .route, since: 0, until: Date().timeIntervalSince1970 + 86_400)
                guard writer.status.written == 0 else { return }
                hub.continueTotals(from: stored.cumulative, byRoute: Dictionary(uniqueKeysWithValues: routes.map { ($0.key, $0.cell.cumulative) }))
                if stored.count > 0 { logger.info("totals continue from the ledger", metadata: ["requests": "\(stored.count)"]) }
            } catch {
                logger.warning("could not read the ledger's totals; live totals start from zero", metadata: ["error": "\(error)"])
            }
        }
    }

    static let managementRoutes: Set<String> = Set(ProxyRoute.all.values.filter(\.management).map(\.path)).subtracting(["/api/push"])

    /// Inference requests refused for their key go to the audit trail and `/dashboard/security`
    /// (from the drain, off the request path), at most 50 per batch so a flood of bad keys
    /// cannot drown either. The credential itself is never part of the entry.
    static func auditRefusals(_ events: [RequestEvent], services: DashboardServices) {
        var n = 0
        for e in events where e.errorType == .authenticationError || e.errorType == .permissionDenied {
            guard n < 50 else { break }
            n += 1
            let failed = e.errorType == .authenticationError
            services.auth.recordFailure(
                type: failed ? "inference_auth_failure" : "inference_permission_denied", sourceIP: e.clientAddress,
                details: "\(e.route): \(e.errorMessage ?? "")", severity: failed ? "medium" : "low")
            var details = ["route": e.route, "reason": e.errorMessage ?? "", "request_id": e.id]
            if let key = e.apiKeyId { details["api_key_id"] = key }
            services.audit.record(
                AuditEntry(
                    user: e.user, action: failed ? "auth_failure" : "permission_denied", resource: e.route, level: "warning",
                    sourceIP: e.clientAddress, detailsJSON: String(decoding: (try? JSONEncoder().encode(details)) ?? Data("{}".utf8), as: UTF8.self),
                    result: "failure"))
        }
    }

    /// Failed requests are logged (off the request path, from the drain), at most a few per
    /// batch so an outage does not drown the log.
    static func logFailures(_ events: [RequestEvent], logger: Logger) {
        var logged = 0
        for e in events where e.isError && e.errorType != .clientCancelled {
            guard logged < 20 else { break }
            logged += 1
            let level: Logger.Level = e.isServerFailure ? .error : .warning
            logger.log(
                level: level, "request failed: \(e.errorMessage ?? "HTTP \(e.status)")",
                metadata: [
                    "request_id": "\(e.id)", "status": "\(e.status)", "error_type": "\(e.errorType?.rawValue ?? "http")",
                    "backend": "\(e.backend)", "model": "\(e.model)", "route": "\(e.route)", "latency_ms": "\(Int(e.latency * 1000))",
                ])
        }
    }

    init(
        reloader: ConfigReloader?, hub: TelemetryHub, proxy: ProxyServer, port: Int,
        controlPort: Int?, group: ServiceGroup, task: Task<Void, Never>, ledger: LedgerWriter?, logger: Logger, controlPlane: ControlPlane
    ) {
        self.reloader = reloader
        self.hub = hub
        self.proxy = proxy
        self.port = port
        self.controlPort = controlPort
        self.group = group
        self.task = task
        self.ledger = ledger
        self.logger = logger
        self.controlPlane = controlPlane
    }

    /// Loads the configuration again and applies it (see `ConfigReloader`). Throws, changing
    /// nothing, when it does not load or the gateway has no source to load it from.
    @discardableResult
    public func reload(trigger: String, user: String? = nil) async throws -> ReloadReport {
        guard let reloader else { throw ConfigError.invalid("this gateway was started without a configuration source to reload") }
        return try await reloader.reload(trigger: trigger, user: user)
    }

    /// Shuts the gateway down as a signal would (see the type's description) and returns when it is done.
    public func shutdown() async {
        await group.triggerGracefulShutdown()
        await task.value
    }

    /// Returns once the gateway has shut down (after a signal or `shutdown()`).
    public func wait() async {
        await task.value
    }
}
