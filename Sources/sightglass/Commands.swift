import ArgumentParser
import Foundation
import Logging
import SightglassConfig
import SightglassGovernance
import SightglassServer
import SightglassSimulator
import SightglassStore
import UnixSignals

/// Flags shared by `serve` and `demo`; each overrides the config file and environment.
struct GatewayOptions: ParsableArguments {
    @Option(help: "Address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (default 8080).") var port: Int?
    @Option(name: .customLong("backend"), help: "A backend as NAME=URL; repeat for several.") var backends: [String] = []
    @Option(help: "YAML configuration file.") var config: String?
    @Option(help: "Event loops for the data plane (default: CPUs this process may use).") var eventLoops: Int?
    @Option(help: "Serve the control plane (metrics, health, dashboard) on its own port.") var controlPort: Int?
    @Option(help: "Seconds to let in-flight requests finish on SIGINT/SIGTERM.") var drainTimeout: Double?
    @Option(help: "Maximum concurrent proxied requests (0: no limit).") var maxConcurrent: Int?
    @Option(help: "Requests that may wait when the concurrency limit is reached.") var maxQueue: Int?
    @Option(help: "Request ledger: a SQLite file (default \(LedgerSettings.defaultPath)) or postgres://user:password@host:5432/database.") var db: String?
    @Flag(help: "Keep no request ledger (live metrics only).") var noLedger = false

    func resolve() throws -> GatewayConfig {
        var c = try ConfigLoader.load(file: config, environment: ProcessInfo.processInfo.environment)
        if let host { c.server.host = host }
        if let port { c.server.port = port }
        if !backends.isEmpty { c.backends = try backends.map(ConfigLoader.parseBackend) }
        if let eventLoops { c.server.eventLoops = eventLoops }
        if let controlPort { c.server.controlPort = controlPort }
        if let drainTimeout { c.server.drainTimeoutSeconds = drainTimeout }
        if let maxConcurrent { c.limits.maxConcurrentRequests = maxConcurrent }
        if let maxQueue { c.limits.maxQueueSize = maxQueue }
        if let db { c.ledger.path = db }
        if noLedger { c.ledger.enabled = false }
        try c.validate()
        return c
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway in front of one or more inference servers.")
    @OptionGroup var options: GatewayOptions

    func run() async throws {
        let config: GatewayConfig
        do { config = try options.resolve() } catch { throw ValidationError("\(error)") }
        if config.backends.isEmpty {
            throw ValidationError("no backends: pass --backend NAME=URL (e.g. --backend ollama=http://127.0.0.1:11434) or set them in --config")
        }
        let logger = Console.logger(level: config.logging.level)
        for warning in ConfigLoader.unknownEnvironment(ProcessInfo.processInfo.environment) { logger.warning("\(warning)") }
        Console.survivesFileSizeLimits()
        let options = self.options
        let gateway = try await GatewayRuntime.start(
            config: config, logger: logger,
            reloadSource: {
                let c = try options.resolve()
                guard !c.backends.isEmpty else { throw ConfigError.invalid("no backends: a gateway needs at least one") }
                return c
            }, sourceName: options.config, signals: [.sigint, .sigterm])
        Console.printGateway(gateway)
        // SIGINT/SIGTERM drain and stop it; SIGHUP reloads the configuration.
        await gateway.wait()
    }
}

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a simulated OpenAI- and Ollama-compatible inference server.")
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 11500
    @Option(help: "Comma-separated model names.") var models = SimulatorOptions.defaultModels.joined(separator: ",")
    @Option(help: "Time to first token, milliseconds.") var ttftMs = 120.0
    @Option(help: "Streamed tokens per second.") var tokensPerSecond = 60.0
    @Option(help: "Fraction of requests answered with a 500 (0 to 1).") var errorRate = 0.0
    @Option(help: "Fraction of requests slowed down 4x (0 to 1).") var slowdownRate = 0.0
    @Option(help: "Seed for deterministic output.") var seed: UInt64 = 42
    @Flag(help: "Answer OpenAI-style requests without usage, as some compatible servers do (the gateway then estimates tokens).")
    var noUsage = false

