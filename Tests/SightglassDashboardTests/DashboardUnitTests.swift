import AsyncHTTPClient
import Foundation
import Logging
import SightglassConfig
import SightglassTelemetry
import Testing

@testable import SightglassDashboard

@Suite struct DashboardUnitTests {
    /// `/api/metrics/summary` shows the GPU the probe sees (it used to say unavailable always):
    /// here a stand-in `nvidia-smi` prints what the real one prints for one L4.
    @Test func summaryReportsTheGPUTheProbeSees() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sg-gpu-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let smi = dir.appendingPathComponent("nvidia-smi").path
        try "#!/bin/sh\necho '0, NVIDIA L4, 37, 1000, 23034, 51, 31.50, [N/A]'\n".write(toFile: smi, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: smi)
        let system = SystemSampler(gpu: GPUProbe(libraryPath: "/nonexistent/libnvidia-ml.so.1", smiCandidates: [smi]))
        system.sampleGPU()
        let config = GatewayConfig()
        let hub = TelemetryHub(config: config, loops: 1, version: "t", system: system)
        let exports = ExportRoutes(hub: hub, ledger: nil, feed: LiveFeed(queueLimit: 8), startedAt: Date())
        let sys = exports.summaryAnswer().system
        #expect(sys.gpu.available && sys.gpu.count == 1 && sys.gpu.devices?.first?.name == "NVIDIA L4")
        #expect(sys.gpuUtilizationPercent == 37 && sys.powerGpuWatts == 31.5)
        #expect(JSONResponse.data(sys.gpu) == JSONResponse.data(GPUStatus(hub.system.gpu, detailed: false)), "the same object as /dashboard/stats")
    }

    @Test func burstWindowIsExact() {
        let limiter = RateLimiter(settings: RateLimitSettings())
        for i in 0..<20 { #expect(limiter.check(client: "a", now: 100 + Double(i) * 0.4).allowed) }
        let refused = limiter.check(client: "a", now: 108)
        #expect(!refused.allowed)
        #expect(refused.resetSeconds == 2)  // the first request (t=100) leaves the 10 s window at 110
        #expect(limiter.check(client: "b", now: 108).allowed, "limits are per client")
        #expect(limiter.check(client: "a", now: 110.01).allowed)
        #expect(limiter.violations(now: 111).count == 1)
    }

    @Test func minuteWindowHolds100() {
        var s = RateLimitSettings()
        s.burst = 1_000
        let limiter = RateLimiter(settings: s)
        for i in 0..<100 { #expect(limiter.check(client: "a", now: Double(i) * 0.5).allowed) }
        #expect(!limiter.check(client: "a", now: 50).allowed)
        #expect(limiter.check(client: "a", now: 60.01).allowed)
    }

    func event(ok: Bool, at t: Double, latency: Double = 0.1) -> RequestEvent {
        RequestEvent(
            route: "/v1/chat/completions", method: "POST", backend: "b", model: "m", status: ok ? 200 : 502,
            errorType: ok ? nil : .upstreamError, stream: false, startTime: t, latency: latency)
    }

    @Test func errorRateFiresAndResolvesWithTheValue() {
        var settings = AlertSettings()
        settings.rules = [AlertRule(name: "high_error_rate", metric: .errorRate, threshold: 0.05, windowSeconds: 60)]
        let engine = AlertEngine(settings: settings)
        let now = 10_000.0
        engine.observe((0..<18).map { event(ok: true, at: now - 20 + Double($0)) } + [event(ok: false, at: now - 2), event(ok: false, at: now - 1)])
        let changes = engine.evaluate(.init(now: now, host: HostSnapshot(), backends: []))
        #expect(changes.count == 1)
        let alert = try! #require(engine.active.first)
        #expect(abs(alert.firedValue - 0.1) < 1e-9)
        #expect(engine.acknowledge(id: alert.id, by: "ops")?.acknowledged == true)
        // A minute later the failures have left the window.
        engine.observe([event(ok: true, at: now + 70)])
        engine.evaluate(.init(now: now + 71, host: HostSnapshot(), backends: []))
        #expect(engine.active.isEmpty)
        #expect(engine.resolved.first?.id == alert.id)
    }

    @Test func gaugesMustHoldForTheirWindow() {
        var settings = AlertSettings()
        settings.rules = [AlertRule(name: "cpu", metric: .cpuPercent, threshold: 90, windowSeconds: 30)]
        let engine = AlertEngine(settings: settings)
        var host = HostSnapshot()
        host.cpuPercent = 95
        #expect(engine.evaluate(.init(now: 0, host: host, backends: [])).isEmpty)
        #expect(engine.evaluate(.init(now: 20, host: host, backends: [])).isEmpty)
        #expect(engine.evaluate(.init(now: 31, host: host, backends: [])).count == 1)
        var down = BackendStatus(name: "x", url: "http://127.0.0.1:1")
        down.healthy = false
        settings.rules = [AlertRule(name: "down", metric: .backendsDown, threshold: 0, windowSeconds: 0)]
        let backends = AlertEngine(settings: settings)
        let fired = backends.evaluate(.init(now: 0, host: host, backends: [down]))
        #expect(fired.count == 1)
        #expect(backends.active.first?.labels["backends"] == "x")
    }

    @Test func budgetAlertsFireAtTheirPercentagesWithTheScope() {
        let engine = AlertEngine(settings: AlertSettings())  // the built-in 80 % and 100 % rules
        let at = { (spent: Double) in
            [
                AlertEngine.BudgetReading(scope: "key key_a", spentUSD: spent, amountUSD: 10, period: "month"),
                AlertEngine.BudgetReading(scope: "project p", spentUSD: 1, amountUSD: 10, period: "month"),
            ]
        }
        #expect(engine.evaluate(.init(now: 0, host: HostSnapshot(), backends: [], budgets: at(7.9))).isEmpty)
        #expect(engine.evaluate(.init(now: 1, host: HostSnapshot(), backends: [], budgets: at(8))).count == 1)
        let reached = engine.evaluate(.init(now: 2, host: HostSnapshot(), backends: [], budgets: at(10)))
        guard case .fired(let alert)? = reached.first else {
            Issue.record("expected the 100 % rule to fire")
            return
        }
        #expect(alert.rule.name == "budget_reached")
        #expect(alert.message == "Budget of key key_a: $10.0000 of $10.0000 per month spent (100%, threshold 100%)")
        #expect(alert.labels["scopes_over"] == "key key_a")
        // A new period: both resolve.
        #expect(engine.evaluate(.init(now: 3, host: HostSnapshot(), backends: [], budgets: at(0))).count == 2)
    }

    @Test func aSlowSubscriberOverflowsAloneAndIsCut() async {
        let feed = LiveFeed(queueLimit: 4)
        let slow = feed.register(user: "slow", perUserLimit: nil, topics: ["requests"])!
        let fast = feed.register(user: "fast", perUserLimit: nil, topics: ["requests"])!
        var received = 0
        for i in 0..<10 {
            feed.publish("requests") { "m\(i)" }
            // The fast client reads as it goes.
            var it = fast.messages.makeAsyncIterator()
            if await it.next() != nil { received += 1 }
        }
        #expect(received == 10)
        #expect(slow.overflowed)
        #expect(!fast.overflowed)
        #expect(feed.register(user: "fast", perUserLimit: 1) == nil, "one connection per user when limited")
        feed.unregister(slow)
        feed.unregister(fast)
        #expect(feed.connectionCount == 0)
    }
}
