import Foundation
import Hummingbird
import SightglassConfig
import SightglassGovernance
import SightglassStore

/// `/v1/organization/…`: OpenAI's Admin API over the organization kept in the ledger's
/// database. Every call needs an admin credential, whatever the dashboard's auth mode: an admin
/// key (`sk-sg-admin-…`, from `sightglass admin bootstrap`) whose owner is an organization
/// owner, or a dashboard API key (or JWT) with `dashboard:admin`. Refusals are audited.
struct OrganizationRoutes: RouteGroup {
    let ledger: LedgerWriter?
    let auth: DashboardAuth
    let audit: AuditLog
    /// The configuration's tiers (a key may only name one of them).
    let tiers: @Sendable () -> [String: RateLimits]
    /// The models the backends serve now (for the per-model rate limit list).
    let models: @Sendable () -> [String]
    /// Called after every change, so this instance's key table follows at once.
    let keysChanged: @Sendable () async -> Void

    /// Who is calling: an organization user (admin key) or a dashboard credential's name.
    struct Admin: Sendable {
        var name: String
        var user: OrgUser?
        var ip: String
    }

    func add(to router: Router<ControlContext>) {
        let r = self
        let org = router.group("/v1/organization")
        org.get("users") { req, ctx in await r.run(req, ctx) { o, _ in try await r.listUsers(req, o) } }
        org.get("users/:user_id") { req, ctx in await r.run(req, ctx) { o, _ in UserObject(try await o.user(try ctx.parameters.require("user_id"))) } }
        org.post("users/:user_id") { req, ctx in await r.run(req, ctx) { o, a in try await r.modifyUser(req, ctx, o, a) } }
        org.delete("users/:user_id") { req, ctx in await r.run(req, ctx) { o, a in try await r.deleteUser(ctx, o, a) } }

        org.get("invites") { req, ctx in
            await r.run(req, ctx) { o, _ in
                let (limit, after, _) = try Self.paging(req)
                return OrgList(try await o.invites(limit: limit, after: after).map(InviteObject.init), id: \.id)
            }
        }
        org.post("invites") { req, ctx in await r.run(req, ctx) { o, a in try await r.createInvite(req, o, a) } }
        org.get("invites/:invite_id") { req, ctx in await r.run(req, ctx) { o, _ in InviteObject(try await o.invite(try ctx.parameters.require("invite_id"))) }
        }
        org.delete("invites/:invite_id") { req, ctx in await r.run(req, ctx) { o, a in try await r.deleteInvite(ctx, o, a) } }
        org.post("invites/:invite_id/accept") { req, ctx in await r.run(req, ctx) { o, a in try await r.acceptInvite(req, ctx, o, a) } }

        org.get("projects") { req, ctx in await r.run(req, ctx) { o, _ in try await r.listProjects(req, o) } }
        org.post("projects") { req, ctx in await r.run(req, ctx) { o, a in try await r.createProject(req, o, a) } }
        org.get("projects/:project_id") { req, ctx in
            await r.run(req, ctx) { o, _ in ProjectObject(try await o.project(try ctx.parameters.require("project_id"))) }
        }
        org.post("projects/:project_id") { req, ctx in await r.run(req, ctx) { o, a in try await r.modifyProject(req, ctx, o, a) } }
        org.post("projects/:project_id/archive") { req, ctx in await r.run(req, ctx) { o, a in try await r.archiveProject(ctx, o, a) } }

        org.get("projects/:project_id/users") { req, ctx in await r.run(req, ctx) { o, _ in try await r.listProjectUsers(req, ctx, o) } }
        org.post("projects/:project_id/users") { req, ctx in await r.run(req, ctx) { o, a in try await r.addProjectUser(req, ctx, o, a) } }
        org.get("projects/:project_id/users/:user_id") { req, ctx in
            await r.run(req, ctx) { o, _ in
                ProjectUserObject(try await o.projectUser(try ctx.parameters.require("project_id"), try ctx.parameters.require("user_id")))
            }
        }
        org.post("projects/:project_id/users/:user_id") { req, ctx in await r.run(req, ctx) { o, a in try await r.modifyProjectUser(req, ctx, o, a) } }
        org.delete("projects/:project_id/users/:user_id") { req, ctx in await r.run(req, ctx) { o, a in try await r.removeProjectUser(ctx, o, a) } }

        org.get("projects/:project_id/service_accounts") { req, ctx in await r.run(req, ctx) { o, _ in try await r.listAccounts(req, ctx, o) } }
        org.post("projects/:project_id/service_accounts") { req, ctx in await r.run(req, ctx) { o, a in try await r.createAccount(req, ctx, o, a) } }
        org.get("projects/:project_id/service_accounts/:account_id") { req, ctx in
            await r.run(req, ctx) { o, _ in
                ServiceAccountObject(try await o.serviceAccount(try ctx.parameters.require("project_id"), try ctx.parameters.require("account_id")))
            }
        }
        org.delete("projects/:project_id/service_accounts/:account_id") { req, ctx in await r.run(req, ctx) { o, a in try await r.deleteAccount(ctx, o, a) } }

        org.get("projects/:project_id/api_keys") { req, ctx in await r.run(req, ctx) { o, _ in try await r.listKeys(req, ctx, o) } }
        org.post("projects/:project_id/api_keys") { req, ctx in await r.run(req, ctx) { o, a in try await r.createKey(req, ctx, o, a) } }
        org.get("projects/:project_id/api_keys/:key_id") { req, ctx in
            await r.run(req, ctx) { o, _ in
                let p: String = try ctx.parameters.require("project_id")
                return try await r.keyObject(try await o.key(p, try ctx.parameters.require("key_id")), o)
            }
        }
        org.get("projects/:project_id/rate_limits") { req, ctx in await r.run(req, ctx) { o, _ in try await r.listProjectRateLimits(req, ctx, o) } }
        org.post("projects/:project_id/rate_limits/:rate_limit_id") { req, ctx in
            await r.run(req, ctx) { o, a in try await r.modifyProjectRateLimit(req, ctx, o, a) }
        }
        org.get("projects/:project_id/budget") { req, ctx in await r.run(req, ctx) { o, _ in try await r.getProjectBudget(ctx, o) } }
        org.put("projects/:project_id/budget") { req, ctx in await r.run(req, ctx) { o, a in try await r.putProjectBudget(req, ctx, o, a) } }
        org.delete("projects/:project_id/budget") { req, ctx in await r.run(req, ctx) { o, a in try await r.deleteProjectBudget(ctx, o, a) } }
        // A project key's own project, read-only (a product route: the Admin API itself needs an admin credential).
        router.get("/api/projects/own") { req, ctx in await r.ownProject(req, ctx) }
        org.delete("projects/:project_id/api_keys/:key_id") { req, ctx in await r.run(req, ctx) { o, a in try await r.deleteKey(ctx, o, a) } }

        org.get("usage/completions") { req, ctx in await r.run(req, ctx) { o, _ in try await r.completionsUsage(req, o.store) } }
        org.get("usage/embeddings") { req, ctx in await r.run(req, ctx) { o, _ in try await r.embeddingsUsage(req, o.store) } }
        org.get("costs") { req, ctx in await r.run(req, ctx) { o, _ in try await r.costs(req, o.store) } }
    }

