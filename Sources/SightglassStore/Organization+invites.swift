import Foundation

extension Organization {
    static let inviteColumns = "id, email, role, status, invited_at, expires_at, accepted_at"
    /// Invites stay open for a week, as OpenAI's do.
    static let inviteLifetime: Int64 = 7 * 86_400

    static func invite(_ r: [SQLValue], now: Int64 = Organization.now()) -> OrgInvite {
        var i = OrgInvite(
            id: r[0].text ?? "", email: r[1].text ?? "", role: r[2].text ?? "", status: r[3].text ?? "", invitedAt: r[4].int ?? 0,
            expiresAt: r[5].int ?? 0, acceptedAt: r[6].int)
        if i.status == "pending" && i.expiresAt <= now { i.status = "expired" }
        return i
    }

    public func invites(limit: Int = 20, after: String? = nil) async throws -> Page<OrgInvite> {
        try await page(Self.inviteColumns, from: "org_invites", limit: limit, after: after, order: "invited_at") { Self.invite($0) }
    }

    public func invite(_ id: String) async throws -> OrgInvite {
        try await one("SELECT \(Self.inviteColumns) FROM org_invites WHERE id = ?", [.text(id)], orElse: .notFound(kind: "invite", id: id)) {
            Self.invite($0)
        }
    }

    /// Invites `email` as `role`; refused while that address is already a member or has a pending invite.
    public func createInvite(email: String, role: String) async throws -> OrgInvite {
        guard OrgUser.roles.contains(role) else { throw IdentityError.invalid(field: "role", message: "must be owner or reader") }
        guard email.contains("@") else { throw IdentityError.invalid(field: "email", message: "'\(email)' is not an email address") }
        let now = Self.now()
        let i = OrgInvite(
            id: Self.newId("invite-"), email: email, role: role, status: "pending", invitedAt: now, expiresAt: now + Self.inviteLifetime,
            acceptedAt: nil)
        try await change([
            SQLStep(
                "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM org_users WHERE email = ?)", [.text(email)], failure: .conflict("'\(email)' is already a member")),
            SQLStep(
                """
                INSERT INTO org_invites (id, email, role, status, invited_at, expires_at) SELECT ?, ?, ?, 'pending', ?, ?
                WHERE NOT EXISTS (SELECT 1 FROM org_invites WHERE email = ? AND status = 'pending' AND expires_at > ?) RETURNING id
                """, [.text(i.id), .text(email), .text(role), .int(now), .int(i.expiresAt), .text(email), .int(now)],
                failure: .conflict("'\(email)' already has a pending invite")),
        ])
        return i
    }

    /// Deletes a pending invite (accepted ones are history, and stay).
    public func deleteInvite(_ id: String) async throws {
        try await change([
            SQLStep(
                "DELETE FROM org_invites WHERE id = ? AND status = 'pending' RETURNING id", [.text(id)],
                failure: .notFound(kind: "pending invite", id: id))
        ])
    }

    /// Accepts a pending, unexpired invite: the invited address becomes a user with the invited role.
    public func acceptInvite(_ id: String, name: String) async throws -> OrgUser {
        let invite = try await invite(id)
        guard invite.status == "pending" else { throw IdentityError.conflict("invite '\(id)' is \(invite.status)") }
        let now = Self.now()
        let user = OrgUser(id: Self.newId("user-"), email: invite.email, name: name, role: invite.role, addedAt: now)
        try await change([
            SQLStep(
                "UPDATE org_invites SET status = 'accepted', accepted_at = ? WHERE id = ? AND status = 'pending' AND expires_at > ? RETURNING id",
                [.int(now), .text(id), .int(now)], failure: .conflict("invite '\(id)' is no longer pending")),
            SQLStep(
                "INSERT INTO org_users (id, email, name, role, added_at) SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM org_users WHERE email = ?) RETURNING id",
                [.text(user.id), .text(user.email), .text(name), .text(user.role), .int(now), .text(user.email)],
                failure: .conflict("'\(user.email)' is already a member")),
        ])
        return user
    }
}
