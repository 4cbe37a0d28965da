import NIOConcurrencyHelpers
import SightglassConfig
import Synchronization

/// Counts what each scope has used in its current windows and decides, at admission, whether a
/// request fits every limit that applies to it; at completion the request's reservation is
/// settled to what it really used.
///
/// Windows are fixed: a minute and a UTC day, as Unix time would place them, but following a
/// monotonic clock from the process start, so a host clock step neither frees nor blocks
/// capacity. Within a window the count is exact: a request is admitted only if every scope has
/// room for it, and it is charged to all of them at once. The counters are split over stripes
/// with a lock each (taken in index order, so a request's scopes are checked and charged
/// atomically without one global lock); requests with no limits never come here.
public final class UsageLimiter: Sendable {
    /// One scope's usage in its current windows.
    struct Counter {
        var minute: Int64 = .min
        var minuteRequests = 0
        var minuteTokens = 0
        var day: Int64 = .min
        var dayRequests = 0
        var dayTokens = 0
        var concurrent = 0
        var budgetPeriod: Int64 = .min
        /// USD spent in the budget period, in-flight reservations included.
        var spent = 0.0
        /// Shared mode: capacity leased from the database for the current windows (requests,
        /// tokens; the budget in micro-USD), and which windows the database has no more of; by
        /// `LeaseDimension.index`, in fixed-size values so a counter holds no heap storage.
        var granted = SIMD8<Int64>(repeating: 0)
        var exhausted: UInt8 = 0

        func isExhausted(_ d: LeaseDimension) -> Bool { exhausted & (1 << d.index) != 0 }

        mutating func reset(_ d: LeaseDimension) {
            granted[d.index] = 0
            exhausted &= ~(1 << d.index)
        }

        /// Moves to the windows of a later moment; an earlier one (a calibration stepping the clock
        /// back a little) never resets what the current windows counted.
        mutating func roll(minute m: Int64, day d: Int64) {
            if m > minute {
                (minute, minuteRequests, minuteTokens) = (m, 0, 0)
                reset(.requestsPerMinute)
                reset(.tokensPerMinute)
            }
            if d > day {
                (day, dayRequests, dayTokens) = (d, 0, 0)
                reset(.requestsPerDay)
                reset(.tokensPerDay)
            }
        }

        mutating func roll(period p: Int64) {
            if p > budgetPeriod {
                (budgetPeriod, spent) = (p, 0)
                reset(.budgetMicroUSD)
            }
        }

        func used(_ d: LeaseDimension) -> Int64 {
            switch d {
            case .requestsPerMinute: Int64(minuteRequests)
            case .tokensPerMinute: Int64(minuteTokens)
            case .requestsPerDay: Int64(dayRequests)
            case .tokensPerDay: Int64(dayTokens)
            case .budgetMicroUSD: Int64(UsageLimiter.whole((spent * 1e6).rounded(.up)))
            }
        }

        func window(_ d: LeaseDimension) -> Int64 {
            switch d {
            case .requestsPerMinute, .tokensPerMinute: minute
            case .requestsPerDay, .tokensPerDay: day
            case .budgetMicroUSD: budgetPeriod
            }
        }

        var idle: Bool { concurrent == 0 }

        /// Charges one admitted request and folds this scope's windows into the headers' status
        /// (the tightest request window and token window win).
        mutating func charge(tokens: Int, cost: Double, at m: Moment, period: Int64?, limits l: RateLimits, into status: inout LimitStatus) {
            roll(minute: m.minute, day: m.day)
            minuteRequests += 1
            dayRequests += 1
            minuteTokens += tokens
            dayTokens += tokens
            concurrent += 1
            if let p = period {
                roll(period: p)
                spent += cost
            }
            if let max = l.requestsPerMinute { status.consider(m.window(max, used: minuteRequests, end: m.minuteEnd), tokens: false) }
            if let max = l.requestsPerDay { status.consider(m.window(max, used: dayRequests, end: m.dayEnd), tokens: false) }
            if let max = l.tokensPerMinute { status.consider(m.window(max, used: minuteTokens, end: m.minuteEnd), tokens: true) }
            if let max = l.tokensPerDay { status.consider(m.window(max, used: dayTokens, end: m.dayEnd), tokens: true) }
        }
    }

