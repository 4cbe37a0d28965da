import Foundation
import NIOConcurrencyHelpers
import SightglassConfig
import SightglassTelemetry

/// One alert, active or resolved: the rule, when it started, the value that fired it.
public struct Alert: Sendable {
    public var id: String
    public var rule: AlertRule
    public var startedAt: Double
    public var resolvedAt: Double?
    /// The value when the alert fired, and the latest one while it stays active.
    public var firedValue: Double
    public var value: Double
    public var title: String
    public var message: String
    /// Extra labels: the fullest filesystem, the backends that are down.
    public var labels: [String: String] = [:]
    public var acknowledged = false
    public var acknowledgedBy: String?
    public var acknowledgedAt: Double?
}

/// Evaluates the alert rules on a timer (never on the request path). Request figures come
/// from the hub's drained events, kept here in 10-second bins for the longest rule window;
/// host figures from the latest probe sample; backend health from the status board.
public final class AlertEngine: Sendable {
    public enum Change: Sendable { case fired(Alert), resolved(Alert) }

    struct Bin {
        var start: Double
        var requests = 0
        var failures = 0
        var successes = 0
        var latency = LogHistogram()
    }

    struct State {
        var bins: [Bin] = []
        var lastSuccess: Double?
        var firstRequestSinceSuccess: Double?
        /// Since when each gauge rule's condition has held.
        var breachedSince: [String: Double] = [:]
        var active: [String: Alert] = [:]
        var resolved: [Alert] = []
        var nextId = 1
        var listeners: [@Sendable (Change) -> Void] = []
        /// The rules in force; a reload replaces them.
        var settings: AlertSettings
        /// How much request history the longest rule needs.
        var maxWindow: Double { max(60, settings.rules.map(\.windowSeconds).max() ?? 300) }
    }

    static let binSeconds = 10.0
    private let state: NIOLockedValueBox<State>

    public init(settings: AlertSettings) {
        state = NIOLockedValueBox(State(settings: settings))
    }

    public var settings: AlertSettings { state.withLockedValue { $0.settings } }

    /// Rules from a reloaded configuration, judged from the next evaluation on. Alerts of rules
    /// that are gone or disabled resolve then.
    public func apply(_ settings: AlertSettings) {
        state.withLockedValue { $0.settings = settings }
    }

    /// Fired and resolved alerts go here (live feed, webhook, audit); must not block.
    public func onChange(_ listener: @escaping @Sendable (Change) -> Void) {
        state.withLockedValue { $0.listeners.append(listener) }
    }

    /// Called with each drained batch of finished requests.
    public func observe(_ events: [RequestEvent]) {
        state.withLockedValue { s in
            let maxWindow = s.maxWindow
            for e in events {
                let end = e.startTime + e.latency
                let start = (end / Self.binSeconds).rounded(.down) * Self.binSeconds
                if let i = s.bins.lastIndex(where: { $0.start == start }) {
                    Self.add(e, to: &s.bins[i])
                } else if start >= (s.bins.last?.start ?? start) - maxWindow {
                    var bin = Bin(start: start)
                    Self.add(e, to: &bin)
                    s.bins.append(bin)
                    s.bins.sort { $0.start < $1.start }
                    let newest = s.bins.last!.start
                    s.bins.removeAll { $0.start < newest - maxWindow - Self.binSeconds }
                }
                if e.isServerFailure {
                    if s.firstRequestSinceSuccess == nil { s.firstRequestSinceSuccess = e.startTime }
                } else if e.status < 400 {
                    s.lastSuccess = max(s.lastSuccess ?? 0, end)
                    s.firstRequestSinceSuccess = nil
                }
            }
        }
    }

    static func add(_ e: RequestEvent, to bin: inout Bin) {
        bin.requests += 1
        if e.isServerFailure { bin.failures += 1 } else if e.status < 400 { bin.successes += 1 }
        bin.latency.record(e.latency)
    }

    /// One budget's state: whose, and how much of it the current period has spent.
    public struct BudgetReading: Sendable, Equatable {
        public var scope: String
        public var spentUSD: Double
        public var amountUSD: Double
        public var period: String
        public var percent: Double { amountUSD > 0 ? spentUSD / amountUSD * 100 : 0 }
        public init(scope: String, spentUSD: Double, amountUSD: Double, period: String) {
            self.scope = scope
            self.spentUSD = spentUSD
            self.amountUSD = amountUSD
            self.period = period
        }
    }

