import SightglassConfig

/// Typed answers of seed 000's summary routes (`/dashboard/stats`, `models`, `health`, `config`,
/// `metrics`, `workers`). A figure the gateway cannot read is `null`, never left out.

/// seed 000 `GET /dashboard/stats`, and the live `stats` topic's snapshot.
public struct DashboardStatsAnswer: Codable, Sendable {
    /// The host as the probe reads it.
    public struct System: Codable, Sendable {
        @ExplicitNull public var cpuUsagePercent: Double?
        @ExplicitNull public var memoryUsagePercent: Double?
        @ExplicitNull public var memoryUsedGb: Double?
        @ExplicitNull public var memoryTotalGb: Double?
        @ExplicitNull public var diskUsagePercent: Double?
        @ExplicitNull public var diskUsedGb: Double?
        @ExplicitNull public var diskAvailableGb: Double?
        @ExplicitNull public var diskTotalGb: Double?
        public var loadAverage: [Double]
        public var networkIo: NetworkIO

        enum CodingKeys: String, CodingKey {
            case cpuUsagePercent = "cpu_usage_percent", memoryUsagePercent = "memory_usage_percent", memoryUsedGb = "memory_used_gb"
            case memoryTotalGb = "memory_total_gb", diskUsagePercent = "disk_usage_percent", diskUsedGb = "disk_used_gb"
            case diskAvailableGb = "disk_available_gb", diskTotalGb = "disk_total_gb", loadAverage = "load_average", networkIo = "network_io"
        }
    }

    /// Counters since boot of every interface but loopback.
    public struct NetworkIO: Codable, Sendable {
        public var bytesSent: Int
        public var bytesReceived: Int
        public var packetsSent: Int
        public var packetsReceived: Int

        enum CodingKeys: String, CodingKey {
            case bytesSent = "bytes_sent", bytesReceived = "bytes_received", packetsSent = "packets_sent", packetsReceived = "packets_received"
        }
    }

    /// The inference load: rates over the metrics window, totals since start.
    public struct Inference: Codable, Sendable {
        public var requestsPerSecond: Double
        @ExplicitNull public var averageLatencyMs: Double?
        public var activeRequests: Int
        public var activeStreams: Int
        public var totalRequests: Int
        public var totalErrors: Int
        public var windowSeconds: Double

        enum CodingKeys: String, CodingKey {
            case requestsPerSecond = "requests_per_second", averageLatencyMs = "average_latency_ms", activeRequests = "active_requests"
            case activeStreams = "active_streams", totalRequests = "total_requests", totalErrors = "total_errors", windowSeconds = "window_seconds"
        }
    }

    public var timestamp: String
    public var uptimeSeconds: Int
    public var system: System
    public var gpu: GPUStatus
    public var inference: Inference

    enum CodingKeys: String, CodingKey {
        case timestamp, system, gpu, inference
        case uptimeSeconds = "uptime_seconds"
    }
}

/// seed 000 `GET /dashboard/models`: every model of every backend, with what Ollama says of it.
public struct DashboardModelsAnswer: Codable, Sendable {
    /// One model on one backend.
    public struct Model: Codable, Sendable {
        /// Traffic since start; null figures before the model served a request.
        public struct Performance: Codable, Sendable {
            public var totalRequests: Int
            /// There is no cache.
            @ExplicitNull public var cacheHitRate: Double? = nil
            @ExplicitNull public var averageTokensPerSecond: Double?
            @ExplicitNull public var averageLatencyMs: Double?
            @ExplicitNull public var errorRate: Double?
            public var totalTokens: Int

            enum CodingKeys: String, CodingKey {
                case totalRequests = "total_requests", cacheHitRate = "cache_hit_rate", averageTokensPerSecond = "average_tokens_per_second"
                case averageLatencyMs = "average_latency_ms", errorRate = "error_rate", totalTokens = "total_tokens"
            }
        }

        /// From Ollama's `/api/tags` and `/api/ps`; null for other backends.
        public struct Metadata: Codable, Sendable {
            @ExplicitNull public var architecture: String?
            @ExplicitNull public var parameters: String?
            @ExplicitNull public var quantization: String?
            @ExplicitNull public var contextLength: Int?

            enum CodingKeys: String, CodingKey {
                case architecture, parameters, quantization
                case contextLength = "context_length"
            }
        }

        /// While Ollama holds the model in memory; null otherwise.
        public struct ResourceUsage: Codable, Sendable {
            @ExplicitNull public var memoryUsageMb: Double?
            @ExplicitNull public var gpuMemoryUsageMb: Double?
            @ExplicitNull public var expiresAt: String?

            enum CodingKeys: String, CodingKey {
                case memoryUsageMb = "memory_usage_mb", gpuMemoryUsageMb = "gpu_memory_usage_mb", expiresAt = "expires_at"
            }
        }