    final class Stripe: @unchecked Sendable {
        let lock = NIOLock()
        var counters: [LimitScope: Counter] = [:]
        /// Counters beyond which idle ones are dropped; doubles when a prune frees too little,
        /// so a day with many users does not prune on every admission.
        var pruneAt = 4096
    }

    /// A request's hold on its scopes' capacity, consumed by `settle`.
    public struct Reservation: Sendable {
        struct Held: Sendable {
            var scope: LimitScope
            var stripe: Int
            var budgetPeriod: Int64?
        }
        var held: [Held]
        public let tokens: Int
        public let cost: Double
        let minute: Int64
        let day: Int64
    }

    public enum Decision: Sendable {
        case admitted(Reservation, LimitStatus)
        case refused(LimitRefusal)
        /// Shared mode: this instance holds too little of a limit's window; lease `needs` from the
        /// database (`LimitLeaseSource`), `apply` the grants, and admit again without leasing.
        case needsLease([LeaseNeed])
    }

    let stripes: [Stripe]
    /// Nanoseconds to add to the monotonic clock to get Unix time, fixed at start (or calibrated).
    let offset: Synchronization.Atomic<Int64>
    let monotonic: @Sendable () -> Int64

    /// Whether limits are shared with other instances through leases (PostgreSQL).
    public let shared: Bool

    public init(stripes count: Int = 16, unixNow: Double, shared: Bool = false, monotonic: @escaping @Sendable () -> Int64) {
        stripes = (0..<min(32, max(1, count))).map { _ in Stripe() }
        self.monotonic = monotonic
        self.shared = shared
        offset = Synchronization.Atomic(Int64(unixNow * 1e9) - monotonic())
    }

    /// Nanoseconds since the Unix epoch, as the monotonic clock advances.
    public func now() -> Int64 { monotonic() + offset.load(ordering: .relaxed) }

    /// Sets the clock the windows follow (the database's, when instances share limits), so every
    /// instance agrees on when a minute or a day ends; it still advances monotonically.
    public func calibrate(unixNow: Double) {
        offset.store(Int64(unixNow * 1e9) - monotonic(), ordering: .relaxed)
    }

    func stripe(_ scope: LimitScope) -> Int {
        var h = Hasher()
        h.combine(scope)
        return Int(UInt(bitPattern: h.finalize()) % UInt(stripes.count))
    }

    /// Takes the locks of the stripes in `mask` in index order (so two requests never wait on
    /// each other in a cycle), runs `body`, releases them.
    func locked<T>(_ mask: UInt32, _ body: () -> T) -> T {
        var m = mask
        while m != 0 {
            stripes[m.trailingZeroBitCount].lock.lock()
            m &= m - 1
        }
        defer {
            var m = mask
            while m != 0 {
                stripes[m.trailingZeroBitCount].lock.unlock()
                m &= m - 1
            }
        }
        return body()
    }

    /// Bounds on one request's tokens and cost, whatever a client asks or a backend reports:
    /// no figure can overflow a counter.
    static let maxTokens = 1 << 40, maxCost = 1e12
    static func bounded(tokens: Int) -> Int { Swift.min(Swift.max(0, tokens), maxTokens) }
    static func bounded(cost: Double) -> Double { Swift.min(Swift.max(0, cost), maxCost) }

    /// A dollar figure as a whole number, never trapping: rounded, bounded to ±2^53, 0 when not finite.
    static func whole(_ value: Double) -> Int {
        guard value.isFinite else { return 0 }
        return Int(Swift.min(Swift.max(value.rounded(), -9_007_199_254_740_992), 9_007_199_254_740_992))
    }