    func validate() throws {
        guard (0...1).contains(errorRate) else { throw ValidationError("--error-rate must be between 0 and 1") }
        guard (0...1).contains(slowdownRate) else { throw ValidationError("--slowdown-rate must be between 0 and 1") }
        guard ttftMs >= 0, tokensPerSecond >= 0 else { throw ValidationError("--ttft-ms and --tokens-per-second must not be negative") }
    }

    func run() async throws {
        let list = models.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let options = SimulatorOptions(
            models: list, ttftMs: ttftMs, tokensPerSecond: tokensPerSecond, errorRate: errorRate,
            slowdownRate: slowdownRate, seed: seed, reportsUsage: !noUsage)
        let sim = try await SimulatorRuntime.start(options: options, host: host, port: port, logger: Console.logger())
        Console.say("sightglass simulate: listening on http://\(host):\(sim.port) with models \(list.joined(separator: ", "))")
        await Signals.wait()
        await sim.stop()
    }
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Gateway + simulator + synthetic traffic in one process.")
    @OptionGroup var options: GatewayOptions
    @Option(help: "Synthetic requests per second (0: no traffic).") var rate = 3.0
    @Option(help: "Simulator error rate (0 to 1).") var errorRate = 0.01
    @Option(help: "Seconds between simulated one-minute incidents (30 % failures) that fire and resolve alerts; 0 turns them off.")
    var incidents = 300.0

    func run() async throws {
        let logger = Console.logger()
        Console.survivesFileSizeLimits()
        let sim = try await SimulatorRuntime.start(options: SimulatorOptions(errorRate: errorRate), host: "127.0.0.1", port: 0, logger: logger)
        let simulatorPort = sim.port
        let options = self.options
        let config = try Self.demoConfig(options.resolve(), simulatorPort: simulatorPort)
        var demoKeys: DemoKeys?
        if config.ledger.enabled {
            let location = config.ledger.effectivePath
            try await BlockingWork.run { try Self.seedHistory(location: location) }
            demoKeys = try await BlockingWork.run { try Self.demoOrganization(location: location) }
        }
        let gateway: GatewayRuntime
        do {
            gateway = try await GatewayRuntime.start(
                config: config, logger: logger,
                reloadSource: {
                    try Self.demoConfig(options.resolve(), simulatorPort: simulatorPort)
                }, sourceName: options.config, signals: [.sigint, .sigterm], continueTotals: false)
        } catch {
            await sim.stop()
            throw error
        }
        Console.printGateway(gateway)
        Console.say("  simulator backend:  http://127.0.0.1:\(sim.port)")
        Console.say(rate > 0 ? "  synthetic traffic:  \(rate) requests/s (Ctrl-C to stop)" : "  synthetic traffic:  none (--rate 0)")
        if incidents > 0 {
            Console.say("  simulated incidents: every \(Int(incidents)) s, 60 s with 30 % of requests failing (see /dashboard/alerts)")
        }
        let base = "http://\(Console.hostForURL(config.server.host)):\(gateway.port)"
        if let k = demoKeys {
            Console.say(
                "  inference auth:     \(config.auth.effectiveInference(host: config.server.host).rawValue) (requests without a key pass; a bad key is refused)"
            )
            Console.say("  admin key (new at each start): \(k.admin)")
            Console.say("    curl -H 'Authorization: Bearer \(k.admin)' \(base)/v1/organization/projects")
            Console.say("  project '\(k.projectName)' keys (2 in 3 synthetic requests use one): \(k.traffic)")
            Console.say("    and, in tier '\(Self.limitedTier)' (40 requests/minute, some refused with 429): \(k.limited)")
            Console.say("    limits live: \(base)/dashboard/rate-limits   and   \(base)/metrics/rate-limits")
            Console.say("    \(base)/api/requests?project_id=\(k.projectId)   and   \(base)/api/analytics/breakdown?by=api_key&since=1h")
        }
        var generator = TrafficGenerator(
            baseURL: base, requestsPerSecond: rate,
            chatModels: ["llama3.2:1b", "qwen2.5:0.5b", "gpt-4o-mini"], embeddingModels: ["nomic-embed-text"],
            incidents: incidents > 0 ? (every: incidents, length: 60, share: 0.3) : nil)
        generator.apiKeys = demoKeys.map { [$0.traffic, $0.limited] } ?? []
        // `--rate 0` means no synthetic traffic at all, not one request a second.
        let traffic = Task { if rate > 0 { await generator.run(client: .shared) } }
        await gateway.wait()
        traffic.cancel()
        await sim.stop()
    }
}

