import Foundation
import SightglassGovernance

/// The organization's users, projects, service accounts and keys, in the ledger's database
/// (SQLite, or PostgreSQL shared by several gateways). Written once over `SQLRunner`, so both
/// engines run the same statements. Every change is one transaction and bumps the identity
/// version, which is how every instance learns that its key table is stale.
public struct Organization: Sendable {
    let db: any SQLRunner
    /// The ledger the organization lives in, for the usage its keys' requests left there.
    public let store: any LedgerStore

    init(_ store: any LedgerStore) {
        self.store = store
        db = store as! any SQLRunner
    }

    static let bump = SQLStep("UPDATE identity_meta SET version = version + 1 WHERE id = 1")

    /// Runs an identity change in one transaction, the version bump first: on PostgreSQL the
    /// bump's row lock makes concurrent changes (from this instance or another) take turns, so
    /// each one's checks ("a name not taken", "an owner left") see the others' committed result.
    func change(_ steps: [SQLStep]) async throws {
        try await db.change([Self.bump] + steps)
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// `prefix` and 24 random letters and digits (143 bits).
    static func newId(_ prefix: String) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        var rng = SystemRandomNumberGenerator()
        return prefix + String((0..<24).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
    }

    /// How many users, active projects and live keys the organization has (for `/dashboard/security`).
    public func counts() async throws -> (users: Int, projects: Int, liveKeys: Int) {
        let row = try await db.select(
            """
            SELECT (SELECT COUNT(*) FROM org_users), (SELECT COUNT(*) FROM projects WHERE status = 'active'),
                (SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?))
            """, [.int(Self.now())]
        ).first
        return (Int(row?[0].int ?? 0), Int(row?[1].int ?? 0), Int(row?[2].int ?? 0))
    }

    public func version() async throws -> Int64 {
        try await db.select("SELECT version FROM identity_meta WHERE id = 1", []).first?.first?.int ?? 0
    }

    // MARK: - Reading

    /// The first row of `sql` made into a value, or `missing` thrown.
    func one<T>(_ sql: String, _ args: [SQLValue], orElse missing: IdentityError, _ make: ([SQLValue]) -> T) async throws -> T {
        guard let r = try await db.select(sql, args).first else { throw missing }
        return make(r)
    }

    /// Rows of `table` in creation order after the row `after` (an id), at most `limit`.
    func page<T>(
        _ columns: String, from table: String, where condition: String = "", _ args: [SQLValue] = [], limit: Int, after: String?,
        order: String = "created_at", idColumn: String = "id", _ make: ([SQLValue]) -> T
    ) async throws -> Page<T> {
        var clauses = condition.isEmpty ? [] : [condition]
        var values = args
        if let after {
            let scoped = condition.isEmpty ? "" : " AND " + condition
            guard let mark = try await db.select("SELECT \(order) FROM \(table) WHERE \(idColumn) = ?\(scoped)", [.text(after)] + args).first?.first?.int
            else {
                throw IdentityError.invalid(field: "after", message: "'\(after)' is not an id in this list")
            }
            clauses.append("(\(order) > ? OR (\(order) = ? AND \(idColumn) > ?))")
            values += [.int(mark), .int(mark), .text(after)]
        }
        let whereSQL = clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")
        let rows = try await db.select(
            "SELECT \(columns) FROM \(table)\(whereSQL) ORDER BY \(order), \(idColumn) LIMIT \(limit + 1)", values)
        return Page(items: rows.prefix(limit).map(make), hasMore: rows.count > limit)
    }

    // MARK: - Users

    static let userColumns = "id, email, name, role, added_at"
    static func user(_ r: [SQLValue]) -> OrgUser {
        OrgUser(id: r[0].text ?? "", email: r[1].text ?? "", name: r[2].text ?? "", role: r[3].text ?? "", addedAt: r[4].int ?? 0)
    }

    public func users(limit: Int = 20, after: String? = nil) async throws -> Page<OrgUser> {
        try await page(Self.userColumns, from: "org_users", limit: limit, after: after, order: "added_at", Self.user)
    }

    public func user(_ id: String) async throws -> OrgUser {
        try await one("SELECT \(Self.userColumns) FROM org_users WHERE id = ?", [.text(id)], orElse: .notFound(kind: "user", id: id), Self.user)
    }

    /// A user added directly (bootstrap, or an accepted invite).
    public func addUser(email: String, name: String, role: String) async throws -> OrgUser {
        guard OrgUser.roles.contains(role) else { throw IdentityError.invalid(field: "role", message: "must be owner or reader") }
        guard email.contains("@") else { throw IdentityError.invalid(field: "email", message: "'\(email)' is not an email address") }
        let u = OrgUser(id: Self.newId("user-"), email: email, name: name, role: role, addedAt: Self.now())
        try await change([
            SQLStep(
                "INSERT INTO org_users (id, email, name, role, added_at) SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM org_users WHERE email = ?) RETURNING id",
                [.text(u.id), .text(email), .text(name), .text(role), .int(u.addedAt), .text(email)],
                failure: .conflict("a user with email '\(email)' already exists"))
        ])
        return u
    }

    public func setRole(user id: String, role: String) async throws -> OrgUser {
        guard OrgUser.roles.contains(role) else { throw IdentityError.invalid(field: "role", message: "must be owner or reader") }
        try await change([
            SQLStep("UPDATE org_users SET role = ? WHERE id = ? RETURNING id", [.text(role), .text(id)], failure: .notFound(kind: "user", id: id)),
            SQLStep(
                "SELECT 1 FROM org_users WHERE role = 'owner' LIMIT 1", [],
                failure: .conflict("the organization must keep at least one owner")),
        ])
        return try await user(id)
    }

    /// Removes a user, their project memberships, and revokes every key they own.
    public func deleteUser(_ id: String) async throws {
        let now = Self.now()
        try await change([
            SQLStep("DELETE FROM org_users WHERE id = ? RETURNING id", [.text(id)], failure: .notFound(kind: "user", id: id)),
            SQLStep(
                "SELECT 1 FROM org_users WHERE role = 'owner' LIMIT 1", [],
                failure: .conflict("the organization must keep at least one owner")),
            SQLStep("DELETE FROM project_users WHERE user_id = ?", [.text(id)]),
            SQLStep(
                "UPDATE api_keys SET revoked_at = ? WHERE owner_kind = 'user' AND owner_id = ? AND revoked_at IS NULL",
                [.int(now), .text(id)]),
        ])
    }

    // MARK: - Projects

    static let projectColumns = "id, name, status, created_at, archived_at"
    static func project(_ r: [SQLValue]) -> Project {
        Project(id: r[0].text ?? "", name: r[1].text ?? "", status: r[2].text ?? "", createdAt: r[3].int ?? 0, archivedAt: r[4].int)
    }

    public func projects(limit: Int = 20, after: String? = nil, includeArchived: Bool = false) async throws -> Page<Project> {
        try await page(
            Self.projectColumns, from: "projects", where: includeArchived ? "" : "status = 'active'", limit: limit, after: after, Self.project)
    }

    public func project(_ id: String) async throws -> Project {
        try await one("SELECT \(Self.projectColumns) FROM projects WHERE id = ?", [.text(id)], orElse: .notFound(kind: "project", id: id), Self.project)
    }

    /// The project named `name` (names are unique among projects, archived ones included).
    public func project(named name: String) async throws -> Project {
        try await one("SELECT \(Self.projectColumns) FROM projects WHERE name = ?", [.text(name)], orElse: .notFound(kind: "project", id: name), Self.project)
    }

    public func createProject(name: String) async throws -> Project {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw IdentityError.invalid(field: "name", message: "a project needs a name") }
        let p = Project(id: Self.newId("proj_"), name: name, status: "active", createdAt: Self.now(), archivedAt: nil)
        try await change([
            SQLStep(
                "INSERT INTO projects (id, name, status, created_at) SELECT ?, ?, 'active', ? WHERE NOT EXISTS (SELECT 1 FROM projects WHERE name = ?) RETURNING id",
                [.text(p.id), .text(name), .int(p.createdAt), .text(name)], failure: .conflict("a project named '\(name)' already exists"))
        ])
        return p
    }

