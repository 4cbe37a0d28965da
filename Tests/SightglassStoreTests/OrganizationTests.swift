import Foundation
import SightglassGovernance
import SightglassStore
import SightglassTelemetry
import Testing

/// The organization's tables on both engines: each change is one transaction, refusals name
/// what is wrong and leave nothing half-written, and the key table is what the request path sees.
@Suite struct OrganizationTests {
    @Test(arguments: LedgerEngine.available)
    func bootstrapCreatesTheFirstOwnerProjectAndAdminKeyOnce(engine: LedgerEngine) async throws {
        try await withLedger(engine) { ledger in
            let org = ledger.organization
            let boot = try await org.bootstrap(email: "ada@example.com", name: "Ada")
            #expect(boot.user.role == "owner" && boot.project.status == "active")
            #expect(boot.adminKey.secret.hasPrefix("sk-sg-admin-") && boot.adminKey.key.hint.hasSuffix(String(boot.adminKey.secret.suffix(4))))
            let owner = try #require(try await org.adminKeyOwner(boot.adminKey.secret))
            #expect(owner.user.id == boot.user.id)
            #expect(try await org.adminKeyOwner(boot.adminKey.secret + "x") == nil)
            #expect(try await org.projectUsers(boot.project.id).items.map(\.user.id) == [boot.user.id])
            await #expect(throws: IdentityError.self) { _ = try await org.bootstrap(email: "eve@example.com", name: "Eve") }
            #expect(try await org.users().items.count == 1, "the refused bootstrap wrote nothing")
        }
    }

    @Test(arguments: LedgerEngine.available)
    func keysAreStoredAsDigestsAndLeaveTheTableWhenRevokedOrArchived(engine: LedgerEngine) async throws {
        try await withLedger(engine) { ledger in
            let org = ledger.organization
            let boot = try await org.bootstrap(email: "ada@example.com", name: "Ada")
            let v0 = try await org.version()
            let created = try await org.createKey(
                projectId: boot.project.id, ownerId: boot.user.id, name: "ci", scopes: KeyScopes(models: [Glob("llama*")]), expiresAt: nil)
            #expect(try await org.version() > v0)
            let table = try await org.keyTable()
            let grant = try #require(table.grant(for: KeyDigest(of: created.secret)))
            #expect(grant.keyId == created.key.id && grant.projectId == boot.project.id && grant.scopes.models == [Glob("llama*")])
            // The secret itself is nowhere in the database.
            let listed = try await org.keys(boot.project.id).items
            #expect(listed.map(\.id) == [created.key.id] && listed[0].hint == APIKeySecret.hint(created.secret))

            try await org.revokeKey(boot.project.id, created.key.id)
            #expect(try await org.keyTable().grant(for: KeyDigest(of: created.secret)) == nil)
            await #expect(throws: IdentityError.notFound(kind: "api_key", id: created.key.id)) { try await org.revokeKey(boot.project.id, created.key.id) }

            let second = try await org.createKey(projectId: boot.project.id, ownerId: boot.user.id, name: "two", scopes: KeyScopes(), expiresAt: nil)
            _ = try await org.archiveProject(boot.project.id)
            #expect(try await org.keyTable().count == 0, "an archived project's keys stop working")
            await #expect(throws: IdentityError.self) {
                _ = try await org.createKey(projectId: boot.project.id, ownerId: boot.user.id, name: "late", scopes: KeyScopes(), expiresAt: nil)
            }
            _ = second
        }
    }

    @Test(arguments: LedgerEngine.available)
    func refusedChangesWriteNothing(engine: LedgerEngine) async throws {
        try await withLedger(engine) { ledger in
            let org = ledger.organization
            let boot = try await org.bootstrap(email: "ada@example.com", name: "Ada")
            let version = try await org.version()
            await #expect(throws: IdentityError.conflict("a project named 'Default project' already exists")) {
                _ = try await org.createProject(name: "Default project")
            }
            await #expect(throws: IdentityError.conflict("the organization must keep at least one owner")) {
                _ = try await org.setRole(user: boot.user.id, role: "reader")
            }
            #expect(try await org.user(boot.user.id).role == "owner", "the refused change was rolled back")
            let stranger = try await org.addUser(email: "bob@example.com", name: "Bob", role: "reader")
            await #expect(throws: IdentityError.invalid(field: "owner", message: "'\(stranger.id)' is not a member of the project")) {
                _ = try await org.createKey(projectId: boot.project.id, ownerId: stranger.id, name: "x", scopes: KeyScopes(), expiresAt: nil)
            }
            await #expect(throws: IdentityError.notFound(kind: "project", id: "proj_missing")) { _ = try await org.archiveProject("proj_missing") }
            #expect(try await org.version() == version + 1, "only the added user changed anything")
        }
    }

    @Test(arguments: LedgerEngine.available)
    func anAcceptedInviteBecomesAUserOnce(engine: LedgerEngine) async throws {
        try await withLedger(engine) { ledger in
            let org = ledger.organization
            _ = try await org.bootstrap(email: "ada@example.com", name: "Ada")
            let invite = try await org.createInvite(email: "bob@example.com", role: "reader")
            #expect(invite.status == "pending" && invite.expiresAt == invite.invitedAt + 7 * 86_400)
            await #expect(throws: IdentityError.conflict("'bob@example.com' already has a pending invite")) {
                _ = try await org.createInvite(email: "bob@example.com", role: "owner")
            }
            await #expect(throws: IdentityError.conflict("'ada@example.com' is already a member")) {
                _ = try await org.createInvite(email: "ada@example.com", role: "reader")
            }
            let bob = try await org.acceptInvite(invite.id, name: "Bob")
            #expect(bob.role == "reader" && bob.email == "bob@example.com")
            #expect(try await org.invite(invite.id).status == "accepted")
            await #expect(throws: IdentityError.conflict("invite '\(invite.id)' is accepted")) { _ = try await org.acceptInvite(invite.id, name: "Bob") }
            await #expect(throws: IdentityError.self) { try await org.deleteInvite(invite.id) }
            #expect(try await org.users().items.map(\.email).sorted() == ["ada@example.com", "bob@example.com"])
        }
    }

    @Test(arguments: LedgerEngine.available)
    func listsPageInCreationOrder(engine: LedgerEngine) async throws {
        try await withLedger(engine) { ledger in
            let org = ledger.organization
            _ = try await org.bootstrap(email: "ada@example.com", name: "Ada")
            var names: [String] = []
            for i in 0..<5 { names.append(try await org.createProject(name: "p\(i)").name) }
            let first = try await org.projects(limit: 3)
            #expect(first.hasMore && first.items.count == 3)
            let rest = try await org.projects(limit: 10, after: first.items.last?.id)
            #expect(!rest.hasMore)
            #expect(Set((first.items + rest.items).map(\.name)) == Set(names + ["Default project"]))
            await #expect(throws: IdentityError.self) { _ = try await org.projects(after: "proj_nope") }
        }
    }

    @Test(arguments: LedgerEngine.available)
    func requestRowsCarryKeyAndProjectAndFilterByThem(engine: LedgerEngine) async throws {
        try await withLedger(engine) { ledger in
            var a = event(1, at: 1_800_000_000), b = event(2, at: 1_800_000_001)
            a.apiKeyId = "key_a"
            a.projectId = "proj_a"
            b.apiKeyId = "key_b"
            b.projectId = "proj_b"
            let batch = [a, b]
            try await offPool { try ledger.write(batch) }
            var f = RequestFilter()
            f.projectId = "proj_a"
            let page = try await ledger.requests(f)
            #expect(page.requests.map(\.id) == ["req-1"] && page.requests[0].apiKeyId == "key_a" && page.requests[0].projectId == "proj_a")
            f = RequestFilter()
            f.apiKeyId = "key_b"
            #expect(try await ledger.requests(f).requests.map(\.projectId) == ["proj_b"])
        }
    }
}

