import Foundation

/// The request ledger: where every proxied request is kept, and for how long.
public struct LedgerSettings: Codable, Sendable, Equatable {
    /// Off: nothing is stored (the live metrics still work).
    public var enabled = true
    /// A SQLite file path, or a `postgres://` URL. Nil: `defaultPath`.
    public var path: String?
    /// Name of the request header that names the end user.
    public var userHeader = "x-user-id"
    /// A batch is written at least this often...
    public var flushIntervalSeconds = 1.0
    /// ...or as soon as this many records wait.
    public var batchSize = 5_000
    /// Records waiting for the writer beyond this are dropped and counted (never silently).
    public var bufferCapacity = 200_000
    public var retention = Retention()
    public var bodies = Bodies()

    /// Request and response bodies: off by default. When on, the first `max_bytes` of each are
    /// kept (the rest is marked truncated), with the values of `redact_keys` (JSON keys, any
    /// depth) and whatever matches `redact_patterns` replaced by `[REDACTED]` before storage.
    public struct Bodies: Codable, Sendable, Equatable {
        public var enabled = false
        public var maxBytes = 16_384
        public var redactKeys = ["api_key", "apikey", "authorization", "password", "secret", "token", "access_token"]
        public var redactPatterns = [#"sk-[A-Za-z0-9_\-]{16,}"#, #"(?i)bearer\s+[A-Za-z0-9._\-]+"#]

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case enabled, maxBytes = "max_bytes", redactKeys = "redact_keys", redactPatterns = "redact_patterns"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Bodies()
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? d.enabled
            maxBytes = try c.decodeIfPresent(Int.self, forKey: .maxBytes) ?? d.maxBytes
            redactKeys = try c.decodeIfPresent([String].self, forKey: .redactKeys) ?? d.redactKeys
            redactPatterns = try c.decodeIfPresent([String].self, forKey: .redactPatterns) ?? d.redactPatterns
        }
    }

    public struct Retention: Codable, Sendable, Equatable {
        public var rawDays = 30.0
        public var minuteDays = 14.0
        public var hourDays = 180.0
        public var dayDays = 1_825.0

        public init() {}

        enum CodingKeys: String, CodingKey, CaseIterable {
            case rawDays = "raw_days", minuteDays = "minute_days", hourDays = "hour_days", dayDays = "day_days"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Retention()
            rawDays = try c.decodeIfPresent(Double.self, forKey: .rawDays) ?? d.rawDays
            minuteDays = try c.decodeIfPresent(Double.self, forKey: .minuteDays) ?? d.minuteDays
            hourDays = try c.decodeIfPresent(Double.self, forKey: .hourDays) ?? d.hourDays
            dayDays = try c.decodeIfPresent(Double.self, forKey: .dayDays) ?? d.dayDays
        }
    }

    public init() {}

    /// `$XDG_DATA_HOME/sightglass/ledger.sqlite`, else `~/.local/share/sightglass/ledger.sqlite`.
    public static var defaultPath: String {
        let env = ProcessInfo.processInfo.environment
        let base =
            env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((env["HOME"] ?? FileManager.default.currentDirectoryPath) + "/.local/share")
        return base + "/sightglass/ledger.sqlite"
    }

    public var effectivePath: String { path ?? Self.defaultPath }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, path, retention
        case userHeader = "user_header", flushIntervalSeconds = "flush_interval_seconds", batchSize = "batch_size"
        case bufferCapacity = "buffer_capacity", bodies
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = LedgerSettings()
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? d.enabled
        path = try c.decodeIfPresent(String.self, forKey: .path)
        userHeader = try c.decodeIfPresent(String.self, forKey: .userHeader) ?? d.userHeader
        flushIntervalSeconds = try c.decodeIfPresent(Double.self, forKey: .flushIntervalSeconds) ?? d.flushIntervalSeconds
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        bufferCapacity = try c.decodeIfPresent(Int.self, forKey: .bufferCapacity) ?? d.bufferCapacity
        retention = try c.decodeIfPresent(Retention.self, forKey: .retention) ?? Retention()
        bodies = try c.decodeIfPresent(Bodies.self, forKey: .bodies) ?? Bodies()
    }

    func validate() throws {
        guard !userHeader.isEmpty, userHeader.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != 58 }) else {
            throw ConfigError.field("ledger.user_header", "must be a header name")
        }
        guard flushIntervalSeconds > 0 && flushIntervalSeconds <= 60 else {
            throw ConfigError.field("ledger.flush_interval_seconds", "must be more than 0 and at most 60")
        }
        guard batchSize >= 1 else { throw ConfigError.field("ledger.batch_size", "must be at least 1") }
        guard bufferCapacity >= batchSize else { throw ConfigError.field("ledger.buffer_capacity", "must be at least ledger.batch_size") }
        guard bodies.maxBytes >= 1 && bodies.maxBytes <= 1_048_576 else {
            throw ConfigError.field("ledger.bodies.max_bytes", "must be between 1 and 1048576")
        }
        for pattern in bodies.redactPatterns where (try? NSRegularExpression(pattern: pattern)) == nil {
            throw ConfigError.field("ledger.bodies.redact_patterns", "'\(pattern)' is not a regular expression")
        }
        for (name, days) in [
            ("raw_days", retention.rawDays), ("minute_days", retention.minuteDays),
            ("hour_days", retention.hourDays), ("day_days", retention.dayDays),
        ] where days <= 0 {
            throw ConfigError.field("ledger.retention.\(name)", "must be positive")
        }
    }
}
