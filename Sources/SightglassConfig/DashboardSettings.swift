import Foundation

/// The dashboard API and live feed: who may use them, how often, how live, and which alerts fire.
public struct DashboardSettings: Codable, Sendable, Equatable {
    public var auth = AuthSettings()
    public var rateLimit = RateLimitSettings()
    public var live = LiveSettings()
    public var alerts = AlertSettings()
    /// How many of the process's own log entries `/dashboard/logs` keeps.
    public var logEntries = 2_000

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case auth, live, alerts
        case rateLimit = "rate_limit", logEntries = "log_entries"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = DashboardSettings()
        auth = try c.value(.auth, d.auth)
        rateLimit = try c.value(.rateLimit, d.rateLimit)
        live = try c.value(.live, d.live)
        alerts = try c.value(.alerts, d.alerts)
        logEntries = try c.value(.logEntries, d.logEntries)
    }

    func validate() throws {
        try auth.validate()
        guard rateLimit.requestsPerMinute > 0, rateLimit.burst > 0, rateLimit.burstWindowSeconds > 0 else {
            throw ConfigError.field("dashboard.rate_limit", "values must be positive")
        }
        guard live.metricsIntervalSeconds >= 0.1, live.statsIntervalSeconds >= 0.1 else {
            throw ConfigError.field("dashboard.live", "intervals must be at least 0.1 seconds")
        }
        guard live.queueLimit >= 1 else { throw ConfigError.field("dashboard.live.queue_limit", "must be at least 1") }
        try alerts.validate()
        guard logEntries >= 1 else { throw ConfigError.field("dashboard.log_entries", "must be at least 1") }
    }
}