    static func mask(_ indices: some Sequence<Int>) -> UInt32 { indices.reduce(0) { $0 | 1 << UInt32($1) } }

    /// The moment a decision is taken, and the windows it falls in.
    struct Moment {
        let unix: Int64
        let seconds: Double
        let minute: Int64
        let day: Int64
        let minuteEnd: Double
        let dayEnd: Double

        init(nanos t: Int64) {
            unix = t / 1_000_000_000
            seconds = Double(t) / 1e9
            minute = LimitCalendar.minute(unix)
            day = LimitCalendar.day(unix)
            minuteEnd = Double((minute + 1) * 60)
            dayEnd = Double((day + 1) * 86_400)
        }

        func window(_ limit: Int, used: Int, end: Double) -> LimitWindow {
            LimitWindow(limit: limit, remaining: max(0, limit - used), resetSeconds: end - seconds, resetAt: Int64(end))
        }

        func refusal(_ scope: LimitScope, _ d: LimitDimension, _ limit: Int, _ requested: Int, used: Int, end: Double) -> LimitRefusal {
            let w = window(limit, used: used, end: end)
            return LimitRefusal(
                scope: scope, dimension: d, limit: limit, requested: requested, retryAfter: max(1, Int((end - seconds).rounded(.up))),
                neverFits: requested > limit,
                status: LimitStatus(
                    requests: d == .requestsPerMinute || d == .requestsPerDay ? w : nil, tokens: d == .tokensPerMinute || d == .tokensPerDay ? w : nil))
        }
    }

    /// Admits a request that reserves `tokens` (its input estimate plus its output cap) and may
    /// cost `cost` USD, if every check has room; charges them all, or none.
    /// In shared mode a scope's window admits only what this instance has leased of it; with
    /// `allowLease` false (after a lease round) a shortfall is a refusal.
    public func admit(_ checks: [LimitCheck], tokens asked: Int, cost asking: Double, allowLease: Bool = true, at nanos: Int64? = nil) -> Decision {
        let m = Moment(nanos: nanos ?? now())
        let tokens = Self.bounded(tokens: asked)
        let cost = asking.isFinite ? Self.bounded(cost: asking) : Self.maxCost
        let indices = checks.map { stripe($0.scope) }
        return locked(Self.mask(indices)) {
            // Check every scope first (no closures capturing state: nothing allocated per check).
            var needs: [LeaseNeed] = []
            for (n, check) in checks.enumerated() {
                var c = stripes[indices[n]].counters[check.scope] ?? Counter()
                c.roll(minute: m.minute, day: m.day)
                if let refusal = examine(&c, check, tokens: tokens, cost: cost, at: m, allowLease: allowLease, needs: &needs) {
                    return .refused(refusal)
                }
            }
            if !needs.isEmpty { return .needsLease(needs) }
            // Everything fits: charge every scope.
            var status = LimitStatus()
            var held: [Reservation.Held] = []
            held.reserveCapacity(checks.count)
            for (n, check) in checks.enumerated() {
                let s = stripes[indices[n]]
                let period = check.budget.map { LimitCalendar.period($0.period, m.unix) }
                s.counters[check.scope, default: Counter()].charge(tokens: tokens, cost: cost, at: m, period: period, limits: check.limits, into: &status)
                held.append(.init(scope: check.scope, stripe: indices[n], budgetPeriod: period))
                if s.counters.count > s.pruneAt { prune(s, day: m.day) }
            }
            return .admitted(Reservation(held: held, tokens: tokens, cost: cost, minute: m.minute, day: m.day), status)
        }
    }

