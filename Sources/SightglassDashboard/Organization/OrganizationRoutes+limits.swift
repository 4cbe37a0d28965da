import Foundation
import Hummingbird
import SightglassConfig
import SightglassGovernance
import SightglassStore

/// Limits and budgets in the Admin API: a key's in its creation body, a project's budget, and
/// OpenAI's per-model project rate limits.
extension OrganizationRoutes {
    /// `rate_limits`, `tier` and `budget` of a key-creation body, checked: each limit a positive
    /// whole number of a known dimension, the tier one the configuration defines.
    func keyLimits(_ body: AdminBody) throws -> KeyLimits {
        var limits = KeyLimits()
        if let r = try body.object("rate_limits", allowed: Set(RateLimits.names)) {
            limits.rateLimits = try Self.rateLimits(r, prefix: "rate_limits", names: RateLimits.names)
        }
        if let tier = try body.string("tier") {
            let known = tiers()
            guard known[tier] != nil else {
                let list = known.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")
                throw AdminAPIError.invalid(param: "tier", "no tier '\(tier)' in the configuration (limits.tiers has \(list.isEmpty ? "none" : list))")
            }
            limits.tier = tier
        }
        limits.budget = try Self.budget(body, field: "budget")
        return limits
    }

    /// Five dimensions read from `body` under `names` (the key body's or OpenAI's), in RateLimits order.
    static func rateLimits(_ body: AdminBody, prefix: String, names: [String]) throws -> RateLimits {
        var limits = RateLimits()
        for (name, d) in zip(names, RateLimits.dimensions) {
            limits[keyPath: d] = try Self.positive(body, name, param: prefix.isEmpty ? name : "\(prefix).\(name)")
        }
        return limits
    }

    static func positive(_ body: AdminBody, _ name: String, param: String) throws -> Int? {
        switch body.fields[name] {
        case nil, .null?: return nil
        case .number(let n)? where n == n.rounded() && n > 0 && n <= Double(1 << 50): return Int(n)
        default: throw AdminAPIError.invalid(param: param, "'\(param)' must be a positive whole number (at most 2^50)")
        }
    }

    /// A budget object `{"amount_usd", "period": "day"|"week"|"month", "mode": "soft"|"hard"}`.
    static func budget(_ body: AdminBody, field: String?) throws -> Budget? {
        let b: AdminBody
        let at = field.map { $0 + "." } ?? ""
        if let field {
            guard let nested = try body.object(field, allowed: ["amount_usd", "period", "mode"]) else { return nil }
            b = nested
        } else {
            b = body
        }
        guard case .number(let amount)? = b.fields["amount_usd"], amount.isFinite, amount > 0, amount <= Budget.maxAmountUSD else {
            throw AdminAPIError.invalid(
                param: "\(at)amount_usd", "'\(at)amount_usd' is required and must be a positive number of USD, at most 1,000,000,000")
        }
        var budget = Budget(amountUSD: amount)
        if let p = try b.string("period") {
            guard let period = Budget.Period(rawValue: p) else {
                throw AdminAPIError.invalid(param: "\(at)period", "'\(at)period' must be one of day, week, month")
            }
            budget.period = period
        }
        if let m = try b.string("mode") {
            guard let mode = Budget.Mode(rawValue: m) else { throw AdminAPIError.invalid(param: "\(at)mode", "'\(at)mode' must be soft or hard") }
            budget.mode = mode
        }
        return budget
    }

    // MARK: - Project budget

