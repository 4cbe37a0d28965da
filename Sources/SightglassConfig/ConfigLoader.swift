import Foundation
import Yams

/// Builds a `GatewayConfig` from a YAML file, the environment and flag overrides.
public enum ConfigLoader {
    /// Reads the YAML file if given, then applies `SIGHTGLASS_*` variables and `LOG_LEVEL` from `environment`.
    /// The file is checked strictly: an unknown key, a value of the wrong kind or out of range is
    /// an error naming the setting and its line.
    public static func load(file: String?, environment: [String: String]) throws -> GatewayConfig {
        var config = GatewayConfig()
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigError.invalid("cannot read config file '\(file)': \(error.localizedDescription)")
            }
            config = try decode(yaml: text, source: file)
        }
        try applyEnvironment(environment, to: &config)
        return config
    }

    /// Parses, checks against `GatewayConfig.shape`, decodes and validates one YAML document.
    public static func decode(yaml: String, source: String = "config file") throws -> GatewayConfig {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError.file(source, [ConfigIssue(path: "", line: nil, message: "not valid YAML: \(error)")])
        }
        guard let node else { return GatewayConfig() }
        var checker = ConfigChecker(root: GatewayConfig.shape)
        checker.check(node, GatewayConfig.shape, path: "")
        if !checker.issues.isEmpty { throw ConfigError.file(source, checker.issues) }
        let config: GatewayConfig
        do {
            config = try YAMLDecoder().decode(GatewayConfig.self, from: node)
            try config.validate()
        } catch let error as DecodingError {
            let (path, message) = describe(error)
            throw ConfigError.file(source, [ConfigIssue(path: path, line: ConfigChecker.line(of: path, in: node), message: message)])
        } catch let error as ConfigError {
            throw ConfigError.file(
                source,
                error.issues.map { issue in
                    var issue = issue
                    issue.line = issue.line ?? ConfigChecker.line(of: issue.path, in: node)
                    return issue
                })
        }
        return config
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
        "SIGHTGLASS_AUTH_INFERENCE": "auth.inference",
        "LOG_LEVEL": "logging.level",
    ]

    /// Warnings for `SIGHTGLASS_*` variables that name no setting (a typo would otherwise be
    /// silently ignored), each with the nearest known name.
    public static func unknownEnvironment(_ env: [String: String]) -> [String] {
        let known = Array(environmentVariables.keys)
        return env.keys.filter { $0.hasPrefix("SIGHTGLASS_") && environmentVariables[$0] == nil }.sorted().map { name in
            let near = ConfigChecker.nearest(name, in: known).map { " (did you mean \($0)?)" } ?? ""
            return "environment variable \(name) is not a Sightglass setting and is ignored\(near)"
        }
    }

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
        if let v = env["SIGHTGLASS_AUTH_INFERENCE"] {
            guard let mode = GatewayAuthSettings.Mode(rawValue: v.trimmingCharacters(in: .whitespaces).lowercased()) else {
                throw ConfigError.invalid("SIGHTGLASS_AUTH_INFERENCE='\(v)' is not one of off, optional, required")
            }
            config.auth.inference = mode
        }
        if let v = env["LOG_LEVEL"], !v.isEmpty {
            guard LoggingSettings.canonical(v) != nil else {
                throw ConfigError.invalid("LOG_LEVEL='\(v)' is not a log level (one of trace, debug, info, notice, warning, error, critical)")
            }
            config.logging.level = v
        }
        if let v = env["SIGHTGLASS_BACKENDS"], !v.isEmpty {
            config.backends = try v.split(separator: ",").map { try parseBackend(String($0)) }
        }
    }

    /// A decoding error as the setting's path and what is wrong with it.
    static func describe(_ error: DecodingError) -> (path: String, message: String) {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce("") { p, k in
                if let i = k.intValue { return p + "[\(i)]" }
                return p.isEmpty ? k.stringValue : p + "." + k.stringValue
            }
        }
        switch error {
        case .typeMismatch(let type, let ctx): return (path(ctx.codingPath), "expected \(type)")
        case .valueNotFound(let type, let ctx): return (path(ctx.codingPath), "missing \(type)")
        case .keyNotFound(let key, let ctx): return (path(ctx.codingPath + [key]), "required key is missing")
        case .dataCorrupted(let ctx): return (path(ctx.codingPath), ctx.debugDescription)
        @unknown default: return ("", "\(error)")
        }
    }
}
