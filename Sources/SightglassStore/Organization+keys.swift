import Foundation
import SightglassGovernance

extension Organization {
    static let keyColumns = """
        id, kind, project_id, owner_kind, owner_id, name, hint, scopes, created_at, expires_at, last_used_at, revoked_at, limits
        """

    static func key(_ r: [SQLValue]) -> StoredKey {
        let scopes = (r[7].text).flatMap { try? JSONDecoder().decode(KeyScopes.self, from: Data($0.utf8)) } ?? KeyScopes()
        return StoredKey(
            id: r[0].text ?? "", kind: r[1].text ?? "", projectId: r[2].text, ownerKind: r[3].text ?? "", ownerId: r[4].text ?? "",
            name: r[5].text ?? "", hint: r[6].text ?? "", scopes: scopes, createdAt: r[8].int ?? 0, expiresAt: r[9].int,
            lastUsedAt: r[10].int, revokedAt: r[11].int, limits: limits(r[12].text) ?? KeyLimits())
    }

    static func limits(_ json: String?) -> KeyLimits? {
        json.flatMap { try? JSONDecoder().decode(KeyLimits.self, from: Data($0.utf8)) }
    }

    static func json(_ limits: KeyLimits) throws -> SQLValue {
        limits.isEmpty ? .null : .text(String(decoding: try JSONEncoder().encode(limits), as: UTF8.self))
    }