    /// `PUT /v1/organization/projects/{id}/budget` with a budget object.
    func putProjectBudget(_ req: Request, _ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> ProjectBudgetObject {
        let project: String = try ctx.parameters.require("project_id")
        let body = try await AdminBody.read(req, allowed: ["amount_usd", "period", "mode"])
        guard let budget = try Self.budget(body, field: nil) else { throw AdminAPIError.invalid(param: "amount_usd", "a budget is required") }
        var limits = try await org.projectLimits(project).own
        let before = limits.budget
        limits.budget = budget
        try await org.setProjectLimits(project, limits)
        await changed(
            "project_budget_set", admin, resource: project, before: before.map(JSONValue.init(encoding:)) ?? .null, after: JSONValue(encoding: budget))
        return ProjectBudgetObject(projectId: project, budget: budget)
    }

    func getProjectBudget(_ ctx: ControlContext, _ org: Organization) async throws -> ProjectBudgetObject {
        let project: String = try ctx.parameters.require("project_id")
        guard let budget = try await org.projectLimits(project).own.budget else { throw IdentityError.notFound(kind: "budget", id: project) }
        return ProjectBudgetObject(projectId: project, budget: budget)
    }

    func deleteProjectBudget(_ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> DeletedObject {
        let project: String = try ctx.parameters.require("project_id")
        var limits = try await org.projectLimits(project).own
        guard let before = limits.budget else { throw IdentityError.notFound(kind: "budget", id: project) }
        limits.budget = nil
        try await org.setProjectLimits(project, limits)
        await changed("project_budget_removed", admin, resource: project, before: JSONValue(encoding: before))
        return DeletedObject(object: "organization.project.budget.deleted", id: project)
    }

    // MARK: - Project rate limits (OpenAI's shape)

    static let openAILimitNames = [
        "max_requests_per_1_minute", "max_tokens_per_1_minute", "max_requests_per_1_day", "max_tokens_per_1_day", "max_concurrent_requests",
    ]

    /// `GET …/rate_limits`: one entry per model the backends serve or a limit names, limits
    /// unset shown as null.
    func listProjectRateLimits(_ req: Request, _ ctx: ControlContext, _ org: Organization) async throws -> OrgList<ProjectRateLimitObject> {
        let (limit, after, _) = try Self.paging(req, extra: ["before"])
        let project: String = try ctx.parameters.require("project_id")
        let set = try await org.projectLimits(project).models
        let all = Set(models()).union(set.keys).sorted()
        let items = all.map { ProjectRateLimitObject(model: $0, limits: set[$0] ?? RateLimits()) }
        let start = after.flatMap { a in items.firstIndex { $0.id == a }.map { $0 + 1 } } ?? 0
        let slice = Array(items[min(start, items.count)...].prefix(limit))
        return OrgList(Page(items: slice, hasMore: start + slice.count < items.count), id: \.id)
    }

    /// `POST …/rate_limits/{rate_limit_id}`: sets the fields given (null clears one).
    func modifyProjectRateLimit(_ req: Request, _ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> ProjectRateLimitObject {
        let project: String = try ctx.parameters.require("project_id")
        let id: String = try ctx.parameters.require("rate_limit_id")
        let decoded = id.removingPercentEncoding ?? id
        guard decoded.hasPrefix("rl-"), decoded.count > 3 else { throw IdentityError.notFound(kind: "rate_limit", id: decoded) }
        let model = String(decoded.dropFirst(3))
        let body = try await AdminBody.read(req, allowed: Set(Self.openAILimitNames))
        let given = try Self.rateLimits(body, prefix: "", names: Self.openAILimitNames)
        var limits = try await org.projectLimits(project).models[model] ?? RateLimits()
        let before = limits
        limits = limits.overridden(by: given)
        // An explicit null clears a dimension.
        for (name, d) in zip(Self.openAILimitNames, RateLimits.dimensions) where body.fields[name] == .null { limits[keyPath: d] = nil }
        try await org.setProjectModelLimits(project, model: model, limits)
        await changed(
            "project_rate_limit_set", admin, resource: "\(project)/\(decoded)", before: JSONValue(encoding: before), after: JSONValue(encoding: limits))
        return ProjectRateLimitObject(model: model, limits: limits)
    }

}

/// OpenAI's `project.rate_limit` object, with our `max_tokens_per_1_day` and `max_concurrent_requests`.
struct ProjectRateLimitObject: Encodable, Sendable {
    var object = "project.rate_limit"
    var id: String
    var model: String
    @ExplicitNull var maxRequestsPer1Minute: Int?
    @ExplicitNull var maxTokensPer1Minute: Int?
    @ExplicitNull var maxRequestsPer1Day: Int?
    @ExplicitNull var maxTokensPer1Day: Int?
    @ExplicitNull var maxConcurrentRequests: Int?

    init(model: String, limits: RateLimits) {
        id = "rl-" + model
        self.model = model
        maxRequestsPer1Minute = limits.requestsPerMinute
        maxTokensPer1Minute = limits.tokensPerMinute
        maxRequestsPer1Day = limits.requestsPerDay
        maxTokensPer1Day = limits.tokensPerDay
        maxConcurrentRequests = limits.maxConcurrentRequests
    }

    enum CodingKeys: String, CodingKey {
        case object, id, model
        case maxRequestsPer1Minute = "max_requests_per_1_minute", maxTokensPer1Minute = "max_tokens_per_1_minute"
        case maxRequestsPer1Day = "max_requests_per_1_day", maxTokensPer1Day = "max_tokens_per_1_day"
        case maxConcurrentRequests = "max_concurrent_requests"
    }
}

/// A project's budget as the Admin API answers it.
struct ProjectBudgetObject: Encodable, Sendable {
    var object = "organization.project.budget"
    var projectId: String
    var amountUsd: Double
    var period: String
    var mode: String

    init(projectId: String, budget: Budget) {
        self.projectId = projectId
        amountUsd = budget.amountUSD
        period = budget.period.rawValue
        mode = budget.mode.rawValue
    }

    enum CodingKeys: String, CodingKey {
        case object, period, mode
        case projectId = "project_id", amountUsd = "amount_usd"
    }
}