extension Demo {
    /// The demo's additions to the configuration, at start and on every reload: the simulator
    /// as the backend when none is configured, a ledger of its own, one-minute error-rate
    /// windows (its incidents last a minute) and a price for gpt-4o-mini so it shows cost.
    static func demoConfig(_ resolved: GatewayConfig, simulatorPort: Int) -> GatewayConfig {
        var config = resolved
        if config.backends.isEmpty { config.backends = [BackendConfig(name: "simulator", url: "http://127.0.0.1:\(simulatorPort)")] }
        if config.ledger.enabled && config.ledger.path == nil {
            // The demo keeps its own ledger, so its made-up history never mixes with a real one.
            config.ledger.path = (LedgerSettings.defaultPath as NSString).deletingLastPathComponent + "/demo.sqlite"
        }
        // Built-in error-rate rules (unless the config file changed them) judge the last minute.
        for i in config.dashboard.alerts.rules.indices
        where config.dashboard.alerts.rules[i].metric == .errorRate
            && AlertRule.builtIn.contains(config.dashboard.alerts.rules[i])
        {
            config.dashboard.alerts.rules[i].windowSeconds = 60
        }
        // Keys are shown live: requests with one are attributed, bad ones refused, none needed.
        if config.auth.inference == nil { config.auth.inference = .optional }
        // Limits are shown live: a tier whose key the synthetic traffic runs into every minute.
        if config.limits.tiers[Demo.limitedTier] == nil { config.limits.tiers[Demo.limitedTier] = RateLimits(requestsPerMinute: 40) }
        if config.pricing.isEmpty {
            // OpenAI's published list price for gpt-4o-mini; local models cost 0.
            config.pricing["gpt-4o-mini"] = ModelPrice(input: 0.15, cachedInput: 0.075, output: 0.60)
        }
        return config
    }

    /// A week of synthetic history in an empty demo ledger, so the history charts are not empty.
    /// The rows are marked `synthetic: true` in every API, and they end 24 hours before the
    /// demo starts: "today" (in any time zone) and the live totals hold real demo traffic only.
    /// The demo's keys for this run: its secrets exist only in this process and its output.
    struct DemoKeys: Sendable {
        var admin: String
        var traffic: String
        /// A key in the demo's 40 RPM tier: at the demo's rate about a quarter of its requests are refused.
        var limited: String
        var projectId: String
        var projectName: String
    }

    static let limitedTier = "demo-40rpm"

    /// The demo's organization (created on first start), with fresh keys at each start: the old
    /// ones are revoked, since only their digests were kept.
    static func demoOrganization(location: String) throws -> DemoKeys {
        let ledger = try LedgerStores.open(location, logger: Console.logger())
        defer { ledger.close() }
        return try LedgerStores.blocking {
            let org = ledger.organization
            if try await org.users(limit: 1).items.isEmpty {
                _ = try await org.bootstrap(email: "demo@localhost", name: "Demo admin", project: "Demo team")
            }
            let owner = try await org.users(limit: 100).items.first { $0.role == "owner" }!
            let project = try await org.project(named: "Demo team")
            try await org.revokeKeys(named: "demo admin key")
            try await org.revokeKeys(named: "demo traffic")
            try await org.revokeKeys(named: "demo limited")
            let admin = try await org.createAdminKey(ownerId: owner.id, name: "demo admin key")
            let traffic = try await org.createKey(projectId: project.id, ownerId: owner.id, name: "demo traffic", scopes: KeyScopes(), expiresAt: nil)
            let limited = try await org.createKey(
                projectId: project.id, ownerId: owner.id, name: "demo limited", scopes: KeyScopes(), expiresAt: nil,
                limits: KeyLimits(tier: limitedTier))
            // A soft daily budget on the project, so the Rate limits page shows spend against it.
            try await org.setProjectLimits(project.id, KeyLimits(budget: Budget(amountUSD: 0.05, period: .day, mode: .soft)))
            return DemoKeys(
                admin: admin.secret, traffic: traffic.secret, limited: limited.secret, projectId: project.id, projectName: project.name)
        }
    }