    // MARK: - The guard, and errors in OpenAI's shape

    /// Authenticates the caller as an admin, runs `body` on the organization, and answers its
    /// value; every failure becomes OpenAI's error shape with the right status.
    func run<Answer: Encodable>(
        _ request: Request, _ context: ControlContext, _ body: (Organization, Admin) async throws -> Answer
    ) async -> Response {
        let ip = context.clientIP(request)
        guard let store = ledger?.ledger else {
            return AdminAPIError(
                status: .serviceUnavailable, type: "server_error", code: "ledger_unavailable", param: nil,
                message: "the organization lives in the ledger's database, which is disabled or not open yet"
            ).response()
        }
        let org = store.organization
        do {
            let admin = try await authenticate(request, ip: ip, org)
            return JSONResponse.encode(try await body(org, admin))
        } catch let e as AdminAPIError {
            return e.response()
        } catch let e as IdentityError {
            return Self.apiError(e).response()
        } catch let e as LedgerQueryError {
            return AdminAPIError.invalid(param: e.field, e.message).response()
        } catch {
            return AdminAPIError(status: .internalServerError, type: "server_error", code: nil, param: nil, message: "\(error)").response()
        }
    }

    static func apiError(_ e: IdentityError) -> AdminAPIError {
        switch e {
        case .notFound(let kind, let id):
            AdminAPIError(status: .notFound, type: "invalid_request_error", code: "not_found", param: nil, message: "No \(kind) found with id '\(id)'.")
        case .conflict(let message): AdminAPIError(status: .conflict, type: "invalid_request_error", code: "conflict", param: nil, message: message)
        case .invalid(let field, let message): AdminAPIError.invalid(param: field, message)
        }
    }

