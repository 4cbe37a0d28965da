/// Folds request events into everything the exports show: cumulative Prometheus series,
/// per-route and per-model totals, and per-second slots for sliding windows.
/// Lives behind the hub's lock; never touched by the data plane.
public struct MetricsAggregator: Sendable {
    static let gatewayDurationBuckets: [Double] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
    static let genAIDurationBuckets: [Double] = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]
    static let genAITokenBuckets: [Double] = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
    static let genAITTFTBuckets: [Double] = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0]
    static let genAITPOTBuckets: [Double] = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5]
    static let ollamaDurationBuckets: [Double] = [0.1, 0.5, 1, 5, 10]
    static let tokensPerSecondBuckets: [Double] = [1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 300, 500, 1000, 2000]

    public let windowSeconds: Int
    public private(set) var startTime: Double

    // Seed-004 gateway families.
    var gwRequests = CounterFamily("inference_gateway_requests_total", help: "Total requests by route, backend and HTTP status.", labels: ["route", "backend", "status"])
    var gwDuration = HistogramFamily("inference_gateway_request_duration_seconds", help: "Request duration in seconds, from request received to last byte sent.", labels: ["route", "backend"], buckets: gatewayDurationBuckets)
    var gwErrors = CounterFamily("inference_gateway_request_errors_total", help: "Failed requests by route, backend and error type.", labels: ["route", "backend", "error_type"])
    var gwCost = CounterFamily("inference_gateway_cost_total", help: "Cumulative cost in USD from configured per-model prices.", labels: ["route", "backend"])
    var gwTokens = CounterFamily("inference_gateway_tokens_total", help: "Tokens processed by route, backend and type (input or output).", labels: ["route", "backend", "type"])
    // OpenTelemetry GenAI semantic-convention histograms.
    var otelDuration = HistogramFamily("gen_ai_client_operation_duration_seconds", help: "GenAI operation duration (gen_ai.client.operation.duration).", labels: ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "server_address", "server_port", "error_type"], buckets: genAIDurationBuckets)
    var otelTokens = HistogramFamily("gen_ai_client_token_usage", help: "Tokens used per GenAI operation (gen_ai.client.token.usage).", labels: ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "server_address", "server_port", "gen_ai_token_type"], buckets: genAITokenBuckets)
    var otelTTFT = HistogramFamily("gen_ai_server_time_to_first_token_seconds", help: "Time to first output token of streamed responses (gen_ai.server.time_to_first_token).", labels: ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "server_address", "server_port"], buckets: genAITTFTBuckets)
    var otelTPOT = HistogramFamily("gen_ai_server_time_per_output_token_seconds", help: "Time per output token after the first (gen_ai.server.time_per_output_token).", labels: ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "server_address", "server_port"], buckets: genAITPOTBuckets)
    // Seed-002 families for Ollama routes.
    var olRequests = CounterFamily("ollama_proxy_requests_total", help: "Total number of requests processed on Ollama routes.", labels: ["method", "endpoint", "model", "status"])
    var olDuration = HistogramFamily("ollama_proxy_request_duration_seconds", help: "Request duration in seconds on Ollama routes.", labels: ["method", "endpoint", "model"], buckets: ollamaDurationBuckets)
    // Sightglass's own per-model families.
    var sgRequests = CounterFamily("sightglass_requests_total", help: "Requests by route, backend, model, status and streaming.", labels: ["route", "backend", "model", "status", "stream"])
    var sgTokens = CounterFamily("sightglass_tokens_total", help: "Tokens by route, backend, model and type (input, output, cached); estimated=true where the backend reported no usage.", labels: ["route", "backend", "model", "type", "estimated"])
    var sgTTFT = HistogramFamily("sightglass_time_to_first_token_seconds", help: "Time from request received to first content token, streamed requests.", labels: ["route", "backend", "model"], buckets: genAITTFTBuckets)
    var sgTPS = HistogramFamily("sightglass_output_tokens_per_second", help: "Output tokens per second of each request's generation.", labels: ["route", "backend", "model"], buckets: tokensPerSecondBuckets)
    var sgBytes = CounterFamily("sightglass_bytes_total", help: "Request and response body bytes by route and backend.", labels: ["route", "backend", "direction"])
    var sgStreams = CounterFamily("sightglass_streams_total", help: "Finished streamed requests by outcome.", labels: ["route", "backend", "outcome"])

    public private(set) var byRoute: [String: CumulativeStats] = [:]
    public private(set) var byModel: [String: CumulativeStats] = [:]
    public private(set) var byBackend: [String: CumulativeStats] = [:]
    public private(set) var total = CumulativeStats()
    public private(set) var droppedEvents = 0

    struct Slot {
        var second: Int = .min
        var routes: [String: WindowStats] = [:]
    }
    var slots: [Slot]

    public init(windowSeconds: Int, startTime: Double) {
        self.windowSeconds = max(1, windowSeconds)
        self.startTime = startTime
        slots = Array(repeating: Slot(), count: self.windowSeconds + 1)
    }

    mutating func noteDropped(_ n: Int) { droppedEvents += n }

    public mutating func add(_ e: RequestEvent) {
        let backend = e.backend.isEmpty ? "none" : e.backend
        let status = String(e.status)
        gwRequests.add([e.route, backend, status])
        gwDuration.observe([e.route, backend], e.latency)
        if e.isError { gwErrors.add([e.route, backend, (e.errorType ?? .upstreamError).rawValue]) }
        if e.cost > 0 { gwCost.add([e.route, backend], e.cost) }
        if e.inputTokens > 0 { gwTokens.add([e.route, backend, "input"], Double(e.inputTokens)) }
        if e.outputTokens > 0 { gwTokens.add([e.route, backend, "output"], Double(e.outputTokens)) }

        let op = e.operationName
        if op != "other" && !e.model.isEmpty {
            let port = e.serverPort > 0 ? String(e.serverPort) : ""
            let base = [op, e.providerName, e.model, e.serverAddress, port]
            otelDuration.observe(base + [e.isError ? (e.errorType ?? .upstreamError).rawValue : ""], e.latency)
            if !e.isError {
                if e.inputTokens > 0 { otelTokens.observe(base + ["input"], Double(e.inputTokens)) }
                if e.outputTokens > 0 { otelTokens.observe(base + ["output"], Double(e.outputTokens)) }
                if e.stream, let t = e.firstToken { otelTTFT.observe(base, t) }
                if let tpot = e.timePerOutputToken { otelTPOT.observe(base, tpot) }
            }
        }
        if e.providerName == "ollama" {
            olRequests.add([e.method, e.route, e.model, status])
            olDuration.observe([e.method, e.route, e.model], e.latency)
        }
        sgRequests.add([e.route, backend, e.model, status, e.stream ? "true" : "false"])
        let est = e.tokensEstimated ? "true" : "false"
        if e.inputTokens > 0 { sgTokens.add([e.route, backend, e.model, "input", est], Double(e.inputTokens)) }
        if e.outputTokens > 0 { sgTokens.add([e.route, backend, e.model, "output", est], Double(e.outputTokens)) }
        if e.cachedTokens > 0 { sgTokens.add([e.route, backend, e.model, "cached", est], Double(e.cachedTokens)) }
        if e.stream, !e.isError, let t = e.firstToken { sgTTFT.observe([e.route, backend, e.model], t) }
        if let tps = e.outputTokensPerSecond { sgTPS.observe([e.route, backend, e.model], tps) }
        if e.requestBytes > 0 { sgBytes.add([e.route, backend, "request"], Double(e.requestBytes)) }
        if e.responseBytes > 0 { sgBytes.add([e.route, backend, "response"], Double(e.responseBytes)) }
        if e.stream { sgStreams.add([e.route, backend, e.isError ? "failed" : "completed"]) }

        byRoute[e.route, default: CumulativeStats()].add(e)
        if !e.model.isEmpty { byModel[e.model, default: CumulativeStats()].add(e) }
        if !e.backend.isEmpty { byBackend[e.backend, default: CumulativeStats()].add(e) }
        total.add(e)

        let second = Int((e.startTime + e.latency).rounded(.down))
        let index = ((second % slots.count) + slots.count) % slots.count
        if slots[index].second != second {
            // Only replace a slot with a newer second; late events older than the window are not windowed.
            guard second > slots[index].second else { return }
            slots[index] = Slot(second: second, routes: [:])
        }
        slots[index].routes[e.route, default: WindowStats()].add(e)
    }

    /// Per-route stats over the last `windowSeconds` before `now`.
    public func window(now: Double) -> [String: WindowStats] {
        let newest = Int(now.rounded(.down))
        let oldest = newest - windowSeconds + 1
        var out: [String: WindowStats] = [:]
        for slot in slots where slot.second >= oldest && slot.second <= newest {
            for (route, stats) in slot.routes { out[route, default: WindowStats()].merge(stats) }
        }
        return out
    }

    /// Seconds the window actually spans: shorter than configured right after start.
    public func effectiveWindow(now: Double) -> Double {
        max(1, min(Double(windowSeconds), now - startTime))
    }
}