@Suite struct KeyRollupTests {
    /// Requests made with a key are rolled up by project, key, owner, model and route at every
    /// level; requests without one are not, and the per-project breakdown adds up exactly.
    @Test(arguments: LedgerEngine.available)
    func requestsWithAKeyAreRolledUpByProjectAndKey(engine: LedgerEngine) async throws {
        try await withLedger(engine) { ledger in
            let t0 = 1_800_000_000.0 - 1_800_000_000.0.truncatingRemainder(dividingBy: 86400)
            var events: [RequestEvent] = []
            for i in 0..<30 {
                var e = event(i, at: t0 + Double(i) * 10, model: i % 2 == 0 ? "a" : "b", user: "owner")
                if i % 3 != 0 {
                    e.apiKeyId = i % 3 == 1 ? "key_1" : "key_2"
                    e.projectId = i % 3 == 1 ? "proj_1" : "proj_2"
                }
                events.append(e)
            }
            let first = Array(events[..<12]), rest = Array(events[12...])
            try await offPool {
                try ledger.write(first)
                try ledger.write(rest)
            }
            let (projects, total) = try await ledger.breakdown(by: .project, since: t0, until: t0 + 3600)
            #expect(Dictionary(uniqueKeysWithValues: projects.map { ($0.key, $0.cell.count) }) == ["proj_1": 10, "proj_2": 10])
            #expect(total.count == 20 && total.tokensIn == 200)
            let (keys, _) = try await ledger.breakdown(by: .apiKey, since: t0, until: t0 + 3600)
            #expect(Set(keys.map(\.key)) == ["key_1", "key_2"])
            for level in RollupLevel.allCases {
                let rows = try await ledger.keyUsage(level: level, since: t0, until: t0 + 86400)
                #expect(rows.reduce(0) { $0 + $1.cell.count } == 20, "level \(level)")
                #expect(Set(rows.map(\.model)) == ["a", "b"] && Set(rows.map(\.user)) == ["owner"])
                #expect(Set(rows.map(\.route)) == ["/v1/chat/completions"])
            }
        }
    }
}
