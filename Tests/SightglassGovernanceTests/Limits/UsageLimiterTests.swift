import SightglassConfig
import Testing

@testable import SightglassGovernance

@Suite struct UsageLimiterTests {
    /// 2026-12-03 19:00:00 UTC, the start of a minute.
    static let t0: Int64 = 1_796_324_400 * 1_000_000_000
    static let second: Int64 = 1_000_000_000

    func limiter() -> UsageLimiter { UsageLimiter(unixNow: 0, monotonic: { 0 }) }

    func admitted(_ d: UsageLimiter.Decision) -> (UsageLimiter.Reservation, LimitStatus)? {
        if case .admitted(let r, let s) = d { return (r, s) }
        return nil
    }

    func refusal(_ d: UsageLimiter.Decision) -> LimitRefusal? {
        if case .refused(let r) = d { return r }
        return nil
    }

    @Test func requestsPerMinuteAdmitsExactlyTheLimitThenRefusesUntilTheWindowEnds() {
        let l = limiter()
        let checks = [LimitCheck(scope: .project("p"), limits: RateLimits(requestsPerMinute: 10))]
        var remaining: [Int] = []
        for i in 0..<10 {
            let a = admitted(l.admit(checks, tokens: 5, cost: 0, at: Self.t0 + Int64(i) * Self.second))
            remaining.append(a?.1.requests?.remaining ?? -1)
        }
        #expect(remaining == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
        let r = refusal(l.admit(checks, tokens: 5, cost: 0, at: Self.t0 + 15 * Self.second))
        #expect(r?.dimension == .requestsPerMinute)
        #expect(r?.scope == .project("p"))
        #expect(r?.retryAfter == 45)
        #expect(r?.neverFits == false)
        // The next minute is whole again.
        #expect(admitted(l.admit(checks, tokens: 5, cost: 0, at: Self.t0 + 60 * Self.second))?.1.requests?.remaining == 9)
    }

    @Test func aRequestRefusedByOneScopeChargesNoneOfThem() {
        let l = limiter()
        let key = LimitCheck(scope: .key("k"), limits: RateLimits(requestsPerMinute: 100))
        let model = LimitCheck(scope: .model("m"), limits: RateLimits(requestsPerMinute: 1))
        #expect(admitted(l.admit([key, model], tokens: 1, cost: 0, at: Self.t0)) != nil)
        #expect(refusal(l.admit([key, model], tokens: 1, cost: 0, at: Self.t0))?.scope == .model("m"))
        #expect(l.usage(.key("k"), at: Self.t0).minuteRequests == 1)
    }

    @Test func tokensAreReservedAtAdmissionAndSettledToTheExactUsage() {
        let l = limiter()
        let checks = [LimitCheck(scope: .key("k"), limits: RateLimits(tokensPerMinute: 1000))]
        let first = admitted(l.admit(checks, tokens: 600, cost: 0, at: Self.t0))
        #expect(first?.1.tokens?.remaining == 400)
        // 600 reserved: a second request of 600 does not fit...
        let refused = refusal(l.admit(checks, tokens: 600, cost: 0, at: Self.t0 + Self.second))
        #expect(refused?.dimension == .tokensPerMinute)
        #expect(refused?.dimension.openAIType == "tokens")
        // ...until the first settles at 100 tokens, returning what it did not use.
        l.settle(first!.0, tokens: 100, cost: 0)
        #expect(l.usage(.key("k"), at: Self.t0).minuteTokens == 100)
        #expect(admitted(l.admit(checks, tokens: 600, cost: 0, at: Self.t0 + 2 * Self.second)) != nil)
    }

    @Test func usageBeyondTheReservationIsCharged() {
        let l = limiter()
        let checks = [LimitCheck(scope: .key("k"), limits: RateLimits(tokensPerDay: 10_000))]
        let a = admitted(l.admit(checks, tokens: 100, cost: 0, at: Self.t0))!
        l.settle(a.0, tokens: 350, cost: 0)
        #expect(l.usage(.key("k"), at: Self.t0).dayTokens == 350)
    }

    @Test func aRequestLargerThanTheLimitIsSaidNeverToFit() {
        let l = limiter()
        let r = refusal(l.admit([LimitCheck(scope: .key("k"), limits: RateLimits(tokensPerMinute: 100))], tokens: 500, cost: 0, at: Self.t0))
        #expect(r?.neverFits == true)
        #expect(r?.message.contains("Request too large") == true)
    }

