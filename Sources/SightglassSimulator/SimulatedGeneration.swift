import Foundation

/// What the simulator will say for one request: decided up front from the seed, the model and the
/// prompt, so the same question always gets the same answer (whatever else the body carries, such
/// as the `stream_options` a gateway adds), and usage matches what is streamed.
struct SimulatedGeneration {
    let pieces: [String]
    let promptTokens: Int
    let fail: Bool
    let ttft: Double
    let interval: Double

    static let vocabulary = [
        "the", "model", "streams", "tokens", "through", "a", "gateway", "that", "measures", "every", "request", "latency",
        "is", "low", "and", "throughput", "high", "while", "numbers", "stay", "honest", "for", "each", "backend", "server",
        "inference", "runs", "on", "local", "hardware", "with", "care", "data", "flows", "like", "water", "in", "pipe",
    ]

    init(model: String, prompt: String, requestedMax: Int?, options: SimulatorOptions, headers: (String) -> String?) {
        var hash: UInt64 = options.seed ^ 0x5157_4C41_5353_0001
        for b in model.utf8 { hash = (hash ^ UInt64(b)) &* 1099511628211 }
        hash = (hash ^ 0xFF) &* 1099511628211
        for b in prompt.utf8 { hash = (hash ^ UInt64(b)) &* 1099511628211 }
        var rng = SplitMix64(seed: hash)
        let lo = max(1, options.minTokens), hi = max(lo, options.maxTokens)
        var count = lo + Int(rng.next() % UInt64(hi - lo + 1))
        if let requestedMax, requestedMax > 0 { count = min(count, requestedMax) }
        var pieces: [String] = []
        for i in 0..<count {
            let word = Self.vocabulary[Int(rng.next() % UInt64(Self.vocabulary.count))]
            pieces.append(i == 0 ? word.capitalized : " " + word)
        }
        if count > 0 { pieces[count - 1] += "." }
        self.pieces = pieces
        promptTokens = max(1, Self.countTokens(prompt))
        let forcedError = headers("x-sim-error") != nil
        fail = forcedError || rng.unit() < options.errorRate
        let slow = rng.unit() < options.slowdownRate ? options.slowdownFactor : 1
        let ttftMs = headers("x-sim-ttft-ms").flatMap(Double.init) ?? options.ttftMs
        ttft = ttftMs / 1000 * slow
        let tps = headers("x-sim-tokens-per-second").flatMap(Double.init) ?? options.tokensPerSecond
        interval = tps > 0 ? slow / tps : 0
    }

    var text: String { pieces.joined() }

    /// Whitespace-separated words: the simulator's tokenizer.
    static func countTokens(_ s: String) -> Int {
        s.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).count
    }

    /// Deterministic unit-length embedding of `text`.
    static func embedding(_ text: String, dimension: Int, seed: UInt64) -> [Double] {
        var hash: UInt64 = seed ^ 0xE3B0_C442_98FC_1C14
        for b in text.utf8 { hash = (hash ^ UInt64(b)) &* 1099511628211 }
        var rng = SplitMix64(seed: hash)
        var v = (0..<dimension).map { _ in rng.unit() * 2 - 1 }
        let norm = sqrt(v.reduce(0) { $0 + $1 * $1 })
        if norm > 0 { v = v.map { ($0 / norm * 1e6).rounded() / 1e6 } }
        return v
    }
}
