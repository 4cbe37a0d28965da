import Foundation
import Yams

/// Builds a `GatewayConfig` from a YAML file, the environment and flag overrides.
public enum ConfigLoader {
    /// Reads the YAML file if given, then applies `SIGHTGLASS_*` variables from `environment`.
    public static func load(file: String?, environment: [String: String]) throws -> GatewayConfig {
        var config = GatewayConfig()
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigError.invalid("cannot read config file '\(file)': \(error.localizedDescription)")
            }
            config = try decode(yaml: text)
        }
        try applyEnvironment(environment, to: &config)
        return config
    }

    public static func decode(yaml: String) throws -> GatewayConfig {
        if yaml.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return GatewayConfig() }
        do {
            return try YAMLDecoder().decode(GatewayConfig.self, from: yaml)
        } catch let error as DecodingError {
            throw ConfigError.invalid("config file: \(describe(error))")
        } catch {
            throw ConfigError.invalid("config file: \(error)")
        }
    }

    /// Parses `NAME=URL` as given to `--backend` and `SIGHTGLASS_BACKENDS` (comma separated).
    public static func parseBackend(_ spec: String) throws -> BackendConfig {
        guard let eq = spec.firstIndex(of: "="), eq != spec.startIndex else {
            throw ConfigError.invalid("backend '\(spec)' must be NAME=URL")
        }
        let name = String(spec[..<eq]).trimmingCharacters(in: .whitespaces)
        let url = String(spec[spec.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
        _ = try BackendURL(parsing: url)
        return BackendConfig(name: name, url: url)
    }

    /// Environment variables recognised, and the setting each one overrides.
    public static let environmentVariables: [String: String] = [
        "SIGHTGLASS_HOST": "server.host",
        "SIGHTGLASS_PORT": "server.port",
        "SIGHTGLASS_EVENT_LOOPS": "server.event_loops",
        "SIGHTGLASS_CONTROL_HOST": "server.control_host",
        "SIGHTGLASS_CONTROL_PORT": "server.control_port",
        "SIGHTGLASS_DRAIN_TIMEOUT": "server.drain_timeout_seconds",
        "SIGHTGLASS_MAX_BODY_BYTES": "server.max_request_body_bytes",
        "SIGHTGLASS_MAX_CONCURRENT": "limits.max_concurrent_requests",
        "SIGHTGLASS_MAX_QUEUE": "limits.max_queue_size",
        "SIGHTGLASS_BACKENDS": "backends (NAME=URL,NAME=URL)",
        "SIGHTGLASS_METRICS_WINDOW": "metrics.window_seconds",
    ]

    static func applyEnvironment(_ env: [String: String], to config: inout GatewayConfig) throws {
        func int(_ key: String) throws -> Int? {
            guard let raw = env[key] else { return nil }
            guard let value = Int(raw.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigError.invalid("\(key)='\(raw)' is not a whole number")
            }
            return value
        }
        func double(_ key: String) throws -> Double? {
            guard let raw = env[key] else { return nil }
            guard let value = Double(raw.trimmingCharacters(in: .whitespaces)) else {
                throw ConfigError.invalid("\(key)='\(raw)' is not a number")
            }
            return value
        }
        if let v = env["SIGHTGLASS_HOST"] { config.server.host = v }
        if let v = try int("SIGHTGLASS_PORT") { config.server.port = v }
        if let v = try int("SIGHTGLASS_EVENT_LOOPS") { config.server.eventLoops = v }
        if let v = env["SIGHTGLASS_CONTROL_HOST"] { config.server.controlHost = v }
        if let v = try int("SIGHTGLASS_CONTROL_PORT") { config.server.controlPort = v }
        if let v = try double("SIGHTGLASS_DRAIN_TIMEOUT") { config.server.drainTimeoutSeconds = v }
        if let v = try int("SIGHTGLASS_MAX_BODY_BYTES") { config.server.maxRequestBodyBytes = v }
        if let v = try int("SIGHTGLASS_MAX_CONCURRENT") { config.limits.maxConcurrentRequests = v }
        if let v = try int("SIGHTGLASS_MAX_QUEUE") { config.limits.maxQueueSize = v }
        if let v = try int("SIGHTGLASS_METRICS_WINDOW") { config.metrics.windowSeconds = v }
        if let v = env["SIGHTGLASS_BACKENDS"], !v.isEmpty {
            config.backends = try v.split(separator: ",").map { try parseBackend(String($0)) }
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let type, let ctx): return "\(path(ctx.codingPath)): expected \(type)"
        case .valueNotFound(let type, let ctx): return "\(path(ctx.codingPath)): missing \(type)"
        case .keyNotFound(let key, let ctx): return "\(path(ctx.codingPath + [key])): required key is missing"
        case .dataCorrupted(let ctx): return "\(path(ctx.codingPath)): \(ctx.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