    public func renameProject(_ id: String, name: String) async throws -> Project {
        let name = name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw IdentityError.invalid(field: "name", message: "a project needs a name") }
        try await change([
            SQLStep(
                "UPDATE projects SET name = ? WHERE id = ? AND status = 'active' RETURNING id", [.text(name), .text(id)],
                failure: .notFound(kind: "project", id: id)),
            SQLStep(
                "SELECT 1 FROM projects WHERE name = ? HAVING COUNT(*) = 1", [.text(name)],
                failure: .conflict("a project named '\(name)' already exists")),
        ])
        return try await project(id)
    }

    /// Archives a project: its keys stop working at once (they leave every key table).
    public func archiveProject(_ id: String) async throws -> Project {
        try await change([
            SQLStep(
                "UPDATE projects SET status = 'archived', archived_at = ? WHERE id = ? AND status = 'active' RETURNING id",
                [.int(Self.now()), .text(id)], failure: .notFound(kind: "project", id: id))
        ])
        return try await project(id)
    }

    // MARK: - Project users

    static func member(_ r: [SQLValue]) -> ProjectMember {
        ProjectMember(user: user(Array(r[0..<5])), role: r[5].text ?? "", addedAt: r[6].int ?? 0)
    }

    public func projectUsers(_ projectId: String, limit: Int = 20, after: String? = nil) async throws -> Page<ProjectMember> {
        _ = try await project(projectId)
        return try await page(
            "pu.user_id, u.email, u.name, u.role, u.added_at, pu.role, pu.added_at",
            from: "project_users pu JOIN org_users u ON u.id = pu.user_id", where: "pu.project_id = ?", [.text(projectId)],
            limit: limit, after: after, order: "pu.added_at", idColumn: "pu.user_id", Self.member)
    }

    public func projectUser(_ projectId: String, _ userId: String) async throws -> ProjectMember {
        try await one(
            """
            SELECT pu.user_id, u.email, u.name, u.role, u.added_at, pu.role, pu.added_at
            FROM project_users pu JOIN org_users u ON u.id = pu.user_id WHERE pu.project_id = ? AND pu.user_id = ?
            """, [.text(projectId), .text(userId)], orElse: .notFound(kind: "project user", id: userId), Self.member)
    }

    public func addProjectUser(_ projectId: String, userId: String, role: String) async throws -> ProjectMember {
        guard ProjectMember.roles.contains(role) else { throw IdentityError.invalid(field: "role", message: "must be owner or member") }
        try await change([
            SQLStep("SELECT id FROM projects WHERE id = ? AND status = 'active'", [.text(projectId)], failure: .notFound(kind: "project", id: projectId)),
            SQLStep("SELECT id FROM org_users WHERE id = ?", [.text(userId)], failure: .notFound(kind: "user", id: userId)),
            SQLStep(
                """
                INSERT INTO project_users (project_id, user_id, role, added_at) SELECT ?, ?, ?, ?
                WHERE NOT EXISTS (SELECT 1 FROM project_users WHERE project_id = ? AND user_id = ?) RETURNING user_id
                """, [.text(projectId), .text(userId), .text(role), .int(Self.now()), .text(projectId), .text(userId)],
                failure: .conflict("user '\(userId)' is already in project '\(projectId)'")),
        ])
        return try await projectUser(projectId, userId)
    }

    public func setProjectRole(_ projectId: String, userId: String, role: String) async throws -> ProjectMember {
        guard ProjectMember.roles.contains(role) else { throw IdentityError.invalid(field: "role", message: "must be owner or member") }
        try await change([
            SQLStep(
                "UPDATE project_users SET role = ? WHERE project_id = ? AND user_id = ? RETURNING user_id", [.text(role), .text(projectId), .text(userId)],
                failure: .notFound(kind: "project user", id: userId))
        ])
        return try await projectUser(projectId, userId)
    }

    /// Removes a user from a project and revokes the keys they own in it.
    public func removeProjectUser(_ projectId: String, userId: String) async throws {
        try await change([
            SQLStep(
                "DELETE FROM project_users WHERE project_id = ? AND user_id = ? RETURNING user_id", [.text(projectId), .text(userId)],
                failure: .notFound(kind: "project user", id: userId)),
            SQLStep(
                "UPDATE api_keys SET revoked_at = ? WHERE project_id = ? AND owner_kind = 'user' AND owner_id = ? AND revoked_at IS NULL",
                [.int(Self.now()), .text(projectId), .text(userId)]),
        ])
    }
}
