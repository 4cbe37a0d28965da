import Foundation
import SightglassConfig
import SightglassTelemetry

/// Realistic made-up traffic for a ledger: several models and backends, a daily rhythm, error
/// bursts, a streaming mix, and tokens, latency and cost that agree with each other. Every row
/// is marked synthetic. For benchmarks and for the demo's first look, never mixed up with real data.
public struct SyntheticHistory {
    struct ModelProfile {
        var name: String
        var backends: [String]
        var routes: [String]
        var ttft: Double
        var tokensPerSecond: Double
        var price: ModelPrice?
        var weight: Double
        var embeddings: Bool
    }

    static let profiles: [ModelProfile] = [
        ModelProfile(
            name: "llama3.2:1b", backends: ["ollama-a", "ollama-b"], routes: ["/api/chat", "/v1/chat/completions", "/api/generate"],
            ttft: 0.12, tokensPerSecond: 85, price: nil, weight: 0.38, embeddings: false),
        ModelProfile(
            name: "qwen2.5:7b", backends: ["vllm-1"], routes: ["/v1/chat/completions", "/v1/completions"],
            ttft: 0.25, tokensPerSecond: 42, price: nil, weight: 0.22, embeddings: false),
        ModelProfile(
            name: "gpt-4o-mini", backends: ["openai"], routes: ["/v1/chat/completions"],
            ttft: 0.45, tokensPerSecond: 70, price: ModelPrice(input: 0.15, cachedInput: 0.075, output: 0.6), weight: 0.18, embeddings: false),
        ModelProfile(
            name: "llama3.1:70b", backends: ["vllm-2"], routes: ["/v1/chat/completions"],
            ttft: 0.9, tokensPerSecond: 18, price: nil, weight: 0.07, embeddings: false),
        ModelProfile(
            name: "nomic-embed-text", backends: ["ollama-a"], routes: ["/api/embed", "/v1/embeddings"],
            ttft: 0, tokensPerSecond: 0, price: nil, weight: 0.15, embeddings: true),
    ]

    public var rows: Int
    public var days: Double
    public var end: Double
    public var seed: UInt64
    /// Prices to apply (configured ones win over the built-in list).
    public var pricing: [String: ModelPrice]

    public init(rows: Int, days: Double, end: Double = Date().timeIntervalSince1970, seed: UInt64 = 1, pricing: [String: ModelPrice] = [:]) {
        self.rows = rows
        self.days = days
        self.end = end
        self.seed = seed
        self.pricing = pricing
        var rng = SyntheticRNG(seed: ~seed)
        idPrefix = "req_" + String(format: "%010llx", rng.next() & 0xff_ffff_ffff) + "ff"
    }

    /// Ids look like the gateway's own (`req_`, 20 hex digits), so the store's size per
    /// generated row is what live traffic costs; `synthetic` is what marks these rows.
    let idPrefix: String

    /// Writes the rows in time order, in batches; `progress` gets the count written so far.
    public func write(to ledger: any LedgerStore, batchSize: Int = 20_000, progress: (Int) -> Void = { _ in }) throws {
        var rng = SyntheticRNG(seed: seed)
        let start = end - days * 86400
        let minutes = max(1, Int(days * 1440))
        // Daily rhythm: busiest mid-afternoon, quiet at night, weekends at 60 %.
        func weight(_ minute: Int) -> Double {
            let t = start + Double(minute) * 60
            let hour = (t.truncatingRemainder(dividingBy: 86400)) / 3600
            let day = Int(t / 86400) % 7
            let diurnal = 0.25 + 0.75 * max(0, sin((hour - 6) / 24 * 2 * .pi))
            return diurnal * (day == 2 || day == 3 ? 0.6 : 1)  // 1970-01-01 was a Thursday: days 2, 3 are Sat, Sun
        }
        let weights = (0..<minutes).map(weight)
        let totalWeight = weights.reduce(0, +)
        // Error bursts: a few 10-minute windows where a backend fails a third of requests.
        let bursts = (0..<max(1, Int(days / 3))).map { _ in Int(rng.next() % UInt64(minutes)) }
        let profileWeight = profilesTotalWeight
        var batch: [RequestEvent] = []
        batch.reserveCapacity(batchSize)
        var written = 0
        var carry = 0.0
        var counter = 0
        for m in 0..<minutes {
            let expected = Double(rows) * weights[m] / totalWeight + carry
            var n = Int(expected)
            carry = expected - Double(n)
            if m == minutes - 1 { n = rows - written - batch.count }
            guard n > 0 else { continue }
            let inBurst = bursts.contains { m >= $0 && m < $0 + 10 }
            var offsets = (0..<n).map { _ in rng.unit() * 60 }
            offsets.sort()
            for off in offsets {
                counter += 1
                batch.append(makeEvent(&rng, time: start + Double(m) * 60 + off, id: counter, burst: inBurst, totalWeight: profileWeight))
                if batch.count >= batchSize {
                    try ledger.write(batch, synthetic: true)
                    written += batch.count
                    batch.removeAll(keepingCapacity: true)
                    progress(written)
                }
            }
        }
        if !batch.isEmpty {
            try ledger.write(batch, synthetic: true)
            written += batch.count
            progress(written)
        }
    }

