/// Typed answers of seed 000's operational routes (`/dashboard/logs`, `audit`, `errors`,
/// `security`, `alerts`, `cache`, `jobs`, `resources`), the alert object the live feed and the
/// webhook share, and the details of a refused request.

/// seed 000 `GET /dashboard/logs`: the newest entries of the process's log ring that match.
public struct DashboardLogsAnswer: Codable, Sendable {
    public var logs: [LogLine]
    /// Entries ever logged, including those the ring has dropped.
    public var totalCount: Int
    public var filteredCount: Int
    public var bufferCapacity: Int

    enum CodingKeys: String, CodingKey {
        case logs
        case totalCount = "total_count", filteredCount = "filtered_count", bufferCapacity = "buffer_capacity"
    }
}

/// One log entry, as `/dashboard/logs` lists it and the live `logs` topic sends it.
public struct LogLine: Codable, Sendable {
    public var timestamp: String
    public var level: String
    public var component: String
    public var message: String
    public var metadata: [String: String]
}

/// seed 000 `GET /dashboard/audit`: the audit trail, newest first.
public struct DashboardAuditAnswer: Codable, Sendable {
    /// One admin or system action.
    public struct Entry: Codable, Sendable {
        public var id: String
        public var timestamp: String
        @ExplicitNull public var user: String?
        public var action: String
        @ExplicitNull public var resource: String?
        public var level: String
        @ExplicitNull public var sourceIp: String?
        @ExplicitNull public var userAgent: String?
        /// What the action recorded about itself.
        public var details: [String: JSONValue]
        public var result: String

        enum CodingKeys: String, CodingKey {
            case id, timestamp, user, action, resource, level, details, result
            case sourceIp = "source_ip", userAgent = "user_agent"
        }
    }

    public var entries: [Entry]
    public var totalCount: Int
    public var filteredCount: Int
    /// False while entries are kept in memory only.
    public var persistent: Bool

    enum CodingKeys: String, CodingKey {
        case entries, persistent
        case totalCount = "total_count", filteredCount = "filtered_count"
    }
}

/// seed 000 `GET /dashboard/errors`: failed requests, recent ones and grouped by error type.
public struct DashboardErrorsAnswer: Codable, Sendable {
    /// One failed request from the ledger.
    public struct RecentError: Codable, Sendable {
        /// Where the request went and how long it took.
        public struct Details: Codable, Sendable {
            public var status: Int
            public var route: String
            @ExplicitNull public var model: String?
            @ExplicitNull public var backend: String?
            public var latencyMs: Double

            enum CodingKeys: String, CodingKey {
                case status, route, model, backend
                case latencyMs = "latency_ms"
            }
        }

        public var id: String
        public var timestamp: String
        public var type: String
        public var severity: String
        /// The backend, or `gateway` when the request never reached one.
        public var component: String
        public var message: String
        public var details: Details
    }

    /// The period's errors by severity, by type, and in groups.
    public struct Summary: Codable, Sendable {
        public var period: Period
        public var last24Hours: Severities
        public var topErrorTypes: [TypeCount]
        public var groups: [Group]

        enum CodingKeys: String, CodingKey {
            case period, groups
            case last24Hours = "last_24_hours", topErrorTypes = "top_error_types"
        }
    }

    /// The period looked at.
    public struct Period: Codable, Sendable {
        public var since: String
        public var until: String
    }

    /// Error counts per severity, and their sum.
    public struct Severities: Codable, Sendable {
        public var critical = 0
        public var high = 0
        public var medium = 0
        public var low = 0
        public var totalErrors = 0

        enum CodingKeys: String, CodingKey {
            case critical, high, medium, low
            case totalErrors = "total_errors"
        }

        mutating func add(_ count: Int, severity: String) {
            switch severity {
            case "critical": critical += count
            case "high": high += count
            case "low": low += count
            default: medium += count
            }
            totalErrors += count
        }
    }

    /// How often one error type occurred.
    public struct TypeCount: Codable, Sendable {
        public var type: String
        public var count: Int
    }

    /// One error type; the ledger adds when it was seen, examples and the last message.
    public struct Group: Codable, Sendable {
        public var type: String
        public var count: Int
        public var firstSeen: String?
        public var lastSeen: String?
        public var exampleRequestIds: [String]?
        public var lastMessage: ExplicitNull<String>?
        public var lastStatus: Int?
        public var severity: String

