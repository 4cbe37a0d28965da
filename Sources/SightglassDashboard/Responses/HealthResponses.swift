import SightglassTelemetry

/// Typed answers of the health and status routes (seeds 002 and 003). Optional fields are left
/// out when unknown; `ExplicitNull` ones are always present.

/// seed 002 `GET /health`.
public struct HealthAnswer: Codable, Sendable {
    public var status: String
    public var timestamp: String
    public var version: String
    /// Each backend by name, plus `proxy`, `metrics` and `ledger`.
    public var services: [String: ServiceHealth]
    public var system: HostFigures
}

/// One entry of `/health`'s `services`: a backend, the proxy, the metrics or the ledger, each
/// with the fields that apply to it.
public struct ServiceHealth: Codable, Sendable {
    public var status: String
    // Backends
    public var url: String?
    public var kind: String?
    public var responseTimeMs: Double?
    public var error: String?
    public var lastCheck: String?
    // The proxy
    public var activeRequests: Int?
    public var queueSize: Int?
    // The metrics
    public var totalRequests: Int?
    public var avgResponseTime: Double?
    // The ledger
    public var enabled: Bool?
    public var path: String?
    public var recordsWritten: Int?
    public var recordsPending: Int?
    public var recordsDropped: Int?
    public var recordsPruned: Int?
    public var lastFlush: String?

    public init(status: String) { self.status = status }

    enum CodingKeys: String, CodingKey {
        case status, url, kind, error, enabled, path
        case responseTimeMs = "response_time_ms", lastCheck = "last_check", activeRequests = "active_requests", queueSize = "queue_size"
        case totalRequests = "total_requests", avgResponseTime = "avg_response_time", recordsWritten = "records_written"
        case recordsPending = "records_pending", recordsDropped = "records_dropped", recordsPruned = "records_pruned", lastFlush = "last_flush"
    }
}

/// The host's figures in `/health`, where the probe has them.
public struct HostFigures: Codable, Sendable {
    public var cpuPercent: Double?
    public var memoryPercent: Double?
    public var diskUsagePercent: Double?

    enum CodingKeys: String, CodingKey {
        case cpuPercent = "cpu_percent", memoryPercent = "memory_percent", diskUsagePercent = "disk_usage_percent"
    }
}

/// seed 003 `GET /health/detailed`.
public struct DetailedHealthAnswer: Codable, Sendable {
    public struct Summary: Codable, Sendable {
        public var totalRequestsPerSecond: Double
        public var totalErrorsPerSecond: Double
        public var errorRatePercentage: Double
        public var serverErrorRatePercentage: Double
        public var averageLatencySeconds: Double
        public var activeStreams: Int

        enum CodingKeys: String, CodingKey {
            case totalRequestsPerSecond = "total_requests_per_second", totalErrorsPerSecond = "total_errors_per_second"
            case errorRatePercentage = "error_rate_percentage", serverErrorRatePercentage = "server_error_rate_percentage"
            case averageLatencySeconds = "average_latency_seconds", activeStreams = "active_streams"
        }
    }

    public struct Endpoint: Codable, Sendable {
        public var requestsPerSecond: Double
        public var latencyP50Ms: Double
        public var latencyP99Ms: Double

        enum CodingKeys: String, CodingKey {
            case requestsPerSecond = "requests_per_second", latencyP50Ms = "latency_p50_ms", latencyP99Ms = "latency_p99_ms"
        }
    }

    public var status: String
    /// Seconds since 1970, as seed 003 shows it.
    public var timestamp: Double
    public var uptimeSeconds: Double
    public var windowSeconds: Double
    public var metricsSummary: Summary
    public var endpoints: [String: Endpoint]

    enum CodingKeys: String, CodingKey {
        case status, timestamp, endpoints
        case uptimeSeconds = "uptime_seconds", windowSeconds = "window_seconds", metricsSummary = "metrics_summary"
    }
}

/// seed 002 `GET /api/metrics/summary`.
public struct MetricsSummaryAnswer: Codable, Sendable {
    public struct Summary: Codable, Sendable {
        public var totalRequests: Int
        public var activeRequests: Int
        public var queueSize: Int
        public var avgLatency: Double
        public var tokensPerSecond: Double
        public var successRate: Double
        public var errorRate: Double
        public var totalCostUsd: Double
        /// Of the cost, what was priced from estimated tokens.
        public var estimatedCostUsd: Double

        enum CodingKeys: String, CodingKey {
            case totalRequests = "total_requests", activeRequests = "active_requests", queueSize = "queue_size", avgLatency = "avg_latency"
            case tokensPerSecond = "tokens_per_second", successRate = "success_rate", errorRate = "error_rate", totalCostUsd = "total_cost_usd"
            case estimatedCostUsd = "estimated_cost_usd"
        }
    }