/// Authentication of the dashboard API, the live feed and the admin routes.
public struct AuthSettings: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable { case off, apiKey = "api_key", jwt }

    /// Nil: `off` when the gateway listens on loopback only; elsewhere `jwt` or `api_key` as
    /// configured, and closed (`api_key` with no keys: every request 401) when nothing is.
    public var mode: Mode?
    public var apiKeys: [APIKey] = []
    public var jwt: JWTSettings?
    /// Live-feed connections one authenticated user may hold at once (seed 000 says one).
    public var websocketsPerUser = 1

    public struct APIKey: Codable, Sendable, Equatable {
        public var id: String
        /// Hex SHA-256 of the key (preferred: the file then holds no secret)...
        public var sha256: String?
        /// ...or the key itself, hashed when loaded.
        public var key: String?
        public var permissions: [String] = ["dashboard:read"]

        public init(id: String, sha256: String? = nil, key: String? = nil, permissions: [String] = ["dashboard:read"]) {
            self.id = id
            self.sha256 = sha256
            self.key = key
            self.permissions = permissions
        }

        enum CodingKeys: String, CodingKey, CaseIterable { case id, sha256, key, permissions }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            sha256 = try c.decodeIfPresent(String.self, forKey: .sha256)
            key = try c.decodeIfPresent(String.self, forKey: .key)
            permissions = try c.value(.permissions, ["dashboard:read"])
        }
    }

    public struct JWTSettings: Codable, Sendable, Equatable {
        /// HS256 shared secret.
        public var hs256Secret: String?
        /// RS256: PEM file with the issuer's public key.
        public var rs256PublicKeyFile: String?
        public var issuer: String?
        public var audience: String?
        /// Claim holding permissions: a list of strings, or a space-separated string (OAuth `scope`).
        public var permissionsClaim = "permissions"

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case issuer, audience
            case hs256Secret = "hs256_secret", rs256PublicKeyFile = "rs256_public_key_file", permissionsClaim = "permissions_claim"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            hs256Secret = try c.decodeIfPresent(String.self, forKey: .hs256Secret)
            rs256PublicKeyFile = try c.decodeIfPresent(String.self, forKey: .rs256PublicKeyFile)
            issuer = try c.decodeIfPresent(String.self, forKey: .issuer)
            audience = try c.decodeIfPresent(String.self, forKey: .audience)
            permissionsClaim = try c.value(.permissionsClaim, "permissions")
        }
    }

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case mode, jwt
        case apiKeys = "api_keys", websocketsPerUser = "websockets_per_user"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decodeIfPresent(Mode.self, forKey: .mode)
        apiKeys = try c.value(.apiKeys, [])
        jwt = try c.decodeIfPresent(JWTSettings.self, forKey: .jwt)
        websocketsPerUser = try c.value(.websocketsPerUser, 1)
    }

    /// The mode in force for a gateway listening on `host`.
    public func effectiveMode(host: String) -> Mode {
        if let mode { return mode }
        if ServerSettings.isLoopback(host) { return .off }
        if jwt != nil { return .jwt }
        return .apiKey
    }

    func validate() throws {
        for k in apiKeys {
            guard !k.id.isEmpty else { throw ConfigError.field("dashboard.auth.api_keys", "a key has an empty id") }
            guard (k.sha256 != nil) != (k.key != nil) else {
                throw ConfigError.field("dashboard.auth.api_keys", "'\(k.id)': give exactly one of sha256 or key")
            }
            if let h = k.sha256, h.count != 64 || !h.allSatisfy(\.isHexDigit) {
                throw ConfigError.field("dashboard.auth.api_keys", "'\(k.id)': sha256 must be 64 hex digits")
            }
        }
        if mode == .apiKey && apiKeys.isEmpty { throw ConfigError.field("dashboard.auth.mode", "is api_key but no api_keys are configured") }
        if mode == .jwt {
            guard let jwt, jwt.hs256Secret != nil || jwt.rs256PublicKeyFile != nil else {
                throw ConfigError.field("dashboard.auth.mode", "is jwt but neither jwt.hs256_secret nor jwt.rs256_public_key_file is set")
            }
            if let f = jwt.rs256PublicKeyFile, !FileManager.default.isReadableFile(atPath: f) {
                throw ConfigError.field("dashboard.auth.jwt.rs256_public_key_file", "'\(f)' cannot be read")
            }
        }
        guard websocketsPerUser >= 1 else { throw ConfigError.field("dashboard.auth.websockets_per_user", "must be at least 1") }
    }
}

/// Per-client-IP limits on the dashboard API (seed 000: 100 a minute, 20 per 10 seconds).
public struct RateLimitSettings: Codable, Sendable, Equatable {
    public var enabled = true
    public var requestsPerMinute = 100
    public var burst = 20
    public var burstWindowSeconds = 10.0

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, burst
        case requestsPerMinute = "requests_per_minute", burstWindowSeconds = "burst_window_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RateLimitSettings()
        enabled = try c.value(.enabled, d.enabled)
        requestsPerMinute = try c.value(.requestsPerMinute, d.requestsPerMinute)
        burst = try c.value(.burst, d.burst)
        burstWindowSeconds = try c.value(.burstWindowSeconds, d.burstWindowSeconds)
    }
}

/// The live feed's pacing.
public struct LiveSettings: Codable, Sendable, Equatable {
    public var metricsIntervalSeconds = 1.0
    public var statsIntervalSeconds = 1.0
    /// Messages waiting for one slow client before it is disconnected.
    public var queueLimit = 256

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case metricsIntervalSeconds = "metrics_interval_seconds", statsIntervalSeconds = "stats_interval_seconds", queueLimit = "queue_limit"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = LiveSettings()
        metricsIntervalSeconds = try c.value(.metricsIntervalSeconds, d.metricsIntervalSeconds)
        statsIntervalSeconds = try c.value(.statsIntervalSeconds, d.statsIntervalSeconds)
        queueLimit = try c.value(.queueLimit, d.queueLimit)
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the key is absent.
    func value<T: Decodable>(_ key: Key, _ fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }
}