        enum CodingKeys: String, CodingKey {
            case type, count, severity
            case firstSeen = "first_seen", lastSeen = "last_seen", exampleRequestIds = "example_request_ids", lastMessage = "last_message"
            case lastStatus = "last_status"
        }
    }

    public var recentErrors: [RecentError]
    public var errorSummary: Summary
    /// `ledger`, or `memory` (the metrics window) when there is none.
    public var source: String

    enum CodingKeys: String, CodingKey {
        case source
        case recentErrors = "recent_errors", errorSummary = "error_summary"
    }
}

/// seed 000 `GET /dashboard/security`: how the dashboard is protected, and what it refused lately.
public struct DashboardSecurityAnswer: Codable, Sendable {
    /// Who may call: the mode, the methods, the failures.
    public struct Authentication: Codable, Sendable {
        public var enabled: Bool
        public var mode: String
        public var methods: [String]
        /// There are no server-side sessions: every request carries its credential.
        @ExplicitNull public var activeSessions: Int? = nil
        public var liveFeedConnections: Int
        public var apiKeys: Int
        public var failedAttemptsLastHour: Int

        enum CodingKeys: String, CodingKey {
            case enabled, mode, methods
            case activeSessions = "active_sessions", liveFeedConnections = "live_feed_connections", apiKeys = "api_keys"
            case failedAttemptsLastHour = "failed_attempts_last_hour"
        }
    }

    /// What callers may do.
    public struct Authorization: Codable, Sendable {
        public var rbacEnabled: Bool
        public var permissions: [String]
        /// One per API key; null with JWT, whose users only the issuer knows.
        @ExplicitNull public var totalUsers: Int?

        enum CodingKeys: String, CodingKey {
            case permissions
            case rbacEnabled = "rbac_enabled", totalUsers = "total_users"
        }
    }

    /// The per-client limits and who hit them in the last hour.
    public struct RateLimiting: Codable, Sendable {
        /// The configured limits.
        public struct Limits: Codable, Sendable {
            public var requestsPerMinute: Int
            public var burstSize: Int
            public var burstWindowSeconds: Double

            enum CodingKeys: String, CodingKey {
                case requestsPerMinute = "requests_per_minute", burstSize = "burst_size", burstWindowSeconds = "burst_window_seconds"
            }
        }

        public var enabled: Bool
        public var currentLimits: Limits
        public var violationsLastHour: Int
        public var rateLimitedClients: [String]

        enum CodingKeys: String, CodingKey {
            case enabled
            case currentLimits = "current_limits", violationsLastHour = "violations_last_hour", rateLimitedClients = "rate_limited_clients"
        }
    }

    /// One refused request: a failed login, a missing permission, a rate limit.
    public struct Event: Codable, Sendable {
        public var timestamp: String
        public var type: String
        public var sourceIp: String
        public var details: String
        public var severity: String

        enum CodingKeys: String, CodingKey {
            case timestamp, type, details, severity
            case sourceIp = "source_ip"
        }
    }

    /// TLS: none on the listener; per backend towards the upstreams.
    public struct TLS: Codable, Sendable {
        /// One https backend.
        public struct Upstream: Codable, Sendable {
            public var backend: String
            public var verify: Bool
            @ExplicitNull public var caFile: String?

            enum CodingKeys: String, CodingKey {
                case backend, verify
                case caFile = "ca_file"
            }
        }

        public var enabled = false
        public var listener = "plain HTTP (terminate TLS in front of Sightglass)"
        public var upstreamTlsBackends: [Upstream]

        enum CodingKeys: String, CodingKey {
            case enabled, listener
            case upstreamTlsBackends = "upstream_tls_backends"
        }
    }

    /// Who may call the inference routes: the mode, and the organization's keys, projects and
    /// users as stored (null where the ledger, which holds them, is disabled or not open).
    public struct Inference: Codable, Sendable {
        public var authMode: String
        @ExplicitNull public var liveKeys: Int?
        @ExplicitNull public var projects: Int?
        @ExplicitNull public var users: Int?
        public var failedAuthenticationsLastHour: Int

