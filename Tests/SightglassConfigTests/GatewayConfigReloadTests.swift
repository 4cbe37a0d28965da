import Testing

@testable import SightglassConfig

@Suite struct GatewayConfigReloadTests {
    @Test func changesArePathsInTheFile() {
        let a = GatewayConfig()
        var b = a
        b.limits.maxQueueSize = 9
        b.pricing["m:1b"] = ModelPrice(input: 1, output: 2)
        b.backends = [BackendConfig(name: "x", url: "http://x")]
        #expect(b.changes(from: a) == ["backends", "limits.max_queue_size", "pricing.m:1b"])
        #expect(a.changes(from: a).isEmpty)
    }

    @Test func restartOnlySettingsKeepTheirRunningValue() {
        let running = GatewayConfig()
        var file = running
        file.server.port = 9999
        file.ledger.batchSize = 10
        file.dashboard.auth.mode = .apiKey
        file.timeouts.idleSeconds = 5
        file.dashboard.alerts.rules[0].threshold = 0.5
        let applied = file.reloadable(over: running)
        #expect(applied.server.port == running.server.port && applied.ledger == running.ledger && applied.dashboard.auth == running.dashboard.auth)
        #expect(applied.timeouts.idleSeconds == 5 && applied.dashboard.alerts.rules[0].threshold == 0.5)
        #expect(GatewayConfig.needsRestart(file.changes(from: running)) == ["dashboard.auth.mode", "ledger.batch_size", "server.port"])
        #expect(applied.changes(from: running) == ["dashboard.alerts.rules", "timeouts.idle_seconds"])
    }

    @Test func redactedHidesSecrets() throws {
        var c = GatewayConfig()
        c.backends = [BackendConfig(name: "openai", url: "https://api.openai.com", apiKey: "sk-secret-value")]
        c.dashboard.auth.apiKeys = [.init(id: "ops", key: "plain-key")]
        c.ledger.path = "postgres://u:hunter2@db:5432/x"
        let yaml = try c.effectiveYAML()
        #expect(!yaml.contains("sk-secret-value") && !yaml.contains("plain-key") && !yaml.contains("hunter2"))
        #expect(yaml.contains("[REDACTED]"))
    }

    @Test func effectiveYAMLLoadsBackToTheSameSettings() throws {
        var c = GatewayConfig()
        c.backends = [BackendConfig(name: "a", url: "http://127.0.0.1:1", models: ["m"])]
        c.pricing["gpt-4o-mini"] = ModelPrice(input: 0.15, cachedInput: 0.075, output: 0.6)
        c.timeouts.connectSeconds = 2.5
        let yaml = try c.effectiveYAML()
        #expect(yaml.contains("connect_seconds: 2.5") && yaml.contains("port: 8080"))
        #expect(try ConfigLoader.decode(yaml: yaml) == c)
    }
}