    static func seedHistory(location: String) throws {
        let ledger = try LedgerStores.open(location, logger: Console.logger())
        defer { ledger.close() }
        guard try LedgerStores.blocking({ try await ledger.requestCount() }) == 0 else { return }
        let rows = 150_000
        let now = Date().timeIntervalSince1970
        // Whole hours, so no hourly rollup that a "last 24 hours" query reads holds any of it.
        let end = ((now - 86_400) / 3600).rounded(.down) * 3600
        try SyntheticHistory(rows: rows, days: 7, end: end, seed: UInt64(now)).write(to: ledger)
        Console.say(
            "  ledger: \(ledger.location) seeded with \(rows) synthetic requests over the 7 days before the last 24 h (marked \"synthetic\": true; never counted in live totals)"
        )
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")
    func run() { Console.say("sightglass \(GatewayRuntime.version)") }
}

enum Console {
    /// A file-size limit (or a quota) must degrade the ledger, not kill the proxy: with SIGXFSZ
    /// ignored, a write past the limit fails with EFBIG, which SQLite reports as a full disk.
    static func survivesFileSizeLimits() {
        signal(SIGXFSZ, SIG_IGN)
    }

    /// Writes a line unbuffered, so URLs show at once even when output goes to a pipe or file.
    static func say(_ line: String, terminator: String = "\n") {
        FileHandle.standardOutput.write(Data((line + terminator).utf8))
    }

    /// Writes a line to standard error.
    static func warn(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// A logger at `level` (any case; `LOG_LEVEL` when nil), `info` when it names no level.
    static func logger(level: String? = nil) -> Logger {
        var logger = Logger(label: "sightglass")
        let name = level ?? ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"
        logger.logLevel = LoggingSettings.canonical(name).flatMap(Logger.Level.init(rawValue:)) ?? .info
        return logger
    }

    static func hostForURL(_ host: String) -> String {
        if host == "0.0.0.0" || host == "::" { return "127.0.0.1" }
        return host.contains(":") ? "[\(host)]" : host
    }

    static func printGateway(_ g: GatewayRuntime) {
        let base = "http://\(hostForURL(g.config.server.host)):\(g.port)"
        let control = g.controlPort.map { "http://\(hostForURL(g.config.server.controlHost ?? g.config.server.host)):\($0)" } ?? base
        Console.say("sightglass \(GatewayRuntime.version): gateway listening on \(base)")
        Console.say("  dashboard:          \(control)/dashboard")
        Console.say("  dashboard API:      \(control)/dashboard/stats   (live feed: \(control.replacingOccurrences(of: "http", with: "ws"))/dashboard/ws)")
        Console.say("  OpenAI API:         \(base)/v1")
        Console.say("  Ollama API:         \(base)/api")
        Console.say("  metrics (JSON):     \(control)/metrics")
        Console.say("  metrics (Prom):     \(control)/metrics/prometheus")
        Console.say("  health:             \(control)/health")
        Console.say("  reload config:      kill -HUP \(getpid())   or   curl -X POST \(control)/admin/reload")
        if let ledger = g.ledger {
            Console.say("  requests (ledger):  \(control)/api/requests   (stored in \(ledger.displayLocation))")
            Console.say("  analytics:          \(control)/api/analytics/breakdown?by=model&since=24h")
        }
        for b in g.hub.board.all {
            Console.say("  backend \(b.name): \(b.url) [\(b.healthy == true ? "up, \(b.models.count) models" : "down")]")
        }
    }
}

/// Waits for SIGINT or SIGTERM (swift-service-lifecycle's signal sequence), for the simulator;
/// the gateway's own service group handles its signals.
enum Signals {
    static func wait() async {
        for await _ in await UnixSignalsSequence(trapping: [.sigint, .sigterm]) { return }
    }
}