    var profilesTotalWeight: Double { Self.profiles.reduce(0) { $0 + $1.weight } }

    func makeEvent(_ rng: inout SyntheticRNG, time: Double, id: Int, burst: Bool, totalWeight: Double) -> RequestEvent {
        var pick = rng.unit() * totalWeight
        var p = Self.profiles[0]
        for candidate in Self.profiles {
            pick -= candidate.weight
            if pick <= 0 { p = candidate; break }
        }
        let backend = p.backends[Int(rng.next() % UInt64(p.backends.count))]
        let route = p.routes[Int(rng.next() % UInt64(p.routes.count))]
        let stream = !p.embeddings && rng.unit() < 0.7
        let input = p.embeddings ? 8 + Int(rng.next() % 500) : 20 + Int(rng.next() % 1500)
        let failed = rng.unit() < (burst ? 0.33 : 0.01)
        let clientError = !failed && rng.unit() < 0.004
        let output = p.embeddings || failed || clientError ? 0 : 10 + Int(rng.next() % 600)
        let cached = p.price?.cachedInput != nil ? Int(Double(input) * rng.unit() * 0.5) : 0
        // Latency that agrees with the tokens: time to first token, then the tokens at the model's pace.
        let jitter = 0.7 + rng.unit() * 0.8
        let ttft = p.embeddings ? nil : Optional(p.ttft * jitter * (1 + Double(input) / 4000))
        var latency: Double
        if p.embeddings {
            latency = 0.01 + Double(input) / 20000 * jitter
        } else {
            latency = ttft! + Double(output) / (p.tokensPerSecond * (0.8 + rng.unit() * 0.4))
        }
        var status = 200
        var error: ErrorType?
        var message: String?
        if failed {
            if rng.unit() < 0.5 {
                status = 502; error = .connectionError; message = "cannot connect to backend '\(backend)': connection refused"
                latency = 0.002 + rng.unit() * 0.01
            } else {
                status = 503; error = .upstreamError; message = "backend '\(backend)' answered 503"
                latency = 0.05 + rng.unit() * 0.2
            }
        } else if clientError {
            status = 400; error = .upstreamError; message = "backend '\(backend)' answered 400"
            latency = 0.003
        }
        let price = pricing[p.name] ?? p.price
        let cost = price.map { $0.cost(input: input, cached: cached, output: output) } ?? 0
        let user = rng.unit() < 0.6 ? "user-\(1 + Int(rng.next() % 25))" : nil
        return RequestEvent(
            route: route, method: "POST", backend: backend, model: p.name, status: status, errorType: error,
            stream: stream, startTime: time, firstByte: error == nil ? (ttft ?? latency) * 0.9 : nil,
            firstToken: stream && error == nil ? ttft : nil, latency: latency,
            inputTokens: error == nil || status == 503 ? input : 0, outputTokens: output, cachedTokens: cached,
            requestBytes: input * 4 + 120, responseBytes: error == nil ? output * (stream ? 150 : 5) + 300 : 180, cost: cost,
            id: idPrefix + String(format: "%08llx", UInt64(id)), clientAddress: "10.0.\(rng.next() % 4).\(10 + rng.next() % 40)",
            user: user, errorMessage: message)
    }
}

/// SplitMix64: small, fast and reproducible.
struct SyntheticRNG {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
