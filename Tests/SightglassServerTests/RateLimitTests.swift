import Foundation
import SightglassConfig
import Testing

/// Limits from the configuration, through a real gateway and simulator: no keys needed for a
/// model's or a user's limit.
@Suite struct RateLimitTests {
    static let chat = #"{"model":"llama3.2:1b","messages":[{"role":"user","content":"hi"}],"max_tokens":5}"#

    @Test func aModelLimitServesItsRequestsThenAnswers429WithTheHeaders() async throws {
        try await withTestStack(configure: { c, _ in c.limits.models["llama3.2:1b"] = RateLimits(requestsPerMinute: 2) }) { stack in
            // Two admitted in one window (unless the minute turns between them: then start again).
            var statuses: [Int] = []
            var last: (status: Int, headers: [(String, String)], body: String)?
            for _ in 0..<3 {
                let r = try await stack.post("/v1/chat/completions", Self.chat)
                statuses.append(r.status)
                last = r
            }
            if statuses != [200, 200, 429] {
                // The window turned during the burst; the next one is whole.
                try await Task.sleep(for: .seconds(Double(60 - Int(Date().timeIntervalSince1970) % 60) + 0.2))
                statuses = []
                for _ in 0..<3 {
                    let r = try await stack.post("/v1/chat/completions", Self.chat)
                    statuses.append(r.status)
                    last = r
                }
            }
            #expect(statuses == [200, 200, 429])
            let headers = Dictionary(last!.headers.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { a, _ in a })
            #expect(headers["x-ratelimit-limit-requests"] == "2")
            #expect(headers["x-ratelimit-remaining-requests"] == "0")
            #expect(Int(headers["retry-after"] ?? "") ?? 0 >= 1)
            let body = try JSONSerialization.jsonObject(with: Data(last!.body.utf8)) as? [String: [String: Any]]
            #expect(body?["error"]?["code"] as? String == "rate_limit_exceeded")
            #expect(body?["error"]?["type"] as? String == "requests")
            // Ollama's route answers in Ollama's shape.
            let ollama = try await stack.post("/api/chat", #"{"model":"llama3.2:1b","messages":[{"role":"user","content":"hi"}],"stream":false}"#)
            #expect(ollama.status == 429)
            #expect(ollama.body.hasPrefix(#"{"error":"Rate limit reached"#))
        }
    }

    @Test func aHardBudgetPerUserStopsThatUserAndNoOther() async throws {
        try await withTestStack(configure: { c, _ in
            c.pricing["llama3.2:1b"] = ModelPrice(input: 1000, output: 1000)  // 0.001 USD a token
            c.limits.perUserBudget = Budget(amountUSD: 0.001, period: .day, mode: .hard)
        }) { stack in
            let first = try await stack.post("/v1/chat/completions", Self.chat, headers: [("X-User-Id", "alice")])
            #expect(first.status == 200)
            let second = try await stack.post("/v1/chat/completions", Self.chat, headers: [("X-User-Id", "alice")])
            #expect(second.status == 429)
            #expect(second.body.contains("insufficient_quota"))
            #expect(second.body.contains("user alice"))
            let other = try await stack.post("/v1/chat/completions", Self.chat, headers: [("X-User-Id", "bob")])
            #expect(other.status == 200)
        }
    }

    @Test func aRequestWithoutAnyLimitCarriesNoLimitHeaders() async throws {
        try await withTestStack { stack in
            let r = try await stack.post("/v1/chat/completions", Self.chat)
            #expect(r.status == 200)
            #expect(!r.headers.contains { $0.0.lowercased().hasPrefix("x-ratelimit") })
        }
    }
}