    /// Whether `asked` more fits one window dimension of a scope: a refusal, or nil (a lease
    /// need appended in shared mode when this instance holds too little of it).
    func examine(
        _ c: inout Counter, _ scope: LimitScope, _ d: LeaseDimension, _ limit: Int?, _ asked: Int, _ end: Double, _ m: Moment, _ allowLease: Bool,
        _ needs: inout [LeaseNeed]
    ) -> LimitRefusal? {
        guard let max = limit else { return nil }
        let used = Int(c.used(d))
        if used + asked > max { return m.refusal(scope, d.dimension, max, asked, used: used, end: end) }
        guard shared else { return nil }
        let granted = c.granted[d.index]
        guard Int64(used + asked) > granted else { return nil }
        // The database has no more of this window (or this round already leased): what the
        // other instances hold is theirs until the window ends.
        if c.isExhausted(d) || !allowLease { return m.refusal(scope, d.dimension, max, asked, used: max, end: end) }
        let want = Swift.max(Int64(used + asked) - granted, LeaseNeed.chunk(Int64(max)))
        needs.append(LeaseNeed(scope: scope, dimension: d, window: c.window(d), amount: want, limit: Int64(max)))
        return nil
    }

    /// Whether one scope has room: a refusal, or nil (lease needs appended in shared mode).
    func examine(
        _ c: inout Counter, _ check: LimitCheck, tokens: Int, cost: Double, at m: Moment, allowLease: Bool, needs: inout [LeaseNeed]
    ) -> LimitRefusal? {
        let l = check.limits
        if let max = l.maxConcurrentRequests, c.concurrent + 1 > max {
            return m.refusal(check.scope, .concurrentRequests, max, 1, used: c.concurrent, end: m.seconds + 1)
        }
        if let r = examine(&c, check.scope, .requestsPerMinute, l.requestsPerMinute, 1, m.minuteEnd, m, allowLease, &needs) { return r }
        if let r = examine(&c, check.scope, .requestsPerDay, l.requestsPerDay, 1, m.dayEnd, m, allowLease, &needs) { return r }
        if let r = examine(&c, check.scope, .tokensPerMinute, l.tokensPerMinute, tokens, m.minuteEnd, m, allowLease, &needs) { return r }
        if let r = examine(&c, check.scope, .tokensPerDay, l.tokensPerDay, tokens, m.dayEnd, m, allowLease, &needs) { return r }
        guard let b = check.budget, b.mode == .hard else { return nil }
        let p = LimitCalendar.period(b.period, m.unix)
        c.roll(period: p)
        // A hard budget admits while any of it is left (in-flight reservations count as spent),
        // so it is passed by no more than what requests in flight use beyond their reservation.
        // Shared, "left" is what this instance has leased.
        let end = Double(LimitCalendar.periodEnd(b.period, p))
        let refusal = LimitRefusal(
            scope: check.scope, dimension: .budget, limit: Self.whole(b.amountUSD * 100), requested: Self.whole((cost * 100).rounded(.up)),
            retryAfter: Swift.max(1, Int((end - m.seconds).rounded(.up))), neverFits: false, status: LimitStatus())
        if c.spent >= b.amountUSD { return refusal }
        if shared, c.used(.budgetMicroUSD) >= c.granted[LeaseDimension.budgetMicroUSD.index] {
            if c.isExhausted(.budgetMicroUSD) || !allowLease { return refusal }
            let total = Int64(Self.whole(b.amountUSD * 1e6))
            needs.append(
                LeaseNeed(
                    scope: check.scope, dimension: .budgetMicroUSD, window: p,
                    amount: Swift.max(Int64(Self.whole((cost * 1e6).rounded(.up))), LeaseNeed.chunk(total)), limit: total))
        }
        return nil
    }