        public var id: String
        public var name: String
        public var backend: String
        public var backendType: String
        /// `loaded`, `available` (Ollama, not in memory), `served` (other backends) or `unavailable`.
        public var status: String
        @ExplicitNull public var format: String?
        /// Backends do not say where their files are.
        @ExplicitNull public var filePath: String? = nil
        @ExplicitNull public var sizeBytes: Int64?
        /// Ollama does not say when it loaded a model.
        @ExplicitNull public var loadedAt: String? = nil
        public var performance: Performance
        public var metadata: Metadata
        public var resourceUsage: ResourceUsage

        enum CodingKeys: String, CodingKey {
            case id, name, backend, status, format, performance, metadata
            case backendType = "backend_type", filePath = "file_path", sizeBytes = "size_bytes", loadedAt = "loaded_at", resourceUsage = "resource_usage"
        }
    }

    /// Totals over the list.
    public struct Summary: Codable, Sendable {
        public var totalModels: Int
        public var loadedModels: Int
        public var totalSizeGb: Double
        public var memoryUsageGb: Double
        public var backends: Int

        enum CodingKeys: String, CodingKey {
            case backends
            case totalModels = "total_models", loadedModels = "loaded_models", totalSizeGb = "total_size_gb", memoryUsageGb = "memory_usage_gb"
        }
    }

    public var models: [Model]
    public var summary: Summary
}

/// seed 000 `GET /dashboard/health`: each part of the gateway, and the alerts firing.
public struct DashboardHealthAnswer: Codable, Sendable {
    /// The parts, by seed 000's names.
    public struct Components: Codable, Sendable {
        public var apiServer: APIServer
        public var modelBackends: ModelBackends
        public var cacheSystem: DisabledComponent
        public var database: DatabaseHealth
        public var auditSystem: AuditSystem

        enum CodingKeys: String, CodingKey {
            case database
            case apiServer = "api_server", modelBackends = "model_backends", cacheSystem = "cache_system", auditSystem = "audit_system"
        }
    }

    /// The gateway itself over the metrics window.
    public struct APIServer: Codable, Sendable {
        public var status: String
        public var uptimeSeconds: Int
        public var activeRequests: Int
        public var requestsInWindow: Int
        public var serverErrorRate: Double
        public var lastCheck: String

        enum CodingKeys: String, CodingKey {
            case status
            case uptimeSeconds = "uptime_seconds", activeRequests = "active_requests", requestsInWindow = "requests_in_window"
            case serverErrorRate = "server_error_rate", lastCheck = "last_check"
        }
    }

    /// The backends together, and each by name.
    public struct ModelBackends: Codable, Sendable {
        public var status: String
        public var loadedModels: Int
        public var activeInference: Int
        public var backends: [String: Backend]
        @ExplicitNull public var lastCheck: String?

        enum CodingKeys: String, CodingKey {
            case status, backends
            case loadedModels = "loaded_models", activeInference = "active_inference", lastCheck = "last_check"
        }
    }

    /// One backend as its last health check found it.
    public struct Backend: Codable, Sendable {
        public var status: String
        public var url: String
        @ExplicitNull public var responseTimeMs: Double?
        @ExplicitNull public var error: String?
        public var models: Int
        @ExplicitNull public var lastCheck: String?

        enum CodingKeys: String, CodingKey {
            case status, url, error, models
            case responseTimeMs = "response_time_ms", lastCheck = "last_check"
        }
    }

    /// Whether audit entries reach the store.
    public struct AuditSystem: Codable, Sendable {
        public var status: String
        public var persistent: Bool
        public var pendingLogs: Int

        enum CodingKeys: String, CodingKey {
            case status, persistent
            case pendingLogs = "pending_logs"
        }
    }

    /// One alert firing, in brief.
    public struct ActiveAlert: Codable, Sendable {
        public var id: String
        public var level: String
        public var component: String
        public var message: String
        public var timestamp: String
    }

    public var status: String
    public var timestamp: String
    public var components: Components
    public var alerts: [ActiveAlert]
}

/// A part the gateway does not have or has turned off: `{"status": "disabled", "enabled": false}`.
public struct DisabledComponent: Codable, Sendable {
    public var status = "disabled"
    public var enabled = false
}

/// The request ledger's store in `/dashboard/health`; `{"status": "disabled", "enabled": false}` alone without one.
public struct DatabaseHealth: Codable, Sendable {
    public var status: String
    public var enabled: Bool
    /// `sqlite` or `postgresql`.
    public var backend: String?
    public var path: String?
    public var recordsWritten: Int?
    public var recordsPending: Int?
    public var recordsDropped: Int?
    public var lastFlush: ExplicitNull<String>?
    public var lastCheck: String?
    /// Why the store is degraded.
    public var error: String?
    /// How long one small query takes now; absent when it failed.
    public var queryTimeMs: Double?