        enum CodingKeys: String, CodingKey {
            case projects, users
            case authMode = "auth_mode", liveKeys = "live_keys", failedAuthenticationsLastHour = "failed_authentications_last_hour"
        }
    }

    public var authentication: Authentication
    public var authorization: Authorization
    public var rateLimiting: RateLimiting
    public var securityEvents: [Event]
    public var sslTls: TLS
    public var inference: Inference

    enum CodingKeys: String, CodingKey {
        case authentication, authorization, inference
        case rateLimiting = "rate_limiting", securityEvents = "security_events", sslTls = "ssl_tls"
    }
}

/// One alert as `/dashboard/alerts`, the live `alerts` topic and the webhook show it.
public struct AlertRecord: Codable, Sendable {
    /// The figures behind the alert, with its labels beside them.
    public struct Details: Codable, Sendable {
        public var value: Double
        public var firedValue: Double
        public var threshold: Double
        public var condition: String
        public var windowSeconds: Double
        public var rule: String
        /// The fullest filesystem, the backends down: numbers where they read as one.
        public var labels: [String: JSONValue]

        init(value: Double, firedValue: Double, threshold: Double, condition: String, windowSeconds: Double, rule: String, labels: [String: String]) {
            self.value = value
            self.firedValue = firedValue
            self.threshold = threshold
            self.condition = condition
            self.windowSeconds = windowSeconds
            self.rule = rule
            self.labels = labels.mapValues { Double($0).map(JSONValue.number) ?? .string($0) }
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case value, threshold, condition, rule
            case firedValue = "fired_value", windowSeconds = "window_seconds"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            value = try c.decode(Double.self, forKey: .value)
            firedValue = try c.decode(Double.self, forKey: .firedValue)
            threshold = try c.decode(Double.self, forKey: .threshold)
            condition = try c.decode(String.self, forKey: .condition)
            windowSeconds = try c.decode(Double.self, forKey: .windowSeconds)
            rule = try c.decode(String.self, forKey: .rule)
            let figures = Set(CodingKeys.allCases.map(\.rawValue))
            labels = try [String: JSONValue](from: decoder).filter { !figures.contains($0.key) }
        }

        /// The labels go into the same object, after the figures (a label of the same name wins).
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(value, forKey: .value)
            try c.encode(firedValue, forKey: .firedValue)
            try c.encode(threshold, forKey: .threshold)
            try c.encode(condition, forKey: .condition)
            try c.encode(windowSeconds, forKey: .windowSeconds)
            try c.encode(rule, forKey: .rule)
            try labels.encode(to: encoder)
        }
    }

    public var id: String
    public var timestamp: String
    public var level: String
    public var category: String
    public var title: String
    public var message: String
    public var details: Details
    /// Nothing is done automatically.
    public var actions: [String] = []
    public var acknowledged: Bool
    @ExplicitNull public var acknowledgedBy: String?
    @ExplicitNull public var acknowledgedAt: String?
    /// Once resolved.
    public var resolvedAt: String?
    public var resolution: String?

    enum CodingKeys: String, CodingKey {
        case id, timestamp, level, category, title, message, details, actions, acknowledged, resolution
        case acknowledgedBy = "acknowledged_by", acknowledgedAt = "acknowledged_at", resolvedAt = "resolved_at"
    }
}

/// seed 000 `GET /dashboard/alerts`: the alerts firing, those resolved lately, and the rules.
public struct DashboardAlertsAnswer: Codable, Sendable {
    /// One configured rule.
    public struct Rule: Codable, Sendable {
        public var name: String
        /// The metric, the comparison and the threshold, as a sentence.
        public var condition: String
        public var metric: String
        public var threshold: Double
        public var windowSeconds: Double
        public var severity: String
        public var enabled: Bool

        enum CodingKeys: String, CodingKey {
            case name, condition, metric, threshold, severity, enabled
            case windowSeconds = "window_seconds"
        }
    }

    public var activeAlerts: [AlertRecord]
    public var resolvedAlerts: [AlertRecord]
    public var alertRules: [Rule]
    public var evaluationIntervalSeconds: Double

    enum CodingKeys: String, CodingKey {
        case activeAlerts = "active_alerts", resolvedAlerts = "resolved_alerts", alertRules = "alert_rules"
        case evaluationIntervalSeconds = "evaluation_interval_seconds"
    }
}