    /// Settles a reservation to what the request really used: unused tokens and cost go back to
    /// the windows they were taken from (if still current), usage beyond the reservation is
    /// charged, and the concurrency slot is freed.
    public func settle(_ r: Reservation, tokens: Int, cost: Double) {
        // Usage as a backend reported it: bounded, so no report can overflow a counter.
        let deltaTokens = Self.bounded(tokens: tokens) - r.tokens
        let deltaCost = (cost.isFinite ? Self.bounded(cost: cost) : 0) - r.cost
        locked(Self.mask(r.held.lazy.map(\.stripe))) {
            for h in r.held {
                let s = stripes[h.stripe]
                guard var c = s.counters[h.scope] else { continue }
                c.concurrent = max(0, c.concurrent - 1)
                if c.minute == r.minute { c.minuteTokens = max(0, c.minuteTokens + deltaTokens) }
                if c.day == r.day { c.dayTokens = max(0, c.dayTokens + deltaTokens) }
                if let p = h.budgetPeriod, c.budgetPeriod == p { c.spent = max(0, c.spent + deltaCost) }
                s.counters[h.scope] = c
            }
        }
    }

    /// Adds what the database granted to the windows it was leased for (a window that has
    /// ended meanwhile takes nothing); a grant short of the ask means the database has no more.
    public func apply(_ grants: [LeaseGrant], at nanos: Int64? = nil) {
        let unix = (nanos ?? now()) / 1_000_000_000
        let indices = grants.map { stripe($0.need.scope) }
        locked(Self.mask(indices)) {
            for (n, g) in grants.enumerated() {
                let s = stripes[indices[n]]
                var c = s.counters[g.need.scope] ?? Counter()
                c.roll(minute: LimitCalendar.minute(unix), day: LimitCalendar.day(unix))
                if g.need.dimension == .budgetMicroUSD { c.roll(period: g.need.window) }
                guard c.window(g.need.dimension) == g.need.window else { continue }
                c.granted[g.need.dimension.index] += g.granted
                if g.granted < g.need.amount { c.exhausted |= 1 << g.need.dimension.index }
                s.counters[g.need.scope] = c
            }
        }
    }

    /// Adds spend recorded before this process started (from the ledger) to a scope's budget period.
    public func addSpent(_ usd: Double, scope: LimitScope, period: Budget.Period, at nanos: Int64? = nil) {
        let p = LimitCalendar.period(period, (nanos ?? now()) / 1_000_000_000)
        let i = stripe(scope)
        locked(1 << UInt32(i)) {
            var c = stripes[i].counters[scope] ?? Counter()
            c.roll(period: p)
            c.spent += usd
            stripes[i].counters[scope] = c
        }
    }

    /// A scope's usage now, for the analytics endpoints: requests and tokens this minute and
    /// today, requests in flight, and budget spent in the current period.
    public struct Usage: Sendable, Equatable {
        public var minuteRequests = 0, minuteTokens = 0, dayRequests = 0, dayTokens = 0, concurrent = 0
        public var spent = 0.0
    }

    public func usage(_ scope: LimitScope, budgetPeriod: Budget.Period? = nil, at nanos: Int64? = nil) -> Usage {
        let unix = (nanos ?? now()) / 1_000_000_000
        let i = stripe(scope)
        return locked(1 << UInt32(i)) {
            guard var c = stripes[i].counters[scope] else { return Usage() }
            c.roll(minute: LimitCalendar.minute(unix), day: LimitCalendar.day(unix))
            if let p = budgetPeriod { c.roll(period: LimitCalendar.period(p, unix)) }
            return Usage(
                minuteRequests: c.minuteRequests, minuteTokens: c.minuteTokens, dayRequests: c.dayRequests, dayTokens: c.dayTokens,
                concurrent: c.concurrent, spent: budgetPeriod == nil ? 0 : c.spent)
        }
    }

    /// Drops counters with nothing in flight and nothing counted today (user scopes come and go).
    func prune(_ s: Stripe, day: Int64) {
        s.counters = s.counters.filter { !$0.value.idle || $0.value.day == day || $0.value.spent > 0 }
        s.pruneAt = max(4096, s.counters.count * 2)
    }
}
