import AsyncHTTPClient
import Foundation
import NIOCore
import SightglassTelemetry

/// Synthetic traffic for the demo: a mix of models, streamed and not, OpenAI and Ollama routes,
/// with occasional errors (unknown models, simulated backend failures).
public struct TrafficGenerator: Sendable {
    public var baseURL: String
    public var requestsPerSecond: Double
    public var chatModels: [String]
    public var embeddingModels: [String]
    public var seed: UInt64
    /// Simulated incidents, so the demo's alerts fire and resolve: every `every` seconds, for
    /// `length` seconds, `share` of requests ask the simulator to fail (`x-sim-error`).
    public var incidents: (every: Double, length: Double, share: Double)?
    /// Inference keys some of the requests carry (a third of them go without, as on a gateway
    /// whose auth is `optional`), so the demo shows attribution to projects and keys.
    public var apiKeys: [String] = []

    public init(
        baseURL: String, requestsPerSecond: Double, chatModels: [String], embeddingModels: [String], seed: UInt64 = 7,
        incidents: (every: Double, length: Double, share: Double)? = nil
    ) {
        self.incidents = incidents
        self.baseURL = baseURL
        self.requestsPerSecond = requestsPerSecond
        self.chatModels = chatModels
        self.embeddingModels = embeddingModels
        self.seed = seed
    }

    static let prompts = [
        "Explain what a sight glass is in one paragraph.", "Write a haiku about latency.",
        "Summarise the benefits of streaming responses.", "List three ways to measure time to first token.",
        "What is the capital of France?", "Describe a reverse proxy to a new engineer.",
    ]

    /// Sends requests at the configured rate until the task is cancelled.
    public func run(client: HTTPClient) async {
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let started = Date()
        await withTaskGroup(of: Void.self) { group in
            while !Task.isCancelled {
                let roll = Int(next() % 100)
                let model = chatModels.isEmpty ? "none" : chatModels[Int(next() % UInt64(chatModels.count))]
                let embedModel = embeddingModels.first ?? model
                let prompt = Self.prompts[Int(next() % UInt64(Self.prompts.count))]
                var (path, body, headers) = Self.request(roll: roll, model: model, embedModel: embedModel, prompt: prompt)
                if !apiKeys.isEmpty, next() % 3 != 0 {
                    headers.append(("Authorization", "Bearer " + apiKeys[Int(next() % UInt64(apiKeys.count))]))
                }
                if let i = incidents, i.every > 0 {
                    let phase = Date().timeIntervalSince(started).truncatingRemainder(dividingBy: i.every)
                    // The first incident starts after one quiet period, so the demo opens healthy.
                    let inIncident = Date().timeIntervalSince(started) >= i.every && phase < i.length
                    if inIncident && Double(next() % 10_000) / 10_000 < i.share { headers.append(("x-sim-error", "1")) }
                }
                group.addTask { await send(client: client, path: path, body: body, headers: headers) }
                let gap = requestsPerSecond > 0 ? 1 / requestsPerSecond : 1
                try? await Task.sleep(nanoseconds: UInt64(gap * 1e9))
            }
            group.cancelAll()
        }
    }

    static func request(roll: Int, model: String, embedModel: String, prompt: String) -> (String, String, [(String, String)]) {
        let text = JSONText.quote(prompt)
        let chat = #"{"model":"\#(model)","messages":[{"role":"user","content":\#(text)}]"#
        switch roll {
        case 0..<35: return ("/v1/chat/completions", chat + #","stream":true}"#, [])
        case 35..<50: return ("/v1/chat/completions", chat + "}", [])
        case 50..<60: return ("/api/chat", chat + "}", [])
        case 60..<68: return ("/api/generate", #"{"model":"\#(model)","prompt":\#(text),"stream":true}"#, [])
        case 68..<74: return ("/v1/completions", #"{"model":"\#(model)","prompt":\#(text),"stream":true,"max_tokens":24}"#, [])
        case 74..<84: return ("/v1/embeddings", #"{"model":"\#(embedModel)","input":\#(text)}"#, [])
        case 84..<90: return ("/api/embed", #"{"model":"\#(embedModel)","input":[\#(text)]}"#, [])
        case 90..<97: return ("/api/chat", #"{"model":"\#(model)","messages":[{"role":"user","content":\#(text)}],"stream":false}"#, [])
        case 97: return ("/v1/chat/completions", chat + #","stream":true}"#, [("x-sim-error", "1")])
        default: return ("/v1/chat/completions", #"{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}"#, [])
        }
    }

    func send(client: HTTPClient, path: String, body: String, headers: [(String, String)]) async {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-User-Id", value: "demo")
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        request.body = .bytes(ByteBuffer(string: body))
        do {
            let response = try await client.execute(request, timeout: .seconds(60))
            for try await _ in response.body {}
        } catch {
            // The demo keeps going; failures show up in the gateway's own metrics.
        }
    }
}
