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
    var gwRequests = CounterFamily(
        "inference_gateway_requests_total", help: "Total requests by route, backend and HTTP status.", labels: ["route", "backend", "status"])
    var gwDuration = HistogramFamily(
        "inference_gateway_request_duration_seconds", help: "Request duration in seconds, from request received to last byte sent.",
        labels: ["route", "backend"], buckets: gatewayDurationBuckets)
    var gwErrors = CounterFamily(
        "inference_gateway_request_errors_total", help: "Failed requests by route, backend and error type.", labels: ["route", "backend", "error_type"])
    var gwCost = CounterFamily("inference_gateway_cost_total", help: "Cumulative cost in USD from configured per-model prices.", labels: ["route", "backend"])
    var gwTokens = CounterFamily(
        "inference_gateway_tokens_total", help: "Tokens processed by route, backend and type (input or output).", labels: ["route", "backend", "type"])
    // OpenTelemetry GenAI semantic-convention histograms.
    var otelDuration = HistogramFamily(
        "gen_ai_client_operation_duration_seconds", help: "GenAI operation duration (gen_ai.client.operation.duration).",
        labels: ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "server_address", "server_port", "error_type"],
        buckets: genAIDurationBuckets)
    var otelTokens = HistogramFamily(
        "gen_ai_client_token_usage", help: "Tokens used per GenAI operation (gen_ai.client.token.usage).",
        labels: ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "server_address", "server_port", "gen_ai_token_type"],
        buckets: genAITokenBuckets)
    var otelTTFT = HistogramFamily(
        "gen_ai_server_time_to_first_token_seconds", help: "Time to first output token of streamed responses (gen_ai.server.time_to_first_token).",
        labels: ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "server_address", "server_port"], buckets: genAITTFTBuckets)
    var otelTPOT = HistogramFamily(
        "gen_ai_server_time_per_output_token_seconds", help: "Time per output token after the first (gen_ai.server.time_per_output_token).",
        labels: ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "server_address", "server_port"], buckets: genAITPOTBuckets)
    // Seed-002 families for Ollama routes.
    var olRequests = CounterFamily(
        "ollama_proxy_requests_total", help: "Total number of requests processed on Ollama routes.", labels: ["method", "endpoint", "model", "status"])
    var olDuration = HistogramFamily(
        "ollama_proxy_request_duration_seconds", help: "Request duration in seconds on Ollama routes.", labels: ["method", "endpoint", "model"],
        buckets: ollamaDurationBuckets)
    // Sightglass's own per-model families.
    var sgRequests = CounterFamily(
        "sightglass_requests_total", help: "Requests by route, backend, model, status and streaming.",
        labels: ["route", "backend", "model", "status", "stream"])
    var sgTokens = CounterFamily(
        "sightglass_tokens_total",
        help: "Tokens by route, backend, model and type (input, output, cached); estimated=true where the backend reported no usage.",
        labels: ["route", "backend", "model", "type", "estimated"])
    var sgCost = CounterFamily(
        "sightglass_cost_usd_total",
        help: "Cost in USD from configured per-model prices; estimated=true where it was priced from estimated tokens (the backend reported no usage).",
        labels: ["route", "backend", "model", "estimated"])
    var sgTTFT = HistogramFamily(
        "sightglass_time_to_first_token_seconds", help: "Time from request received to first content token, streamed requests.",
        labels: ["route", "backend", "model"], buckets: genAITTFTBuckets)
    var sgTPS = HistogramFamily(
        "sightglass_output_tokens_per_second", help: "Output tokens per second of each request's generation.", labels: ["route", "backend", "model"],
        buckets: tokensPerSecondBuckets)
    var sgBytes = CounterFamily(
        "sightglass_bytes_total", help: "Request and response body bytes by route and backend.", labels: ["route", "backend", "direction"])
    var sgStreams = CounterFamily("sightglass_streams_total", help: "Finished streamed requests by outcome.", labels: ["route", "backend", "outcome"])
    // Limits: seed 004's panel family (user: the key's owner or the named user) and ours by scope and dimension.
    var gwRateLimitHits = CounterFamily(
        "inference_gateway_rate_limit_hits_total", help: "Requests refused by a rate limit or budget, by route and user.", labels: ["route", "user"])
    var rateLimitUsers = Set<String>()
    var sgRateLimitHits = CounterFamily(
        "sightglass_rate_limit_hits_total", help: "Requests refused by a rate limit or budget, by the limit's scope and dimension.",
        labels: ["scope", "dimension"])

    /// Totals per route, model and backend, stored by slot like the families.
    var cumulative = [CumulativeStats]()
    var cumulativeIndex: [String: Int] = [:]
    public private(set) var total = CumulativeStats()

    mutating func continueTotals(from stored: CumulativeStats, byRoute routes: [String: CumulativeStats]) {
        total.merge(stored)
        for (route, c) in routes { cumulative[cumulativeSlot("r:" + route)].merge(c) }
    }
    public private(set) var droppedEvents = 0

    public var byRoute: [String: CumulativeStats] { cumulativeDictionary(prefix: "r:") }
    public var byModel: [String: CumulativeStats] { cumulativeDictionary(prefix: "m:") }
    public var byBackend: [String: CumulativeStats] { cumulativeDictionary(prefix: "b:") }

    func cumulativeDictionary(prefix: String) -> [String: CumulativeStats] {
        var out: [String: CumulativeStats] = [:]
        for (k, i) in cumulativeIndex where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = cumulative[i] }
        return out
    }

    mutating func cumulativeSlot(_ key: String) -> Int {
        if let i = cumulativeIndex[key] { return i }
        cumulativeIndex[key] = cumulative.count
        cumulative.append(CumulativeStats())
        return cumulative.count - 1
    }

    /// Everything about an event that decides which series it lands in.
    struct EventKey: Hashable {
        var route: String
        var method: String
        var backend: String
        var serverAddress: String
        var serverPort: Int
        var model: String
        var status: Int
        var stream: Bool
        var estimated: Bool
        var errorType: ErrorType?

        init(_ e: RequestEvent) {
            route = e.route
            method = e.method
            backend = e.backend
            serverAddress = e.serverAddress
            serverPort = e.serverPort
            model = e.model
            status = e.status
            stream = e.stream
            estimated = e.tokensEstimated
            errorType = e.errorType
        }
    }

    /// Series slots for one `EventKey`; -1 until first needed, so no series is created before it
    /// has something to count.
    struct Slots: Equatable {
        var gwRequests = -1, gwDuration = -1, gwErrors = -1, gwCost = -1, gwTokensIn = -1, gwTokensOut = -1
        var otelDuration = -1, otelTokensIn = -1, otelTokensOut = -1, otelTTFT = -1, otelTPOT = -1
        var olRequests = -1, olDuration = -1
        var sgRequests = -1, sgTokensIn = -1, sgTokensOut = -1, sgTokensCached = -1, sgTTFT = -1, sgTPS = -1
        var sgBytesIn = -1, sgBytesOut = -1, sgStreams = -1, sgCost = -1
        var route = -1, model = -1, backend = -1
    }
    var slotCache: [EventKey: Slots] = [:]

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

    public mutating func add(_ event: RequestEvent) {
        // A model name only becomes a label once a backend served it: names in rejected requests
        // are whatever a client typed, and must not mint series without bound.
        var e = event
        if e.backend.isEmpty { e.model = "" }
        let key = EventKey(e)
        let cached = slotCache[key]
        var s = cached ?? Slots()
        let backend = e.backend.isEmpty ? "none" : e.backend
        let status = String(e.status)
        @inline(__always) func ensure(_ slot: inout Int, _ make: () -> Int) { if slot < 0 { slot = make() } }

        ensure(&s.gwRequests) { gwRequests.slot([e.route, backend, status]) }
        gwRequests.add(slot: s.gwRequests)
        ensure(&s.gwDuration) { gwDuration.slot([e.route, backend]) }
        gwDuration.observe(slot: s.gwDuration, e.latency)
        if e.isError {
            ensure(&s.gwErrors) { gwErrors.slot([e.route, backend, (e.errorType ?? .upstreamError).rawValue]) }
            gwErrors.add(slot: s.gwErrors)
        }
        if !e.backend.isEmpty {
            // Every route and backend that served traffic has a cost series, at 0 for free local
            // models: a known zero is a measurement, and seed 004's Total Cost panel needs one.
            ensure(&s.gwCost) { gwCost.slot([e.route, backend]) }
            gwCost.add(slot: s.gwCost, e.cost)
        }
        if e.inputTokens > 0 {
            ensure(&s.gwTokensIn) { gwTokens.slot([e.route, backend, "input"]) }
            gwTokens.add(slot: s.gwTokensIn, Double(e.inputTokens))
        }
        if e.outputTokens > 0 {
            ensure(&s.gwTokensOut) { gwTokens.slot([e.route, backend, "output"]) }
            gwTokens.add(slot: s.gwTokensOut, Double(e.outputTokens))
        }

        let op = e.operationName
        if op != "other" && !e.model.isEmpty {
            let port = e.serverPort > 0 ? String(e.serverPort) : ""
            let base = [op, e.providerName, e.model, e.serverAddress, port]
            ensure(&s.otelDuration) { otelDuration.slot(base + [e.isError ? (e.errorType ?? .upstreamError).rawValue : ""]) }
            otelDuration.observe(slot: s.otelDuration, e.latency)
            if !e.isError {
                if e.inputTokens > 0 {
                    ensure(&s.otelTokensIn) { otelTokens.slot(base + ["input"]) }
                    otelTokens.observe(slot: s.otelTokensIn, Double(e.inputTokens))
                }
                if e.outputTokens > 0 {
                    ensure(&s.otelTokensOut) { otelTokens.slot(base + ["output"]) }
                    otelTokens.observe(slot: s.otelTokensOut, Double(e.outputTokens))
                }
                if e.stream, let t = e.firstToken {
                    ensure(&s.otelTTFT) { otelTTFT.slot(base) }
                    otelTTFT.observe(slot: s.otelTTFT, t)
                }
                if let tpot = e.timePerOutputToken {
                    ensure(&s.otelTPOT) { otelTPOT.slot(base) }
                    otelTPOT.observe(slot: s.otelTPOT, tpot)
                }
            }
        }
        if e.providerName == "ollama" {
            ensure(&s.olRequests) { olRequests.slot([e.method, e.route, e.model, status]) }
            olRequests.add(slot: s.olRequests)
            ensure(&s.olDuration) { olDuration.slot([e.method, e.route, e.model]) }
            olDuration.observe(slot: s.olDuration, e.latency)
        }
        ensure(&s.sgRequests) { sgRequests.slot([e.route, backend, e.model, status, e.stream ? "true" : "false"]) }
        sgRequests.add(slot: s.sgRequests)
        let est = e.tokensEstimated ? "true" : "false"
        if e.inputTokens > 0 {
            ensure(&s.sgTokensIn) { sgTokens.slot([e.route, backend, e.model, "input", est]) }
            sgTokens.add(slot: s.sgTokensIn, Double(e.inputTokens))
        }
        if e.outputTokens > 0 {
            ensure(&s.sgTokensOut) { sgTokens.slot([e.route, backend, e.model, "output", est]) }
            sgTokens.add(slot: s.sgTokensOut, Double(e.outputTokens))
        }
        if e.cachedTokens > 0 {
            ensure(&s.sgTokensCached) { sgTokens.slot([e.route, backend, e.model, "cached", est]) }
            sgTokens.add(slot: s.sgTokensCached, Double(e.cachedTokens))
        }
        if !e.backend.isEmpty {
            ensure(&s.sgCost) { sgCost.slot([e.route, backend, e.model, est]) }
            sgCost.add(slot: s.sgCost, e.cost)
        }
        if e.stream, !e.isError, let t = e.firstToken {
            ensure(&s.sgTTFT) { sgTTFT.slot([e.route, backend, e.model]) }
            sgTTFT.observe(slot: s.sgTTFT, t)
        }
        if let tps = e.outputTokensPerSecond {
            ensure(&s.sgTPS) { sgTPS.slot([e.route, backend, e.model]) }
            sgTPS.observe(slot: s.sgTPS, tps)
        }
        if e.requestBytes > 0 {
            ensure(&s.sgBytesIn) { sgBytes.slot([e.route, backend, "request"]) }
            sgBytes.add(slot: s.sgBytesIn, Double(e.requestBytes))
        }
        if e.responseBytes > 0 {
            ensure(&s.sgBytesOut) { sgBytes.slot([e.route, backend, "response"]) }
            sgBytes.add(slot: s.sgBytesOut, Double(e.responseBytes))
        }
        if e.stream {
            ensure(&s.sgStreams) { sgStreams.slot([e.route, backend, e.isError ? "failed" : "completed"]) }
            sgStreams.add(slot: s.sgStreams)
        }

        if e.errorType == .rateLimited || e.errorType == .budgetExceeded {
            // Rare next to other requests, so looked up each time rather than cached by event key.
            // `user` is whatever a caller may name: the first 1,000 become series, the rest "other".
            let user = e.user ?? ""
            if rateLimitUsers.count < 1000 { rateLimitUsers.insert(user) }
            gwRateLimitHits.add([e.route, rateLimitUsers.contains(user) ? user : "other"])
            sgRateLimitHits.add([e.limitScope ?? "", e.limitDimension ?? ""])
        }

        ensure(&s.route) { cumulativeSlot("r:" + e.route) }
        cumulative[s.route].add(e)
        if !e.model.isEmpty {
            ensure(&s.model) { cumulativeSlot("m:" + e.model) }
            cumulative[s.model].add(e)
        }
        if !e.backend.isEmpty {
            ensure(&s.backend) { cumulativeSlot("b:" + e.backend) }
            cumulative[s.backend].add(e)
        }
        total.add(e)
        if cached != s { slotCache[key] = s }

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
