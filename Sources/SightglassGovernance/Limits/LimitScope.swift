import SightglassConfig

/// Which traffic one set of limits applies to.
public enum LimitScope: Hashable, Sendable {
    case key(String)
    case project(String)
    /// One model's traffic within a project (OpenAI's project rate limits).
    case projectModel(project: String, model: String)
    /// A key's owner, or the end user a key may name.
    case user(String)
    /// All traffic to a model.
    case model(String)
    /// All traffic to a backend.
    case backend(String)

    /// The scope's kind, as metrics and error messages name it.
    public var kind: String {
        switch self {
        case .key: "key"
        case .project: "project"
        case .projectModel: "project_model"
        case .user: "user"
        case .model: "model"
        case .backend: "backend"
        }
    }

    /// How a refusal names the limit to the caller: its own key, project, user or model; never
    /// another tenant's data.
    public var description: String {
        switch self {
        case .key(let id): "key \(id)"
        case .project(let id): "project \(id)"
        case .projectModel(let project, let model): "model \(model) in project \(project)"
        case .user(let id): "user \(id)"
        case .model(let name): "model \(name)"
        case .backend(let name): "backend \(name)"
        }
    }
}

/// What is limited.
public enum LimitDimension: String, Sendable, CaseIterable {
    case requestsPerMinute = "requests_per_minute"
    case tokensPerMinute = "tokens_per_minute"
    case requestsPerDay = "requests_per_day"
    case tokensPerDay = "tokens_per_day"
    case concurrentRequests = "max_concurrent_requests"
    case budget

    /// OpenAI's error `type` for a refusal on this dimension.
    public var openAIType: String {
        switch self {
        case .tokensPerMinute, .tokensPerDay: "tokens"
        case .budget: "insufficient_quota"
        default: "requests"
        }
    }

    /// Words for messages: "requests per minute (RPM)".
    public var words: String {
        switch self {
        case .requestsPerMinute: "requests per minute (RPM)"
        case .tokensPerMinute: "tokens per minute (TPM)"
        case .requestsPerDay: "requests per day (RPD)"
        case .tokensPerDay: "tokens per day (TPD)"
        case .concurrentRequests: "concurrent requests"
        case .budget: "budget"
        }
    }
}

/// One scope's limits and budget, as one request is checked against them.
public struct LimitCheck: Sendable, Equatable {
    public var scope: LimitScope
    public var limits: RateLimits
    public var budget: Budget?

    public init(scope: LimitScope, limits: RateLimits, budget: Budget? = nil) {
        self.scope = scope
        self.limits = limits
        self.budget = budget
    }
}

/// One window's state as the response headers report it.
public struct LimitWindow: Sendable, Equatable {
    public var limit: Int
    public var remaining: Int
    /// Seconds until the window ends and its capacity is whole again.
    public var resetSeconds: Double
    /// Unix seconds of that moment (seed 002's `X-RateLimit-Reset`).
    public var resetAt: Int64

    public init(limit: Int, remaining: Int, resetSeconds: Double, resetAt: Int64) {
        self.limit = limit
        self.remaining = remaining
        self.resetSeconds = resetSeconds
        self.resetAt = resetAt
    }
}

/// What admission reports: the tightest request window and the tightest token window among
/// the request's scopes, after this request's charge (nil when no such limit applies).
public struct LimitStatus: Sendable, Equatable {
    public var requests: LimitWindow?
    public var tokens: LimitWindow?

    public init(requests: LimitWindow? = nil, tokens: LimitWindow? = nil) {
        self.requests = requests
        self.tokens = tokens
    }
}

/// Why a request is refused: which limit of which scope, and when to come back.
public struct LimitRefusal: Sendable, Equatable {
    public var scope: LimitScope
    public var dimension: LimitDimension
    /// The limit (requests, tokens or concurrent requests; for a budget, whole cents).
    public var limit: Int
    /// What the request asked for on that dimension (its tokens, 1 request).
    public var requested: Int
    /// Whole seconds until enough capacity frees (at least 1).
    public var retryAfter: Int
    /// True when the request alone is larger than the limit: waiting will not help.
    public var neverFits: Bool
    public var status: LimitStatus

    /// The message the caller reads; it names the limit and the caller's own scope only.
    public var message: String {
        if dimension == .budget {
            return "You exceeded the budget of \(scope.description). Requests are refused until its period ends."
        }
        if neverFits {
            return
                "Request too large for \(dimension.words) of \(scope.description): limit \(limit), requested \(requested). Lower max_tokens or the input."
        }
        return "Rate limit reached for \(dimension.words) of \(scope.description): limit \(limit). Please try again in \(retryAfter)s."
    }
}

