import Foundation
import Testing

@testable import SightglassServer

/// Token and request accounting: what clients saw equals what every export reports.
@Suite(.serialized) struct ProxyAccountingTests {
    static func parse(_ s: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String: Any] ?? [:]
    }

    /// Lines of an SSE body's `data:` events, decoded (without [DONE]).
    static func sseEvents(_ body: String) -> [[String: Any]] {
        body.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("data: "), line != "data: [DONE]" else { return nil }
            return parse(String(line.dropFirst(6)))
        }
    }

    static func streamedText(_ events: [[String: Any]]) -> [String] {
        events.compactMap { e -> String? in
            guard let c = (e["choices"] as? [[String: Any]])?.first else { return nil }
            let text = ((c["delta"] as? [String: Any])?["content"] as? String) ?? (c["text"] as? String)
            return (text?.isEmpty ?? true) ? nil : text
        }
    }

    @Test func everyRouteAccountsExactly() async throws {
        try await withTestStack { try await Self.accountsExactly($0) }
    }

    // A function of its own, not the closure's body: the compiler crashes on the counting
    // dictionaries' `+=` inside the closure (Swift 6.3.1).
    static func accountsExactly(_ stack: TestStack) async throws {
        var input: [String: Int] = [:], output: [String: Int] = [:], sent: [String: Int] = [:]
        let chat = #""messages":[{"role":"user","content":"count the tokens of this prompt please"}]"#

        // OpenAI chat, not streamed: usage in the body.
        for model in ["llama3.2:1b", "gpt-4o-mini"] {
            let r = try await stack.post("/v1/chat/completions", #"{"model":"\#(model)",\#(chat)}"#)
            #expect(r.status == 200)
            let u = Self.parse(r.body)["usage"] as! [String: Any]
            input["/v1/chat/completions", default: 0] += u["prompt_tokens"] as! Int
            output["/v1/chat/completions", default: 0] += u["completion_tokens"] as! Int
            sent["/v1/chat/completions", default: 0] += 1
        }
        // OpenAI chat streamed with include_usage: passed through, exactly one usage chunk.
        do {
            let r = try await stack.post("/v1/chat/completions", #"{"model":"llama3.2:1b",\#(chat),"stream":true,"stream_options":{"include_usage":true}}"#)
            let events = Self.sseEvents(r.body)
            let usage = events.compactMap { $0["usage"] as? [String: Any] }
            #expect(usage.count == 1)
            #expect(r.body.hasSuffix("data: [DONE]\n\n"))
            input["/v1/chat/completions", default: 0] += usage[0]["prompt_tokens"] as! Int
            output["/v1/chat/completions", default: 0] += usage[0]["completion_tokens"] as! Int
            #expect(Self.streamedText(events).count == usage[0]["completion_tokens"] as! Int)
            sent["/v1/chat/completions", default: 0] += 1
        }
        // OpenAI chat streamed without include_usage: injected upstream, stripped before the client.
        var strippedOutput = 0
        for path in ["/v1/chat/completions", "/v1/completions"] {
            let body =
                path == "/v1/completions"
                ? #"{"model":"qwen2.5:0.5b","prompt":"one two three","stream":true}"#
                : #"{"model":"qwen2.5:0.5b",\#(chat),"stream":true}"#
            let r = try await stack.post(path, body)
            #expect(r.status == 200)
            #expect(!r.body.contains("usage"), "the client did not ask for usage and must not see it")
            #expect(r.body.hasSuffix("data: [DONE]\n\n"))
            let n = Self.streamedText(Self.sseEvents(r.body)).count
            strippedOutput += n
            output[path, default: 0] += n
            // The client never sees the prompt count here; the simulator's tokenizer counts words.
            input[path, default: 0] += path == "/v1/completions" ? 3 : 7
            sent[path, default: 0] += 1
        }
        // Ollama chat streamed (the default) and generate not streamed.
        do {
            let r = try await stack.post("/api/chat", #"{"model":"llama3.2:1b",\#(chat)}"#)
            let lines = r.body.split(separator: "\n").map { Self.parse(String($0)) }
            let final = lines.last!
            #expect(final["done"] as? Bool == true)
            input["/api/chat", default: 0] += final["prompt_eval_count"] as! Int
            output["/api/chat", default: 0] += final["eval_count"] as! Int
            #expect(lines.count - 1 == final["eval_count"] as! Int)
            sent["/api/chat", default: 0] += 1
            let g = Self.parse(try await stack.post("/api/generate", #"{"model":"qwen2.5:0.5b","prompt":"why is the sky blue","stream":false}"#).body)
            input["/api/generate", default: 0] += g["prompt_eval_count"] as! Int
            output["/api/generate", default: 0] += g["eval_count"] as! Int
            sent["/api/generate", default: 0] += 1
        }
        // Embeddings, both dialects.
        do {
            let e = Self.parse(try await stack.post("/v1/embeddings", #"{"model":"nomic-embed-text","input":["a b c","d e"]}"#).body)
            input["/v1/embeddings", default: 0] += (e["usage"] as! [String: Any])["prompt_tokens"] as! Int
            #expect((e["data"] as! [Any]).count == 2)
            sent["/v1/embeddings", default: 0] += 1
            let o = Self.parse(try await stack.post("/api/embed", #"{"model":"nomic-embed-text","input":["x y z"]}"#).body)
            input["/api/embed", default: 0] += o["prompt_eval_count"] as! Int
            sent["/api/embed", default: 0] += 1
            let legacy = Self.parse(try await stack.post("/api/embeddings", #"{"model":"nomic-embed-text","prompt":"x"}"#).body)
            #expect((legacy["embedding"] as? [Any])?.isEmpty == false)
            sent["/api/embeddings", default: 0] += 1
            let show = try await stack.post("/api/show", #"{"name":"llama3.2:1b"}"#)
            #expect(show.status == 200)
            sent["/api/show", default: 0] += 1
        }
        #expect(strippedOutput > 0)

        let total = sent.values.reduce(0, +)
        for _ in 0..<100 where stack.gateway.hub.read({ $0.total.requests }) < total {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        #expect(stack.gateway.hub.read { $0.total.requests } == total)
        let metrics = try await stack.json("/metrics/json")
        for (route, n) in input {
            #expect(metrics.path("tokens", route, "input_total") as? Int == n, "input tokens of \(route)")
            #expect(try await stack.promSample(#"inference_gateway_tokens_total{route="\#(route)",backend="sim",type="input"}"#) == Double(n))
        }
        for (route, n) in output {
            #expect(metrics.path("tokens", route, "output_total") as? Int == n, "output tokens of \(route)")
            #expect(try await stack.promSample(#"inference_gateway_tokens_total{route="\#(route)",backend="sim",type="output"}"#) == Double(n))
        }
        for (route, n) in sent {
            #expect(try await stack.promSample(#"inference_gateway_requests_total{route="\#(route)",backend="sim",status="200"}"#) == Double(n))
        }
        #expect(stack.gateway.hub.read { $0.total.errors } == 0)
        // Streams without usage from the client's view still have exact tokens, not estimates.
        #expect(metrics.path("tokens", "/v1/completions", "estimated_requests") as? Int == 0)
        #expect(try await stack.promSample(#"inference_gateway_active_requests{backend="sim"}"#) == 0)
    }

    @Test func catalogIsTheUnionOfBackends() async throws {
        try await withTestStack(configure: { config, port in
            config.backends.append(.init(name: "static", url: "http://127.0.0.1:1", models: ["only-static"]))
        }) { stack in
            let models = try await stack.json("/v1/models")
            let ids = (models["data"] as! [[String: Any]]).compactMap { $0["id"] as? String }
            #expect(Set(ids).isSuperset(of: ["llama3.2:1b", "nomic-embed-text"]))
            let tags = try await stack.json("/api/tags")
            let names = (tags["models"] as! [[String: Any]]).compactMap { $0["name"] as? String }
            #expect(names.contains("llama3.2:1b"))
            let ps = try await stack.json("/api/ps")
            #expect((ps["models"] as? [Any])?.isEmpty == false)
            let version = try await stack.json("/api/version")
            #expect(version["version"] is String)
            let health = try await stack.json("/health")
            #expect(health.path("services", "static", "status") as? String == "unhealthy")
            #expect(health.path("services", "sim", "status") as? String == "healthy")
            #expect(health["status"] as? String == "degraded", "one of two backends is down")
            // The static backend is down: its model routes there and gets a 502 in OpenAI's shape.
            let r = try await stack.post("/v1/chat/completions", #"{"model":"only-static","messages":[]}"#)
            #expect(r.status == 502)
            let err = Self.parse(r.body)["error"] as? [String: Any]
            #expect(err?["message"] is String && err?["type"] as? String == "server_error")
            let after = try await stack.get("/health")
            #expect(after.status == 503, "every request in the window failed on the serving side")
        }
    }
}