    public static let disabled = DatabaseHealth(status: "disabled", enabled: false)

    init(status: String, enabled: Bool) {
        self.status = status
        self.enabled = enabled
    }

    enum CodingKeys: String, CodingKey {
        case status, enabled, backend, path, error
        case recordsWritten = "records_written", recordsPending = "records_pending", recordsDropped = "records_dropped", lastFlush = "last_flush"
        case lastCheck = "last_check", queryTimeMs = "query_time_ms"
    }
}

/// seed 000 `GET /dashboard/config`: the effective configuration under the file's own keys,
/// secrets redacted, with seed 000's summary sections beside it (`server` gains four keys).
public typealias DashboardConfigAnswer = Merged<GatewayConfig, DashboardConfigSections>

/// What `/dashboard/config` adds to the configuration.
public struct DashboardConfigSections: Codable, Sendable {
    /// How the gateway answers, beyond the `server` settings.
    public struct Serving: Codable, Sendable {
        public var bindAddress: String
        public var maxConcurrentRequests: Int
        public var requestTimeoutSeconds: Double
        /// The listener is plain HTTP.
        public var tlsEnabled = false

        enum CodingKeys: String, CodingKey {
            case bindAddress = "bind_address", maxConcurrentRequests = "max_concurrent_requests"
            case requestTimeoutSeconds = "request_timeout_seconds", tlsEnabled = "tls_enabled"
        }
    }

    /// The dashboard's access control as it runs.
    public struct Security: Codable, Sendable {
        public var authEnabled: Bool
        public var authMode: String
        public var rateLimiting: Bool
        public var maxRequestsPerMinute: Int
        public var burst: Int
        public var auditEnabled = true

        enum CodingKeys: String, CodingKey {
            case burst
            case authEnabled = "auth_enabled", authMode = "auth_mode", rateLimiting = "rate_limiting"
            case maxRequestsPerMinute = "max_requests_per_minute", auditEnabled = "audit_enabled"
        }
    }

    /// The backends configured, and whether any discovers its models.
    public struct Models: Codable, Sendable {
        public var backends: Int
        public var autoDiscovery: Bool

        enum CodingKeys: String, CodingKey {
            case backends
            case autoDiscovery = "auto_discovery"
        }
    }

    public var server: Merged<ServerSettings, Serving>
    /// There is no cache.
    public var cache = Toggle(enabled: false)
    public var security: Security
    public var models: Models
}

/// A capability that is on or off: `{"enabled": false}`.
public struct Toggle: Codable, Sendable {
    public var enabled: Bool
}

/// seed 000 `GET /dashboard/metrics` and the live `metrics` topic's snapshot (which has no `time_series`).
public struct DashboardMetricsAnswer: Codable, Sendable {
    /// The metrics window's figures.
    public struct Metrics: Codable, Sendable {
        public var requests: Requests
        public var latency: Latency
        public var throughput: Throughput
        public var errors: Errors
        public var ttft: TimeToFirstToken
        public var resources: Resources
    }

    /// Requests: the total since start, rates over the window.
    public struct Requests: Codable, Sendable {
        public var total: Int
        public var ratePerSecond: Double
        public var ratePerMinute: Double
        @ExplicitNull public var successRate: Double?

        enum CodingKeys: String, CodingKey {
            case total
            case ratePerSecond = "rate_per_second", ratePerMinute = "rate_per_minute", successRate = "success_rate"
        }
    }

    /// Latency percentiles over the window; null without requests.
    public struct Latency: Codable, Sendable {
        @ExplicitNull public var p50Ms: Double?
        @ExplicitNull public var p90Ms: Double?
        @ExplicitNull public var p95Ms: Double?
        @ExplicitNull public var p99Ms: Double?
        @ExplicitNull public var averageMs: Double?

        enum CodingKeys: String, CodingKey {
            case p50Ms = "p50_ms", p90Ms = "p90_ms", p95Ms = "p95_ms", p99Ms = "p99_ms", averageMs = "average_ms"
        }
    }

    /// Rates over the window.
    public struct Throughput: Codable, Sendable {
        public var tokensPerSecond: Double
        public var inputTokensPerSecond: Double
        public var requestsPerSecond: Double
        public var bytesPerSecond: Double

        enum CodingKeys: String, CodingKey {
            case tokensPerSecond = "tokens_per_second", inputTokensPerSecond = "input_tokens_per_second"
            case requestsPerSecond = "requests_per_second", bytesPerSecond = "bytes_per_second"
        }
    }

    /// Errors: the total since start, the window's by type.
    public struct Errors: Codable, Sendable {
        public var total: Int
        public var inWindow: Int
        public var ratePerHour: Double
        public var types: [String: Int]

