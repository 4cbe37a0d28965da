import NIOConcurrencyHelpers

/// Throttle analytics, folded from finished requests off the request path: per caller (its
/// key, else its user, else its address) how many requests came, how many a limit refused, on
/// which dimension, with which `Retry-After`, and how bursty it is; and a per-minute timeline
/// of refusals for the last hour. Counts run from the process start.
public final class ThrottleTracker: Sendable {
    public struct Caller: Sendable, Equatable {
        public var attempted = 0
        public var allowed = 0
        public var throttled = 0
        public var tokens = 0
        public var byDimension: [String: Int] = [:]
        public var retryAfterSum = 0
        public var retryAfterMax = 0
        public var lastSeen = 0.0
        /// Requests per second over the last minute (second → count), for burst detection.
        var perSecond: [Int: Int] = [:]
        /// Seconds of refusals in the last minute, for retry storms.
        var throttledAt: [Double] = []

        /// The most requests seen in one second during the last minute.
        public func peakBurst(now: Double) -> Int {
            perSecond.filter { Double($0.key) > now - 60 }.values.max() ?? 0
        }

        /// Refused requests in the last 60 s: a client that keeps coming back is retrying.
        public func retries(now: Double) -> Int { throttledAt.filter { $0 > now - 60 }.count }

        public var throttleRate: Double { attempted > 0 ? Double(throttled) / Double(attempted) : 0 }
    }

    struct State {
        var callers: [String: Caller] = [:]
        /// Minute (Unix minutes) → dimension → refusals, for the last hour.
        var timeline: [Int: [String: Int]] = [:]
        var retryAfter: [Int] = Array(repeating: 0, count: ThrottleTracker.retryAfterBounds.count + 1)
    }

    /// Upper bounds (seconds) of the Retry-After distribution's buckets; the last bucket is open.
    public static let retryAfterBounds = [1, 5, 10, 30, 60, 300, 3600]
    /// Callers kept at most (the least recently seen go first).
    static let maxCallers = 10_000

    let state = NIOLockedValueBox(State())
    public let startedAt: Double

    public init(startedAt: Double) { self.startedAt = startedAt }

    /// Who a request counts against in the analytics: its key, else its user, else its address.
    public static func caller(_ e: RequestEvent) -> String {
        if let k = e.apiKeyId { return k }
        if let u = e.user { return "user:" + u }
        return "address:" + e.clientAddress
    }

    public func observe(_ events: [RequestEvent]) {
        state.withLockedValue { s in
            for e in events {
                let limited = e.errorType == .rateLimited || e.errorType == .budgetExceeded
                // Only traffic that limits could apply to: inference requests with a key or a user.
                guard limited || e.apiKeyId != nil else { continue }
                let at = e.startTime
                let id = Self.caller(e)
                var c = s.callers[id] ?? Caller()
                c.attempted += 1
                c.lastSeen = at
                let second = Int(at)
                c.perSecond[second, default: 0] += 1
                if c.perSecond.count > 64 { c.perSecond = c.perSecond.filter { $0.key > second - 60 } }
                if limited {
                    c.throttled += 1
                    let d = e.limitDimension ?? "unknown"
                    c.byDimension[d, default: 0] += 1
                    let retry = e.limitRetryAfter ?? 0
                    c.retryAfterSum += retry
                    c.retryAfterMax = max(c.retryAfterMax, retry)
                    c.throttledAt.append(at)
                    if c.throttledAt.count > 256 { c.throttledAt = c.throttledAt.filter { $0 > at - 60 } }
                    let minute = second / 60
                    s.timeline[minute, default: [:]][d, default: 0] += 1
                    if s.timeline.count > 61 { s.timeline = s.timeline.filter { $0.key > minute - 60 } }
                    let bucket = Self.retryAfterBounds.firstIndex { retry <= $0 } ?? Self.retryAfterBounds.count
                    s.retryAfter[bucket] += 1
                } else if e.status < 400 {
                    c.allowed += 1
                    c.tokens += e.inputTokens + e.outputTokens
                }
                s.callers[id] = c
            }
            if s.callers.count > Self.maxCallers {
                let keep = s.callers.sorted { $0.value.lastSeen > $1.value.lastSeen }.prefix(Self.maxCallers)
                s.callers = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
            }
        }
    }

    /// Every caller's figures.
    public var callers: [String: Caller] { state.withLockedValue { $0.callers } }

    /// Refusals per minute of the last hour, oldest first: (Unix seconds of the minute, dimension → count).
    public func timeline(now: Double) -> [(minute: Int, counts: [String: Int])] {
        let current = Int(now) / 60
        let t = state.withLockedValue { $0.timeline }
        return ((current - 59)...current).map { ($0 * 60, t[$0] ?? [:]) }
    }

    /// How many refusals had each Retry-After (bucket bounds as `retryAfterBounds`, then "more").
    public var retryAfterDistribution: [Int] { state.withLockedValue { $0.retryAfter } }
}
