import Foundation
import Testing

@testable import SightglassServer

/// Bad input, failing backends and overload: the right status and shape, and the process stays up.
@Suite(.serialized) struct ProxyFailureTests {
    static func parse(_ s: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(s.utf8))) as? [String: Any] ?? [:]
    }

    @Test func badInputGetsTheRouteShape() async throws {
        try await withTestStack(configure: { config, _ in config.server.maxRequestBodyBytes = 1 << 20 }) { stack in

            let malformed = try await stack.post("/v1/chat/completions", #"{"model": "llama3.2:1b", "messages": ["#)
            #expect(malformed.status == 400)
            #expect((Self.parse(malformed.body)["error"] as? [String: Any])?["type"] as? String == "invalid_request_error")

            let wrongType = try await stack.post("/v1/chat/completions", #"{"model":"llama3.2:1b","stream":"yes"}"#)
            #expect(wrongType.status == 400)
            #expect((Self.parse(wrongType.body)["error"] as? [String: Any])?["param"] as? String == "stream")

            let noModel = try await stack.post("/api/chat", #"{"messages":[]}"#)
            #expect(noModel.status == 400)
            #expect(Self.parse(noModel.body)["error"] is String, "Ollama's shape is {\"error\": \"...\"}")

            let unknown = try await stack.post("/v1/chat/completions", #"{"model":"gpt-9","messages":[]}"#)
            #expect(unknown.status == 404)
            #expect((Self.parse(unknown.body)["error"] as? [String: Any])?["code"] as? String == "model_not_found")
            let unknownOllama = try await stack.post("/api/generate", #"{"model":"gpt-9","prompt":"x"}"#)
            #expect(unknownOllama.status == 404)
            #expect((Self.parse(unknownOllama.body)["error"] as? String)?.contains("not found") == true)

            let route = try await stack.get("/no/such/route")
            #expect(route.status == 404)
            #expect((Self.parse(route.body)["error"] as? [String: Any])?["code"] as? String == "NOT_FOUND")

            // A 10 MB body over the limit: 413 in OpenAI's shape, read while the client is still
            // sending (the gateway lingers rather than resetting the connection).
            let big = #"{"model":"nomic-embed-text","input":"\#(String(repeating: "a", count: 10_000_000))"}"#
            let upload = try RawSocket(port: stack.gateway.port)
            upload.send("POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(big.utf8.count)\r\n\r\n" + big)
            let tooLarge = await upload.readAll()
            #expect(tooLarge.hasPrefix("HTTP/1.1 413"))
            #expect(tooLarge.contains("invalid_request_error"))

            let ok = try await stack.post("/v1/chat/completions", #"{"model":"llama3.2:1b","messages":[]}"#)
            #expect(ok.status == 200, "still serving after all of that")
            let metrics = try await stack.eventually { m in (m.path("errors", "/v1/chat/completions", "total") as? Int) == 3 }
            let byType = metrics.path("errors", "/v1/chat/completions", "by_type") as? [String: Int]
            #expect(byType?["validation_error"] == 2 && byType?["model_not_found"] == 1)
        }
    }

    @Test func upstreamFailuresAndTimeouts() async throws {
        try await withTestStack(configure: { config, _ in config.timeouts.firstByteSeconds = 0.3 }) { stack in
            let failed = try await stack.post("/v1/chat/completions", #"{"model":"llama3.2:1b","messages":[]}"#, headers: [("x-sim-error", "1")])
            #expect(failed.status == 500, "a backend's error passes through unchanged")
            let slow = try await stack.post("/v1/chat/completions", #"{"model":"llama3.2:1b","messages":[]}"#, headers: [("x-sim-ttft-ms", "3000")])
            #expect(slow.status == 504)
            #expect((Self.parse(slow.body)["error"] as? [String: Any])?["code"] as? String == "timeout")
            let slowOllama = try await stack.post("/api/chat", #"{"model":"llama3.2:1b","messages":[],"stream":false}"#, headers: [("x-sim-ttft-ms", "3000")])
            #expect(slowOllama.status == 504)
            #expect(Self.parse(slowOllama.body)["error"] is String)
            let m = try await stack.eventually { m in (m.path("errors", "/v1/chat/completions", "total") as? Int) == 2 }
            let byType = m.path("errors", "/v1/chat/completions", "by_type") as? [String: Int]
            #expect(byType?["upstream_error"] == 1 && byType?["timeout"] == 1)
        }
    }

    @Test func backendDown() async throws {
        try await withTestStack(configure: { config, _ in
            config.backends = [.init(name: "gone", url: "http://127.0.0.1:1", models: ["m"])]
        }) { stack in
            let r = try await stack.post("/v1/chat/completions", #"{"model":"m","messages":[]}"#)
            #expect(r.status == 502)
            let o = try await stack.post("/api/chat", #"{"model":"m","messages":[]}"#)
            #expect(o.status == 502)
            #expect(Self.parse(o.body)["error"] is String)
            _ = try await stack.eventually { m in (m.path("errors", "/api/chat", "by_type") as? [String: Int])?["connection_error"] == 1 }
            #expect(try await stack.promSample(#"inference_gateway_backend_health{backend="gone",namespace=""}"#) == 0)
            let health = try await stack.get("/health")
            #expect(health.status == 503, "every backend is down")
        }
    }

    @Test func clientDisconnectMidStreamIsCountedAndCleanedUp() async throws {
        try await withTestStack { stack in
            let body = #"{"model":"llama3.2:1b","messages":[{"role":"user","content":"hi"}],"stream":true}"#
            let socket = try RawSocket(port: stack.gateway.port)
            socket.send(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nx-sim-tokens-per-second: 4\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            let first = await socket.read(until: "\"content\":\"", count: 2)
            #expect(first.hasPrefix("HTTP/1.1 200"))
            #expect(try await stack.promSample("sightglass_active_streams") == 1)
            close(socket.fd)
            let m = try await stack.eventually { m in (m.path("errors", "/v1/chat/completions", "by_type") as? [String: Int])?["client_cancelled"] == 1 }
            #expect(m.path("streaming_stats", "active_streams") as? Int == 0)
            #expect(m.path("streaming_stats", "failed_streams") as? Int == 1)
            #expect(try await stack.promSample(#"inference_gateway_active_requests{backend="sim"}"#) == 0)
        }
    }

    @Test func queueFullGets503WithRetryAfter() async throws {
        try await withTestStack(configure: { config, _ in
            config.limits.maxConcurrentRequests = 1
            config.limits.maxQueueSize = 1
        }) { stack in
            let body = #"{"model":"llama3.2:1b","messages":[]}"#
            async let holding = stack.post("/v1/chat/completions", body, headers: [("x-sim-ttft-ms", "1500")])
            try await Task.sleep(nanoseconds: 300_000_000)
            async let queued = stack.post("/v1/chat/completions", body)
            try await Task.sleep(nanoseconds: 300_000_000)
            #expect(try await stack.promSample("ollama_proxy_queue_size") == 1)
            let rejected = try await stack.post("/v1/chat/completions", body)
            #expect(rejected.status == 503)
            #expect(rejected.headers.contains { $0.0.lowercased() == "retry-after" && $0.1 == "1" })
            #expect((Self.parse(rejected.body)["error"] as? [String: Any])?["code"] as? String == "queue_full")
            #expect(try await holding.status == 200)
            #expect(try await queued.status == 200, "the queued request ran once a slot freed")
        }
    }
}
