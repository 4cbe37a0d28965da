import AsyncHTTPClient
import Foundation
import JWTKit
import NIOCore
import SightglassConfig
import SightglassDashboard
import SightglassServer
import Testing

/// The fourteen `/dashboard/*` endpoints against a running gateway with real traffic, one test each.
@Suite struct DashboardAPITests {
    static let chat = #"{"model":"llama3.2:1b","messages":[{"role":"user","content":"hello"}]}"#

    func object(_ body: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    /// A gateway that has answered five chat completions and one unknown model (404), with
    /// everything recorded: what each endpoint test below reads.
    func withTraffic(_ body: (TestStack) async throws -> Void) async throws {
        try await withTestStack(configure: { c, _ in c.dashboard.rateLimit.enabled = false }) { stack in
            for _ in 0..<5 { #expect(try await stack.post("/v1/chat/completions", Self.chat).status == 200) }
            #expect(try await stack.post("/v1/chat/completions", #"{"model":"no-such-model","messages":[]}"#).status == 404)
            _ = try await stack.eventually("/dashboard/stats") { ($0.path("inference", "total_requests") as? Int) == 6 }
            try await body(stack)
        }
    }

    @Test func statsCountTheTrafficAndSayThereIsNoGPU() async throws {
        try await withTraffic { stack in
            let stats = try await stack.json("/dashboard/stats")
            #expect(stats.path("inference", "total_requests") as? Int == 6)
            #expect(stats.path("inference", "total_errors") as? Int == 1)
            #expect(stats.path("gpu", "available") as? Bool == false)
            #expect((stats.path("gpu") as? [String: Any])?.count == 1, "no GPU: available false and nothing else")
            for key in ["cpu_usage_percent", "memory_usage_percent", "memory_total_gb", "disk_total_gb", "load_average", "network_io"] {
                #expect(stats.path("system", key) != nil, "system.\(key)")
            }
        }
    }

    @Test func modelsListTheirBackendAndMeasuredRequests() async throws {
        try await withTraffic { stack in
            let models = try await stack.json("/dashboard/models")
            let list = try #require(models["models"] as? [[String: Any]])
            let llama = try #require(list.first { $0["id"] as? String == "llama3.2:1b" })
            #expect(llama["backend"] as? String == "sim")
            #expect((llama["performance"] as? [String: Any])?["total_requests"] as? Int == 5)
            #expect(models.path("summary", "total_models") as? Int == list.count)
        }
    }

    @Test func healthNamesEveryComponentAndTheCacheAsDisabled() async throws {
        try await withTraffic { stack in
            let health = try await stack.json("/dashboard/health")
            #expect(health["status"] as? String == "healthy")
            for c in ["api_server", "model_backends", "cache_system", "database", "audit_system"] { #expect(health.path("components", c) != nil, "\(c)") }
            #expect(health.path("components", "cache_system", "enabled") as? Bool == false)
        }
    }

    @Test func metricsCountRequestsAndErrorsByType() async throws {
        try await withTraffic { stack in
            let metrics = try await stack.json("/dashboard/metrics")
            #expect(metrics.path("metrics", "requests", "total") as? Int == 6)
            #expect(metrics.path("metrics", "errors", "types", "model_not_found") as? Int == 1)
            #expect(metrics.path("metrics", "latency", "p95_ms") is Double)
            #expect(metrics.path("time_series", "requests_per_minute") is [Any])
        }
    }

    @Test func errorsListTheFailedRequest() async throws {
        try await withTraffic { stack in
            let errors = try await stack.eventually("/dashboard/errors") { (($0["recent_errors"] as? [Any])?.count ?? 0) >= 1 }
            let first = try #require((errors["recent_errors"] as? [[String: Any]])?.first)
            #expect(first["type"] as? String == "model_not_found")
            #expect(errors.path("error_summary", "last_24_hours", "total_errors") as? Int == 1)
        }
    }

    @Test func configShowsTheRunningSettings() async throws {
        try await withTraffic { stack in
            let config = try await stack.json("/dashboard/config")
            #expect(config.path("server", "bind_address") as? String != nil)
            #expect(config.path("cache", "enabled") as? Bool == false)
        }
    }

    @Test func cacheAndJobsSayTheyDoNotExistYet() async throws {
        try await withTraffic { stack in
            let cache = try await stack.json("/dashboard/cache"), jobs = try await stack.json("/dashboard/jobs")
            #expect(cache["enabled"] as? Bool == false)
            #expect(jobs["enabled"] as? Bool == false)
        }
    }

    @Test func workersAreTheBackendsWithTheirHealth() async throws {
        try await withTraffic { stack in
            let workers = try await stack.json("/dashboard/workers")
            #expect((workers["workers"] as? [[String: Any]])?.first?["id"] as? String == "sim")
            #expect((workers["workers"] as? [[String: Any]])?.first?["status"] as? String == "active")
        }
    }

    @Test func resourcesAreThisMachines() async throws {
        try await withTraffic { stack in
            let resources = try await stack.json("/dashboard/resources")
            #expect(resources.path("cpu", "cores") as? Int == ProcessInfo.processInfo.activeProcessorCount)
            #expect(resources.path("gpu", "available") as? Bool == false)
        }
    }

    @Test func auditRecordsTheStart() async throws {
        try await withTraffic { stack in
            let audit = try await stack.json("/dashboard/audit?action=gateway_start")
            #expect((audit["entries"] as? [[String: Any]])?.first?["action"] as? String == "gateway_start")
        }
    }

    @Test func logsFilterByLevelAndHoldTheFailure() async throws {
        try await withTraffic { stack in
            let logs = try await stack.json("/dashboard/logs?level=warn")
            let entries = try #require(logs["logs"] as? [[String: Any]])
            #expect(entries.contains { ($0["message"] as? String)?.contains("request failed") == true })
            #expect(entries.allSatisfy { ["warn", "error", "critical"].contains($0["level"] as? String ?? "") })
        }
    }

    @Test func securityCountsLiveFeedSocketsUnderTheirOwnName() async throws {
        try await withTraffic { stack in
            let security = try await stack.json("/dashboard/security")
            #expect(security.path("authentication", "enabled") as? Bool == false)
            #expect(security.path("rate_limiting", "enabled") as? Bool == false)
            // No server-side sessions exist; the live-feed sockets are counted under their own name.
            #expect(security.path("authentication", "active_sessions") is NSNull)
            #expect(security.path("authentication", "live_feed_connections") as? Int == 0)
        }
    }

    @Test func alertsListTheirRules() async throws {
        try await withTraffic { stack in
            let alerts = try await stack.json("/dashboard/alerts")
            #expect((alerts["alert_rules"] as? [Any])?.isEmpty == false)
        }
    }

    @Test func badParametersGet400NamingTheParameter() async throws {
        try await withTestStack(configure: { c, _ in c.dashboard.rateLimit.enabled = false }) { stack in
            for (path, field) in [
                ("/dashboard/logs?level=loud", "level"), ("/dashboard/stats?verbose=1", "verbose"),
                ("/dashboard/audit?limit=0", "limit"), ("/dashboard/errors?since=yesterday", "since"),
                ("/dashboard/logs?since=-5m", "since"),
            ] {
                let r = try await stack.send(.GET, path)
                #expect(r.status == 400, "\(path)")
                let body = try object(r.body)
                #expect(body.path("error", "code") as? String == "INVALID_REQUEST")
                #expect(body.path("error", "details", "field") as? String == field, "\(path)")
            }
            let missing = try await stack.send(.POST, "/dashboard/alerts/alert_999/acknowledge")
            #expect(missing.status == 404)
        }
    }

    @Test func the21stRequestIn10SecondsGets429WithHeaders() async throws {
        try await withTestStack { stack in
            for i in 1...20 {
                let r = try await stack.send(.GET, "/dashboard/stats")
                #expect(r.status == 200)
                #expect(r.headers.first(name: "X-RateLimit-Limit") == "100")
                #expect(r.headers.first(name: "X-RateLimit-Remaining") == String(20 - i))
            }
            let refused = try await stack.send(.GET, "/dashboard/stats")
            #expect(refused.status == 429)
            #expect(refused.headers.first(name: "X-RateLimit-Remaining") == "0")
            let retry = try #require(Int(refused.headers.first(name: "Retry-After") ?? ""))
            #expect(retry >= 1 && retry <= 10)
            #expect(Int(refused.headers.first(name: "X-RateLimit-Reset") ?? "") == retry)
            #expect(try object(refused.body).path("error", "code") as? String == "RATE_LIMITED")
            // The proxy is not limited by the dashboard's budget.
            #expect(try await stack.post("/v1/chat/completions", Self.chat).status == 200)
            let security = try await stack.send(.GET, "/metrics/json")
            #expect(security.status == 200)
        }
    }

    @Test func apiKeysAreCheckedAndPermissionsEnforced() async throws {
        try await withTestStack(configure: { c, _ in
            c.dashboard.rateLimit.enabled = false
            c.dashboard.auth.mode = .apiKey
            c.dashboard.auth.apiKeys = [
                .init(id: "viewer", sha256: DashboardAuth.sha256Hex("view-secret"), permissions: ["dashboard:read"]),
                .init(id: "ops", key: "ops-secret", permissions: ["dashboard:admin"]),
            ]
        }) { stack in
            #expect(try await stack.send(.GET, "/dashboard/stats").status == 401)
            let wrong = try await stack.send(.GET, "/dashboard/stats", headers: [("Authorization", "Bearer nope")])
            #expect(wrong.status == 401)
            #expect(try object(wrong.body).path("error", "code") as? String == "UNAUTHORIZED")
            #expect(try await stack.send(.GET, "/dashboard/stats", headers: [("Authorization", "Bearer view-secret")]).status == 200)
            #expect(try await stack.send(.GET, "/dashboard/stats?access_token=view-secret").status == 200)
            #expect(try await stack.send(.GET, "/api/requests", headers: [("Authorization", "Bearer view-secret")]).status == 200)
            #expect(try await stack.send(.GET, "/api/requests").status == 401)
            let denied = try await stack.send(.POST, "/dashboard/alerts/alert_1/acknowledge", headers: [("Authorization", "Bearer view-secret")])
            #expect(denied.status == 403)
            let body = try object(denied.body)
            #expect(body.path("error", "code") as? String == "INSUFFICIENT_PERMISSIONS")
            #expect(body.path("error", "details", "required_permission") as? String == "dashboard:admin")
            #expect(body.path("error", "details", "user_permissions") as? [String] == ["dashboard:read"])
            // Admin gets past the permission check (no such alert: 404).
            #expect(try await stack.send(.POST, "/dashboard/alerts/alert_1/acknowledge", headers: [("X-API-Key", "ops-secret")]).status == 404)
            // Metrics and health stay open for scrapers.
            #expect(try await stack.send(.GET, "/metrics/prometheus").status == 200)
            let security = try await stack.json("/dashboard/security?access_token=view-secret")
            #expect(security.path("authentication", "failed_attempts_last_hour") as? Int == 1)
            let audit = try await stack.json("/dashboard/audit?action=auth_failure&access_token=view-secret")
            #expect(audit["filtered_count"] as? Int == 1)
        }
    }

    @Test func jwtsAreVerifiedWithExpiryAndPermissions() async throws {
        let secret = "test-hs256-secret-that-is-long-enough"
        try await withTestStack(configure: { c, _ in
            c.dashboard.rateLimit.enabled = false
            c.dashboard.auth.mode = .jwt
            var jwt = AuthSettings.JWTSettings()
            jwt.hs256Secret = secret
            jwt.issuer = "tests"
            c.dashboard.auth.jwt = jwt
        }) { stack in
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            func token(_ permissions: [String], expires: TimeInterval, issuer: String = "tests") async throws -> String {
                try await keys.sign(
                    TestClaims(
                        sub: .init(value: "alice"), exp: .init(value: Date().addingTimeInterval(expires)), iss: .init(value: issuer),
                        permissions: permissions))
            }
            let good = try await token(["dashboard:read"], expires: 300)
            #expect(try await stack.send(.GET, "/dashboard/stats", headers: [("Authorization", "Bearer \(good)")]).status == 200)
            let expired = try await stack.send(
                .GET, "/dashboard/stats", headers: [("Authorization", "Bearer \(try await token(["dashboard:read"], expires: -60))")])
            #expect(expired.status == 401)
            #expect(try object(expired.body).path("error", "details", "reason") as? String == "expired")
            let foreign = try await stack.send(
                .GET, "/dashboard/stats", headers: [("Authorization", "Bearer \(try await token(["dashboard:read"], expires: 300, issuer: "other"))")])
            #expect(foreign.status == 401)
            let other = JWTKeyCollection()
            await other.add(hmac: HMACKey(from: "another-secret-of-sufficient-length"), digestAlgorithm: .sha256)
            let forged = try await other.sign(
                TestClaims(
                    sub: .init(value: "mallory"), exp: .init(value: Date().addingTimeInterval(300)), iss: .init(value: "tests"),
                    permissions: ["dashboard:admin"]))
            #expect(try await stack.send(.GET, "/dashboard/stats", headers: [("Authorization", "Bearer \(forged)")]).status == 401)
            let noPermission = try await stack.send(
                .GET, "/dashboard/stats", headers: [("Authorization", "Bearer \(try await token(["inference:read"], expires: 300))")])
            #expect(noPermission.status == 403)
            #expect(try object(noPermission.body).path("error", "details", "user_permissions") as? [String] == ["inference:read"])
        }
    }
}

struct TestClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iss: IssuerClaim
    var permissions: [String]
    func verify(using algorithm: some JWTAlgorithm) async throws { try exp.verifyNotExpired() }
}

/// WebSocket upgrades through the data plane's tunnel to the control plane.
@Suite struct LiveFeedTunnelTests {
    static func maskedClose() -> [UInt8] {
        // FIN + close opcode, masked, payload 1000 (normal closure).
        let mask: [UInt8] = [1, 2, 3, 4]
        let payload: [UInt8] = [0x03, 0xE8]
        return [0x88, 0x80 | 2] + mask + payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    }

    @Test func upgradeStreamsAndTheConnectionEndsWhenTheServerCloses() async throws {
        try await withTestStack { stack in
            // Pool some control-plane connections first: an upgrade must not reuse one (Hummingbird
            // answers an upgrade on a used connection with a 307).
            for _ in 0..<4 { #expect(try await stack.get("/metrics/json").status == 200) }
            let sock = try RawSocket(port: stack.gateway.port)
            sock.send(
                "GET /metrics/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            let head = await sock.read(until: "\"timestamp\"")
            #expect(head.hasPrefix("HTTP/1.1 101"))
            #expect(head.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="))  // RFC 6455's example accept value
            sock.send(Self.maskedClose())
            // After the close handshake the server ends the TCP connection: recv returns 0 (EOF),
            // not a timeout with the connection left open.
            #expect(await sock.seesEOF())
        }
    }
}
