/// One finished request, as the data plane saw it. Immutable once recorded; every export,
/// the ledger and the live feed are computed from these.
public struct RequestEvent: Sendable {
    /// The request's id: the client's `X-Request-Id` when it sent a usable one, else generated.
    /// Returned to the client and sent to the backend in `X-Request-Id`.
    public var id: String
    /// Route template, e.g. "/v1/chat/completions" (the path without query).
    public var route: String
    public var method: String
    /// Backend name; empty when the request never reached one (validation error, unknown model).
    public var backend: String
    /// Backend address as "host:port", for OTel `server.address`/`server.port`.
    public var serverAddress: String
    public var serverPort: Int
    public var model: String
    public var status: Int
    public var errorType: ErrorType?
    public var stream: Bool
    /// Wall-clock start, seconds since 1970.
    public var startTime: Double
    /// Seconds from start until the request left the admission queue; nil when it never waited.
    public var queued: Double?
    /// Seconds spent opening a new upstream connection; nil when a pooled one was reused.
    public var connect: Double?
    /// The first bytes of the request and response bodies, when `ledger.bodies` is on
    /// (raw here; redacted by the ledger writer, off the request path).
    public var bodies: CapturedBodies?
    /// Seconds from start until the upstream's first response byte.
    public var firstByte: Double?
    /// Seconds from start until the first non-empty content token.
    public var firstToken: Double?
    /// Seconds from start until the last byte was sent to the client.
    public var latency: Double
    public var inputTokens: Int
    public var outputTokens: Int
    public var cachedTokens: Int
    /// True when the backend reported no usage and token counts were estimated.
    public var tokensEstimated: Bool
    public var requestBytes: Int
    public var responseBytes: Int
    /// Filled in by the hub from configured prices; 0 for unpriced models.
    public var cost: Double
    /// The client's IP address as the gateway saw it.
    public var clientAddress: String
    /// The value of the user header (`X-User-Id` unless configured otherwise), if sent.
    public var user: String?
    /// What went wrong, in words, for failed requests.
    public var errorMessage: String?
    /// The API key that authenticated the request, and the project it belongs to (nil: no key).
    public var apiKeyId: String?
    public var projectId: String?
    /// For a request refused by a limit: the limit's scope kind (`key`, `project`, …) and dimension.
    public var limitScope: String?
    public var limitDimension: String?
    /// The `Retry-After` (seconds) such a refusal was given.
    public var limitRetryAfter: Int?

    public init(
        route: String, method: String, backend: String, serverAddress: String = "", serverPort: Int = 0,
        model: String, status: Int, errorType: ErrorType?, stream: Bool, startTime: Double,
        firstByte: Double? = nil, firstToken: Double? = nil, latency: Double,
        inputTokens: Int = 0, outputTokens: Int = 0, cachedTokens: Int = 0, tokensEstimated: Bool = false,
        requestBytes: Int = 0, responseBytes: Int = 0, cost: Double = 0,
        id: String = "", clientAddress: String = "", user: String? = nil, errorMessage: String? = nil, apiKeyId: String? = nil,
        projectId: String? = nil, queued: Double? = nil, connect: Double? = nil
    ) {
        self.queued = queued
        self.connect = connect
        self.id = id
        self.clientAddress = clientAddress
        self.user = user
        self.errorMessage = errorMessage
        self.apiKeyId = apiKeyId
        self.projectId = projectId
        self.route = route
        self.method = method
        self.backend = backend
        self.serverAddress = serverAddress
        self.serverPort = serverPort
        self.model = model
        self.status = status
        self.errorType = errorType
        self.stream = stream
        self.startTime = startTime
        self.firstByte = firstByte
        self.firstToken = firstToken
        self.latency = latency
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedTokens = cachedTokens
        self.tokensEstimated = tokensEstimated
        self.requestBytes = requestBytes
        self.responseBytes = responseBytes
        self.cost = cost
    }