    /// Inputs of one evaluation, gathered by the caller from the hub.
    public struct Inputs: Sendable {
        public var now: Double
        public var host: HostSnapshot
        public var backends: [BackendStatus]
        public var budgets: [BudgetReading]
        public init(now: Double, host: HostSnapshot, backends: [BackendStatus], budgets: [BudgetReading] = []) {
            self.now = now
            self.host = host
            self.backends = backends
            self.budgets = budgets
        }
    }

    /// Evaluates every enabled rule; returns (and tells listeners) what fired and what resolved.
    @discardableResult
    public func evaluate(_ inputs: Inputs) -> [Change] {
        let (changes, listeners) = state.withLockedValue { s -> ([Change], [@Sendable (Change) -> Void]) in
            var changes: [Change] = []
            // An alert whose rule a reload removed resolves like one whose condition cleared.
            let gone = s.active.values.filter { a in !s.settings.rules.contains { $0.name == a.rule.name } }.map { a -> AlertRule in
                var rule = a.rule
                rule.enabled = false
                return rule
            }
            for rule in s.settings.rules + gone {
                let reading = rule.enabled ? measure(rule, inputs, s) : nil
                var breached = reading.map { rule.breached(by: $0.value) } ?? false
                // Gauges must stay breached for the rule's window before firing.
                if breached && rule.metric.isGauge && rule.windowSeconds > 0 {
                    let since = s.breachedSince[rule.name] ?? inputs.now
                    s.breachedSince[rule.name] = since
                    breached = inputs.now - since >= rule.windowSeconds
                } else if !breached {
                    s.breachedSince[rule.name] = nil
                }
                if breached, let reading {
                    if var a = s.active[rule.name] {
                        a.value = reading.value
                        a.labels = reading.labels
                        a.message = Self.message(rule, reading)
                        s.active[rule.name] = a
                    } else {
                        let a = Alert(
                            id: "alert_\(s.nextId)", rule: rule, startedAt: inputs.now, firedValue: reading.value, value: reading.value,
                            title: Self.title(rule), message: Self.message(rule, reading), labels: reading.labels)
                        s.nextId += 1
                        s.active[rule.name] = a
                        changes.append(.fired(a))
                    }
                } else if var a = s.active.removeValue(forKey: rule.name) {
                    a.resolvedAt = inputs.now
                    if let reading { a.value = reading.value }
                    s.resolved.insert(a, at: 0)
                    if s.resolved.count > 200 { s.resolved.removeLast() }
                    changes.append(.resolved(a))
                }
            }
            return (changes, s.listeners)
        }
        for c in changes { for l in listeners { l(c) } }
        return changes
    }

    struct Reading {
        var value: Double
        var labels: [String: String] = [:]
    }

    /// The rule's current value, or nil when there is nothing to judge (no traffic, no reading).
    func measure(_ rule: AlertRule, _ inputs: Inputs, _ s: State) -> Reading? {
        let now = inputs.now
        func window() -> Bin {
            var total = Bin(start: now - rule.windowSeconds)
            for b in s.bins where b.start + Self.binSeconds > now - rule.windowSeconds {
                total.requests += b.requests
                total.failures += b.failures
                total.successes += b.successes
                total.latency.merge(b.latency)
            }
            return total
        }
        switch rule.metric {
        case .errorRate:
            let w = window()
            guard w.requests > 0 else { return nil }
            return Reading(value: Double(w.failures) / Double(w.requests), labels: ["requests": "\(w.requests)", "failures": "\(w.failures)"])
        case .latencyP95Ms:
            let w = window()
            guard w.requests > 0 else { return nil }
            return Reading(value: w.latency.quantile(0.95) * 1000, labels: ["requests": "\(w.requests)"])
        case .backendsDown:
            let down = inputs.backends.filter { $0.healthy == false }
            return Reading(value: Double(down.count), labels: down.isEmpty ? [:] : ["backends": down.map(\.name).joined(separator: ", ")])
        case .minutesWithoutSuccess:
            // Only while traffic keeps arriving: a quiet gateway is not a failing one.
            guard let first = s.firstRequestSinceSuccess, window().requests > 0 else { return Reading(value: 0) }
            let since = s.lastSuccess ?? first
            return Reading(value: (now - since) / 60, labels: ["last_success": s.lastSuccess.map { ISO8601.string(epoch: $0) } ?? "never"])
        case .diskPercent:
            guard let fullest = inputs.host.filesystems.max(by: { $0.usagePercent < $1.usagePercent }) else { return nil }
            return Reading(
                value: fullest.usagePercent,
                labels: [
                    "partition": fullest.mount,
                    "available_gb": String(format: "%.1f", fullest.availableBytes / 1e9),
                ])
        case .cpuPercent:
            return inputs.host.cpuPercent.map { Reading(value: $0) }
        case .memoryPercent:
            return inputs.host.memoryPercent.map { Reading(value: $0) }
        case .budgetPercent:
            guard let worst = inputs.budgets.max(by: { $0.percent < $1.percent }) else { return nil }
            let over = inputs.budgets.filter { rule.breached(by: $0.percent) }.map(\.scope).sorted()
            return Reading(
                value: worst.percent,
                labels: [
                    "scope": worst.scope, "spent_usd": String(format: "%.4f", worst.spentUSD), "amount_usd": String(format: "%.4f", worst.amountUSD),
                    "period": worst.period, "scopes_over": over.joined(separator: ", "),
                ])
        }
    }

