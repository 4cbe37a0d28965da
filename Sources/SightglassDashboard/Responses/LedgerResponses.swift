import SightglassStore
import SightglassTelemetry

/// Typed answers of the ledger API (`/api/requests…`, `/api/analytics/…`).

/// One stored request. The detail fields (`phases`, `times`, bodies) are present only on
/// `GET /api/requests/{id}`.
public struct RequestRecord: Codable, Sendable {
    public struct Tokens: Codable, Sendable {
        public var input: Int
        public var output: Int
        public var cached: Int
        public var total: Int
        /// The backend reported no usage; the counts are estimates.
        public var estimated: Bool
    }

    /// One step of the timing waterfall, from the previous mark to its own.
    public struct Phase: Codable, Sendable {
        public var name: String
        public var startMs: Double
        public var endMs: Double
        public var durationMs: Double

        enum CodingKeys: String, CodingKey {
            case name
            case startMs = "start_ms", endMs = "end_ms", durationMs = "duration_ms"
        }
    }

    public struct Times: Codable, Sendable {
        public var startedAt: String
        @ExplicitNull public var firstByteAt: String?
        @ExplicitNull public var firstTokenAt: String?
        public var endedAt: String

        enum CodingKeys: String, CodingKey {
            case startedAt = "started_at", firstByteAt = "first_byte_at", firstTokenAt = "first_token_at", endedAt = "ended_at"
        }
    }

    public struct Truncation: Codable, Sendable {
        public var request: Bool
        public var response: Bool
    }

    public var id: String
    public var timestamp: String
    public var route: String
    public var method: String
    @ExplicitNull public var backend: String?
    @ExplicitNull public var model: String?
    public var stream: Bool
    public var status: Int
    @ExplicitNull public var errorType: String?
    @ExplicitNull public var errorMessage: String?
    public var tokens: Tokens
    public var cost: Double
    /// Priced from estimated tokens.
    public var costEstimated: Bool
    public var latencyMs: Double
    @ExplicitNull public var ttftMs: Double?
    @ExplicitNull public var firstByteMs: Double?
    @ExplicitNull public var tokensPerSecond: Double?
    public var requestBytes: Int
    public var responseBytes: Int
    @ExplicitNull public var clientIp: String?
    @ExplicitNull public var user: String?
    @ExplicitNull public var apiKeyId: String?
    @ExplicitNull public var projectId: String?
    public var synthetic: Bool
    // Detail only.
    public var queueMs: ExplicitNull<Double>?
    public var connectMs: ExplicitNull<Double>?
    public var phases: [Phase]?
    public var times: Times?
    public var requestBody: ExplicitNull<String>?
    public var responseBody: ExplicitNull<String>?
    public var bodiesRecorded: Bool?
    public var bodiesTruncated: Truncation?

    enum CodingKeys: String, CodingKey {
        case id, timestamp, route, method, backend, model, stream, status, tokens, cost, user, synthetic, phases, times
        case errorType = "error_type", errorMessage = "error_message", costEstimated = "cost_estimated", latencyMs = "latency_ms"
        case ttftMs = "ttft_ms", firstByteMs = "first_byte_ms", tokensPerSecond = "tokens_per_second", requestBytes = "request_bytes"
        case responseBytes = "response_bytes", clientIp = "client_ip", apiKeyId = "api_key_id", projectId = "project_id", queueMs = "queue_ms", connectMs =
            "connect_ms"
        case requestBody = "request_body", responseBody = "response_body", bodiesRecorded = "bodies_recorded", bodiesTruncated = "bodies_truncated"
    }

    /// Milliseconds to the microsecond.
    static func ms(_ seconds: Double) -> Double { (seconds * 1e6).rounded() / 1000 }