    /// The insert of a new key, and the key with its secret.
    static func newKey(
        kind: String, projectId: String?, ownerKind: String, ownerId: String, name: String, scopes: KeyScopes, expiresAt: Int64?,
        limits: KeyLimits = KeyLimits()
    ) throws -> (SQLStep, CreatedKey) {
        let secret = APIKeySecret.generate(admin: kind == "admin")
        let scopesJSON = String(decoding: try JSONEncoder().encode(scopes), as: UTF8.self)
        let key = StoredKey(
            id: newId("key_"), kind: kind, projectId: projectId, ownerKind: ownerKind, ownerId: ownerId, name: name,
            hint: APIKeySecret.hint(secret), scopes: scopes, createdAt: now(), expiresAt: expiresAt, lastUsedAt: nil, revokedAt: nil,
            limits: limits)
        let insert = SQLStep(
            """
            INSERT INTO api_keys (id, kind, project_id, owner_kind, owner_id, name, digest, hint, scopes, created_at, expires_at, limits)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(key.id), .text(kind), projectId.map(SQLValue.text) ?? .null, .text(ownerKind), .text(ownerId), .text(name),
                .text(KeyDigest(of: secret).hex), .text(key.hint), .text(scopesJSON), .int(key.createdAt), expiresAt.map(SQLValue.int) ?? .null,
                try json(limits),
            ])
        return (insert, CreatedKey(key: key, secret: secret))
    }

    // MARK: - Project keys

    /// A project's live keys (revoked ones are gone from the list, as OpenAI's are).
    public func keys(_ projectId: String, limit: Int = 20, after: String? = nil) async throws -> Page<StoredKey> {
        _ = try await project(projectId)
        return try await page(
            Self.keyColumns, from: "api_keys", where: "project_id = ? AND kind = 'project' AND revoked_at IS NULL", [.text(projectId)],
            limit: limit, after: after, Self.key)
    }

    public func key(_ projectId: String, _ keyId: String) async throws -> StoredKey {
        try await one(
            "SELECT \(Self.keyColumns) FROM api_keys WHERE id = ? AND project_id = ? AND revoked_at IS NULL", [.text(keyId), .text(projectId)],
            orElse: IdentityError.notFound(kind: "api_key", id: keyId), Self.key)
    }

    /// A new inference key in an active project, owned by a member of it (an owner of the
    /// organization may own keys in any project).
    public func createKey(
        projectId: String, ownerId: String, name: String, scopes: KeyScopes, expiresAt: Int64?, limits: KeyLimits = KeyLimits()
    ) async throws -> CreatedKey {
        if let e = expiresAt, e <= Self.now() { throw IdentityError.invalid(field: "expires_at", message: "must be in the future") }
        let (insert, created) = try Self.newKey(
            kind: "project", projectId: projectId, ownerKind: "user", ownerId: ownerId, name: name, scopes: scopes, expiresAt: expiresAt,
            limits: limits)
        try await change([
            SQLStep("SELECT id FROM projects WHERE id = ? AND status = 'active'", [.text(projectId)], failure: .notFound(kind: "project", id: projectId)),
            SQLStep(
                """
                SELECT id FROM org_users u WHERE id = ?
                AND (role = 'owner' OR EXISTS (SELECT 1 FROM project_users pu WHERE pu.user_id = u.id AND pu.project_id = ?))
                """, [.text(ownerId), .text(projectId)], failure: .invalid(field: "owner", message: "'\(ownerId)' is not a member of the project")),
            insert,
        ])
        return created
    }

    /// Revokes a key: it leaves every instance's key table within a poll interval.
    public func revokeKey(_ projectId: String, _ keyId: String) async throws {
        try await change([
            SQLStep(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND project_id = ? AND revoked_at IS NULL RETURNING id",
                [.int(Self.now()), .text(keyId), .text(projectId)], failure: .notFound(kind: "api_key", id: keyId))
        ])
    }

    /// Revokes a key by id alone (the CLI's `keys revoke ID`), whatever its project or kind.
    public func revokeKey(_ keyId: String) async throws {
        try await change([
            SQLStep(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id", [.int(Self.now()), .text(keyId)],
                failure: .notFound(kind: "api_key", id: keyId))
        ])
    }

    /// Every live key of every project, newest first (the CLI's `keys list`).
    public func allKeys() async throws -> [StoredKey] {
        try await db.select("SELECT \(Self.keyColumns) FROM api_keys WHERE revoked_at IS NULL ORDER BY created_at DESC, id", []).map(Self.key)
    }

    // MARK: - Service accounts

    static let accountColumns = "id, project_id, name, role, created_at"
    static func account(_ r: [SQLValue]) -> ServiceAccount {
        ServiceAccount(id: r[0].text ?? "", projectId: r[1].text ?? "", name: r[2].text ?? "", role: r[3].text ?? "", createdAt: r[4].int ?? 0)
    }

    public func serviceAccounts(_ projectId: String, limit: Int = 20, after: String? = nil) async throws -> Page<ServiceAccount> {
        _ = try await project(projectId)
        return try await page(
            Self.accountColumns, from: "service_accounts", where: "project_id = ?", [.text(projectId)], limit: limit, after: after, Self.account)
    }

    public func serviceAccount(_ projectId: String, _ id: String) async throws -> ServiceAccount {
        try await one(
            "SELECT \(Self.accountColumns) FROM service_accounts WHERE id = ? AND project_id = ?", [.text(id), .text(projectId)],
            orElse: IdentityError.notFound(kind: "service_account", id: id), Self.account)
    }

    /// A service account and its key, created together (the key's secret is in the answer, once).
    public func createServiceAccount(_ projectId: String, name: String, scopes: KeyScopes = KeyScopes()) async throws -> (ServiceAccount, CreatedKey) {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw IdentityError.invalid(field: "name", message: "a service account needs a name") }
        let account = ServiceAccount(id: Self.newId("svc_acct_"), projectId: projectId, name: name, role: "member", createdAt: Self.now())
        let (insert, created) = try Self.newKey(
            kind: "project", projectId: projectId, ownerKind: "service_account", ownerId: account.id, name: "Secret key", scopes: scopes,
            expiresAt: nil)
        try await change([
            SQLStep("SELECT id FROM projects WHERE id = ? AND status = 'active'", [.text(projectId)], failure: .notFound(kind: "project", id: projectId)),
            SQLStep(
                "INSERT INTO service_accounts (id, project_id, name, role, created_at) VALUES (?, ?, ?, ?, ?)",
                [.text(account.id), .text(projectId), .text(name), .text(account.role), .int(account.createdAt)]),
            insert,
        ])
        return (account, created)
    }

    /// Deletes a service account and revokes its keys.
    public func deleteServiceAccount(_ projectId: String, _ id: String) async throws {
        try await change([
            SQLStep(
                "DELETE FROM service_accounts WHERE id = ? AND project_id = ? RETURNING id", [.text(id), .text(projectId)],
                failure: .notFound(kind: "service_account", id: id)),
            SQLStep(
                "UPDATE api_keys SET revoked_at = ? WHERE owner_kind = 'service_account' AND owner_id = ? AND revoked_at IS NULL",
                [.int(Self.now()), .text(id)]),
        ])
    }

    // MARK: - What the request path and the Admin API's guard read

    /// The live inference keys as the request path looks them up: not revoked, in an active
    /// project, not yet expired.
    public func keyTable() async throws -> KeyTable {
        let version = try await version()
        let now = Self.now()
        let rows = try await db.select(
            """
            SELECT k.digest, k.id, k.project_id, k.owner_id, k.scopes, k.expires_at, k.limits FROM api_keys k
            JOIN projects p ON p.id = k.project_id
            WHERE k.kind = 'project' AND k.revoked_at IS NULL AND p.status = 'active' AND (k.expires_at IS NULL OR k.expires_at > ?)
            """, [.int(now)])
        var grants: [KeyDigest: KeyGrant] = [:]
        grants.reserveCapacity(rows.count)
        let decoder = JSONDecoder()
        for r in rows {
            guard let hex = r[0].text, let digest = KeyDigest(hex: hex) else { continue }
            // Scopes this version cannot read (written by a newer one sharing the database) must
            // not turn into no restrictions at all: such a key is left out until this one is upgraded.
            guard let scopes = r[4].text.flatMap({ try? decoder.decode(KeyScopes.self, from: Data($0.utf8)) }) else { continue }
            // Limits this version cannot read leave the key out for the same reason.
            let limits: KeyLimits
            if let text = r[6].text {
                guard let l = Self.limits(text) else { continue }
                limits = l
            } else {
                limits = KeyLimits()
            }
            grants[digest] = KeyGrant(
                keyId: r[1].text ?? "", projectId: r[2].text ?? "", ownerId: r[3].text ?? "", scopes: scopes, expiresAt: r[5].int.map(Double.init),
                limits: limits)
        }
        return KeyTable(grants, projects: try await allProjectLimits(), version: version)
    }

    /// The owner behind a live admin key, or nil. Admin calls are rare: looked up in the database
    /// each time, so a revoked admin key stops working at once on every instance.
    public func adminKeyOwner(_ presented: String) async throws -> (keyId: String, user: OrgUser)? {
        guard presented.hasPrefix(APIKeySecret.adminPrefix), presented.utf8.count <= APIKeySecret.maxLength else { return nil }
        let rows = try await db.select(
            """
            SELECT k.id, \(Self.userColumns.split(separator: ",").map { "u." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
            FROM api_keys k JOIN org_users u ON u.id = k.owner_id
            WHERE k.digest = ? AND k.kind = 'admin' AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?) AND u.role = 'owner'
            """, [.text(KeyDigest(of: presented).hex), .int(Self.now())])
        guard let r = rows.first else { return nil }
        return (r[0].text ?? "", Self.user(Array(r[1...])))
    }

    /// The live project key behind `presented` (not revoked or expired, its project active), or nil.
    public func projectKey(_ presented: String) async throws -> StoredKey? {
        guard presented.hasPrefix(APIKeySecret.prefix), !presented.hasPrefix(APIKeySecret.adminPrefix),
            presented.utf8.count <= APIKeySecret.maxLength
        else { return nil }
        return try await db.select(
            """
            SELECT \(Self.keyColumns.split(separator: ",").map { "k." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", "))
            FROM api_keys k JOIN projects p ON p.id = k.project_id
            WHERE k.digest = ? AND k.kind = 'project' AND k.revoked_at IS NULL AND p.status = 'active' AND (k.expires_at IS NULL OR k.expires_at > ?)
            """, [.text(KeyDigest(of: presented).hex), .int(Self.now())]
        ).first.map(Self.key)
    }

    /// Records when keys were last used (the writer calls this per batch, off the request path).
    public func touch(_ lastUsed: [String: Int64]) async throws {
        guard !lastUsed.isEmpty else { return }
        try await db.change(
            lastUsed.map { id, at in
                SQLStep(
                    "UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)", [.int(at), .text(id), .int(at)])
            })
    }

    /// A new admin key for an owner of the organization.
    public func createAdminKey(ownerId: String, name: String) async throws -> CreatedKey {
        let (insert, created) = try Self.newKey(
            kind: "admin", projectId: nil, ownerKind: "user", ownerId: ownerId, name: name, scopes: KeyScopes(), expiresAt: nil)
        try await change([
            SQLStep(
                "SELECT id FROM org_users WHERE id = ? AND role = 'owner'", [.text(ownerId)],
                failure: .invalid(field: "owner", message: "'\(ownerId)' is not an owner of the organization")),
            insert,
        ])
        return created
    }

    /// Revokes every live key with this name (the demo replaces its keys at each start).
    public func revokeKeys(named name: String) async throws {
        try await change([
            SQLStep("UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", [.int(Self.now()), .text(name)])
        ])
    }

    // MARK: - Bootstrap

    /// On a store without users: the first owner, a default project with the owner in it, and an
    /// admin key. Refused once the organization has any user.
    public func bootstrap(email: String, name: String, project projectName: String = "Default project") async throws -> Bootstrap {
        guard email.contains("@") else { throw IdentityError.invalid(field: "email", message: "'\(email)' is not an email address") }
        let now = Self.now()
        let user = OrgUser(id: Self.newId("user-"), email: email, name: name, role: "owner", addedAt: now)
        let project = Project(id: Self.newId("proj_"), name: projectName, status: "active", createdAt: now, archivedAt: nil)
        let (insertKey, adminKey) = try Self.newKey(
            kind: "admin", projectId: nil, ownerKind: "user", ownerId: user.id, name: "bootstrap admin key", scopes: KeyScopes(), expiresAt: nil)
        try await change([
            SQLStep(
                "INSERT INTO org_users (id, email, name, role, added_at) SELECT ?, ?, ?, 'owner', ? WHERE NOT EXISTS (SELECT 1 FROM org_users) RETURNING id",
                [.text(user.id), .text(email), .text(name), .int(now)],
                failure: .conflict("the organization already has users; create keys with an admin key or `sightglass keys create`")),
            SQLStep(
                "INSERT INTO projects (id, name, status, created_at) SELECT ?, ?, 'active', ? WHERE NOT EXISTS (SELECT 1 FROM projects WHERE name = ?)",
                [.text(project.id), .text(projectName), .int(now), .text(projectName)]),
            SQLStep(
                "INSERT INTO project_users (project_id, user_id, role, added_at) SELECT id, ?, 'owner', ? FROM projects WHERE name = ?",
                [.text(user.id), .int(now), .text(projectName)]),
            insertKey,
        ])
        return Bootstrap(user: user, project: try await self.project(named: projectName), adminKey: adminKey)
    }
}
