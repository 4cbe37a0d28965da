import Foundation

/// The whole effective configuration of a gateway process.
///
/// Precedence, lowest first: built-in defaults, the YAML file (`--config`), `SIGHTGLASS_*`
/// environment variables, command-line flags. Keys in YAML are snake_case.
public struct GatewayConfig: Codable, Sendable, Equatable {
    public var server = ServerSettings()
    public var limits = LimitSettings()
    public var timeouts = TimeoutSettings()
    public var backends: [BackendConfig] = []
    /// Prices per model, USD per one million tokens. Models not listed cost 0 (local models).
    public var pricing: [String: ModelPrice] = [:]
    public var metrics = MetricsSettings()
    public var ledger = LedgerSettings()
    public var dashboard = DashboardSettings()
    public var logging = LoggingSettings()
    public var auth = GatewayAuthSettings()

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case server, limits, timeouts, backends, pricing, metrics, ledger, dashboard, logging, auth
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        server = try c.decodeIfPresent(ServerSettings.self, forKey: .server) ?? ServerSettings()
        limits = try c.decodeIfPresent(LimitSettings.self, forKey: .limits) ?? LimitSettings()
        timeouts = try c.decodeIfPresent(TimeoutSettings.self, forKey: .timeouts) ?? TimeoutSettings()
        backends = try c.decodeIfPresent([BackendConfig].self, forKey: .backends) ?? []
        pricing = try c.decodeIfPresent([String: ModelPrice].self, forKey: .pricing) ?? [:]
        metrics = try c.decodeIfPresent(MetricsSettings.self, forKey: .metrics) ?? MetricsSettings()
        ledger = try c.decodeIfPresent(LedgerSettings.self, forKey: .ledger) ?? LedgerSettings()
        dashboard = try c.decodeIfPresent(DashboardSettings.self, forKey: .dashboard) ?? DashboardSettings()
        logging = try c.decodeIfPresent(LoggingSettings.self, forKey: .logging) ?? LoggingSettings()
        auth = try c.decodeIfPresent(GatewayAuthSettings.self, forKey: .auth) ?? GatewayAuthSettings()
    }

    /// Checks what decoding cannot: unique backend names, valid URLs, numbers in range. Each
    /// error names the setting by its path in the file.
    public func validate() throws {
        var seen = Set<String>()
        for (i, backend) in backends.enumerated() {
            let at = "backends[\(i)]"
            guard !backend.name.isEmpty else { throw ConfigError.field("\(at).name", "a backend needs a name") }
            guard seen.insert(backend.name).inserted else {
                throw ConfigError.field("\(at).name", "backend name '\(backend.name)' is used twice")
            }
            do { _ = try BackendURL(parsing: backend.url) } catch let ConfigError.invalid(message) {
                throw ConfigError.field("\(at).url", message)
            }
            if let ca = backend.caFile, !FileManager.default.isReadableFile(atPath: ca) {
                throw ConfigError.field("\(at).ca_file", "'\(ca)' cannot be read")
            }
            guard backend.healthCheckIntervalSeconds > 0, backend.healthCheckTimeoutSeconds > 0 else {
                throw ConfigError.field("\(at).health_check_interval_seconds", "health check interval and timeout must be positive")
            }
        }
        try server.validate()
        try limits.validate()
        try timeouts.validate()
        guard metrics.windowSeconds >= 1 && metrics.windowSeconds <= 3600 else {
            throw ConfigError.field("metrics.window_seconds", "must be between 1 and 3600")
        }
        try ledger.validate()
        try dashboard.validate()
        try logging.validate()
        try auth.validate()
        for (model, price) in pricing where price.input < 0 || price.output < 0 || (price.cachedInput ?? 0) < 0 {
            throw ConfigError.field("pricing.\(model)", "prices must not be negative")
        }
    }
}

