/// Aggregates of the requests that finished on one route within a span of time.
/// Per-second slots of these are merged to answer any sliding window.
public struct WindowStats: Sendable {
    public var requests = 0
    public var successes = 0
    public var errors = 0
    /// Server-side failures only (see `RequestEvent.isServerFailure`).
    public var failures = 0
    public var errorsByType: [String: Int] = [:]
    public var inputTokens = 0
    public var outputTokens = 0
    public var cachedTokens = 0
    public var requestBytes = 0
    public var responseBytes = 0
    public var streamsCompleted = 0
    public var streamsFailed = 0
    public var latency = LogHistogram()
    public var successLatency = LogHistogram()
    public var tokensPerRequest = LogHistogram()
    public var ttft = LogHistogram()
    public var tokensPerSecond = LogHistogram()

    public init() {}

    mutating func add(_ e: RequestEvent) {
        requests += 1
        latency.record(e.latency)
        if e.isServerFailure { failures += 1 }
        if e.isError {
            errors += 1
            errorsByType[(e.errorType ?? .upstreamError).rawValue, default: 0] += 1
        } else {
            successes += 1
            successLatency.record(e.latency)
        }
        inputTokens += e.inputTokens
        outputTokens += e.outputTokens
        cachedTokens += e.cachedTokens
        requestBytes += e.requestBytes
        responseBytes += e.responseBytes
        if e.inputTokens + e.outputTokens > 0 { tokensPerRequest.record(Double(e.inputTokens + e.outputTokens)) }
        if e.stream {
            if e.isError { streamsFailed += 1 } else { streamsCompleted += 1 }
            if let t = e.firstToken, !e.isError { ttft.record(t) }
        }
        if let tps = e.outputTokensPerSecond { tokensPerSecond.record(tps) }
    }

    public mutating func merge(_ o: WindowStats) {
        requests += o.requests
        successes += o.successes
        errors += o.errors
        failures += o.failures
        for (k, v) in o.errorsByType { errorsByType[k, default: 0] += v }
        inputTokens += o.inputTokens
        outputTokens += o.outputTokens
        cachedTokens += o.cachedTokens
        requestBytes += o.requestBytes
        responseBytes += o.responseBytes
        streamsCompleted += o.streamsCompleted
        streamsFailed += o.streamsFailed
        latency.merge(o.latency)
        successLatency.merge(o.successLatency)
        tokensPerRequest.merge(o.tokensPerRequest)
        ttft.merge(o.ttft)
        tokensPerSecond.merge(o.tokensPerSecond)
    }
}

/// Totals since the process started, for one key (route or model).
public struct CumulativeStats: Sendable {
    public var requests = 0
    public var errors = 0
    public var inputTokens = 0
    public var outputTokens = 0
    public var cachedTokens = 0
    public var estimatedRequests = 0
    public var cost = 0.0
    /// The part of `cost` priced from estimated tokens (the backend reported no usage).
    public var estimatedCost = 0.0
    public var latencySum = 0.0
    /// Seconds spent generating output tokens, for a token-weighted tokens/s.
    public var generationSeconds = 0.0
    public var generatedTokens = 0
    public var streamsCompleted = 0
    public var streamsFailed = 0
    public var lastRequest: Double = 0

    public init() {}

    mutating func add(_ e: RequestEvent) {
        requests += 1
        if e.isError { errors += 1 }
        inputTokens += e.inputTokens
        outputTokens += e.outputTokens
        cachedTokens += e.cachedTokens
        if e.tokensEstimated { estimatedRequests += 1 }
        cost += e.cost
        if e.tokensEstimated { estimatedCost += e.cost }
        latencySum += e.latency
        if let tps = e.outputTokensPerSecond {
            generatedTokens += e.outputTokens
            generationSeconds += Double(e.outputTokens) / tps
        }
        if e.stream {
            if e.isError { streamsFailed += 1 } else { streamsCompleted += 1 }
        }
        lastRequest = max(lastRequest, e.startTime + e.latency)
    }

    /// Adds totals kept elsewhere (the ledger's, after a restart).
    public mutating func merge(_ o: CumulativeStats) {
        requests += o.requests
        errors += o.errors
        inputTokens += o.inputTokens
        outputTokens += o.outputTokens
        cachedTokens += o.cachedTokens
        estimatedRequests += o.estimatedRequests
        cost += o.cost
        estimatedCost += o.estimatedCost
        latencySum += o.latencySum
        generationSeconds += o.generationSeconds
        generatedTokens += o.generatedTokens
        streamsCompleted += o.streamsCompleted
        streamsFailed += o.streamsFailed
        lastRequest = max(lastRequest, o.lastRequest)
    }

    public var averageLatency: Double { requests > 0 ? latencySum / Double(requests) : 0 }
    public var tokensPerSecond: Double { generationSeconds > 0 ? Double(generatedTokens) / generationSeconds : 0 }
    public var errorRate: Double { requests > 0 ? Double(errors) / Double(requests) : 0 }
}
