import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SightglassConfig
import SightglassServer
import Testing

/// The ledger behind a real gateway: ids returned to clients, exact stream tokens recorded,
/// history surviving a restart.
@Suite struct LedgerIntegrationTests {
    /// The waterfall's queue and connect phases: measured when they happen, absent when not.
    @Test func queueAndConnectTimesAreRecordedWhenTheyHappen() async throws {
        try await withTestStack(configure: { c, _ in
            c.limits.maxConcurrentRequests = 1
            c.limits.maxQueueSize = 4
        }) { stack in
            let slow = #"{"model":"llama3.2:1b","messages":[{"role":"user","content":"slow one"}]}"#
            async let first = stack.post("/v1/chat/completions", slow, headers: [("X-Request-Id", "first"), ("x-sim-ttft-ms", "300")])
            try await Task.sleep(nanoseconds: 100_000_000)
            let second = try await stack.post("/v1/chat/completions", slow, headers: [("X-Request-Id", "second")])
            #expect(try await first.status == 200 && second.status == 200)
            let a = try await stack.eventually("/api/requests/first") { $0["id"] as? String == "first" }
            let b = try await stack.eventually("/api/requests/second") { $0["id"] as? String == "second" }
            #expect(a["queue_ms"] is NSNull && (a["connect_ms"] as? Double ?? 0) > 0)
            // The second waited for the first's slot.
            #expect((b["queue_ms"] as? Double ?? 0) >= 100)
            let names = (b["phases"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(names.first == "queue" && names.contains("connect") == !(b["connect_ms"] is NSNull))
            // Sequential requests on one client connection reuse the gateway's pooled upstream one.
            for i in 0..<3 { _ = try await stack.post("/v1/chat/completions", slow, headers: [("X-Request-Id", "again-\(i)")]) }
            let c = try await stack.eventually("/api/requests/again-2") { $0["id"] as? String == "again-2" }
            #expect(c["connect_ms"] is NSNull && c["queue_ms"] is NSNull)
            #expect((c["phases"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } == ["upstream_wait", "response"])
        }
    }

    static func header(_ headers: [(String, String)], _ name: String) -> String? {
        headers.first { $0.0.lowercased() == name }?.1
    }

    @Test func everyRequestIsRecordedUnderTheIdTheClientSees() async throws {
        try await withTestStack { stack in
            // A stream whose client asked for usage: the usage chunk it reads is the truth to match.
            let streamed = try await stack.post(
                "/v1/chat/completions",
                """
                {"model":"llama3.2:1b","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count to five"}]}
                """, headers: [("X-User-Id", "carol")])
            #expect(streamed.status == 200)
            let generated = try #require(Self.header(streamed.headers, "x-request-id"))
            #expect(generated.hasPrefix("req_"))
            let usageLine = try #require(streamed.body.split(separator: "\n").last { $0.contains("\"usage\":{") })
            let usage = try JSONSerialization.jsonObject(with: Data(usageLine.dropFirst(6).utf8)) as! [String: Any]
            let completion = (usage["usage"] as! [String: Any])["completion_tokens"] as! Int

            // The client's own id is honoured, also on an error the gateway answers itself.
            let own = try await stack.post("/v1/chat/completions", #"{"model":"no-such-model","messages":[]}"#, headers: [("X-Request-Id", "client-id-42")])
            #expect(own.status == 404 && Self.header(own.headers, "x-request-id") == "client-id-42")

            let record = try await stack.eventually("/api/requests/\(generated)") { $0["id"] as? String == generated }
            #expect(record["stream"] as? Bool == true)
            #expect(record.path("tokens", "output") as? Int == completion)
            #expect(record.path("tokens", "estimated") as? Bool == false)
            #expect(record["user"] as? String == "carol")
            #expect(record["backend"] as? String == "sim" && record["status"] as? Int == 200)
            #expect((record["ttft_ms"] as? Double ?? 0) > 0)
            // The gateway's first request to this backend opened the connection; nothing was queued.
            let phases = (record["phases"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(phases == ["connect", "upstream_wait", "first_token", "generation"])
            #expect(record["queue_ms"] is NSNull && (record["connect_ms"] as? Double ?? 0) > 0)
            let rejected = try await stack.eventually("/api/requests/client-id-42") { $0["id"] as? String == "client-id-42" }
            #expect(rejected["error_type"] as? String == "model_not_found" && rejected["status"] as? Int == 404)

            let list = try await stack.json("/api/requests?user=carol")
            #expect((list["requests"] as? [[String: Any]])?.map { $0["id"] as? String } == [generated])
            let bad = try await stack.get("/api/requests?limit=100000")
            #expect(bad.status == 400 && bad.body.contains("\"field\":\"limit\""))
            let missing = try await stack.get("/api/requests/nope")
            #expect(missing.status == 404)
        }
    }

    /// A backend that reports no usage gets estimated tokens; priced, they give an estimated cost,
    /// and every place that shows the cost says so.
    @Test func costFromEstimatedTokensIsMarkedEstimated() async throws {
        let answer =
            #"{"id":"x","object":"chat.completion","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"four score and seven years ago"},"finish_reason":"stop"}]}"#
        let backend = try MisbehavingBackend { _ in
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(answer.utf8.count)\r\nConnection: close\r\n\r\n\(answer)"
        }
        defer { backend.stop() }
        try await withTestStack(configure: { config, _ in
            config.backends = [.init(name: "nousage", url: "http://127.0.0.1:\(backend.port)", models: ["m"])]
            config.pricing["m"] = ModelPrice(input: 1000, output: 2000)
        }) { stack in
            let sent = try await stack.post("/v1/chat/completions", #"{"model":"m","messages":[{"role":"user","content":"hello there"}]}"#)
            #expect(sent.status == 200)
            let id = try #require(Self.header(sent.headers, "x-request-id"))
            let record = try await stack.eventually("/api/requests/\(id)") { $0["id"] as? String == id }
            #expect(record.path("tokens", "estimated") as? Bool == true)
            let cost = try #require(record["cost"] as? Double)
            #expect(cost > 0 && record["cost_estimated"] as? Bool == true)
            let csv = try await stack.get("/api/requests/export?format=csv").body.split(separator: "\n").map {
                $0.split(separator: ",", omittingEmptySubsequences: false)
            }
            let column = try #require(csv.first?.firstIndex(of: "cost_estimated"))
            #expect(csv.count == 2 && csv[1][column] == "true")
            let summary = try await stack.json("/api/metrics/summary")
            #expect(summary.path("summary", "estimated_cost_usd") as? Double == summary.path("summary", "total_cost_usd") as? Double)
            #expect(summary.path("models", "m", "estimated_cost_usd") as? Double == cost)
            let breakdown = try await stack.json("/api/analytics/breakdown?by=model&since=1h")
            let group = try #require((breakdown["groups"] as? [[String: Any]])?.first { $0["key"] as? String == "m" })
            #expect(group["cost"] as? Double == cost && group["estimated_cost"] as? Double == cost)
            #expect(breakdown.path("total", "estimated_cost") as? Double == cost)
            let sample = #"sightglass_cost_usd_total{route="/v1/chat/completions",backend="nousage",model="m",estimated="true"}"#
            #expect(try await stack.promSample(sample) == cost)
        }
    }

    @Test func historySurvivesARestart() async throws {
        try await withTestStack { stack in
            for i in 0..<5 {
                let r = try await stack.post("/api/chat", #"{"model":"llama3.2:1b","stream":true,"messages":[{"role":"user","content":"hello \#(i)"}]}"#)
                #expect(r.status == 200)
            }
            // SIGTERM's path: shutdown flushes the ledger before returning.
            await stack.gateway.shutdown()
            var logger = Logger(label: "test")
            logger.logLevel = .error
            let second = try await GatewayRuntime.start(config: stack.gateway.config, logger: logger)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(second.port)/api/analytics/breakdown?by=route&since=1h")
            request.method = .GET
            // The second gateway is stopped (awaited) whether or not the query worked.
            let answer: Result<String, any Error>
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                answer = .success(String(buffer: try await response.body.collect(upTo: 1 << 20)))
            } catch {
                answer = .failure(error)
            }
            await second.shutdown()
            let body = try JSONSerialization.jsonObject(with: Data(try answer.get().utf8)) as! [String: Any]
            #expect(body.path("total", "requests") as? Int == 5)
            let groups = body["groups"] as? [[String: Any]] ?? []
            #expect(groups.first?["key"] as? String == "/api/chat")
            #expect((body.path("total", "tokens", "output") as? Int ?? 0) > 0)
        }
    }
}
