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

    /// One exchange and the tokens its client saw (nil: the route reports none of that kind).
    struct Exchange: Sendable, CustomTestStringConvertible {
        var name: String
        var route: String
        var body: String
        /// Checks the answer's shape; returns (input, output) tokens as the client can count them.
        var seen: @Sendable (String) throws -> (input: Int?, output: Int?)
        var testDescription: String { name }

        static let prompt = #""messages":[{"role":"user","content":"count the tokens of this prompt please"}]"#

        static let all: [Exchange] = [
            Exchange(name: "OpenAI chat, usage in the body", route: "/v1/chat/completions", body: #"{"model":"gpt-4o-mini",\#(prompt)}"#) {
                let u = try #require(parse($0)["usage"] as? [String: Any])
                return (u["prompt_tokens"] as? Int, u["completion_tokens"] as? Int)
            },
            Exchange(
                name: "OpenAI chat streamed with include_usage: exactly one usage chunk, passed through", route: "/v1/chat/completions",
                body: #"{"model":"llama3.2:1b",\#(prompt),"stream":true,"stream_options":{"include_usage":true}}"#
            ) {
                let events = sseEvents($0)
                let usage = events.compactMap { $0["usage"] as? [String: Any] }
                try #require(usage.count == 1)
                #expect($0.hasSuffix("data: [DONE]\n\n"))
                #expect(streamedText(events).count == usage[0]["completion_tokens"] as? Int)
                return (usage[0]["prompt_tokens"] as? Int, usage[0]["completion_tokens"] as? Int)
            },
            // The client never sees the prompt count in these two; the simulator's tokenizer counts words.
            Exchange(
                name: "OpenAI chat streamed without include_usage: injected upstream, stripped before the client",
                route: "/v1/chat/completions", body: #"{"model":"qwen2.5:0.5b",\#(prompt),"stream":true}"#
            ) {
                #expect(!$0.contains("usage") && $0.hasSuffix("data: [DONE]\n\n"))
                return (7, streamedText(sseEvents($0)).count)
            },
            Exchange(
                name: "OpenAI completions streamed without include_usage", route: "/v1/completions",
                body: #"{"model":"qwen2.5:0.5b","prompt":"one two three","stream":true}"#
            ) {
                #expect(!$0.contains("usage") && $0.hasSuffix("data: [DONE]\n\n"))
                return (3, streamedText(sseEvents($0)).count)
            },
            Exchange(name: "Ollama chat, streamed by default", route: "/api/chat", body: #"{"model":"llama3.2:1b",\#(prompt)}"#) {
                let lines = $0.split(separator: "\n").map { parse(String($0)) }
                let final = try #require(lines.last)
                #expect(final["done"] as? Bool == true)
                #expect(lines.count - 1 == final["eval_count"] as? Int)
                return (final["prompt_eval_count"] as? Int, final["eval_count"] as? Int)
            },
            Exchange(
                name: "Ollama generate, not streamed", route: "/api/generate",
                body: #"{"model":"qwen2.5:0.5b","prompt":"why is the sky blue","stream":false}"#
            ) {
                let g = parse($0)
                return (g["prompt_eval_count"] as? Int, g["eval_count"] as? Int)
            },
            Exchange(name: "OpenAI embeddings", route: "/v1/embeddings", body: #"{"model":"nomic-embed-text","input":["a b c","d e"]}"#) {
                let e = parse($0)
                #expect((e["data"] as? [Any])?.count == 2)
                return ((e["usage"] as? [String: Any])?["prompt_tokens"] as? Int, nil)
            },
            Exchange(name: "Ollama embed", route: "/api/embed", body: #"{"model":"nomic-embed-text","input":["x y z"]}"#) {
                (parse($0)["prompt_eval_count"] as? Int, nil)
            },
            Exchange(name: "Ollama legacy embeddings", route: "/api/embeddings", body: #"{"model":"nomic-embed-text","prompt":"x"}"#) {
                #expect((parse($0)["embedding"] as? [Any])?.isEmpty == false)
                return (nil, nil)
            },
            Exchange(name: "Ollama show", route: "/api/show", body: #"{"name":"llama3.2:1b"}"#) {
                #expect(parse($0)["modelfile"] != nil || parse($0)["details"] != nil)
                return (nil, nil)
            },
        ]
    }

    /// Each exchange on a fresh gateway: the request is counted once, and the tokens the client
    /// saw are exactly what `/metrics/json` and the Prometheus exposition report, none estimated.
    @Test(arguments: Exchange.all)
    func everyRouteAccountsExactlyWhatTheClientSaw(_ exchange: Exchange) async throws {
        try await withTestStack { stack in
            let r = try await stack.post(exchange.route, exchange.body)
            #expect(r.status == 200)
            let (input, output) = try exchange.seen(r.body)
            for _ in 0..<100 where stack.gateway.hub.read({ $0.total.requests }) < 1 { try await Task.sleep(nanoseconds: 20_000_000) }
            #expect(stack.gateway.hub.read { $0.total.requests } == 1 && stack.gateway.hub.read { $0.total.errors } == 0)
            let route = exchange.route
            #expect(try await stack.promSample(#"inference_gateway_requests_total{route="\#(route)",backend="sim",status="200"}"#) == 1)
            let metrics = try await stack.json("/metrics/json")
            if let input {
                #expect(input > 0)
                #expect(metrics.path("tokens", route, "input_total") as? Int == input)
                #expect(try await stack.promSample(#"inference_gateway_tokens_total{route="\#(route)",backend="sim",type="input"}"#) == Double(input))
                #expect(metrics.path("tokens", route, "estimated_requests") as? Int == 0, "counted, not estimated")
            }
            if let output {
                #expect(output > 0)
                #expect(metrics.path("tokens", route, "output_total") as? Int == output)
                #expect(try await stack.promSample(#"inference_gateway_tokens_total{route="\#(route)",backend="sim",type="output"}"#) == Double(output))
            }
            #expect(try await stack.promSample(#"inference_gateway_active_requests{backend="sim"}"#) == 0)
        }
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
