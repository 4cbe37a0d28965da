import Foundation
import Hummingbird

/// A simulated inference server speaking the OpenAI and Ollama routes Sightglass proxies.
///
/// Streams with realistic time to first token and per-token pacing, reports usage that matches
/// exactly what it streamed, and is deterministic for a given seed and request. Test hooks are
/// request headers (forwarded untouched by the gateway): `x-sim-error`, `x-sim-ttft-ms`,
/// `x-sim-tokens-per-second`.
public enum Simulator {
    public static let version = "0.5.0-simulator"

    /// Builds the router; `Application(router:configuration:)` serves it.
    public static func router(options: SimulatorOptions) -> Router<BasicRequestContext> {
        let router = Router()
        let sim = Handlers(options: options, models: SimulatedModels(options.models))
        router.get("/v1/models") { _, _ in sim.openAIModels() }
        router.post("/v1/chat/completions") { req, _ in try await answer { try await sim.openAI(req, chat: true) } }
        router.post("/v1/completions") { req, _ in try await answer { try await sim.openAI(req, chat: false) } }
        router.post("/v1/embeddings") { req, _ in try await answer { try await sim.openAIEmbeddings(req) } }
        router.post("/api/chat") { req, _ in try await answer { try await sim.ollama(req, chat: true) } }
        router.post("/api/generate") { req, _ in try await answer { try await sim.ollama(req, chat: false) } }
        router.post("/api/embed") { req, _ in try await answer { try await sim.ollamaEmbed(req, legacy: false) } }
        router.post("/api/embeddings") { req, _ in try await answer { try await sim.ollamaEmbed(req, legacy: true) } }
        router.post("/api/show") { req, _ in try await answer { try await sim.ollamaShow(req) } }
        router.get("/api/tags") { _, _ in sim.ollamaTags() }
        router.post("/api/pull") { req, _ in try await answer { try await sim.pull(req) } }
        router.post("/api/push") { req, _ in try await answer { try await sim.push(req) } }
        router.post("/api/create") { req, _ in try await answer { try await sim.create(req) } }
        router.post("/api/copy") { req, _ in try await answer { try await sim.copy(req) } }
        router.delete("/api/delete") { req, _ in try await answer { try await sim.delete(req) } }
        router.head("/api/blobs/:digest") { _, ctx in sim.hasBlob(ctx.parameters.get("digest") ?? "") }
        router.post("/api/blobs/:digest") { req, ctx in try await answer { try await sim.storeBlob(req, digest: ctx.parameters.get("digest") ?? "") } }
        router.get("/api/ps") { _, _ in sim.ollamaPs() }
        router.get("/api/version") { _, _ in json(["version": version]) }
        router.get("/health") { _, _ in json(["status": "ok"]) }
        return router
    }

    /// Runs a handler; a request it rejects becomes that error response.
    static func answer(_ handler: () async throws -> Response) async throws -> Response {
        do {
            return try await handler()
        } catch let rejected as Handlers.Rejected {
            return rejected.response
        }
    }

    static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

struct Handlers: Sendable {
    let options: SimulatorOptions
    /// What the simulator serves now (model management changes it).
    let models: SimulatedModels
    /// Digests of the blobs uploaded (`/api/blobs`).
    let blobs = SimulatedModels([])
    let started = Date()

    static let maxBody = 64 << 20

    // MARK: - Request parsing

    struct Parsed {
        var body: [String: Any]
        var model: String
    }

    enum Dialect { case openAI, ollama }

    /// A request the simulator refuses, carrying the error response in the route's dialect.
    struct Rejected: Error {
        let response: Response
    }

    /// Reads the body and resolves the model, or throws `Rejected`.
    func parse(_ request: Request, dialect: Dialect, modelKeys: [String] = ["model"], check: RequestTypeCheck? = nil) async throws -> Parsed {
        switch try await parseOutcome(request, dialect: dialect, modelKeys: modelKeys, check: check) {
        case .success(let p): return p
        case .failure(let r): throw Rejected(response: r)
        }
    }

    enum Outcome { case success(Parsed), failure(Response) }

