import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import SightglassConfig
import SightglassGovernance
import SightglassTelemetry

/// `/metrics/rate-limits`, `…/key/{key_id}`, `…/tier`, `…/throttle-analytics`,
/// `…/abuse-patterns`: what limits are set, how full each is now, and who was refused how often.
/// Behind the dashboard's guard (key and project ids, never secrets).
struct RateLimitRoutes: RouteGroup {
    let limiter: UsageLimiter
    let keys: NIOLockedValueBox<KeyTable>
    let current: NIOLockedValueBox<GatewayConfig>
    let tracker: ThrottleTracker
    let services: DashboardServices

    /// FakeAI's abuse thresholds.
    static let highThrottleRate = 0.5, excessiveRetries = 10, burstPerSecond = 20, quotaExhaustion = 0.95

    func add(to router: Router<ControlContext>) {
        let r = self
        let g = router.group("/metrics/rate-limits").add(
            middleware: DashboardGuard(auth: services.auth, limiter: services.limiter, audit: services.audit))
        g.get { _, _ in JSONResponse.encode(r.overview(now: Date().timeIntervalSince1970)) }
        g.get("key/:key_id") { _, ctx in
            let id = try ctx.parameters.require("key_id")
            guard let answer = r.key(id, now: Date().timeIntervalSince1970) else {
                return JSONResponse.error(.notFound, code: "NOT_FOUND", message: "no live key '\(id)'")
            }
            return JSONResponse.encode(answer)
        }
        g.get("tier") { _, _ in JSONResponse.encode(r.tiers()) }
        // The gauges name keys, projects and their budgets: behind the guard, not on the open /metrics.
        g.get("prometheus") { _, _ in
            Response(
                status: .ok, headers: [.contentType: PrometheusText.contentType],
                body: .init(byteBuffer: ByteBuffer(string: r.prometheus(now: Date().timeIntervalSince1970))))
        }
        g.get("throttle-analytics") { _, _ in JSONResponse.encode(r.throttle(now: Date().timeIntervalSince1970)) }
        g.get("abuse-patterns") { _, _ in JSONResponse.encode(r.abuse(now: Date().timeIntervalSince1970)) }
    }

    // MARK: - Building the answers

    func overview(now: Double) -> RateLimitsAnswer {
        let scopes = statuses(now: now)
        let config = current.withLockedValue { $0 }
        let unix = Int64(now)
        return RateLimitsAnswer(
            enabled: !scopes.isEmpty || !config.limits.tiers.isEmpty || !config.limits.perUser.isEmpty,
            since: tracker.startedAt, minuteResetsAt: (unix / 60 + 1) * 60, dayResetsAt: (unix / 86_400 + 1) * 86_400,
            scopes: scopes, tiers: tiers(), throttleAnalytics: throttle(now: now), abusePatterns: abuse(now: now, scopes: scopes))
    }

    func key(_ id: String, now: Double) -> KeyRateLimitAnswer? {
        let config = current.withLockedValue { $0 }
        guard let g = keys.withLockedValue({ $0 }).allGrants.first(where: { $0.keyId == id }) else { return nil }
        let status = Self.status(
            scope: .key(id), projectId: g.projectId, tier: g.limits.tier, limits: g.limits.effective(tiers: config.limits.tiers),
            budget: g.limits.budget, limiter: limiter, now: now)
        return KeyRateLimitAnswer(keyId: id, status: status, throttling: tracker.callers[id].map { Self.caller(id, $0, now: now) })
    }

    /// Every scope with a limit: keys and projects (their own and per model) with theirs, and the
    /// configuration's models and backends. Per-user limits are shown per user seen.
    func statuses(now: Double) -> [RateLimitScopeStatus] {
        let config = current.withLockedValue { $0 }
        let table = keys.withLockedValue { $0 }
        var out: [RateLimitScopeStatus] = []
        for g in table.allGrants.sorted(by: { $0.keyId < $1.keyId }) {
            let l = g.limits.effective(tiers: config.limits.tiers)
            guard !l.isEmpty || g.limits.budget != nil else { continue }
            out.append(
                Self.status(
                    scope: .key(g.keyId), projectId: g.projectId, tier: g.limits.tier, limits: l, budget: g.limits.budget, limiter: limiter, now: now))
        }
        for (id, p) in table.projects.sorted(by: { $0.key < $1.key }) {
            let own = p.own.effective(tiers: config.limits.tiers)
            if !own.isEmpty || p.own.budget != nil {
                out.append(Self.status(scope: .project(id), projectId: id, tier: p.own.tier, limits: own, budget: p.own.budget, limiter: limiter, now: now))
            }
            for (model, l) in p.models.sorted(by: { $0.key < $1.key }) where !l.isEmpty {
                out.append(
                    Self.status(scope: .projectModel(project: id, model: model), projectId: id, tier: nil, limits: l, budget: nil, limiter: limiter, now: now))
            }
        }
        for (model, l) in config.limits.models.sorted(by: { $0.key < $1.key }) where !l.isEmpty {
            out.append(Self.status(scope: .model(model), projectId: nil, tier: nil, limits: l, budget: nil, limiter: limiter, now: now))
        }
        for (backend, l) in config.limits.backends.sorted(by: { $0.key < $1.key }) where !l.isEmpty {
            out.append(Self.status(scope: .backend(backend), projectId: nil, tier: nil, limits: l, budget: nil, limiter: limiter, now: now))
        }
        return out
    }