    public struct System: Codable, Sendable {
        public var gpu: GPUStatus
        public var gpuUtilizationPercent: Double?
        public var powerGpuWatts: Double?
        public var cpuPercent: Double?
        public var memoryPercent: Double?
        public var memoryAvailableGb: Double?
        public var memoryUsedGb: Double?

        enum CodingKeys: String, CodingKey {
            case gpu
            case gpuUtilizationPercent = "gpu_utilization_percent", powerGpuWatts = "power_gpu_watts", cpuPercent = "cpu_percent"
            case memoryPercent = "memory_percent", memoryAvailableGb = "memory_available_gb", memoryUsedGb = "memory_used_gb"
        }
    }

    public struct Model: Codable, Sendable {
        public var requests: Int
        public var avgLatency: Double
        public var tokensPerSecond: Double
        public var errorRate: Double
        public var inputTokens: Int
        public var outputTokens: Int
        public var costUsd: Double
        public var estimatedCostUsd: Double
        public var lastRequest: String

        enum CodingKeys: String, CodingKey {
            case requests
            case avgLatency = "avg_latency", tokensPerSecond = "tokens_per_second", errorRate = "error_rate", inputTokens = "input_tokens"
            case outputTokens = "output_tokens", costUsd = "cost_usd", estimatedCostUsd = "estimated_cost_usd", lastRequest = "last_request"
        }
    }

    public var timestamp: String
    public var summary: Summary
    public var system: System
    public var models: [String: Model]
}

/// seed 002 `GET /api/status`.
public struct StatusAnswer: Codable, Sendable {
    public var status: String
    public var version: String
    public var uptimeSeconds: Double
    /// Live-feed connections.
    public var connectedClients: Int
    @ExplicitNull public var lastUpdate: String?
    /// No AI-written status summary exists yet.
    public var aiStatusEnabled: Bool
    public var monitoringActive: Bool

    enum CodingKeys: String, CodingKey {
        case status, version
        case uptimeSeconds = "uptime_seconds", connectedClients = "connected_clients", lastUpdate = "last_update"
        case aiStatusEnabled = "ai_status_enabled", monitoringActive = "monitoring_active"
    }
}

/// The GPUs as the probe sees them: `{"available": false}` alone where there is none.
public struct GPUStatus: Codable, Sendable {
    public var available: Bool
    public var count: Int?
    public var source: ExplicitNull<String>?
    public var devices: [GPUDevice]?

    public static let unavailable = GPUStatus(available: false)

    /// The GPUs as `/dashboard/stats`, `/dashboard/resources` (detailed) and `/api/metrics/summary` show them.
    init(_ gpu: GPUSnapshot, detailed: Bool) {
        guard gpu.available else {
            self = .unavailable
            return
        }
        let devices = gpu.devices.map { d in
            GPUDevice(
                id: d.index, name: d.name, memoryUsedMb: d.memoryUsedMB.map(Units.round2), memoryTotalMb: d.memoryTotalMB.map(Units.round2),
                utilizationPercent: d.utilizationPercent.map(Units.round2), temperatureCelsius: d.temperatureCelsius.map(Units.round2),
                memoryFreeMb: detailed ? ExplicitNull(wrappedValue: d.memoryFreeMB.map(Units.round2)) : nil,
                powerUsageWatts: detailed ? ExplicitNull(wrappedValue: d.powerWatts.map(Units.round2)) : nil,
                fanSpeedPercent: detailed ? ExplicitNull(wrappedValue: d.fanPercent.map(Units.round2)) : nil)
        }
        self.init(available: true, count: devices.count, source: gpu.source, devices: devices)
    }

    init(available: Bool, count: Int? = nil, source: String? = nil, devices: [GPUDevice]? = nil) {
        self.available = available
        self.count = count
        self.source = available ? ExplicitNull(wrappedValue: source) : nil
        self.devices = devices
    }
}

/// One GPU; the detailed fields (`/dashboard/resources`) are present only there, null when unknown.
public struct GPUDevice: Codable, Sendable {
    public var id: Int
    public var name: String
    @ExplicitNull public var memoryUsedMb: Double?
    @ExplicitNull public var memoryTotalMb: Double?
    @ExplicitNull public var utilizationPercent: Double?
    @ExplicitNull public var temperatureCelsius: Double?
    public var memoryFreeMb: ExplicitNull<Double>?
    public var powerUsageWatts: ExplicitNull<Double>?
    public var fanSpeedPercent: ExplicitNull<Double>?

    enum CodingKeys: String, CodingKey {
        case id, name
        case memoryUsedMb = "memory_used_mb", memoryTotalMb = "memory_total_mb", utilizationPercent = "utilization_percent"
        case temperatureCelsius = "temperature_celsius", memoryFreeMb = "memory_free_mb", powerUsageWatts = "power_usage_watts"
        case fanSpeedPercent = "fan_speed_percent"
    }
}
