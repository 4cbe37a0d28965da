import Foundation
import SightglassConfig
import Testing

/// A gateway listening on a network address without credentials is closed: inference needs a
/// key, the dashboard and ledger answer 401 saying how to open them; health and metrics stay open.
@Suite struct ClosedByDefaultTests {
    @Test func aNetworkAddressClosesInferenceAndTheDashboardButNotHealthOrMetrics() async throws {
        try await withTestStack(configure: { c, _ in c.server.host = "0.0.0.0" }) { stack in
            let chat = try await stack.post("/v1/chat/completions", #"{"model":"llama3.2:1b","messages":[]}"#)
            #expect(chat.status == 401 && chat.body.contains("missing_api_key"))
            for path in ["/dashboard/stats", "/api/requests", "/api/analytics/breakdown?by=model"] {
                let r = try await stack.get(path)
                #expect(r.status == 401, "\(path)")
                #expect(r.body.contains("dashboard.auth.mode: off"), "\(path) says how to open it")
            }
            let health = try await stack.get("/health"), metrics = try await stack.get("/metrics")
            #expect(health.status == 200 && metrics.status == 200)
        }
    }

    @Test func writingOffKeepsThemOpen() async throws {
        try await withTestStack(configure: { c, _ in
            c.server.host = "0.0.0.0"
            c.auth.inference = .off
            c.dashboard.auth.mode = .off
        }) { stack in
            let chat = try await stack.post("/v1/chat/completions", #"{"model":"llama3.2:1b","messages":[]}"#)
            let stats = try await stack.get("/dashboard/stats")
            #expect(chat.status == 200 && stats.status == 200)
        }
    }

    @Test(arguments: [("127.0.0.1", GatewayAuthSettings.Mode.off), ("0.0.0.0", .required), ("10.0.0.5", .required), ("::1", .off)])
    func inferenceAuthDefaultsByAddress(_ host: String, _ expected: GatewayAuthSettings.Mode) {
        #expect(GatewayAuthSettings().effectiveInference(host: host) == expected)
        #expect(GatewayAuthSettings(inference: .optional).effectiveInference(host: host) == .optional)
    }
}