    func parseOutcome(_ request: Request, dialect: Dialect, modelKeys: [String], check: RequestTypeCheck?) async throws -> Outcome {
        var request = request
        let buffer = try await request.collectBody(upTo: Self.maxBody)
        let raw = Data(buffer.readableBytesView)
        guard let body = (try? JSONSerialization.jsonObject(with: raw)) as? [String: Any] else {
            return .failure(error(dialect, 400, "invalid JSON body"))
        }
        if let (field, message) = check?.problem(in: body, dialect: dialect) {
            return .failure(error(dialect, 400, message, code: "invalid_type", param: field))
        }
        guard let model = modelKeys.lazy.compactMap({ body[$0] as? String }).first, !model.isEmpty else {
            return .failure(error(dialect, 400, "model is required"))
        }
        guard let resolved = resolve(model) else {
            return .failure(
                error(
                    dialect, 404, dialect == .ollama ? "model \"\(model)\" not found, try pulling it first" : "The model `\(model)` does not exist",
                    code: "model_not_found"))
        }
        return .success(Parsed(body: body, model: resolved))
    }

    func resolve(_ model: String) -> String? {
        if models.contains(model) { return model }
        if !model.contains(":"), models.contains(model + ":latest") { return model + ":latest" }
        if model.hasSuffix(":latest"), models.contains(String(model.dropLast(7))) { return model }
        return nil
    }

    func error(_ dialect: Dialect, _ status: Int, _ message: String, code: String? = nil, param: String? = nil) -> Response {
        let s = HTTPResponse.Status(code: status)
        switch dialect {
        case .ollama: return Simulator.json(["error": message], status: s)
        case .openAI:
            return Simulator.json(
                [
                    "error": [
                        "message": message, "type": status >= 500 ? "server_error" : "invalid_request_error",
                        "param": param.map { $0 as Any } ?? NSNull(), "code": code.map { $0 as Any } ?? NSNull(),
                    ]
                ], status: s)
        }
    }

    func headerLookup(_ request: Request) -> (String) -> String? {
        let headers = request.headers
        return { name in headers.first(where: { $0.name.canonicalName == name })?.value }
    }

    static func promptText(_ body: [String: Any]) -> String {
        var parts: [String] = []
        if let messages = body["messages"] as? [[String: Any]] {
            for m in messages {
                if let c = m["content"] as? String { parts.append(c) }
                if let c = m["content"] as? [[String: Any]] { parts += c.compactMap { $0["text"] as? String } }
            }
        }
        if let p = body["prompt"] as? String { parts.append(p) }
        if let p = body["prompt"] as? [String] { parts += p }
        if let s = body["system"] as? String { parts.append(s) }
        return parts.joined(separator: " ")
    }

    static func embeddingInputs(_ value: Any?) -> [String] {
        if let s = value as? String { return [s] }
        if let a = value as? [String] { return a }
        if let a = value as? [Any] { return a.map { "\($0)" } }
        return []
    }

    // MARK: - OpenAI

    func openAIModels() -> Response {
        let created = Int(started.timeIntervalSince1970)
        return Simulator.json([
            "object": "list", "data": models.list.map { ["id": $0, "object": "model", "created": created, "owned_by": "sightglass-simulator"] },
        ])
    }