/// seed 000 `POST /dashboard/alerts/{id}/acknowledge`: the alert as it is now.
public struct AlertAcknowledgement: Codable, Sendable {
    public var alert: AlertRecord
    public var acknowledged = true
}

/// The JSON the alert webhook posts when an alert fires or resolves.
public struct AlertDelivery: Codable, Sendable {
    /// `fired` or `resolved`.
    public var event: String
    public var alert: AlertRecord
    public var source = "sightglass"
    public var sentAt: String

    enum CodingKeys: String, CodingKey {
        case event, alert, source
        case sentAt = "sent_at"
    }
}

/// seed 000 `GET /dashboard/cache`: Sightglass has no cache, and says so.
public struct DashboardCacheAnswer: Codable, Sendable {
    /// The caches seed 000 names, all off.
    public struct CacheTypes: Codable, Sendable {
        public var model = Toggle(enabled: false)
        public var response = Toggle(enabled: false)
        public var metadata = Toggle(enabled: false)
    }

    public var enabled = false
    public var message = "Sightglass has no response or model cache; requests always go to a backend."
    public var cacheTypes = CacheTypes()
    public var compression = Toggle(enabled: false)
    /// Nothing to measure.
    public var performance = JSONValue.null

    enum CodingKeys: String, CodingKey {
        case enabled, message, compression, performance
        case cacheTypes = "cache_types"
    }
}

/// seed 000 `GET /dashboard/jobs`: Sightglass runs no batch jobs, and says so.
public struct DashboardJobsAnswer: Codable, Sendable {
    /// The queue that would hold them.
    public struct QueueStats: Codable, Sendable {
        public var pendingJobs = 0

        enum CodingKeys: String, CodingKey {
            case pendingJobs = "pending_jobs"
        }
    }

    public var enabled = false
    public var message = "Sightglass runs no batch jobs."
    /// Always empty, like the two lists below.
    public var activeJobs: [JSONValue] = []
    public var completedJobs: [JSONValue] = []
    public var scheduledJobs: [JSONValue] = []
    public var queueStats = QueueStats()

    enum CodingKeys: String, CodingKey {
        case enabled, message
        case activeJobs = "active_jobs", completedJobs = "completed_jobs", scheduledJobs = "scheduled_jobs", queueStats = "queue_stats"
    }
}

/// seed 000 `GET /dashboard/resources`: the host and the gateway process in detail.
public struct DashboardResourcesAnswer: Codable, Sendable {
    /// The processors.
    public struct CPU: Codable, Sendable {
        @ExplicitNull public var usagePercent: Double?
        public var loadAverage: [Double]
        public var cores: Int
        @ExplicitNull public var frequencyMhz: Double?
        public var perCoreUsage: [Double]

        enum CodingKeys: String, CodingKey {
            case cores
            case usagePercent = "usage_percent", loadAverage = "load_average", frequencyMhz = "frequency_mhz", perCoreUsage = "per_core_usage"
        }
    }

    /// `/proc/meminfo`'s figures.
    public struct Memory: Codable, Sendable {
        @ExplicitNull public var totalGb: Double?
        @ExplicitNull public var usedGb: Double?
        @ExplicitNull public var availableGb: Double?
        @ExplicitNull public var usagePercent: Double?
        @ExplicitNull public var swapTotalGb: Double?
        @ExplicitNull public var swapUsedGb: Double?
        @ExplicitNull public var buffersGb: Double?
        @ExplicitNull public var cachedGb: Double?
        @ExplicitNull public var totalBytes: Double?
        @ExplicitNull public var availableBytes: Double?

        enum CodingKeys: String, CodingKey {
            case totalGb = "total_gb", usedGb = "used_gb", availableGb = "available_gb", usagePercent = "usage_percent"
            case swapTotalGb = "swap_total_gb", swapUsedGb = "swap_used_gb", buffersGb = "buffers_gb", cachedGb = "cached_gb"
            case totalBytes = "total_bytes", availableBytes = "available_bytes"
        }
    }

    /// The mounted filesystems, and the disks' activity.
    public struct Disk: Codable, Sendable {
        public var filesystems: [Filesystem]
        /// Null until the probe has two samples.
        @ExplicitNull public var ioStats: IOStats?