    static func status(
        scope: LimitScope, projectId: String?, tier: String?, limits l: RateLimits, budget: Budget?, limiter: UsageLimiter, now: Double
    ) -> RateLimitScopeStatus {
        let u = limiter.usage(scope, budgetPeriod: budget?.period, at: Int64(now * 1e9))
        func ratio(_ used: Int, _ limit: Int?) -> Double? { limit.map { Double(used) / Double($0) } }
        let utilization = RateLimitScopeStatus.Utilization(
            requestsPerMinute: ratio(u.minuteRequests, l.requestsPerMinute), tokensPerMinute: ratio(u.minuteTokens, l.tokensPerMinute),
            requestsPerDay: ratio(u.dayRequests, l.requestsPerDay), tokensPerDay: ratio(u.dayTokens, l.tokensPerDay),
            maxConcurrentRequests: ratio(u.concurrent, l.maxConcurrentRequests), budget: budget.map { u.spent / $0.amountUSD })
        let id: String
        switch scope {
        case .key(let k): id = k
        case .project(let p): id = p
        case .projectModel(let p, let m): id = "\(p)/\(m)"
        case .user(let name), .model(let name), .backend(let name): id = name
        }
        return RateLimitScopeStatus(
            scope: scope.kind, id: id, projectId: projectId, tier: tier, limits: l, budget: budget,
            usage: .init(
                requestsThisMinute: u.minuteRequests, tokensThisMinute: u.minuteTokens, requestsToday: u.dayRequests, tokensToday: u.dayTokens,
                concurrentRequests: u.concurrent, spentUsd: budget == nil ? nil : u.spent),
            utilization: utilization, maxUtilization: utilization.max)
    }

    func tiers() -> [TierAnswer] {
        let config = current.withLockedValue { $0 }
        let table = keys.withLockedValue { $0 }
        let callers = tracker.callers
        return config.limits.tiers.sorted(by: { $0.key < $1.key }).map { name, limits in
            let members = table.allGrants.filter { $0.limits.tier == name }.map(\.keyId).sorted()
            return TierAnswer(
                name: name, limits: limits, keys: members,
                projects: table.projects.filter { $0.value.own.tier == name }.map(\.key).sorted(),
                requestsThrottled: members.reduce(0) { $0 + (callers[$1]?.throttled ?? 0) })
        }
    }

    static func caller(_ id: String, _ c: ThrottleTracker.Caller, now: Double) -> ThrottleCallerAnswer {
        ThrottleCallerAnswer(
            caller: id, requestsAttempted: c.attempted, requestsAllowed: c.allowed, requestsThrottled: c.throttled, throttleRate: c.throttleRate,
            tokensConsumed: c.tokens, byDimension: c.byDimension,
            avgRetryAfterSeconds: c.throttled > 0 ? Double(c.retryAfterSum) / Double(c.throttled) : 0, maxRetryAfterSeconds: c.retryAfterMax,
            peakRequestsPerSecond: c.peakBurst(now: now), throttledLast60s: c.retries(now: now))
    }