/// Where and how the gateway listens.
public struct ServerSettings: Codable, Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Event loops of the data plane; 0 means one per CPU the process may run on.
    public var eventLoops = 0
    /// When set, the control plane (metrics, health, dashboard) listens here instead of sharing the port.
    public var controlHost: String?
    public var controlPort: Int?
    public var drainTimeoutSeconds = 10.0
    public var maxRequestBodyBytes = 8 * 1024 * 1024
    public var maxHeaderBytes = 32 * 1024
    /// A client must finish sending its request head and body within this time.
    public var requestReadTimeoutSeconds = 30.0
    /// An idle keep-alive client connection is closed after this time.
    public var keepAliveTimeoutSeconds = 75.0

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port
        case eventLoops = "event_loops"
        case controlHost = "control_host"
        case controlPort = "control_port"
        case drainTimeoutSeconds = "drain_timeout_seconds"
        case maxRequestBodyBytes = "max_request_body_bytes"
        case maxHeaderBytes = "max_header_bytes"
        case requestReadTimeoutSeconds = "request_read_timeout_seconds"
        case keepAliveTimeoutSeconds = "keep_alive_timeout_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let d = ServerSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? d.host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? d.port
        eventLoops = try c.decodeIfPresent(Int.self, forKey: .eventLoops) ?? d.eventLoops
        controlHost = try c.decodeIfPresent(String.self, forKey: .controlHost)
        controlPort = try c.decodeIfPresent(Int.self, forKey: .controlPort)
        drainTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .drainTimeoutSeconds) ?? d.drainTimeoutSeconds
        maxRequestBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxRequestBodyBytes) ?? d.maxRequestBodyBytes
        maxHeaderBytes = try c.decodeIfPresent(Int.self, forKey: .maxHeaderBytes) ?? d.maxHeaderBytes
        requestReadTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .requestReadTimeoutSeconds) ?? d.requestReadTimeoutSeconds
        keepAliveTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .keepAliveTimeoutSeconds) ?? d.keepAliveTimeoutSeconds
    }

    func validate() throws {
        guard (0...65535).contains(port) else { throw ConfigError.field("server.port", "\(port) is out of range (0-65535)") }
        if let controlPort, !(0...65535).contains(controlPort) {
            throw ConfigError.field("server.control_port", "\(controlPort) is out of range (0-65535)")
        }
        guard eventLoops >= 0 && eventLoops <= 1024 else { throw ConfigError.field("server.event_loops", "must be between 0 and 1024") }
        guard drainTimeoutSeconds >= 0 else { throw ConfigError.field("server.drain_timeout_seconds", "must not be negative") }
        guard maxRequestBodyBytes > 0 else { throw ConfigError.field("server.max_request_body_bytes", "must be positive") }
        guard maxHeaderBytes >= 1024 else { throw ConfigError.field("server.max_header_bytes", "must be at least 1024") }
        guard requestReadTimeoutSeconds > 0 else { throw ConfigError.field("server.request_read_timeout_seconds", "must be positive") }
        guard keepAliveTimeoutSeconds > 0 else { throw ConfigError.field("server.keep_alive_timeout_seconds", "must be positive") }
    }
}

/// Admission control (how many requests run at once and how many may wait) and the traffic
/// limits: tiers that keys and projects name, limits per model and backend for all traffic, and
/// per user.
public struct LimitSettings: Codable, Sendable, Equatable {
    /// 0 means no limit.
    public var maxConcurrentRequests = 0
    /// Requests beyond the concurrency limit wait here; when it is full they get 503.
    public var maxQueueSize = 0
    public var queueTimeoutSeconds = 30.0
    /// Named sets of limits (`limits.tiers.NAME`) that a key or project is given.
    public var tiers: [String: RateLimits] = [:]
    /// Limits on all traffic to a model (by exact name), whoever sends it.
    public var models: [String: RateLimits] = [:]
    /// Limits on all traffic to a backend (by name).
    public var backends: [String: RateLimits] = [:]
    /// Limits each user (a key's owner, or the end user a key may name) gets on its own.
    public var perUser = RateLimits()
    /// A budget each user gets on its own (`per_user_budget`), priced like every budget.
    public var perUserBudget: Budget?
    /// Output tokens a request without `max_tokens` reserves against token limits and budgets
    /// until its real usage is known.
    public var defaultMaxTokens = 4096

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxConcurrentRequests = "max_concurrent_requests"
        case maxQueueSize = "max_queue_size"
        case queueTimeoutSeconds = "queue_timeout_seconds"
        case tiers, models, backends
        case perUser = "per_user", perUserBudget = "per_user_budget"
        case defaultMaxTokens = "default_max_tokens"
    }

    public init(from decoder: any Decoder) throws {
        let d = LimitSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxConcurrentRequests = try c.decodeIfPresent(Int.self, forKey: .maxConcurrentRequests) ?? d.maxConcurrentRequests
        maxQueueSize = try c.decodeIfPresent(Int.self, forKey: .maxQueueSize) ?? d.maxQueueSize
        queueTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .queueTimeoutSeconds) ?? d.queueTimeoutSeconds
        tiers = try c.decodeIfPresent([String: RateLimits].self, forKey: .tiers) ?? [:]
        models = try c.decodeIfPresent([String: RateLimits].self, forKey: .models) ?? [:]
        backends = try c.decodeIfPresent([String: RateLimits].self, forKey: .backends) ?? [:]
        perUser = try c.decodeIfPresent(RateLimits.self, forKey: .perUser) ?? RateLimits()
        perUserBudget = try c.decodeIfPresent(Budget.self, forKey: .perUserBudget)
        defaultMaxTokens = try c.decodeIfPresent(Int.self, forKey: .defaultMaxTokens) ?? d.defaultMaxTokens
    }

    func validate() throws {
        guard maxConcurrentRequests >= 0 else { throw ConfigError.field("limits.max_concurrent_requests", "must not be negative (0: no limit)") }
        guard maxQueueSize >= 0 else { throw ConfigError.field("limits.max_queue_size", "must not be negative") }
        guard queueTimeoutSeconds > 0 else { throw ConfigError.field("limits.queue_timeout_seconds", "must be positive") }
        guard defaultMaxTokens > 0 else { throw ConfigError.field("limits.default_max_tokens", "must be a positive whole number") }
        for (name, tier) in tiers {
            guard !name.isEmpty else { throw ConfigError.field("limits.tiers", "a tier needs a name") }
            try tier.validate(at: "limits.tiers.\(name)")
        }
        for (name, l) in models { try l.validate(at: "limits.models.\(name)") }
        for (name, l) in backends { try l.validate(at: "limits.backends.\(name)") }
        try perUser.validate(at: "limits.per_user")
        try perUserBudget?.validate(at: "limits.per_user_budget")
    }
}

