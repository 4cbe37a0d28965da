import Foundation

/// Alert rules evaluated on a timer, and where fired and resolved alerts are sent.
public struct AlertSettings: Codable, Sendable, Equatable {
    public var intervalSeconds = 5.0
    /// The rules in force: the built-in ones, each replaced by a configured rule of the same
    /// name; configured rules with new names are added.
    public var rules: [AlertRule] = AlertRule.builtIn
    public var webhook: WebhookSettings?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case rules, webhook
        case intervalSeconds = "interval_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        intervalSeconds = try c.value(.intervalSeconds, 5.0)
        webhook = try c.decodeIfPresent(WebhookSettings.self, forKey: .webhook)
        var rules = AlertRule.builtIn
        for rule in try c.value(.rules, [AlertRule]()) {
            if let i = rules.firstIndex(where: { $0.name == rule.name }) { rules[i] = rule } else { rules.append(rule) }
        }
        self.rules = rules
    }

    func validate() throws {
        guard intervalSeconds >= 0.1 else { throw ConfigError.field("dashboard.alerts.interval_seconds", "must be at least 0.1") }
        var names = Set<String>()
        for r in rules {
            guard names.insert(r.name).inserted else { throw ConfigError.field("dashboard.alerts.rules", "'\(r.name)' is defined twice") }
            guard r.windowSeconds >= 0 else { throw ConfigError.field("dashboard.alerts.rules", "'\(r.name)': window_seconds must not be negative") }
        }
        if let w = webhook {
            guard let u = URL(string: w.url), u.scheme == "http" || u.scheme == "https", u.host != nil else {
                throw ConfigError.field("dashboard.alerts.webhook.url", "'\(w.url)' is not an http(s) URL")
            }
            guard w.maxAttempts >= 1 else { throw ConfigError.field("dashboard.alerts.webhook.max_attempts", "must be at least 1") }
        }
    }
}

/// One alert rule: `metric operator threshold`, judged over `window_seconds`.
///
/// For rates (`error_rate`, `latency_p95_ms`) the window is how far back requests are counted;
/// for gauges (`cpu_percent`, `memory_percent`, `disk_percent`, `backends_down`) it is how long
/// the condition must hold before the alert fires (0: at once).
public struct AlertRule: Codable, Sendable, Equatable {
    public enum Metric: String, Codable, Sendable, CaseIterable {
        /// Share of requests that failed on the serving side (5xx, timeouts, connection errors).
        case errorRate = "error_rate"
        case latencyP95Ms = "latency_p95_ms"
        /// Backends whose last health check failed.
        case backendsDown = "backends_down"
        /// Minutes since the last successful request, counted only while requests keep arriving.
        case minutesWithoutSuccess = "minutes_without_success"
        /// The fullest real filesystem.
        case diskPercent = "disk_percent"
        case cpuPercent = "cpu_percent"
        case memoryPercent = "memory_percent"
        /// The fullest budget (of a key or project) in its period, in percent; fires at or above the threshold.
        case budgetPercent = "budget_percent"

        public var category: String {
            switch self {
            case .errorRate, .latencyP95Ms, .minutesWithoutSuccess: return "inference"
            case .backendsDown: return "backend"
            case .diskPercent, .cpuPercent, .memoryPercent: return "resource"
            case .budgetPercent: return "cost"
            }
        }
    }

    public enum Comparison: String, Codable, Sendable { case above = ">", below = "<" }

    public var name: String
    public var metric: Metric
    public var comparison: Comparison = .above
    public var threshold: Double
    public var windowSeconds: Double = 300
    /// `info`, `warning` or `critical`.
    public var severity: String = "warning"
    public var enabled = true

    public init(
        name: String, metric: Metric, comparison: Comparison = .above, threshold: Double, windowSeconds: Double = 300,
        severity: String = "warning", enabled: Bool = true
    ) {
        self.name = name
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.windowSeconds = windowSeconds
        self.severity = severity
        self.enabled = enabled
    }