    func openAI(_ request: Request, chat: Bool) async throws -> Response {
        let parsed = try await parse(request, dialect: .openAI, check: chat ? .openAIChat : .openAICompletion)
        let body = parsed.body
        let maxTokens = (body["max_completion_tokens"] as? Int) ?? (body["max_tokens"] as? Int)
        let gen = SimulatedGeneration(
            model: parsed.model, prompt: Self.promptText(body), requestedMax: maxTokens, options: options, headers: headerLookup(request))
        if gen.fail { return error(.openAI, 500, "simulated backend failure") }
        let id = (chat ? "chatcmpl-" : "cmpl-") + String(gen.promptTokens * 7919 + gen.pieces.count, radix: 36)
        let created = Int(Date().timeIntervalSince1970)
        let object = chat ? "chat.completion" : "text_completion"
        let promptTokens = gen.promptTokens, completionTokens = gen.pieces.count
        @Sendable func usage() -> [String: Any] {
            ["prompt_tokens": promptTokens, "completion_tokens": completionTokens, "total_tokens": promptTokens + completionTokens]
        }
        let stream = body["stream"] as? Bool ?? false
        if !stream {
            try await Task.sleep(nanoseconds: UInt64((gen.ttft + gen.interval * Double(gen.pieces.count)) * 1e9))
            let choice: [String: Any] =
                chat
                ? ["index": 0, "message": ["role": "assistant", "content": gen.text], "finish_reason": "stop", "logprobs": NSNull()]
                : ["index": 0, "text": gen.text, "finish_reason": "stop", "logprobs": NSNull()]
            var answer: [String: Any] = ["id": id, "object": object, "created": created, "model": parsed.model, "choices": [choice]]
            if options.reportsUsage { answer["usage"] = usage() }
            return Simulator.json(answer)
        }
        let includeUsage = options.reportsUsage && (((body["stream_options"] as? [String: Any])?["include_usage"] as? Bool) ?? false)
        let model = parsed.model
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                func event(_ object: [String: Any]) async throws {
                    var o = object
                    if includeUsage { o["usage"] = NSNull() }
                    let data = try JSONSerialization.data(withJSONObject: o, options: [.withoutEscapingSlashes])
                    var buf = ByteBuffer(string: "data: ")
                    buf.writeBytes(data)
                    buf.writeString("\n\n")
                    try await writer.write(buf)
                }
                let chunkObject = chat ? "chat.completion.chunk" : "text_completion"
                func chunk(_ text: String?, finish: String?) -> [String: Any] {
                    var choice: [String: Any] = ["index": 0, "finish_reason": finish ?? NSNull(), "logprobs": NSNull()]
                    if chat {
                        var delta: [String: Any] = [:]
                        if let text { delta["content"] = text }
                        choice["delta"] = delta
                    } else {
                        choice["text"] = text ?? ""
                    }
                    return ["id": id, "object": chunkObject, "created": created, "model": model, "choices": [choice]]
                }
                if chat {
                    var first = chunk("", finish: nil)
                    first["choices"] = [["index": 0, "delta": ["role": "assistant", "content": ""], "finish_reason": NSNull(), "logprobs": NSNull()]]
                    try await event(first)
                }
                try await Task.sleep(nanoseconds: UInt64(gen.ttft * 1e9))
                for (i, piece) in gen.pieces.enumerated() {
                    if i > 0 && gen.interval > 0 { try await Task.sleep(nanoseconds: UInt64(gen.interval * 1e9)) }
                    try await event(chunk(piece, finish: nil))
                }
                try await event(chunk(chat ? nil : "", finish: "stop"))
                if includeUsage {
                    let data = try JSONSerialization.data(
                        withJSONObject: ["id": id, "object": chunkObject, "created": created, "model": model, "choices": [Any](), "usage": usage()],
                        options: [.withoutEscapingSlashes])
                    var buf = ByteBuffer(string: "data: ")
                    buf.writeBytes(data)
                    buf.writeString("\n\n")
                    try await writer.write(buf)
                }
                try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                try await writer.finish(nil)
            })
    }

    func openAIEmbeddings(_ request: Request) async throws -> Response {
        let parsed = try await parse(request, dialect: .openAI, check: .openAIEmbedding)
        let inputs = Self.embeddingInputs(parsed.body["input"])
        guard !inputs.isEmpty else { return error(.openAI, 400, "'input' is required") }
        if headerLookup(request)("x-sim-error") != nil { return error(.openAI, 500, "simulated backend failure") }
        let dim = options.embeddingDimension(for: parsed.model)
        let tokens = inputs.reduce(0) { $0 + max(1, SimulatedGeneration.countTokens($1)) }
        try await Task.sleep(nanoseconds: UInt64(options.ttftMs / 4 * 1e6))
        let data = inputs.enumerated().map { i, text in
            ["object": "embedding", "index": i, "embedding": SimulatedGeneration.embedding(text, dimension: dim, seed: options.seed)] as [String: Any]
        }
        var answer: [String: Any] = ["object": "list", "data": data, "model": parsed.model]
        if options.reportsUsage { answer["usage"] = ["prompt_tokens": tokens, "total_tokens": tokens] }
        return Simulator.json(answer)
    }

    // MARK: - Ollama

    static func timestamp() -> String {
        Date().formatted(
            .iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted))
    }

    func ollama(_ request: Request, chat: Bool) async throws -> Response {
        let parsed = try await parse(request, dialect: .ollama, check: chat ? .ollamaChat : .ollamaGenerate)
        let body = parsed.body
        let maxTokens = (body["options"] as? [String: Any])?["num_predict"] as? Int
        let gen = SimulatedGeneration(
            model: parsed.model, prompt: Self.promptText(body), requestedMax: maxTokens, options: options, headers: headerLookup(request))
        if gen.fail { return error(.ollama, 500, "simulated backend failure") }
        let model = parsed.model
        let stream = body["stream"] as? Bool ?? true
        let start = Date()
        @Sendable func final(_ text: String) -> [String: Any] {
            let total = Date().timeIntervalSince(start)
            var o: [String: Any] = [
                "model": model, "created_at": Self.timestamp(), "done": true, "done_reason": "stop",
                "total_duration": Int(total * 1e9), "load_duration": 0,
                "prompt_eval_count": gen.promptTokens, "prompt_eval_duration": Int(gen.ttft * 1e9),
                "eval_count": gen.pieces.count, "eval_duration": Int(max(0, total - gen.ttft) * 1e9),
            ]
            if chat { o["message"] = ["role": "assistant", "content": text] } else { o["response"] = text }
            return o
        }
        if !stream {
            try await Task.sleep(nanoseconds: UInt64((gen.ttft + gen.interval * Double(gen.pieces.count)) * 1e9))
            return Simulator.json(final(gen.text))
        }
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson"],
            body: ResponseBody { writer in
                func line(_ o: [String: Any]) async throws {
                    var buf = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: o, options: [.withoutEscapingSlashes]))
                    buf.writeString("\n")
                    try await writer.write(buf)
                }
                try await Task.sleep(nanoseconds: UInt64(gen.ttft * 1e9))
                for (i, piece) in gen.pieces.enumerated() {
                    if i > 0 && gen.interval > 0 { try await Task.sleep(nanoseconds: UInt64(gen.interval * 1e9)) }
                    var o: [String: Any] = ["model": model, "created_at": Self.timestamp(), "done": false]
                    if chat { o["message"] = ["role": "assistant", "content": piece] } else { o["response"] = piece }
                    try await line(o)
                }
                try await line(final(""))
                try await writer.finish(nil)
            })
    }

    func ollamaEmbed(_ request: Request, legacy: Bool) async throws -> Response {
        let parsed = try await parse(request, dialect: .ollama)
        let inputs = legacy ? Self.embeddingInputs(parsed.body["prompt"]) : Self.embeddingInputs(parsed.body["input"])
        guard !inputs.isEmpty else { return error(.ollama, 400, legacy ? "prompt is required" : "input is required") }
        if headerLookup(request)("x-sim-error") != nil { return error(.ollama, 500, "simulated backend failure") }
        let dim = options.embeddingDimension(for: parsed.model)
        try await Task.sleep(nanoseconds: UInt64(options.ttftMs / 4 * 1e6))
        let vectors = inputs.map { SimulatedGeneration.embedding($0, dimension: dim, seed: options.seed) }
        if legacy { return Simulator.json(["embedding": vectors[0]]) }
        let tokens = inputs.reduce(0) { $0 + max(1, SimulatedGeneration.countTokens($1)) }
        return Simulator.json([
            "model": parsed.model, "embeddings": vectors, "total_duration": Int(options.ttftMs / 4 * 1e6),
            "load_duration": 0, "prompt_eval_count": tokens,
        ])
    }

    func ollamaShow(_ request: Request) async throws -> Response {
        let parsed = try await parse(request, dialect: .ollama, modelKeys: ["model", "name"])
        let family = String(parsed.model.split(separator: ":").first ?? "sim")
        return Simulator.json([
            "modelfile": "# simulated by sightglass\nFROM \(parsed.model)\n", "parameters": "", "template": "{{ .Prompt }}",
            "details": details(family), "model_info": ["general.architecture": family],
            "capabilities": parsed.model.contains("embed") ? ["embedding"] : ["completion"],
            "modified_at": Self.timestamp(),
        ])
    }

    func details(_ family: String) -> [String: Any] {
        ["parent_model": "", "format": "gguf", "family": family, "families": [family], "parameter_size": "", "quantization_level": ""]
    }

    func digest(_ model: String) -> String {
        var h: UInt64 = 1469598103934665603
        for b in model.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        return String(repeating: String(h, radix: 16), count: 4)
    }

    func ollamaTags() -> Response {
        Simulator.json([
            "models": models.list.map { m -> [String: Any] in
                [
                    "name": m, "model": m, "modified_at": Self.timestamp(), "size": 0, "digest": digest(m),
                    "details": details(String(m.split(separator: ":").first ?? "sim")),
                ]
            }
        ])
    }

    func ollamaPs() -> Response {
        let expires = Date().addingTimeInterval(300).formatted(.iso8601)
        return Simulator.json([
            "models": models.list.map { m -> [String: Any] in
                [
                    "name": m, "model": m, "size": 0, "digest": digest(m), "details": details(String(m.split(separator: ":").first ?? "sim")),
                    "expires_at": expires, "size_vram": 0,
                ]
            }
        ])
    }
}
