import Foundation
import Testing

@testable import SightglassConfig
@testable import SightglassTelemetry

@Suite struct LogHistogramTests {
    @Test func quantilesWithinBucketError() {
        var h = LogHistogram()
        for i in 1...10_000 { h.record(Double(i) / 1000) }
        #expect(h.count == 10_000)
        #expect(abs(h.quantile(0.5) - 5.0) / 5.0 < 0.03)
        #expect(abs(h.quantile(0.99) - 9.9) / 9.9 < 0.03)
        #expect(h.min == 0.001 && h.max == 10)
        #expect(abs(h.average - 5.0005) < 1e-9)
    }

    @Test func mergeEqualsRecordingTogether() {
        var a = LogHistogram(), b = LogHistogram(), both = LogHistogram()
        for i in 0..<500 { a.record(Double(i) * 0.003); both.record(Double(i) * 0.003) }
        for i in 0..<300 { b.record(Double(i) * 0.1); both.record(Double(i) * 0.1) }
        a.merge(b)
        #expect(a == both)
    }

    @Test func ignoresNonFinite() {
        var h = LogHistogram()
        h.record(.nan); h.record(-1); h.record(.infinity)
        #expect(h.count == 0 && h.quantile(0.5) == 0)
    }
}

@Suite struct ExportTests {
    func hub() -> TelemetryHub {
        var config = GatewayConfig()
        config.backends = [BackendConfig(name: "b1", url: "http://127.0.0.1:1")]
        config.pricing = ["paid": ModelPrice(input: 1, cachedInput: 0.5, output: 2)]
        return TelemetryHub(config: config, loops: 2, version: "test")
    }

    func event(
        route: String = "/v1/chat/completions", model: String = "paid", status: Int = 200, error: ErrorType? = nil,
        stream: Bool = true, input: Int = 1000, output: Int = 500, cached: Int = 200
    ) -> RequestEvent {
        RequestEvent(
            route: route, method: "POST", backend: "b1", serverAddress: "127.0.0.1", serverPort: 1, model: model, status: status,
            errorType: error, stream: stream, startTime: Date().timeIntervalSince1970 - 0.5, firstByte: 0.01, firstToken: 0.05,
            latency: 0.5, inputTokens: input, outputTokens: output, cachedTokens: cached)
    }