    @Test func concurrencyIsHeldUntilSettled() {
        let l = limiter()
        let checks = [LimitCheck(scope: .user("u"), limits: RateLimits(maxConcurrentRequests: 2))]
        let a = admitted(l.admit(checks, tokens: 1, cost: 0, at: Self.t0))!
        _ = admitted(l.admit(checks, tokens: 1, cost: 0, at: Self.t0))!
        #expect(refusal(l.admit(checks, tokens: 1, cost: 0, at: Self.t0))?.dimension == .concurrentRequests)
        l.settle(a.0, tokens: 1, cost: 0)
        #expect(admitted(l.admit(checks, tokens: 1, cost: 0, at: Self.t0)) != nil)
    }

    @Test func aHardBudgetAdmitsWhileAnyIsLeftCountingReservations() {
        let l = limiter()
        let checks = [LimitCheck(scope: .key("k"), limits: RateLimits(), budget: Budget(amountUSD: 0.01, period: .day, mode: .hard))]
        let a = admitted(l.admit(checks, tokens: 1, cost: 0.006, at: Self.t0))!
        let b = admitted(l.admit(checks, tokens: 1, cost: 0.006, at: Self.t0))!
        // 0.012 reserved: the budget is taken.
        let r = refusal(l.admit(checks, tokens: 1, cost: 0.001, at: Self.t0))
        #expect(r?.dimension == .budget)
        #expect(r?.dimension.openAIType == "insufficient_quota")
        // Both settle cheaper than reserved: room again.
        l.settle(a.0, tokens: 1, cost: 0.002)
        l.settle(b.0, tokens: 1, cost: 0.002)
        #expect(admitted(l.admit(checks, tokens: 1, cost: 0.001, at: Self.t0)) != nil)
        // The next day starts at zero.
        #expect(abs(l.usage(.key("k"), budgetPeriod: .day, at: Self.t0 + 86_400 * Self.second).spent) < 1e-12)
    }

    @Test func aSoftBudgetNeverRefuses() {
        let l = limiter()
        let checks = [LimitCheck(scope: .project("p"), limits: RateLimits(), budget: Budget(amountUSD: 0.01, period: .month, mode: .soft))]
        for _ in 0..<5 { #expect(admitted(l.admit(checks, tokens: 1, cost: 0.01, at: Self.t0)) != nil) }
        #expect(l.usage(.project("p"), budgetPeriod: .month, at: Self.t0).spent > 0.049)
    }

    @Test func theHeadersReportTheTightestWindow() {
        let l = limiter()
        let checks = [
            LimitCheck(scope: .key("k"), limits: RateLimits(requestsPerMinute: 100, tokensPerMinute: 10_000)),
            LimitCheck(scope: .project("p"), limits: RateLimits(requestsPerMinute: 5, requestsPerDay: 1000, tokensPerDay: 50_000)),
        ]
        let s = admitted(l.admit(checks, tokens: 100, cost: 0, at: Self.t0 + 30 * Self.second))!.1
        #expect(s.requests == LimitWindow(limit: 5, remaining: 4, resetSeconds: 30, resetAt: 1_796_324_460))
        #expect(s.tokens?.limit == 10_000)
        #expect(s.tokens?.remaining == 9_900)
    }

    @Test func windowsFollowTheMonotonicClockNotTheWallClock() {
        // The process starts at t0 on the wall clock; the monotonic clock reads 5 s.
        let clock = ManualClock(5 * Self.second)
        let l = UsageLimiter(unixNow: Double(Self.t0) / 1e9, monotonic: { clock.read() })
        let checks = [LimitCheck(scope: .key("k"), limits: RateLimits(requestsPerMinute: 1))]
        #expect(admitted(l.admit(checks, tokens: 1, cost: 0)) != nil)
        // 30 s later by the monotonic clock, whatever the host clock says: the same window.
        clock.advance(30 * Self.second)
        #expect(refusal(l.admit(checks, tokens: 1, cost: 0))?.retryAfter == 30)
        clock.advance(30 * Self.second)
        #expect(admitted(l.admit(checks, tokens: 1, cost: 0)) != nil)
    }

    @Test func aClockStepBackDoesNotResetTheCurrentWindow() {
        let l = limiter()
        let checks = [LimitCheck(scope: .key("k"), limits: RateLimits(requestsPerMinute: 1))]
        #expect(admitted(l.admit(checks, tokens: 1, cost: 0, at: Self.t0 + 60 * Self.second)) != nil)
        // A moment from the previous minute (a calibration stepped back a little): still refused.
        #expect(refusal(l.admit(checks, tokens: 1, cost: 0, at: Self.t0 + 59 * Self.second)) != nil)
    }

    @Test func absurdReservationsAndUsageCannotOverflowTheCounters() {
        let l = limiter()
        let checks = [LimitCheck(scope: .key("k"), limits: RateLimits(tokensPerDay: 1 << 50))]
        let a = admitted(l.admit(checks, tokens: Int.max, cost: .infinity, at: Self.t0))
        #expect(a != nil)
        l.settle(a!.0, tokens: Int.max, cost: .nan)
        #expect(l.usage(.key("k"), at: Self.t0).dayTokens == 1 << 40)
    }

    @Test func concurrentAdmissionsNeverPassTheLimit() async {
        let l = limiter()
        let checks = [LimitCheck(scope: .project("p"), limits: RateLimits(requestsPerMinute: 500))]
        let counts = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    var n = 0
                    for _ in 0..<200 where admitted(l.admit(checks, tokens: 1, cost: 0, at: Self.t0)) != nil { n += 1 }
                    return n
                }
            }
            return await group.reduce(0, +)
        }
        #expect(counts == 500)
    }
}

