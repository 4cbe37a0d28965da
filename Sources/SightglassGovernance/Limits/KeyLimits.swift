import SightglassConfig

/// The limits and budget a key (or a project) is given: a tier named in the configuration,
/// per-dimension overrides on top of it, and a budget. Stored as JSON beside the key.
public struct KeyLimits: Codable, Sendable, Equatable, Hashable {
    public var rateLimits: RateLimits
    public var tier: String?
    public var budget: Budget?

    public init(rateLimits: RateLimits = RateLimits(), tier: String? = nil, budget: Budget? = nil) {
        self.rateLimits = rateLimits
        self.tier = tier
        self.budget = budget
    }

    public var isEmpty: Bool { rateLimits.isEmpty && tier == nil && budget == nil }

    enum CodingKeys: String, CodingKey {
        case rateLimits = "rate_limits", tier, budget
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rateLimits = try c.decodeIfPresent(RateLimits.self, forKey: .rateLimits) ?? RateLimits()
        tier = try c.decodeIfPresent(String.self, forKey: .tier)
        budget = try c.decodeIfPresent(Budget.self, forKey: .budget)
    }

    /// The tier's limits with the overrides on top; a tier the configuration no longer has
    /// counts as none (a reload that removes it must not lock its members out).
    public func effective(tiers: [String: RateLimits]) -> RateLimits {
        (tier.flatMap { tiers[$0] } ?? RateLimits()).overridden(by: rateLimits)
    }
}

/// A project's limits: its own (tier, overrides, budget) and per model within it.
public struct ProjectLimits: Sendable, Equatable {
    public var own: KeyLimits
    public var models: [String: RateLimits]

    public init(own: KeyLimits = KeyLimits(), models: [String: RateLimits] = [:]) {
        self.own = own
        self.models = models
    }
}

/// Which checks one request faces, from everything that can limit it. A pure function, so
/// each source of limits is a unit test.
public enum LimitPlan {
    public static func checks(
        grant: KeyGrant?, project: ProjectLimits?, user: String?, model: String, backend: String, settings: LimitSettings
    ) -> [LimitCheck] {
        var out: [LimitCheck] = []
        if let grant {
            let own = grant.limits.effective(tiers: settings.tiers)
            if !own.isEmpty || grant.limits.budget != nil {
                out.append(LimitCheck(scope: .key(grant.keyId), limits: own, budget: grant.limits.budget))
            }
            if let project {
                let p = project.own.effective(tiers: settings.tiers)
                if !p.isEmpty || project.own.budget != nil {
                    out.append(LimitCheck(scope: .project(grant.projectId), limits: p, budget: project.own.budget))
                }
                if let m = project.models[model], !m.isEmpty {
                    out.append(LimitCheck(scope: .projectModel(project: grant.projectId, model: model), limits: m))
                }
            }
        }
        if let user, !settings.perUser.isEmpty || settings.perUserBudget != nil {
            out.append(LimitCheck(scope: .user(user), limits: settings.perUser, budget: settings.perUserBudget))
        }
        if let m = settings.models[model], !m.isEmpty { out.append(LimitCheck(scope: .model(model), limits: m)) }
        if let b = settings.backends[backend], !b.isEmpty { out.append(LimitCheck(scope: .backend(backend), limits: b)) }
        return out
    }

    /// Tokens a request reserves: its input estimated from the body's size (about four bytes a
    /// token) and its output cap, or the configured default when it sets none.
    public static func reservedTokens(bodyBytes: Int, maxTokens: Int?, defaultMaxTokens: Int, outputs: Bool) -> Int {
        max(1, bodyBytes / 4) + (outputs ? min(max(0, maxTokens ?? defaultMaxTokens), Int(Int32.max)) : 0)
    }
}