/// Upstream timeouts. A timeout before the response starts answers 504; after, the stream is cut.
public struct TimeoutSettings: Codable, Sendable, Equatable {
    public var connectSeconds = 5.0
    public var firstByteSeconds = 300.0
    public var idleSeconds = 120.0
    public var totalSeconds = 1800.0

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case connectSeconds = "connect_seconds"
        case firstByteSeconds = "first_byte_seconds"
        case idleSeconds = "idle_seconds"
        case totalSeconds = "total_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let d = TimeoutSettings()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        connectSeconds = try c.decodeIfPresent(Double.self, forKey: .connectSeconds) ?? d.connectSeconds
        firstByteSeconds = try c.decodeIfPresent(Double.self, forKey: .firstByteSeconds) ?? d.firstByteSeconds
        idleSeconds = try c.decodeIfPresent(Double.self, forKey: .idleSeconds) ?? d.idleSeconds
        totalSeconds = try c.decodeIfPresent(Double.self, forKey: .totalSeconds) ?? d.totalSeconds
    }

    func validate() throws {
        for (key, value) in [
            ("connect_seconds", connectSeconds), ("first_byte_seconds", firstByteSeconds),
            ("idle_seconds", idleSeconds), ("total_seconds", totalSeconds),
        ] where !(value > 0) {
            throw ConfigError.field("timeouts.\(key)", "must be positive")
        }
    }
}

/// One inference server behind the gateway.
public struct BackendConfig: Codable, Sendable, Equatable {
    public var name: String
    public var url: String
    /// Models served; when empty they are discovered from `/v1/models` and `/api/tags`.
    public var models: [String] = []
    /// Sent upstream as `Authorization: Bearer …` (hosted providers). Never shown unredacted.
    public var apiKey: String?
    public var healthCheckIntervalSeconds = 10.0
    public var healthCheckTimeoutSeconds = 2.0
    /// For https backends: a PEM file of CA certificates to trust instead of the system's.
    public var caFile: String?
    /// For https backends: false skips certificate verification (testing only).
    public var tlsVerify = true

    public init(name: String, url: String, models: [String] = [], apiKey: String? = nil) {
        self.name = name
        self.url = url
        self.models = models
        self.apiKey = apiKey
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, url, models
        case apiKey = "api_key"
        case healthCheckIntervalSeconds = "health_check_interval_seconds"
        case healthCheckTimeoutSeconds = "health_check_timeout_seconds"
        case caFile = "ca_file"
        case tlsVerify = "tls_verify"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        url = try c.decode(String.self, forKey: .url)
        models = try c.decodeIfPresent([String].self, forKey: .models) ?? []
        apiKey = try c.decodeIfPresent(String.self, forKey: .apiKey)
        healthCheckIntervalSeconds = try c.decodeIfPresent(Double.self, forKey: .healthCheckIntervalSeconds) ?? 10
        healthCheckTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .healthCheckTimeoutSeconds) ?? 2
        caFile = try c.decodeIfPresent(String.self, forKey: .caFile)
        tlsVerify = try c.decodeIfPresent(Bool.self, forKey: .tlsVerify) ?? true
    }
}

/// USD per one million tokens.
public struct ModelPrice: Codable, Sendable, Equatable {
    public var input: Double
    public var cachedInput: Double?
    public var output: Double

    public init(input: Double, cachedInput: Double? = nil, output: Double) {
        self.input = input
        self.cachedInput = cachedInput
        self.output = output
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case input, output
        case cachedInput = "cached_input"
    }

    /// Cost in USD; cached input tokens are a subset of input tokens, billed at the cached price.
    public func cost(input: Int, cached: Int, output: Int) -> Double {
        let cachedPrice = cachedInput ?? self.input
        let uncached = max(0, input - cached)
        return (Double(uncached) * self.input + Double(cached) * cachedPrice + Double(output) * self.output) / 1_000_000
    }
}

/// Live metrics settings.
public struct MetricsSettings: Codable, Sendable, Equatable {
    /// Sliding window for rates and percentiles in the JSON exports.
    public var windowSeconds = 60

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case windowSeconds = "window_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        windowSeconds = try c.decodeIfPresent(Int.self, forKey: .windowSeconds) ?? 60
    }
}