extension LimitStatus {
    /// Keeps `w` if it is tighter than the window held for its kind (less remaining; on a tie,
    /// the one that resets sooner).
    mutating func consider(_ w: LimitWindow, tokens: Bool) {
        let current = tokens ? self.tokens : requests
        if let c = current, c.remaining < w.remaining || (c.remaining == w.remaining && c.resetSeconds <= w.resetSeconds) { return }
        if tokens { self.tokens = w } else { requests = w }
    }

    /// The response header lines (each ending in CRLF): OpenAI's `x-ratelimit-*` for requests
    /// and tokens, and seed 002's `X-RateLimit-*` (the request window, else the token window;
    /// the reset as Unix seconds). Empty when no limit applies.
    public var headerLines: String {
        var out = ""
        if let r = requests {
            out += "x-ratelimit-limit-requests: \(r.limit)\r\nx-ratelimit-remaining-requests: \(r.remaining)\r\n"
            out += "x-ratelimit-reset-requests: \(LimitCalendar.goDuration(r.resetSeconds))\r\n"
        }
        if let t = tokens {
            out += "x-ratelimit-limit-tokens: \(t.limit)\r\nx-ratelimit-remaining-tokens: \(t.remaining)\r\n"
            out += "x-ratelimit-reset-tokens: \(LimitCalendar.goDuration(t.resetSeconds))\r\n"
        }
        if let w = requests ?? tokens {
            out += "X-RateLimit-Limit: \(w.limit)\r\nX-RateLimit-Remaining: \(w.remaining)\r\nX-RateLimit-Reset: \(w.resetAt)\r\n"
        }
        return out
    }
}

/// A window dimension whose capacity instances sharing a database lease from it.
public enum LeaseDimension: String, Sendable, Hashable, CaseIterable {
    case requestsPerMinute = "rpm", tokensPerMinute = "tpm", requestsPerDay = "rpd", tokensPerDay = "tpd"
    /// A hard budget, in millionths of a USD.
    case budgetMicroUSD = "usd"

    /// Its slot in a counter's fixed-size grant storage.
    var index: Int {
        switch self {
        case .requestsPerMinute: 0
        case .tokensPerMinute: 1
        case .requestsPerDay: 2
        case .tokensPerDay: 3
        case .budgetMicroUSD: 4
        }
    }

    var dimension: LimitDimension {
        switch self {
        case .requestsPerMinute: .requestsPerMinute
        case .tokensPerMinute: .tokensPerMinute
        case .requestsPerDay: .requestsPerDay
        case .tokensPerDay: .tokensPerDay
        case .budgetMicroUSD: .budget
        }
    }
}

/// Capacity an instance asks the database for: `amount` more of `scope`'s `dimension` in
/// `window`, out of `limit` for all instances together.
public struct LeaseNeed: Sendable, Hashable {
    public var scope: LimitScope
    public var dimension: LeaseDimension
    public var window: Int64
    public var amount: Int64
    public var limit: Int64

    /// How much to lease at a time: a sixteenth of the limit (at least 1), so a busy scope goes
    /// to the database about sixteen times a window, and capacity one instance holds unused is
    /// at most that much per instance.
    public static func chunk(_ limit: Int64) -> Int64 { Swift.max(1, limit / 16) }

    /// The scope as the database keys it.
    public var key: String {
        switch scope {
        case .key(let id): "key:\(id)"
        case .project(let id): "project:\(id)"
        case .projectModel(let p, let m): "project_model:\(p)/\(m)"
        case .user(let id): "user:\(id)"
        case .model(let m): "model:\(m)"
        case .backend(let b): "backend:\(b)"
        }
    }
}

public struct LeaseGrant: Sendable, Equatable {
    public var need: LeaseNeed
    public var granted: Int64

    public init(need: LeaseNeed, granted: Int64) {
        self.need = need
        self.granted = granted
    }
}

/// Where shared capacity comes from: PostgreSQL, for every instance using the same database.
public protocol LimitLeaseSource: Sendable {
    /// Grants up to each need's amount, never letting all instances together pass its limit.
    func lease(_ needs: [LeaseNeed]) async throws -> [LeaseGrant]
    /// The database's clock (Unix seconds), which every instance's windows follow.
    func databaseTime() async throws -> Double
}
