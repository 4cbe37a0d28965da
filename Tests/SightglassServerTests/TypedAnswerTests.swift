import Foundation
import Testing

@testable import SightglassDashboard

/// Each typed control-plane answer, fetched from a live gateway, decodes into its type: the
/// types are the shapes the routes really send.
@Suite struct TypedAnswerTests {
    func decode<T: Decodable>(_ type: T.Type, _ body: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(body.utf8))
    }

    @Test func healthAndStatusAnswersDecode() async throws {
        let stack = try await TestStack.start()
        defer { Task { await stack.stop() } }
        _ = try await stack.post("/v1/chat/completions", #"{"model":"llama3.2:1b","messages":[{"role":"user","content":"hi"}]}"#)
        _ = try await stack.eventually { ($0.path("requests") as? [String: Any])?.isEmpty == false }

        let health = try decode(HealthAnswer.self, try await stack.get("/health").body)
        #expect(health.services["sim"]?.status == "healthy" && health.services["proxy"]?.activeRequests == 0)
        #expect(health.services["ledger"]?.recordsWritten != nil || health.services["ledger"]?.status == "degraded")

        let detailed = try decode(DetailedHealthAnswer.self, try await stack.get("/health/detailed").body)
        #expect(detailed.endpoints["/v1/chat/completions"] != nil)

        let summary = try decode(MetricsSummaryAnswer.self, try await stack.get("/api/metrics/summary").body)
        #expect(summary.summary.totalRequests == 1 && summary.models["llama3.2:1b"]?.requests == 1)

        let status = try decode(StatusAnswer.self, try await stack.get("/api/status").body)
        #expect(status.status == "online" && status.lastUpdate != nil && status.aiStatusEnabled == false)
    }

    @Test func ledgerAndCatalogAnswersDecode() async throws {
        let stack = try await TestStack.start()
        defer { Task { await stack.stop() } }
        let sent = try await stack.post("/v1/chat/completions", #"{"model":"llama3.2:1b","messages":[{"role":"user","content":"hi"}]}"#)
        let id = try #require(sent.headers.first { $0.0.lowercased() == "x-request-id" }?.1)
        _ = try await stack.eventually("/api/requests/\(id)") { $0["id"] as? String == id }

        let page = try decode(RequestPage.self, try await stack.get("/api/requests?limit=5").body)
        #expect(page.count == 1 && page.requests.first?.id == id && page.requests.first?.phases == nil)
        let record = try decode(RequestRecord.self, try await stack.get("/api/requests/\(id)").body)
        #expect(record.phases?.last?.name == "response" && record.times?.endedAt != nil && record.bodiesRecorded == false)
        let series = try decode(TimeseriesAnswer.self, try await stack.get("/api/analytics/timeseries?metric=requests&interval=1m&since=1h").body)
        #expect(series.series.first?.points.compactMap(\.value).reduce(0, +) == 1)
        let breakdown = try decode(BreakdownAnswer.self, try await stack.get("/api/analytics/breakdown?by=model&since=1h").body)
        #expect(breakdown.groups.first?.key == "llama3.2:1b" && breakdown.total.requests == 1 && breakdown.total.key == nil)

        let models = try decode(OpenAIModelList.self, try await stack.get("/v1/models").body)
        let ids = models.data.compactMap { entry -> String? in
            guard case .object(let o) = entry, case .string(let id)? = o["id"] else { return nil }
            return id
        }
        #expect(models.object == "list" && ids.contains("llama3.2:1b"))
        let tags = try decode(OllamaModelList.self, try await stack.get("/api/tags").body)
        #expect(!tags.models.isEmpty)
        #expect(try decode(OllamaVersion.self, try await stack.get("/api/version").body).version.isEmpty == false)
    }

    @Test func productErrorsDecode() async throws {
        let stack = try await TestStack.start()
        defer { Task { await stack.stop() } }
        let notFound = try await stack.get("/no/such/route")
        #expect(notFound.status == 404)
        let error = try decode(ProductError.self, notFound.body)
        #expect(error.error.code == "NOT_FOUND" && error.error.details == .null)
        let bad = try decode(ProductError.self, try await stack.get("/api/analytics/breakdown?by=nothing").body)
        #expect(bad.error.code == "INVALID_REQUEST")
    }
}