        enum CodingKeys: String, CodingKey {
            case total, types
            case inWindow = "in_window", ratePerHour = "rate_per_hour"
        }
    }

    /// Time to first token of the window's streams; null without any.
    public struct TimeToFirstToken: Codable, Sendable {
        @ExplicitNull public var p50Ms: Double?
        @ExplicitNull public var p95Ms: Double?
        public var count: Int

        enum CodingKeys: String, CodingKey {
            case count
            case p50Ms = "p50_ms", p95Ms = "p95_ms"
        }
    }

    /// The host's load, in percent (disk I/O in bytes a second).
    public struct Resources: Codable, Sendable {
        @ExplicitNull public var cpuUsage: Double?
        @ExplicitNull public var memoryUsage: Double?
        @ExplicitNull public var gpuUsage: Double?
        @ExplicitNull public var diskIoRate: Double?

        enum CodingKeys: String, CodingKey {
            case cpuUsage = "cpu_usage", memoryUsage = "memory_usage", gpuUsage = "gpu_usage", diskIoRate = "disk_io_rate"
        }
    }

    public var timestamp: String
    public var windowSeconds: Double
    public var metrics: Metrics
    /// Only on `/dashboard/metrics`.
    public var timeSeries: RecentSeries?

    enum CodingKeys: String, CodingKey {
        case timestamp, metrics
        case windowSeconds = "window_seconds", timeSeries = "time_series"
    }
}

/// The last hour per minute from the ledger's rollups; empty lists when there is no ledger.
public struct RecentSeries: Codable, Sendable {
    /// One minute.
    public struct Point: Codable, Sendable {
        public var timestamp: String
        @ExplicitNull public var value: Double?
    }

    public var requestsPerMinute: [Point]
    public var errorsPerMinute: [Point]
    public var latencyP95Ms: [Point]
    public var tokensOutPerMinute: [Point]
    /// `ledger`, or `unavailable`.
    public var source: String

    enum CodingKeys: String, CodingKey {
        case source
        case requestsPerMinute = "requests_per_minute", errorsPerMinute = "errors_per_minute", latencyP95Ms = "latency_p95_ms"
        case tokensOutPerMinute = "tokens_out_per_minute"
    }
}

/// seed 000 `GET /dashboard/workers`: the backends as workers of one coordinator, the gateway.
public struct DashboardWorkersAnswer: Codable, Sendable {
    /// The gateway.
    public struct Coordinator: Codable, Sendable {
        public var status = "active"
        public var address: String
        public var uptimeSeconds: Int
        public var connectedWorkers: Int

        enum CodingKeys: String, CodingKey {
            case status, address
            case uptimeSeconds = "uptime_seconds", connectedWorkers = "connected_workers"
        }
    }

    /// One backend.
    public struct Worker: Codable, Sendable {
        public var id: String
        public var address: String
        /// `active`, `down` or `unknown` (not checked yet).
        public var status: String
        public var kind: String
        @ExplicitNull public var lastHeartbeat: String?
        @ExplicitNull public var healthCheckLatencyMs: Double?
        @ExplicitNull public var lastError: String?
        public var capabilities: [String]
        public var currentLoad: Load
        public var modelsLoaded: [String]
        /// Backends do not say how much they can take.
        @ExplicitNull public var capacity: Int? = nil

        enum CodingKeys: String, CodingKey {
            case id, address, status, kind, capabilities, capacity
            case lastHeartbeat = "last_heartbeat", healthCheckLatencyMs = "health_check_latency_ms", lastError = "last_error"
            case currentLoad = "current_load", modelsLoaded = "models_loaded"
        }
    }

    /// A backend's traffic: in flight now, and since start.
    public struct Load: Codable, Sendable {
        public var activeRequests: Int
        @ExplicitNull public var averageLatencyMs: Double?
        public var totalRequests: Int
        @ExplicitNull public var errorRate: Double?

        enum CodingKeys: String, CodingKey {
            case activeRequests = "active_requests", averageLatencyMs = "average_latency_ms", totalRequests = "total_requests", errorRate = "error_rate"
        }
    }

    /// Admission control: null capacity when concurrency is unlimited.
    public struct ClusterStats: Codable, Sendable {
        @ExplicitNull public var totalCapacity: Int?
        public var currentUsage: Int
        public var pendingRequests: Int
        public var maxQueue: Int

        enum CodingKeys: String, CodingKey {
            case totalCapacity = "total_capacity", currentUsage = "current_usage", pendingRequests = "pending_requests", maxQueue = "max_queue"
        }
    }

    public var coordinator: Coordinator
    public var workers: [Worker]
    public var clusterStats: ClusterStats

    enum CodingKeys: String, CodingKey {
        case coordinator, workers
        case clusterStats = "cluster_stats"
    }
}
