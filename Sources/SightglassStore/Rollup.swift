import SightglassTelemetry

/// Aggregation levels of the rollups, by bucket width.
public enum RollupLevel: Int, Sendable, CaseIterable {
    case minute = 60
    case hour = 3600
    case day = 86400

    public var seconds: Int { rawValue }

    /// The bucket `time` (seconds since 1970) falls in.
    public func bucket(_ time: Double) -> Int64 {
        let t = Int64(time.rounded(.down))
        return t - ((t % Int64(rawValue)) + Int64(rawValue)) % Int64(rawValue)
    }
}

/// Identity of one rollup row: a time bucket and the dimensions it aggregates over.
struct RollupKey: Hashable {
    var level: RollupLevel
    var bucket: Int64
    var route: Int64
    var backend: Int64
    var model: Int64
    var statusClass: Int
}

/// One bucket of the requests made with one key, by owner, model and route: what the Admin
/// API's usage and costs and the per-project analytics read.
struct KeyRollupKey: Hashable {
    var level: RollupLevel
    var bucket: Int64
    var project: Int64
    var apiKey: Int64
    var user: Int64
    var model: Int64
    var route: Int64

    var values: [Int64] { [Int64(level.rawValue), bucket, project, apiKey, user, model, route] }
    static let columns = ["level", "bucket", "project", "api_key", "\"user\"", "model", "route"]
}

/// A key-rollup cell with its dimensions named.
public struct KeyUsageRow: Sendable {
    public var bucket: Int64
    public var project: String
    public var apiKey: String
    public var user: String
    public var model: String
    public var route: String
    public var cell: RollupCell
}

/// One hour of one user's requests.
struct UserRollupKey: Hashable {
    var bucket: Int64
    var user: Int64
}

/// Counts, sums and mergeable latency and TTFT histograms: everything the analytics need,
/// so percentiles over any range come from rollups, never from scanning requests.
public struct RollupCell: Sendable {
    public var count = 0
    public var errors = 0
    public var tokensIn = 0
    public var tokensOut = 0
    public var tokensCached = 0
    public var cost = 0.0
    /// The part of `cost` priced from estimated tokens (the backend reported no usage), so
    /// every aggregate can say how much of its cost is an estimate.
    public var estimatedCost = 0.0
    /// Output tokens and seconds of generation of successful requests, for tokens per second.
    public var genTokens = 0
    public var genSeconds = 0.0
    /// Seconds.
    public var latency = DenseHistogram()
    public var ttft = DenseHistogram()

    public init() {}

    mutating func add(_ e: RequestEvent) {
        count += 1
        if e.isError { errors += 1 }
        tokensIn += e.inputTokens
        tokensOut += e.outputTokens
        tokensCached += e.cachedTokens
        cost += e.cost
        if e.tokensEstimated { estimatedCost += e.cost }
        latency.record(e.latency)
        if let t = e.firstToken { ttft.record(t) }
        if e.outputTokensPerSecond != nil {
            genTokens += e.outputTokens
            genSeconds += RequestEvent.generationSeconds(stream: e.stream, firstToken: e.firstToken, latency: e.latency)
        }
    }

    public mutating func merge(_ o: RollupCell) {
        count += o.count
        errors += o.errors
        tokensIn += o.tokensIn
        tokensOut += o.tokensOut
        tokensCached += o.tokensCached
        cost += o.cost
        estimatedCost += o.estimatedCost
        genTokens += o.genTokens
        genSeconds += o.genSeconds
        latency.merge(o.latency)
        ttft.merge(o.ttft)
    }

    /// As the live totals count them (what rollups do not keep, stream outcomes, stays zero).
    public var cumulative: CumulativeStats {
        var c = CumulativeStats()
        c.requests = count
        c.errors = errors
        c.inputTokens = tokensIn
        c.outputTokens = tokensOut
        c.cachedTokens = tokensCached
        c.cost = cost
        c.estimatedCost = estimatedCost
        c.latencySum = latency.sum
        c.generatedTokens = genTokens
        c.generationSeconds = genSeconds
        return c
    }

    public var errorRate: Double { count > 0 ? Double(errors) / Double(count) : 0 }
    public var tokensPerSecond: Double { genSeconds > 0 ? Double(genTokens) / genSeconds : 0 }
}