    init(_ r: StoredRequest, detail: Bool) {
        id = r.id
        timestamp = ISO8601.string(epoch: r.startTime)
        route = r.route
        method = r.method
        backend = r.backend.isEmpty ? nil : r.backend
        model = r.model.isEmpty ? nil : r.model
        stream = r.stream
        status = r.status
        errorType = r.errorType
        errorMessage = r.errorMessage
        tokens = Tokens(input: r.tokensIn, output: r.tokensOut, cached: r.tokensCached, total: r.tokensIn + r.tokensOut, estimated: r.tokensEstimated)
        cost = r.cost
        costEstimated = r.costEstimated
        latencyMs = Self.ms(r.latency)
        ttftMs = r.firstToken.map(Self.ms)
        firstByteMs = r.firstByte.map(Self.ms)
        tokensPerSecond = r.tokensPerSecond
        requestBytes = r.bytesIn
        responseBytes = r.bytesOut
        clientIp = r.client
        user = r.user
        apiKeyId = r.apiKeyId
        projectId = r.projectId
        synthetic = r.synthetic
        guard detail else { return }
        queueMs = ExplicitNull(wrappedValue: r.queued.map(Self.ms))
        connectMs = ExplicitNull(wrappedValue: r.connect.map(Self.ms))
        // queue → connect → upstream wait → first token → generation: each measured mark, in order.
        var phases: [Phase] = []
        var last = 0.0
        func phase(_ name: String, _ end: Double?) {
            guard let end else { return }
            phases.append(Phase(name: name, startMs: Self.ms(last), endMs: Self.ms(end), durationMs: Self.ms(max(0, end - last))))
            last = end
        }
        if let q = r.queued { phase("queue", q) }
        if let c = r.connect { phase("connect", (r.queued ?? 0) + c) }
        phase("upstream_wait", r.firstByte)
        phase("first_token", r.firstToken)
        phase(r.stream ? "generation" : "response", r.latency)
        self.phases = phases
        times = Times(
            startedAt: ISO8601.string(epoch: r.startTime), firstByteAt: r.firstByte.map { ISO8601.string(epoch: r.startTime + $0) },
            firstTokenAt: r.firstToken.map { ISO8601.string(epoch: r.startTime + $0) }, endedAt: ISO8601.string(epoch: r.startTime + r.latency))
        requestBody = ExplicitNull(wrappedValue: r.bodies?.request)
        responseBody = ExplicitNull(wrappedValue: r.bodies?.response)
        bodiesRecorded = r.bodies != nil
        bodiesTruncated = r.bodies.map { Truncation(request: $0.requestTruncated, response: $0.responseTruncated) }
    }
}

/// `GET /api/requests`: one page, newest first.
public struct RequestPage: Codable, Sendable {
    public var requests: [RequestRecord]
    public var count: Int
    public var limit: Int
    @ExplicitNull public var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case requests, count, limit
        case nextCursor = "next_cursor"
    }
}

/// `GET /api/analytics/timeseries`.
public struct TimeseriesAnswer: Codable, Sendable {
    public struct Series: Codable, Sendable {
        public var group: String
        public var points: [Point]
    }

    public struct Point: Codable, Sendable {
        public var timestamp: String
        /// Null where the bucket holds no data.
        @ExplicitNull public var value: Double?
    }

    public var metric: String
    public var unit: String
    public var interval: String
    @ExplicitNull public var groupBy: String?
    public var since: String
    public var until: String
    public var series: [Series]

    enum CodingKeys: String, CodingKey {
        case metric, unit, interval, since, until, series
        case groupBy = "group_by"
    }
}

/// `GET /api/analytics/breakdown`: one row per group, and the total.
public struct BreakdownAnswer: Codable, Sendable {
    public var by: String
    public var since: String
    public var until: String
    public var groups: [RollupFigures]
    public var total: RollupFigures
}

/// What a rollup holds for one group (or the total), as the analytics answers show it.
public struct RollupFigures: Codable, Sendable {
    public struct Tokens: Codable, Sendable {
        public var input: Int
        public var output: Int
        public var cached: Int
    }

    public struct Latency: Codable, Sendable {
        @ExplicitNull public var p50: Double?
        @ExplicitNull public var p95: Double?
        @ExplicitNull public var p99: Double?
        /// Present for latency, not for time to first token.
        public var avg: ExplicitNull<Double>?
    }

    /// The group's name; absent on the total.
    public var key: String?
    public var requests: Int
    public var errors: Int
    public var errorRate: Double
    public var tokens: Tokens
    public var cost: Double
    /// The part of `cost` priced from estimated token counts (the backend reported no usage).
    public var estimatedCost: Double
    @ExplicitNull public var tokensPerSecond: Double?
    public var latencyMs: Latency
    public var ttftMs: Latency

    enum CodingKeys: String, CodingKey {
        case key, requests, errors, tokens, cost
        case estimatedCost = "estimated_cost"
        case errorRate = "error_rate", tokensPerSecond = "tokens_per_second", latencyMs = "latency_ms", ttftMs = "ttft_ms"
    }

    init(_ c: RollupCell, key: String? = nil) {
        func q(_ h: DenseHistogram, _ p: Double) -> Double? { h.count > 0 ? RequestRecord.ms(h.quantile(p)) : nil }
        self.key = key
        requests = c.count
        errors = c.errors
        errorRate = c.count > 0 ? c.errorRate : 0
        tokens = Tokens(input: c.tokensIn, output: c.tokensOut, cached: c.tokensCached)
        cost = c.cost
        estimatedCost = c.estimatedCost
        tokensPerSecond = c.genSeconds > 0 ? c.tokensPerSecond : nil
        latencyMs = Latency(
            p50: q(c.latency, 0.5), p95: q(c.latency, 0.95), p99: q(c.latency, 0.99),
            avg: ExplicitNull(wrappedValue: c.latency.count > 0 ? RequestRecord.ms(c.latency.average) : nil))
        ttftMs = Latency(p50: q(c.ttft, 0.5), p95: q(c.ttft, 0.95), p99: q(c.ttft, 0.99), avg: nil)
    }
}