    func throttle(now: Double) -> ThrottleAnalyticsAnswer {
        let callers = tracker.callers
        var byDimension: [String: Int] = [:]
        var attempted = 0, throttled = 0
        for c in callers.values {
            attempted += c.attempted
            throttled += c.throttled
            for (d, n) in c.byDimension { byDimension[d, default: 0] += n }
        }
        let bounds = ThrottleTracker.retryAfterBounds
        let distribution = tracker.retryAfterDistribution.enumerated().map { i, n in
            ThrottleAnalyticsAnswer.Bucket(le: i < bounds.count ? bounds[i] : nil, count: n)
        }
        let top = callers.filter { $0.value.throttled > 0 }.sorted { ($0.value.throttled, $1.key) > ($1.value.throttled, $0.key) }.prefix(10)
        return ThrottleAnalyticsAnswer(
            since: tracker.startedAt, requestsAttempted: attempted, requestsThrottled: throttled,
            throttleRate: attempted > 0 ? Double(throttled) / Double(attempted) : 0, byDimension: byDimension,
            retryAfterDistribution: distribution,
            timeline: tracker.timeline(now: now).map { .init(timestamp: $0.minute, throttled: $0.counts.values.reduce(0, +), byDimension: $0.counts) },
            topThrottled: top.map { Self.caller($0.key, $0.value, now: now) })
    }

    func abuse(now: Double, scopes given: [RateLimitScopeStatus]? = nil) -> [AbusePatternAnswer] {
        var out: [AbusePatternAnswer] = []
        for (id, c) in tracker.callers.sorted(by: { $0.key < $1.key }) {
            // A rate over a handful of requests says nothing: at least ten.
            if c.attempted >= 10, c.throttleRate > Self.highThrottleRate {
                out.append(.init(caller: id, pattern: "high_throttle_rate", value: c.throttleRate, threshold: Self.highThrottleRate))
            }
            let retries = c.retries(now: now)
            if retries > Self.excessiveRetries {
                out.append(.init(caller: id, pattern: "excessive_retries", value: Double(retries), threshold: Double(Self.excessiveRetries)))
            }
            let burst = c.peakBurst(now: now)
            if burst > Self.burstPerSecond {
                out.append(.init(caller: id, pattern: "burst", value: Double(burst), threshold: Double(Self.burstPerSecond)))
            }
        }
        for s in given ?? statuses(now: now) where s.maxUtilization > Self.quotaExhaustion {
            out.append(
                .init(
                    caller: s.scope == "key" ? s.id : "\(s.scope):\(s.id)", pattern: "quota_exhaustion", value: s.maxUtilization,
                    threshold: Self.quotaExhaustion))
        }
        return out
    }
}

extension RateLimitRoutes {
    /// Gauges for `/metrics/rate-limits/prometheus`: each limit in force, what is left of its window now,
    /// and each budget with its spend in the current period.
    func prometheus(now: Double) -> String {
        var limits: [([String], Double)] = [], remaining: [([String], Double)] = []
        var budgets: [([String], Double)] = [], spent: [([String], Double)] = []
        for s in statuses(now: now) {
            let l = s.limits, u = s.usage
            for (name, limit, used) in [
                ("requests_per_minute", l.requestsPerMinute, u.requestsThisMinute), ("tokens_per_minute", l.tokensPerMinute, u.tokensThisMinute),
                ("requests_per_day", l.requestsPerDay, u.requestsToday), ("tokens_per_day", l.tokensPerDay, u.tokensToday),
                ("max_concurrent_requests", l.maxConcurrentRequests, u.concurrentRequests),
            ] {
                guard let limit else { continue }
                limits.append(([s.scope, s.id, name], Double(limit)))
                remaining.append(([s.scope, s.id, name], Double(max(0, limit - used))))
            }
            if let b = s.budget {
                budgets.append(([s.scope, s.id, b.period.rawValue, b.mode.rawValue], b.amountUSD))
                spent.append(([s.scope, s.id, b.period.rawValue], u.spentUsd ?? 0))
            }
        }
        var out = ""
        PrometheusText.gauge(
            &out, name: "sightglass_rate_limit", help: "Each limit in force, by scope (key, project, project_model, model, backend), id and dimension.",
            labelNames: ["scope", "id", "dimension"], values: limits)
        PrometheusText.gauge(
            &out, name: "sightglass_rate_limit_remaining", help: "What is left of each limit's current window (minute, UTC day) or of its concurrency.",
            labelNames: ["scope", "id", "dimension"], values: remaining)
        PrometheusText.gauge(
            &out, name: "sightglass_budget_usd", help: "Each budget in force, in USD per period.", labelNames: ["scope", "id", "period", "mode"],
            values: budgets)
        PrometheusText.gauge(
            &out, name: "sightglass_budget_spent_usd", help: "What each budget's current period has spent (requests in flight reserved).",
            labelNames: ["scope", "id", "period"], values: spent)
        return out
    }
}