    func authenticate(_ request: Request, ip: String, _ org: Organization) async throws -> Admin {
        let token = DashboardGuard.credential(request)
        func refuse(_ status: HTTPResponse.Status, _ code: String, _ message: String, reason: String) -> AdminAPIError {
            auth.recordFailure(type: status == .unauthorized ? "failed_login" : "permission_denied", sourceIP: ip, details: "admin API: \(reason)")
            audit.record(
                AuditEntry(
                    user: nil, action: status == .unauthorized ? "auth_failure" : "permission_denied", resource: request.uri.path,
                    level: "warning", sourceIP: ip, userAgent: request.headers[.userAgent],
                    detailsJSON: JSONResponse.text(["reason": reason, "surface": "admin_api"]), result: "failure"))
            return AdminAPIError(
                status: status, type: status == .unauthorized ? "invalid_request_error" : "permission_error", code: code, param: nil,
                message: message)
        }
        guard let token, !token.isEmpty else {
            throw refuse(
                .unauthorized, "missing_api_key",
                "The Admin API needs an admin key: send Authorization: Bearer sk-sg-admin-… (create one with `sightglass admin bootstrap`).",
                reason: "missing")
        }
        if token.hasPrefix(APIKeySecret.adminPrefix) {
            guard let owner = try await org.adminKeyOwner(token) else {
                throw refuse(.unauthorized, "invalid_api_key", "Incorrect admin key provided.", reason: "invalid admin key")
            }
            return Admin(name: owner.user.email, user: owner.user, ip: ip)
        }
        if let key = auth.match(apiKey: token) {
            guard key.permissions.contains("dashboard:admin") || key.permissions.contains("*") else {
                throw refuse(.forbidden, "insufficient_permissions", "This key lacks dashboard:admin.", reason: "\(key.id) lacks dashboard:admin")
            }
            return Admin(name: key.id, user: nil, ip: ip)
        }
        if auth.mode == .jwt, case .success(let p) = await auth.authenticate(token: token) {
            guard p.allows("dashboard:admin") else {
                throw refuse(.forbidden, "insufficient_permissions", "This token lacks dashboard:admin.", reason: "\(p.user) lacks dashboard:admin")
            }
            return Admin(name: p.user, user: nil, ip: ip)
        }
        throw refuse(.unauthorized, "invalid_api_key", "Incorrect API key provided.", reason: "invalid")
    }

    /// Records a change in the audit trail (who, what, before and after, from where) and lets
    /// the request path's key table follow.
    func changed(_ action: String, _ admin: Admin, resource: String, before: JSONValue = .null, after: JSONValue = .null) async {
        audit.record(
            AuditEntry(
                user: admin.name, action: action, resource: resource, level: "info", sourceIP: admin.ip, userAgent: nil,
                detailsJSON: JSONResponse.text(["before": before, "after": after]), result: "success"))
        await keysChanged()
    }

    /// `limit` (1–100, default 20) and `after`, as OpenAI's lists take them.
    static func paging(_ request: Request, extra: Set<String> = []) throws -> (limit: Int, after: String?, query: [String: String]) {
        let q = try DashboardParameters(request, known: Set(["limit", "after"]).union(extra)).values
        var limit = 20
        if let l = q["limit"] {
            guard let n = Int(l), (1...100).contains(n) else { throw LedgerQueryError(field: "limit", message: "limit must be between 1 and 100") }
            limit = n
        }
        return (limit, q["after"], q)
    }
}
