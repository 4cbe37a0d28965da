/// Limits on one subject of traffic (a key, a project, a model within a project, a user, a model
/// or a backend): any subset of the five dimensions; a dimension left out does not limit.
/// The names are the key-creation body's and `limits.tiers.NAME`'s.
public struct RateLimits: Codable, Sendable, Equatable, Hashable {
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    public var requestsPerDay: Int?
    public var tokensPerDay: Int?
    public var maxConcurrentRequests: Int?

    public init(
        requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, requestsPerDay: Int? = nil, tokensPerDay: Int? = nil,
        maxConcurrentRequests: Int? = nil
    ) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.requestsPerDay = requestsPerDay
        self.tokensPerDay = tokensPerDay
        self.maxConcurrentRequests = maxConcurrentRequests
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case requestsPerMinute = "requests_per_minute", tokensPerMinute = "tokens_per_minute"
        case requestsPerDay = "requests_per_day", tokensPerDay = "tokens_per_day"
        case maxConcurrentRequests = "max_concurrent_requests"
    }

    /// The dimension names, as clients write them.
    public static let names = CodingKeys.allCases.map(\.rawValue)

    /// The five dimensions, in `names` order, for code that treats them alike.
    public static var dimensions: [WritableKeyPath<RateLimits, Int?>] {
        [\.requestsPerMinute, \.tokensPerMinute, \.requestsPerDay, \.tokensPerDay, \.maxConcurrentRequests]
    }

    public var isEmpty: Bool { self == RateLimits() }

    /// These limits with every dimension `other` sets taking its value (a tier plus a key's overrides).
    public func overridden(by other: RateLimits) -> RateLimits {
        var out = self
        for d in Self.dimensions where other[keyPath: d] != nil { out[keyPath: d] = other[keyPath: d] }
        return out
    }

    /// Every limit set must be a positive whole number: a limit of 0 would refuse everything,
    /// which is what revoking a key or archiving a project is for. `path` names the object.
    public func validate(at path: String) throws {
        for (name, d) in zip(Self.names, Self.dimensions) {
            if let value = self[keyPath: d], value <= 0 || value > 1 << 50 {
                throw ConfigError.field(path.isEmpty ? name : "\(path).\(name)", "must be a positive whole number (at most 2^50)")
            }
        }
    }
}

/// A spending cap in USD over a calendar period (UTC): `soft` only alerts, `hard` refuses
/// (429, `insufficient_quota`) once the period's spend would pass it.
public struct Budget: Codable, Sendable, Equatable, Hashable {
    public enum Period: String, Codable, Sendable, CaseIterable { case day, week, month }
    public enum Mode: String, Codable, Sendable, CaseIterable { case soft, hard }

    /// The largest budget accepted (a billion USD): above it a budget limits nothing anyway.
    public static let maxAmountUSD = 1e9

    public var amountUSD: Double
    public var period: Period
    public var mode: Mode

    public init(amountUSD: Double, period: Period = .month, mode: Mode = .hard) {
        self.amountUSD = amountUSD
        self.period = period
        self.mode = mode
    }

    enum CodingKeys: String, CodingKey {
        case amountUSD = "amount_usd", period, mode
    }

    /// `period` defaults to a month and `mode` to hard, as the Admin API's do.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        amountUSD = try c.decode(Double.self, forKey: .amountUSD)
        period = try c.decodeIfPresent(Period.self, forKey: .period) ?? .month
        mode = try c.decodeIfPresent(Mode.self, forKey: .mode) ?? .hard
    }

    public func validate(at path: String) throws {
        guard amountUSD.isFinite, amountUSD > 0, amountUSD <= Budget.maxAmountUSD else {
            throw ConfigError.field("\(path).amount_usd", "must be a positive number of USD, at most 1,000,000,000")
        }
    }
}