    static func title(_ rule: AlertRule) -> String {
        switch rule.metric {
        case .errorRate: return "High error rate"
        case .latencyP95Ms: return "High p95 latency"
        case .backendsDown: return "Backend down"
        case .minutesWithoutSuccess: return "No successful requests"
        case .diskPercent: return "High disk usage"
        case .cpuPercent: return "High CPU usage"
        case .memoryPercent: return "High memory usage"
        case .budgetPercent: return rule.threshold >= 100 ? "Budget reached" : "Budget nearly spent"
        }
    }

    static func message(_ rule: AlertRule, _ r: Reading) -> String {
        let window = rule.windowSeconds >= 60 ? "\(Int(rule.windowSeconds / 60)) min" : "\(Int(rule.windowSeconds)) s"
        switch rule.metric {
        case .errorRate: return String(format: "%.1f%% of requests failed in the last %@ (threshold %.1f%%)", r.value * 100, window, rule.threshold * 100)
        case .latencyP95Ms: return String(format: "p95 latency %.0f ms over the last %@ (threshold %.0f ms)", r.value, window, rule.threshold)
        case .backendsDown: return "Backends failing health checks: \(r.labels["backends"] ?? "none")"
        case .minutesWithoutSuccess: return String(format: "No successful request for %.1f minutes while requests arrive", r.value)
        case .diskPercent: return String(format: "Disk usage on %@ is %.1f%% (threshold %.0f%%)", r.labels["partition"] ?? "?", r.value, rule.threshold)
        case .cpuPercent: return String(format: "CPU usage %.1f%% (threshold %.0f%%)", r.value, rule.threshold)
        case .memoryPercent: return String(format: "Memory usage %.1f%% (threshold %.0f%%)", r.value, rule.threshold)
        case .budgetPercent:
            return String(
                format: "Budget of %@: $%@ of $%@ per %@ spent (%.0f%%, threshold %.0f%%)", r.labels["scope"] ?? "?", r.labels["spent_usd"] ?? "?",
                r.labels["amount_usd"] ?? "?", r.labels["period"] ?? "?", r.value, rule.threshold)
        }
    }

    public var active: [Alert] { state.withLockedValue { $0.active.values.sorted { $0.startedAt > $1.startedAt } } }
    public var resolved: [Alert] { state.withLockedValue { $0.resolved } }

    /// Marks an active alert acknowledged; nil when there is no active alert with that id.
    public func acknowledge(id: String, by user: String, now: Double = Date().timeIntervalSince1970) -> Alert? {
        state.withLockedValue { s in
            guard let key = s.active.first(where: { $0.value.id == id })?.key else { return nil }
            s.active[key]?.acknowledged = true
            s.active[key]?.acknowledgedBy = user
            s.active[key]?.acknowledgedAt = now
            return s.active[key]
        }
    }

    /// Whether an alert with this id ever existed (active or resolved), to tell 404 from 409.
    public func resolvedAlert(id: String) -> Alert? {
        state.withLockedValue { s in s.resolved.first { $0.id == id } }
    }
}

extension AlertRule.Metric {
    var isGauge: Bool {
        switch self {
        case .cpuPercent, .memoryPercent, .diskPercent, .backendsDown, .budgetPercent: return true
        case .errorRate, .latencyP95Ms, .minutesWithoutSuccess: return false
        }
    }
}