/// Shared mode: an instance admits only what it leased of a window from the database.
@Suite struct SharedLimiterTests {
    static let t0 = UsageLimiterTests.t0
    let checks = [LimitCheck(scope: .project("p"), limits: RateLimits(requestsPerMinute: 32))]

    func shared() -> UsageLimiter { UsageLimiter(unixNow: 0, shared: true, monotonic: { 0 }) }

    @Test func aWindowWithoutALeaseAsksForAChunkOfIt() {
        let l = shared()
        guard case .needsLease(let needs) = l.admit(checks, tokens: 1, cost: 0, at: Self.t0) else {
            Issue.record("expected a lease round")
            return
        }
        #expect(
            needs == [
                LeaseNeed(scope: .project("p"), dimension: .requestsPerMinute, window: LimitCalendar.minute(Self.t0 / 1_000_000_000), amount: 2, limit: 32)
            ])
        l.apply([LeaseGrant(need: needs[0], granted: 2)], at: Self.t0)
        // Two admitted from the lease without asking again; the third asks.
        for _ in 0..<2 {
            guard case .admitted = l.admit(checks, tokens: 1, cost: 0, at: Self.t0) else {
                Issue.record("expected admission from the lease")
                return
            }
        }
        guard case .needsLease = l.admit(checks, tokens: 1, cost: 0, at: Self.t0) else {
            Issue.record("expected a second lease round")
            return
        }
    }

    @Test func aShortGrantMeansTheDatabaseHasNoMoreUntilTheWindowEnds() {
        let l = shared()
        guard case .needsLease(let needs) = l.admit(checks, tokens: 1, cost: 0, at: Self.t0) else { return }
        l.apply([LeaseGrant(need: needs[0], granted: 0)], at: Self.t0)
        guard case .refused(let r) = l.admit(checks, tokens: 1, cost: 0, allowLease: false, at: Self.t0) else {
            Issue.record("expected a refusal")
            return
        }
        #expect(r.dimension == .requestsPerMinute && r.status.requests?.remaining == 0)
        // No further round trip in this window...
        guard case .refused = l.admit(checks, tokens: 1, cost: 0, at: Self.t0 + 1_000_000_000) else {
            Issue.record("expected a refusal without a lease round")
            return
        }
        // ...and the next window starts over.
        guard case .needsLease = l.admit(checks, tokens: 1, cost: 0, at: Self.t0 + 60_000_000_000) else {
            Issue.record("expected a lease round in the new window")
            return
        }
    }

    @Test func aHardBudgetUsedYesterdayLeasesAgainToday() {
        let l = shared()
        let budget = [LimitCheck(scope: .key("k"), limits: RateLimits(), budget: Budget(amountUSD: 1, period: .day, mode: .hard))]
        let day: Int64 = 86_400_000_000_000
        for t in [Self.t0, Self.t0 + day] {
            guard case .needsLease(let needs) = l.admit(budget, tokens: 1, cost: 0.01, at: t) else {
                Issue.record("expected a lease round")
                return
            }
            l.apply([LeaseGrant(need: needs[0], granted: needs[0].amount)], at: t)
            guard case .admitted(let r, _) = l.admit(budget, tokens: 1, cost: 0.01, allowLease: false, at: t) else {
                Issue.record("the grant of a new period must admit")
                return
            }
            l.settle(r, tokens: 1, cost: 0.01)
        }
    }

    @Test func aGrantForAWindowThatEndedIsDropped() {
        let l = shared()
        guard case .needsLease(let needs) = l.admit(checks, tokens: 1, cost: 0, at: Self.t0) else { return }
        l.apply([LeaseGrant(need: needs[0], granted: 2)], at: Self.t0 + 61_000_000_000)
        guard case .needsLease = l.admit(checks, tokens: 1, cost: 0, at: Self.t0 + 61_000_000_000) else {
            Issue.record("a stale grant must not admit in the next window")
            return
        }
    }
}

/// A monotonic clock a test moves by hand.
final class ManualClock: @unchecked Sendable {
    private var nanos: Int64
    init(_ start: Int64) { nanos = start }
    func read() -> Int64 { nanos }
    func advance(_ by: Int64) { nanos += by }
}