    public var isError: Bool { errorType != nil || status >= 400 }

    /// A failure on the serving side (5xx, timeout, unreachable backend, overload), as opposed to a
    /// client mistake (validation, unknown model) or a client leaving. Health is judged on these.
    public var isServerFailure: Bool {
        switch errorType {
        case .connectionError, .timeout, .queueFull, .invalidResponse, .limitsUnavailable: return true
        case .upstreamError: return status >= 500
        case .validationError, .modelNotFound, .requestTooLarge, .clientCancelled, .authenticationError, .permissionDenied, .rateLimited,
            .budgetExceeded:
            return false
        case nil: return status >= 500
        }
    }

    /// Output tokens per second over the generation: from the first token for streams, else over the whole request.
    public var outputTokensPerSecond: Double? {
        guard outputTokens > 0, errorType == nil else { return nil }
        let span = Self.generationSeconds(stream: stream, firstToken: firstToken, latency: latency)
        return span > 0 ? Double(outputTokens) / span : nil
    }

    /// Seconds spent generating: from the first token for streams, else the whole request.
    public static func generationSeconds(stream: Bool, firstToken: Double?, latency: Double) -> Double {
        if stream, let firstToken, latency > firstToken { return latency - firstToken }
        return latency
    }

    /// Seconds per output token after the first (OTel `gen_ai.server.time_per_output_token`).
    public var timePerOutputToken: Double? {
        guard stream, errorType == nil, let firstToken, outputTokens > 1 else { return nil }
        return max(0, latency - firstToken) / Double(outputTokens - 1)
    }

    /// OTel `gen_ai.operation.name` for the route.
    public var operationName: String {
        switch route {
        case "/v1/chat/completions", "/api/chat": return "chat"
        case "/v1/completions", "/api/generate": return "text_completion"
        case "/v1/embeddings", "/api/embed", "/api/embeddings": return "embeddings"
        default: return "other"
        }
    }

    /// OTel `gen_ai.provider.name`: the API dialect the client spoke.
    public var providerName: String { route.hasPrefix("/api/") ? "ollama" : "openai" }
}

/// Why a request failed. Raw values are the `error_type` label values.
public enum ErrorType: String, Sendable, CaseIterable, Codable {
    /// The backend answered with a 4xx or 5xx status.
    case upstreamError = "upstream_error"
    /// Connecting to the backend failed, or it closed the connection mid-response.
    case connectionError = "connection_error"
    /// Connect, first-byte, idle or total timeout.
    case timeout
    /// The request was malformed or named no model.
    case validationError = "validation_error"
    case modelNotFound = "model_not_found"
    case requestTooLarge = "request_too_large"
    /// The client went away before the response was complete.
    case clientCancelled = "client_cancelled"
    /// Concurrency limit reached and the wait queue full or timed out.
    case queueFull = "queue_full"
    /// The backend's response could not be parsed as HTTP.
    case invalidResponse = "invalid_response"
    /// No key, or a malformed, unknown, revoked or expired one (401).
    case authenticationError = "authentication_error"
    /// A live key used outside its scopes (403, or a token cap).
    case permissionDenied = "permission_denied"
    /// Refused by a rate limit (429).
    case rateLimited = "rate_limited"
    /// Refused by a hard budget (429, `insufficient_quota`).
    case budgetExceeded = "budget_exceeded"
    /// Limits are shared through PostgreSQL, which did not answer (503): a serving-side failure.
    case limitsUnavailable = "limits_unavailable"
}

/// Bodies as the proxy captured them: capped, not yet redacted.
public struct CapturedBodies: Sendable {
    public var request: [UInt8]
    public var requestTruncated: Bool
    public var response: [UInt8]
    public var responseTruncated: Bool

    public init(request: [UInt8], requestTruncated: Bool, response: [UInt8], responseTruncated: Bool) {
        self.request = request
        self.requestTruncated = requestTruncated
        self.response = response
        self.responseTruncated = responseTruncated
    }
}
