/// How the simulated inference server behaves.
public struct SimulatorOptions: Sendable {
    public var models: [String]
    /// Time to first token, milliseconds.
    public var ttftMs: Double
    /// Pace of streamed tokens.
    public var tokensPerSecond: Double
    /// Fraction of requests (0...1) answered with a 500.
    public var errorRate: Double
    /// Fraction of requests (0...1) whose pacing is slowed down by `slowdownFactor`.
    public var slowdownRate: Double
    public var slowdownFactor: Double
    public var seed: UInt64
    /// Bounds of the number of generated tokens when the request sets no limit.
    public var minTokens: Int
    public var maxTokens: Int
    /// Whether OpenAI-style answers carry `usage` (and streams honour `include_usage`). Some
    /// OpenAI-compatible servers report none; the gateway then estimates, and marks it.
    public var reportsUsage: Bool

    public static let defaultModels = ["llama3.2:1b", "qwen2.5:0.5b", "gpt-4o-mini", "nomic-embed-text"]

    public init(
        models: [String] = SimulatorOptions.defaultModels, ttftMs: Double = 120, tokensPerSecond: Double = 60,
        errorRate: Double = 0, slowdownRate: Double = 0, slowdownFactor: Double = 4, seed: UInt64 = 42,
        minTokens: Int = 12, maxTokens: Int = 48, reportsUsage: Bool = true
    ) {
        self.models = models
        self.ttftMs = ttftMs
        self.tokensPerSecond = tokensPerSecond
        self.errorRate = errorRate
        self.slowdownRate = slowdownRate
        self.slowdownFactor = slowdownFactor
        self.seed = seed
        self.minTokens = minTokens
        self.maxTokens = maxTokens
        self.reportsUsage = reportsUsage
    }

    /// Embedding width per model: fixed by the name, so each model has its own dimension.
    public func embeddingDimension(for model: String) -> Int {
        var h: UInt64 = 1469598103934665603
        for b in model.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        return 256 + Int(h % 4) * 128
    }
}

/// SplitMix64: small, fast and fully deterministic for a given seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