    @Test func prometheusCountsAndCost() {
        let h = hub()
        let first = h.recorder(0).started(backend: 0, stream: true)
        h.recorder(0).finished(event(), started: first)
        let second = h.recorder(1).started(backend: 0, stream: true)
        h.recorder(1).finished(event(status: 500, error: .upstreamError, input: 0, output: 0, cached: 0), started: second)
        let text = PrometheusExporter.render(h)
        #expect(text.contains(#"inference_gateway_requests_total{route="/v1/chat/completions",backend="b1",status="200"} 1"#))
        #expect(text.contains(#"inference_gateway_request_errors_total{route="/v1/chat/completions",backend="b1",error_type="upstream_error"} 1"#))
        #expect(text.contains(#"inference_gateway_tokens_total{route="/v1/chat/completions",backend="b1",type="input"} 1000"#))
        // 800 uncached at $1/M + 200 cached at $0.5/M + 500 output at $2/M
        #expect(text.contains(#"inference_gateway_cost_total{route="/v1/chat/completions",backend="b1"} 0.0019"#))
        #expect(text.contains(#"inference_gateway_active_requests{backend="b1"} 0"#))
        #expect(text.contains(#"inference_gateway_request_duration_seconds_bucket{route="/v1/chat/completions",backend="b1",le="0.5"} 2"#))
        #expect(!text.contains("inference_gateway_rate_limit_hits_total"), "no family for features that do not exist")
        // A free model still has its cost series, at a measured 0.
        let free = h.recorder(0).started(backend: 0, stream: false)
        h.recorder(0).finished(event(route: "/v1/embeddings", model: "free", stream: false), started: free)
        #expect(PrometheusExporter.render(h).contains(#"inference_gateway_cost_total{route="/v1/embeddings",backend="b1"} 0"#))
        #expect(
            text.contains(
                #"gen_ai_server_time_to_first_token_seconds_count{gen_ai_operation_name="chat",gen_ai_provider_name="openai",gen_ai_request_model="paid",server_address="127.0.0.1",server_port="1"} 1"#
            ))
    }

    @Test func jsonReportTotalsAndWindow() {
        let h = hub()
        for i in 0..<10 {
            h.recorder(i % 2).finished(event(input: 10, output: 5, cached: 1))
        }
        let report = MetricsReport.build(h)
        let t = report.tokens["/v1/chat/completions"]!
        #expect(t.inputTotal == 100 && t.outputTotal == 50 && t.cachedTotal == 10)
        #expect(report.requests["/v1/chat/completions"]!.rate > 0)
        #expect(report.streamingStats.completedStreams == 10)
        #expect(abs(report.streamingStats.ttft.p50 - 0.05) / 0.05 < 0.03)
        let csv = report.csv()
        #expect(csv.hasPrefix("metric_type,endpoint,rate,avg_latency,min_latency,max_latency,p50_latency,p90_latency,p99_latency\n"))
        #expect(csv.contains("requests,/v1/chat/completions,"))
    }

    @Test func labelEscaping() {
        #expect(PrometheusText.escape(#"a"b\c"# + "\n") == #"a\"b\\c\n"#)
    }

    @Test func acceptNegotiation() {
        #expect(PrometheusExporter.prefersText(accept: "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"))
        #expect(PrometheusExporter.prefersText(accept: "text/plain"))
        #expect(!PrometheusExporter.prefersText(accept: nil))
        #expect(!PrometheusExporter.prefersText(accept: "*/*"))
        #expect(!PrometheusExporter.prefersText(accept: "application/json"))
    }

    @Test func droppedEventsAreCounted() {
        var config = GatewayConfig()
        config.backends = []
        let h = TelemetryHub(config: config, loops: 1, version: "t", eventCapacityPerLoop: 3)
        for _ in 0..<5 { h.recorder(0).finished(event()) }
        #expect(PrometheusExporter.render(h).contains("sightglass_telemetry_events_dropped_total 2"))
    }
}

@Suite struct CardinalityTests {
    @Test func rejectedModelNamesDoNotMintSeries() {
        var config = GatewayConfig()
        config.backends = [BackendConfig(name: "b1", url: "http://127.0.0.1:1")]
        let hub = TelemetryHub(config: config, loops: 1, version: "t")
        for i in 0..<500 {
            hub.recorder(0).finished(
                RequestEvent(
                    route: "/v1/chat/completions", method: "POST", backend: "", model: "made-up-\(i)",
                    status: 404, errorType: .modelNotFound, stream: false,
                    startTime: Date().timeIntervalSince1970, latency: 0))
        }
        let text = PrometheusExporter.render(hub)
        #expect(!text.contains("made-up-"))
        #expect(text.contains(#"inference_gateway_request_errors_total{route="/v1/chat/completions",backend="none",error_type="model_not_found"} 500"#))
        #expect(hub.read { $0.byModel.isEmpty })
    }
}

@Suite struct JSONTextTests {
    @Test func quotesAndEscapes() throws {
        let s = "a\"b\\c\nd\u{01}é"
        let quoted = JSONText.quote(s)
        #expect(quoted == #""a\"b\\c\nd\u0001é""#)
        let decoded = try JSONSerialization.jsonObject(with: Data("[\(quoted)]".utf8)) as! [String]
        #expect(decoded == [s])
    }
}

@Test func iso8601MatchesFoundationsFormatter() {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    for epoch in [0.0, 951_782_400.5, 1_795_476_346.25, 4_102_444_799.75] {
        #expect(ISO8601.string(epoch: epoch) == f.string(from: Date(timeIntervalSince1970: epoch)))
    }
    #expect(ISO8601.string(epoch: 1_795_476_346.5447) == "2026-11-23T23:25:46.544Z")
    #expect(ISO8601.string(epoch: 951_782_400) == "2000-02-29T00:00:00.000Z")
}
