import SightglassConfig

/// `/metrics/rate-limits…` answers. Limits come from the configuration and the keys; usage
/// from the limiter's live windows; throttle figures from finished requests since the start.
public struct RateLimitScopeStatus: Encodable, Sendable {
    public struct Usage: Encodable, Sendable {
        var requestsThisMinute: Int
        var tokensThisMinute: Int
        var requestsToday: Int
        var tokensToday: Int
        var concurrentRequests: Int
        @ExplicitNull var spentUsd: Double?
        enum CodingKeys: String, CodingKey {
            case requestsThisMinute = "requests_this_minute", tokensThisMinute = "tokens_this_minute", requestsToday = "requests_today"
            case tokensToday = "tokens_today", concurrentRequests = "concurrent_requests", spentUsd = "spent_usd"
        }
    }
    /// Used ÷ limit per dimension set (0–1, above 1 only for tokens beyond a reservation).
    public struct Utilization: Encodable, Sendable {
        @ExplicitNull var requestsPerMinute: Double?
        @ExplicitNull var tokensPerMinute: Double?
        @ExplicitNull var requestsPerDay: Double?
        @ExplicitNull var tokensPerDay: Double?
        @ExplicitNull var maxConcurrentRequests: Double?
        @ExplicitNull var budget: Double?
        enum CodingKeys: String, CodingKey {
            case requestsPerMinute = "requests_per_minute", tokensPerMinute = "tokens_per_minute", requestsPerDay = "requests_per_day"
            case tokensPerDay = "tokens_per_day", maxConcurrentRequests = "max_concurrent_requests", budget
        }
        var max: Double { [requestsPerMinute, tokensPerMinute, requestsPerDay, tokensPerDay, maxConcurrentRequests, budget].compactMap { $0 }.max() ?? 0 }
    }

    var scope: String
    var id: String
    @ExplicitNull var projectId: String?
    @ExplicitNull var tier: String?
    var limits: RateLimits
    @ExplicitNull var budget: Budget?
    var usage: Usage
    var utilization: Utilization
    var maxUtilization: Double
    var usageSpent: Double? { usage.spentUsd }

    enum CodingKeys: String, CodingKey {
        case scope, id, tier, limits, budget, usage, utilization
        case projectId = "project_id", maxUtilization = "max_utilization"
    }
}

public struct ThrottleCallerAnswer: Codable, Sendable {
    var caller: String
    var requestsAttempted: Int
    var requestsAllowed: Int
    var requestsThrottled: Int
    var throttleRate: Double
    var tokensConsumed: Int
    var byDimension: [String: Int]
    var avgRetryAfterSeconds: Double
    var maxRetryAfterSeconds: Int
    var peakRequestsPerSecond: Int
    var throttledLast60s: Int

    enum CodingKeys: String, CodingKey {
        case caller
        case requestsAttempted = "requests_attempted", requestsAllowed = "requests_allowed", requestsThrottled = "requests_throttled"
        case throttleRate = "throttle_rate", tokensConsumed = "tokens_consumed", byDimension = "by_dimension"
        case avgRetryAfterSeconds = "avg_retry_after_seconds", maxRetryAfterSeconds = "max_retry_after_seconds"
        case peakRequestsPerSecond = "peak_requests_per_second", throttledLast60s = "throttled_last_60s"
    }
}

public struct ThrottleAnalyticsAnswer: Encodable, Sendable {
    public struct Minute: Encodable, Sendable {
        var timestamp: Int
        var throttled: Int
        var byDimension: [String: Int]
        enum CodingKeys: String, CodingKey {
            case timestamp, throttled
            case byDimension = "by_dimension"
        }
    }
    public struct Bucket: Encodable, Sendable {
        /// Upper bound in seconds; null for the open last bucket.
        @ExplicitNull var le: Int?
        var count: Int
    }
    var since: Double
    var requestsAttempted: Int
    var requestsThrottled: Int
    var throttleRate: Double
    var byDimension: [String: Int]
    var retryAfterDistribution: [Bucket]
    var timeline: [Minute]
    var topThrottled: [ThrottleCallerAnswer]

    enum CodingKeys: String, CodingKey {
        case since, timeline
        case requestsAttempted = "requests_attempted", requestsThrottled = "requests_throttled", throttleRate = "throttle_rate"
        case byDimension = "by_dimension", retryAfterDistribution = "retry_after_distribution", topThrottled = "top_throttled"
    }
}

public struct AbusePatternAnswer: Encodable, Sendable {
    var caller: String
    /// `high_throttle_rate`, `excessive_retries`, `burst`, `quota_exhaustion`.
    var pattern: String
    var value: Double
    var threshold: Double
}

public struct TierAnswer: Encodable, Sendable {
    var name: String
    var limits: RateLimits
    var keys: [String]
    var projects: [String]
    var requestsThrottled: Int
}

public struct RateLimitsAnswer: Encodable, Sendable {
    /// Whether any limit or budget is set (configuration, keys or projects).
    var enabled: Bool
    var since: Double
    var minuteResetsAt: Int64
    var dayResetsAt: Int64
    var scopes: [RateLimitScopeStatus]
    var tiers: [TierAnswer]
    var throttleAnalytics: ThrottleAnalyticsAnswer
    var abusePatterns: [AbusePatternAnswer]

    enum CodingKeys: String, CodingKey {
        case enabled, since, scopes, tiers
        case minuteResetsAt = "minute_resets_at", dayResetsAt = "day_resets_at"
        case throttleAnalytics = "throttle_analytics", abusePatterns = "abuse_patterns"
    }
}

public struct KeyRateLimitAnswer: Encodable, Sendable {
    var keyId: String
    var status: RateLimitScopeStatus
    @ExplicitNull var throttling: ThrottleCallerAnswer?
    enum CodingKeys: String, CodingKey {
        case status, throttling
        case keyId = "key_id"
    }
}
