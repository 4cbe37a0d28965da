import Foundation
import Hummingbird
import SightglassGovernance
import SightglassStore

extension OrganizationRoutes {
    // MARK: - Users

    func listUsers(_ req: Request, _ org: Organization) async throws -> OrgList<UserObject> {
        let (limit, after, _) = try Self.paging(req)
        let page = try await org.users(limit: limit, after: after)
        return OrgList(page.map(UserObject.init), id: \.id)
    }

    func modifyUser(_ req: Request, _ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> UserObject {
        let id: String = try ctx.parameters.require("user_id")
        let body = try await AdminBody.read(req, allowed: ["role"])
        let before = try await org.user(id)
        let after = try await org.setRole(user: id, role: try body.string("role", required: true)!)
        await changed("user_role_changed", admin, resource: id, before: .string(before.role), after: .string(after.role))
        return UserObject(after)
    }

    func deleteUser(_ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> DeletedObject {
        let id: String = try ctx.parameters.require("user_id")
        let before = try await org.user(id)
        try await org.deleteUser(id)
        await changed("user_deleted", admin, resource: id, before: .string(before.email))
        return DeletedObject(object: "organization.user.deleted", id: id)
    }

    // MARK: - Invites

    func createInvite(_ req: Request, _ org: Organization, _ admin: Admin) async throws -> InviteObject {
        let body = try await AdminBody.read(req, allowed: ["email", "role"])
        let i = try await org.createInvite(email: try body.string("email", required: true)!, role: try body.string("role", required: true)!)
        await changed("invite_created", admin, resource: i.id, after: .string("\(i.email) as \(i.role)"))
        return InviteObject(i)
    }

    func deleteInvite(_ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> DeletedObject {
        let id: String = try ctx.parameters.require("invite_id")
        try await org.deleteInvite(id)
        await changed("invite_deleted", admin, resource: id)
        return DeletedObject(object: "organization.invite.deleted", id: id)
    }

    /// Sightglass sends no email: an admin accepts an invite on the invitee's behalf (or the
    /// invitee, given an admin credential), which creates the user.
    func acceptInvite(_ req: Request, _ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> UserObject {
        let id: String = try ctx.parameters.require("invite_id")
        let body = try await AdminBody.read(req, allowed: ["name"])
        let invite = try await org.invite(id)
        let user = try await org.acceptInvite(id, name: try body.string("name") ?? invite.email)
        await changed("invite_accepted", admin, resource: id, after: .string(user.id))
        return UserObject(user)
    }

    // MARK: - Projects

    func listProjects(_ req: Request, _ org: Organization) async throws -> OrgList<ProjectObject> {
        let (limit, after, q) = try Self.paging(req, extra: ["include_archived"])
        let archived = q["include_archived"]
        guard archived == nil || archived == "true" || archived == "false" else {
            throw LedgerQueryError(field: "include_archived", message: "include_archived must be true or false")
        }
        let page = try await org.projects(limit: limit, after: after, includeArchived: archived == "true")
        return OrgList(page.map(ProjectObject.init), id: \.id)
    }

    func createProject(_ req: Request, _ org: Organization, _ admin: Admin) async throws -> ProjectObject {
        let body = try await AdminBody.read(req, allowed: ["name"])
        let p = try await org.createProject(name: try body.string("name", required: true)!)
        if let user = admin.user { _ = try? await org.addProjectUser(p.id, userId: user.id, role: "owner") }
        await changed("project_created", admin, resource: p.id, after: .string(p.name))
        return ProjectObject(p)
    }

    func modifyProject(_ req: Request, _ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> ProjectObject {
        let id: String = try ctx.parameters.require("project_id")
        let body = try await AdminBody.read(req, allowed: ["name"])
        let before = try await org.project(id)
        let p = try await org.renameProject(id, name: try body.string("name", required: true)!)
        await changed("project_renamed", admin, resource: id, before: .string(before.name), after: .string(p.name))
        return ProjectObject(p)
    }

    func archiveProject(_ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> ProjectObject {
        let id: String = try ctx.parameters.require("project_id")
        let p = try await org.archiveProject(id)
        await changed("project_archived", admin, resource: id, before: .string("active"), after: .string("archived"))
        return ProjectObject(p)
    }

    // MARK: - Project users

    func listProjectUsers(_ req: Request, _ ctx: ControlContext, _ org: Organization) async throws -> OrgList<ProjectUserObject> {
        let (limit, after, _) = try Self.paging(req)
        let page = try await org.projectUsers(try ctx.parameters.require("project_id"), limit: limit, after: after)
        return OrgList(page.map(ProjectUserObject.init), id: \.id)
    }

    func addProjectUser(_ req: Request, _ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> ProjectUserObject {
        let project: String = try ctx.parameters.require("project_id")
        let body = try await AdminBody.read(req, allowed: ["user_id", "role"])
        let m = try await org.addProjectUser(project, userId: try body.string("user_id", required: true)!, role: try body.string("role", required: true)!)
        await changed("project_user_added", admin, resource: "\(project)/\(m.user.id)", after: .string(m.role))
        return ProjectUserObject(m)
    }

    func modifyProjectUser(_ req: Request, _ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> ProjectUserObject {
        let project: String = try ctx.parameters.require("project_id"), user: String = try ctx.parameters.require("user_id")
        let body = try await AdminBody.read(req, allowed: ["role"])
        let before = try await org.projectUser(project, user)
        let m = try await org.setProjectRole(project, userId: user, role: try body.string("role", required: true)!)
        await changed("project_user_role_changed", admin, resource: "\(project)/\(user)", before: .string(before.role), after: .string(m.role))
        return ProjectUserObject(m)
    }

    func removeProjectUser(_ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> DeletedObject {
        let project: String = try ctx.parameters.require("project_id"), user: String = try ctx.parameters.require("user_id")
        try await org.removeProjectUser(project, userId: user)
        await changed("project_user_removed", admin, resource: "\(project)/\(user)")
        return DeletedObject(object: "organization.project.user.deleted", id: user)
    }

    // MARK: - Service accounts

    func listAccounts(_ req: Request, _ ctx: ControlContext, _ org: Organization) async throws -> OrgList<ServiceAccountObject> {
        let (limit, after, _) = try Self.paging(req)
        let page = try await org.serviceAccounts(try ctx.parameters.require("project_id"), limit: limit, after: after)
        return OrgList(Page(items: page.items.map { ServiceAccountObject($0) }, hasMore: page.hasMore), id: \.id)
    }

    func createAccount(_ req: Request, _ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> ServiceAccountObject {
        let project: String = try ctx.parameters.require("project_id")
        let body = try await AdminBody.read(req, allowed: ["name", "scopes"])
        let (account, key) = try await org.createServiceAccount(project, name: try body.string("name", required: true)!, scopes: try Self.scopes(body))
        await changed("service_account_created", admin, resource: "\(project)/\(account.id)", after: .string(key.key.hint))
        return ServiceAccountObject(account, key: key)
    }

    func deleteAccount(_ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> DeletedObject {
        let project: String = try ctx.parameters.require("project_id"), id: String = try ctx.parameters.require("account_id")
        try await org.deleteServiceAccount(project, id)
        await changed("service_account_deleted", admin, resource: "\(project)/\(id)")
        return DeletedObject(object: "organization.project.service_account.deleted", id: id)
    }

    // MARK: - A project key's own project

    /// `GET /api/projects/own` with a live project key: its project, members, service accounts
    /// and keys (hints only), for the Organization page's read-only view.
    func ownProject(_ request: Request, _ context: ControlContext) async -> Response {
        guard let store = ledger?.ledger else {
            return JSONResponse.error(.serviceUnavailable, code: "SERVICE_UNAVAILABLE", message: "the ledger, which holds the organization, is not open")
        }
        let org = store.organization
        do {
            guard let token = DashboardGuard.credential(request), let key = try await org.projectKey(token), let id = key.projectId else {
                auth.recordFailure(type: "failed_login", sourceIP: context.clientIP(request), details: "own project: no live project key")
                return JSONResponse.error(.unauthorized, code: "UNAUTHORIZED", message: "send a live project key: Authorization: Bearer sk-sg-…")
            }
            let keys = try await org.keys(id, limit: 100)
            var keyObjects: [APIKeyObject] = []
            for k in keys.items { keyObjects.append(try await keyObject(k, org)) }
            return JSONResponse.encode(
                OwnProjectAnswer(
                    project: ProjectObject(try await org.project(id)),
                    users: OrgList(try await org.projectUsers(id, limit: 100).map(ProjectUserObject.init), id: \.id),
                    serviceAccounts: OrgList(try await org.serviceAccounts(id, limit: 100).map { ServiceAccountObject($0) }, id: \.id),
                    apiKeys: OrgList(Page(items: keyObjects, hasMore: keys.hasMore), id: \.id)))
        } catch {
            return routeFailure(error)
        }
    }

    // MARK: - Keys

    func listKeys(_ req: Request, _ ctx: ControlContext, _ org: Organization) async throws -> OrgList<APIKeyObject> {
        let (limit, after, _) = try Self.paging(req)
        let page = try await org.keys(try ctx.parameters.require("project_id"), limit: limit, after: after)
        var items: [APIKeyObject] = []
        for k in page.items { items.append(try await keyObject(k, org)) }
        return OrgList(Page(items: items, hasMore: page.hasMore), id: \.id)
    }

    /// `POST …/api_keys` `{"name", "scopes": {"models": [globs], "routes": [...], "max_tokens", "end_user"}, "expires_at", "user_id",
    /// "rate_limits": {…}, "tier", "budget": {…}}`:
    /// the key is owned by `user_id`, else by the admin key's owner. The secret is in `value`, this once.
    func createKey(_ req: Request, _ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> APIKeyObject {
        let project: String = try ctx.parameters.require("project_id")
        let body = try await AdminBody.read(req, allowed: ["name", "scopes", "expires_at", "user_id", "rate_limits", "tier", "budget"])
        guard let owner = try body.string("user_id") ?? admin.user?.id else {
            throw AdminAPIError.invalid(param: "user_id", "'user_id' is required when the caller is not an organization user (a dashboard key)")
        }
        let created = try await org.createKey(
            projectId: project, ownerId: owner, name: try body.string("name") ?? "Secret key", scopes: try Self.scopes(body),
            expiresAt: try body.integer("expires_at"), limits: try keyLimits(body))
        await changed("api_key_created", admin, resource: "\(project)/\(created.key.id)", after: .string(created.key.hint))
        return try await keyObject(created.key, org, secret: created.secret)
    }

    func deleteKey(_ ctx: ControlContext, _ org: Organization, _ admin: Admin) async throws -> DeletedObject {
        let project: String = try ctx.parameters.require("project_id"), id: String = try ctx.parameters.require("key_id")
        let before = try await org.key(project, id)
        try await org.revokeKey(project, id)
        await changed("api_key_revoked", admin, resource: "\(project)/\(id)", before: .string(before.hint))
        return DeletedObject(object: "organization.project.api_key.deleted", id: id)
    }

    /// A stored key with its owner, as OpenAI nests it.
    func keyObject(_ k: StoredKey, _ org: Organization, secret: String? = nil) async throws -> APIKeyObject {
        let project = k.projectId ?? ""
        let owner: APIKeyObject.Owner
        if k.ownerKind == "service_account" {
            let account = try? await org.serviceAccount(project, k.ownerId)
            owner = .init(type: "service_account", serviceAccount: account.map { ServiceAccountObject($0) })
        } else if let m = try? await org.projectUser(project, k.ownerId) {
            owner = .init(type: "user", user: ProjectUserObject(m))
        } else {
            let u = try? await org.user(k.ownerId)
            owner = .init(type: "user", user: u.map { ProjectUserObject(ProjectMember(user: $0, role: "owner", addedAt: $0.addedAt)) })
        }
        return APIKeyObject(k, owner: owner, secret: secret)
    }

    /// `scopes` of a key, checked: model globs, route groups by name, a positive token cap.
    static func scopes(_ body: AdminBody) throws -> KeyScopes {
        guard let s = try body.object("scopes", allowed: ["models", "routes", "max_tokens", "end_user"]) else { return KeyScopes() }
        var scopes = KeyScopes()
        if let models = try s.strings("models") {
            if let bad = models.first(where: { !Glob.isValid($0) }) {
                throw AdminAPIError.invalid(param: "scopes.models", "'\(bad)' is not a model pattern (visible ASCII, no commas, * and ? as wildcards)")
            }
            scopes.models = models.map(Glob.init)
        }
        if let routes = try s.strings("routes") {
            scopes.routes = Set(
                try routes.map { name in
                    guard let r = RouteScope(rawValue: name) else {
                        throw AdminAPIError.invalid(
                            param: "scopes.routes", "'\(name)' is not a route group (one of \(RouteScope.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    return r
                })
        }
        if let cap = try s.integer("max_tokens") {
            guard cap > 0 else { throw AdminAPIError.invalid(param: "scopes.max_tokens", "must be positive") }
            scopes.maxTokens = Int(cap)
        }
        if let endUser = try s.bool("end_user") { scopes.endUser = endUser }
        return scopes
    }
}
