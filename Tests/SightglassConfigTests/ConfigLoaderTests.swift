import Foundation
import Testing

@testable import SightglassConfig

@Suite struct ConfigLoaderTests {
    @Test func yamlEnvironmentAndValidation() throws {
        let yaml = """
            server:
              port: 9000
              max_request_body_bytes: 1024
            backends:
              - name: local
                url: http://127.0.0.1:11434
                models: [llama3]
            pricing:
              gpt-4o: {input: 2.5, cached_input: 1.25, output: 10}
            """
        var c = try ConfigLoader.decode(yaml: yaml)
        #expect(c.server.port == 9000 && c.server.host == "127.0.0.1")
        #expect(c.backends.first?.models == ["llama3"])
        #expect(c.pricing["gpt-4o"]?.cachedInput == 1.25)
        try ConfigLoader.applyEnvironment(["SIGHTGLASS_PORT": "9100", "SIGHTGLASS_BACKENDS": "a=http://x:1,b=https://y/v1"], to: &c)
        #expect(c.server.port == 9100)
        #expect(c.backends.map(\.name) == ["a", "b"])
        try c.validate()
        #expect(throws: ConfigError.self) { try ConfigLoader.applyEnvironment(["SIGHTGLASS_PORT": "x"], to: &c) }
        #expect(throws: ConfigError.self) { try ConfigLoader.decode(yaml: "server:\n  port: nine") }
        #expect(throws: ConfigError.self) { try ConfigLoader.parseBackend("nourl") }
        #expect(throws: ConfigError.self) { try ConfigLoader.parseBackend("a=ftp://x") }
    }

    @Test func backendURL() throws {
        let u = try BackendURL(parsing: "https://api.openai.com/v1/")
        #expect(u.tls && u.host == "api.openai.com" && u.port == 443 && u.pathPrefix == "/v1" && u.authority == "api.openai.com")
        let v6 = try BackendURL(parsing: "http://[::1]:8000")
        #expect(v6.host == "::1" && v6.port == 8000 && v6.authority == "[::1]:8000")
    }

    /// The shipped example is valid as it stands.
    @Test func exampleFileLoads() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../sightglass.example.yaml").path
        let c = try ConfigLoader.load(file: path, environment: [:])
        #expect(c.backends.map(\.name) == ["ollama"])
        #expect(c.dashboard.alerts.rules.first { $0.name == "high_latency_p95" }?.threshold == 10_000)
    }

    @Test func misspelledKeyNamesKeyLineAndSuggestion() {
        let yaml = "server:\n  port: 8080\nlimits:\n  max_concurent_requests: 4\n"
        #expect {
            try ConfigLoader.decode(yaml: yaml, source: "gw.yaml")
        } throws: { error in
            guard case ConfigError.file("gw.yaml", let issues) = error, let issue = issues.first else { return false }
            return issues.count == 1 && issue.line == 4 && issue.path == "limits.max_concurent_requests" && issue.suggestion == "max_concurrent_requests"
                && "\(error)".contains("line 4") && "\(error)".contains("did you mean 'max_concurrent_requests'")
        }
    }

    @Test func outOfRangeValueNamesItsLine() {
        #expect {
            try ConfigLoader.decode(yaml: "metrics:\n  window_seconds: 1\nserver:\n  port: 70000\n")
        } throws: { error in
            guard case ConfigError.file(_, let issues) = error else { return false }
            return issues.map(\.path) == ["server.port"] && issues.first?.line == 4
        }
    }

    @Test func backendErrorsNameTheBackendByIndex() {
        #expect {
            try ConfigLoader.decode(yaml: "backends:\n  - name: a\n    url: http://x:1\n  - name: b\n    url: ftp://y\n")
        } throws: { error in
            guard case ConfigError.file(_, let issues) = error else { return false }
            return issues.first?.path == "backends[1].url" && issues.first?.line == 5
        }
    }

    @Test func emptyFileAndEmptySectionsMeanDefaults() throws {
        #expect(try ConfigLoader.decode(yaml: "") == GatewayConfig())
        #expect(try ConfigLoader.decode(yaml: "server:\nlimits: ~\n") == GatewayConfig())
    }

    @Test func logLevelAcceptsAnyCase() throws {
        #expect(try ConfigLoader.decode(yaml: "logging:\n  level: DEBUG\n").logging.level == "DEBUG")
        #expect(LoggingSettings.canonical("DEBUG") == "debug" && LoggingSettings.canonical("Warn") == "warning")
        var c = GatewayConfig()
        try ConfigLoader.applyEnvironment(["LOG_LEVEL": "Error"], to: &c)
        #expect(c.logging.level == "Error")
        #expect(throws: ConfigError.self) { try ConfigLoader.applyEnvironment(["LOG_LEVEL": "loud"], to: &c) }
        #expect(throws: ConfigError.self) { try ConfigLoader.decode(yaml: "logging:\n  level: loud\n") }
    }

    @Test func unknownEnvironmentVariablesAreReported() {
        let warnings = ConfigLoader.unknownEnvironment(["SIGHTGLASS_MAX_CONCURENT": "4", "SIGHTGLASS_PORT": "1", "HOME": "/root"])
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("SIGHTGLASS_MAX_CONCURENT") == true && warnings.first?.contains("SIGHTGLASS_MAX_CONCURRENT") == true)
    }
}
