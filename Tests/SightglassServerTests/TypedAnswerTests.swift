import Foundation
import SightglassConfig
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

    @Test func dashboardAnswersDecode() async throws {
        try await withTestStack(configure: { c, _ in
            c.dashboard.rateLimit.enabled = false
            c.backends[0].apiKey = "sk-upstream"
        }) { stack in
            let chat = #"{"model":"llama3.2:1b","messages":[{"role":"user","content":"hi"}]}"#
            _ = try await stack.post("/v1/chat/completions", chat)
            _ = try await stack.post("/v1/chat/completions", #"{"model":"no-such-model","messages":[]}"#)
            _ = try await stack.eventually("/dashboard/errors") { (($0["recent_errors"] as? [Any])?.count ?? 0) >= 1 }

            let stats = try decode(DashboardStatsAnswer.self, try await stack.get("/dashboard/stats").body)
            #expect(stats.inference.totalRequests == 2 && stats.inference.totalErrors == 1 && stats.gpu.count == nil)
            let models = try decode(DashboardModelsAnswer.self, try await stack.get("/dashboard/models").body)
            let llama = try #require(models.models.first { $0.id == "llama3.2:1b" })
            #expect(llama.backend == "sim" && llama.performance.totalRequests == 1 && llama.filePath == nil)
            #expect(models.summary.totalModels == models.models.count)
            let health = try decode(DashboardHealthAnswer.self, try await stack.get("/dashboard/health").body)
            #expect(health.components.modelBackends.backends["sim"]?.status == "healthy")
            #expect(health.components.database.enabled && health.components.database.recordsWritten != nil && !health.components.cacheSystem.enabled)

            let config = try decode(DashboardConfigAnswer.self, try await stack.get("/dashboard/config").body)
            #expect(config.base.backends.first?.apiKey == "REDACTED" && config.base.ledger.path == stack.gateway.config.ledger.path)
            #expect(config.extra.server.extra.bindAddress.hasPrefix("127.0.0.1:") && config.extra.server.base.eventLoops == 2)
            #expect(config.extra.security.authMode == "off" && !config.extra.cache.enabled)

            let metrics = try decode(DashboardMetricsAnswer.self, try await stack.get("/dashboard/metrics").body)
            #expect(metrics.metrics.requests.total == 2 && metrics.metrics.errors.types["model_not_found"] == 1)
            #expect(metrics.metrics.latency.p95Ms != nil && metrics.timeSeries?.source == "ledger")
            let workers = try decode(DashboardWorkersAnswer.self, try await stack.get("/dashboard/workers").body)
            #expect(workers.workers.first?.id == "sim" && workers.workers.first?.status == "active" && workers.coordinator.connectedWorkers == 1)
            let resources = try decode(DashboardResourcesAnswer.self, try await stack.get("/dashboard/resources").body)
            #expect(resources.cpu.cores == ProcessInfo.processInfo.activeProcessorCount && resources.process.pid == Int(getpid()))

            let logs = try decode(DashboardLogsAnswer.self, try await stack.get("/dashboard/logs?level=warn").body)
            #expect(logs.logs.contains { $0.message.contains("request failed") } && logs.filteredCount <= logs.totalCount)
            let audit = try decode(DashboardAuditAnswer.self, try await stack.get("/dashboard/audit?action=gateway_start").body)
            #expect(audit.entries.first?.details["backends"] == .array([.string("sim")]))
            let errors = try decode(DashboardErrorsAnswer.self, try await stack.get("/dashboard/errors").body)
            #expect(errors.source == "ledger" && errors.recentErrors.first?.type == "model_not_found")
            #expect(errors.errorSummary.last24Hours.totalErrors == 1 && errors.errorSummary.groups.first?.exampleRequestIds?.count == 1)
            let security = try decode(DashboardSecurityAnswer.self, try await stack.get("/dashboard/security").body)
            #expect(!security.authentication.enabled && security.authentication.activeSessions == nil && !security.rateLimiting.enabled)
            let alerts = try decode(DashboardAlertsAnswer.self, try await stack.get("/dashboard/alerts").body)
            #expect(alerts.alertRules.contains { $0.name == "high_error_rate" } && alerts.evaluationIntervalSeconds == 5)

            #expect(try decode(DashboardCacheAnswer.self, try await stack.get("/dashboard/cache").body).cacheTypes.response.enabled == false)
            #expect(try decode(DashboardJobsAnswer.self, try await stack.get("/dashboard/jobs").body).activeJobs.isEmpty)
        }
    }

    /// An alert's labels sit beside its figures in `details`, numbers where they read as one.
    @Test func alertLabelsSitBesideTheFigures() throws {
        let details = AlertRecord.Details(
            value: 97.5, firedValue: 96, threshold: 95, condition: "disk_percent > 95", windowSeconds: 60, rule: "disk_full",
            labels: ["mount": "/data", "free_gb": "1.5"])
        let object = try decode([String: JSONValue].self, JSONResponse.text(details))
        #expect(object["mount"] == .string("/data") && object["free_gb"] == .number(1.5) && object["fired_value"] == .number(96))
        let back = try decode(AlertRecord.Details.self, JSONResponse.text(details))
        #expect(back.labels == details.labels && back.rule == "disk_full")
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