    /// How the rule reads in the API: `error_rate > 0.05`.
    public var condition: String {
        let t = threshold == threshold.rounded() ? String(Int(threshold)) : String(threshold)
        return "\(metric.rawValue) \(comparison.rawValue) \(t)"
    }

    public func breached(by value: Double) -> Bool {
        // A budget is reached at 100 %, not beyond it.
        if metric == .budgetPercent && comparison == .above { return value >= threshold }
        return comparison == .above ? value > threshold : value < threshold
    }

    /// The severities a rule may have.
    public static let severities = ["info", "warning", "critical"]

    public static let builtIn: [AlertRule] = [
        AlertRule(name: "high_error_rate", metric: .errorRate, threshold: 0.05, windowSeconds: 300, severity: "warning"),
        AlertRule(name: "critical_error_rate", metric: .errorRate, threshold: 0.10, windowSeconds: 300, severity: "critical"),
        AlertRule(name: "high_latency_p95", metric: .latencyP95Ms, threshold: 30_000, windowSeconds: 300, severity: "warning"),
        AlertRule(name: "backend_down", metric: .backendsDown, threshold: 0, windowSeconds: 0, severity: "critical"),
        AlertRule(name: "no_successful_requests", metric: .minutesWithoutSuccess, threshold: 5, windowSeconds: 300, severity: "critical"),
        AlertRule(name: "high_disk_usage", metric: .diskPercent, threshold: 80, windowSeconds: 0, severity: "warning"),
        AlertRule(name: "high_cpu_usage", metric: .cpuPercent, threshold: 90, windowSeconds: 60, severity: "warning"),
        AlertRule(name: "high_memory_usage", metric: .memoryPercent, threshold: 85, windowSeconds: 60, severity: "warning"),
        AlertRule(name: "critical_memory_usage", metric: .memoryPercent, threshold: 95, windowSeconds: 30, severity: "critical"),
        AlertRule(name: "budget_80_percent", metric: .budgetPercent, threshold: 80, windowSeconds: 0, severity: "warning"),
        AlertRule(name: "budget_reached", metric: .budgetPercent, threshold: 100, windowSeconds: 0, severity: "critical"),
    ]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, metric, threshold, severity, enabled
        case comparison = "operator", windowSeconds = "window_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let ruleName = try c.decode(String.self, forKey: .name)
        name = ruleName
        // A rule that only switches a built-in off or moves its threshold need not repeat the rest.
        let base = AlertRule.builtIn.first { $0.name == ruleName }
        let known = Metric.allCases.map(\.rawValue).joined(separator: ", ")
        guard let metric = try c.decodeIfPresent(Metric.self, forKey: .metric) ?? base?.metric else {
            throw ConfigError.invalid("alert rule '\(name)' needs a metric (one of \(known))")
        }
        self.metric = metric
        comparison = try c.value(.comparison, base?.comparison ?? .above)
        guard let threshold = try c.decodeIfPresent(Double.self, forKey: .threshold) ?? base?.threshold else {
            throw ConfigError.invalid("alert rule '\(name)' needs a threshold")
        }
        self.threshold = threshold
        windowSeconds = try c.value(.windowSeconds, base?.windowSeconds ?? 300)
        severity = try c.value(.severity, base?.severity ?? "warning")
        enabled = try c.value(.enabled, base?.enabled ?? true)
    }
}

/// Fired and resolved alerts are POSTed here as JSON, retried with backoff.
public struct WebhookSettings: Codable, Sendable, Equatable {
    public var url: String
    public var maxAttempts = 5
    public var timeoutSeconds = 5.0

    public init(url: String) { self.url = url }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url
        case maxAttempts = "max_attempts", timeoutSeconds = "timeout_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        maxAttempts = try c.value(.maxAttempts, 5)
        timeoutSeconds = try c.value(.timeoutSeconds, 5.0)
    }
}