        enum CodingKeys: String, CodingKey {
            case filesystems
            case ioStats = "io_stats"
        }
    }

    /// One mounted filesystem, as `df` shows it.
    public struct Filesystem: Codable, Sendable {
        public var mount: String
        public var device: String
        public var type: String
        public var totalGb: Double
        public var usedGb: Double
        public var availableGb: Double
        public var usagePercent: Double
        public var totalBytes: Double
        public var usedBytes: Double
        public var availableBytes: Double

        enum CodingKeys: String, CodingKey {
            case mount, device, type
            case totalGb = "total_gb", usedGb = "used_gb", availableGb = "available_gb", usagePercent = "usage_percent"
            case totalBytes = "total_bytes", usedBytes = "used_bytes", availableBytes = "available_bytes"
        }
    }

    /// Disk operations and throughput per second.
    public struct IOStats: Codable, Sendable {
        public var readsPerSecond: Double
        public var writesPerSecond: Double
        public var readMbPerSecond: Double
        public var writeMbPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case readsPerSecond = "reads_per_second", writesPerSecond = "writes_per_second", readMbPerSecond = "read_mb_per_second"
            case writeMbPerSecond = "write_mb_per_second"
        }
    }

    /// The interfaces and the TCP sockets.
    public struct Network: Codable, Sendable {
        public var interfaces: [Interface]
        public var connections: Connections
    }

    /// One network interface: counters since boot, rates since the previous sample.
    public struct Interface: Codable, Sendable {
        public var name: String
        public var bytesSent: UInt64
        public var bytesReceived: UInt64
        public var packetsSent: UInt64
        public var packetsReceived: UInt64
        public var errors: UInt64
        public var errorsReceived: UInt64
        public var errorsSent: UInt64
        public var drops: UInt64
        @ExplicitNull public var receiveBytesPerSecond: Double?
        @ExplicitNull public var sendBytesPerSecond: Double?

        enum CodingKeys: String, CodingKey {
            case name, errors, drops
            case bytesSent = "bytes_sent", bytesReceived = "bytes_received", packetsSent = "packets_sent", packetsReceived = "packets_received"
            case errorsReceived = "errors_received", errorsSent = "errors_sent", receiveBytesPerSecond = "receive_bytes_per_second"
            case sendBytesPerSecond = "send_bytes_per_second"
        }
    }

    /// TCP sockets: the usual states, and all by name.
    public struct Connections: Codable, Sendable {
        public var active: Int
        public var timeWait: Int
        public var listening: Int
        public var byState: [String: Int]

        enum CodingKeys: String, CodingKey {
            case active, listening
            case timeWait = "time_wait", byState = "by_state"
        }
    }

    /// The gateway process itself.
    public struct ProcessFigures: Codable, Sendable {
        public var pid: Int
        public var uptimeSeconds: Int
        @ExplicitNull public var rssMb: Double?
        @ExplicitNull public var cpuSeconds: Double?
        @ExplicitNull public var openFds: Int?
        @ExplicitNull public var maxFds: Int?
        @ExplicitNull public var threads: Int?

        enum CodingKeys: String, CodingKey {
            case pid, threads
            case uptimeSeconds = "uptime_seconds", rssMb = "rss_mb", cpuSeconds = "cpu_seconds", openFds = "open_fds", maxFds = "max_fds"
        }
    }

    public var timestamp: String
    public var cpu: CPU
    public var memory: Memory
    public var disk: Disk
    public var network: Network
    public var gpu: GPUStatus
    public var process: ProcessFigures
}

/// Why a request was refused (the error's `details`), or what the audit entry of a refusal notes.
public struct AccessProblem: Codable, Sendable {
    public var retryAfterSeconds: Int?
    public var clientIp: String?
    /// `missing`, `expired` or `invalid` credentials.
    public var reason: String?
    public var methods: [String]?
    public var requiredPermission: String?
    public var userPermissions: [String]?
    /// The live connections one user may hold.
    public var limit: Int?

    enum CodingKeys: String, CodingKey {
        case reason, methods, limit
        case retryAfterSeconds = "retry_after_seconds", clientIp = "client_ip", requiredPermission = "required_permission"
        case userPermissions = "user_permissions"
    }
}
