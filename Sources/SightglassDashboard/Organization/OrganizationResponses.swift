import SightglassConfig
import SightglassGovernance
import SightglassStore

/// The Admin API's objects, in OpenAI's shapes (`/v1/organization/…`), so its clients and
/// tools read them unchanged. Fields OpenAI does not have (key scopes and expiry) are additions.
struct OrgList<Item: Encodable & Sendable>: Encodable, Sendable {
    var object = "list"
    var data: [Item]
    @ExplicitNull var firstId: String?
    @ExplicitNull var lastId: String?
    var hasMore: Bool

    init(_ page: Page<Item>, id: (Item) -> String) {
        data = page.items
        firstId = page.items.first.map(id)
        lastId = page.items.last.map(id)
        hasMore = page.hasMore
    }

    enum CodingKeys: String, CodingKey {
        case object, data
        case firstId = "first_id", lastId = "last_id", hasMore = "has_more"
    }
}

/// A person as the Admin API shows them: `organization.user` in the organization's lists,
/// `organization.project.user` (with their project role) in a project's.
struct PersonObject: Encodable, Sendable {
    var object: String
    var id: String
    var name: String
    var email: String
    var role: String
    var addedAt: Int64

    init(_ u: OrgUser) {
        object = "organization.user"
        (id, name, email, role, addedAt) = (u.id, u.name, u.email, u.role, u.addedAt)
    }

    init(_ m: ProjectMember) {
        object = "organization.project.user"
        (id, name, email, role, addedAt) = (m.user.id, m.user.name, m.user.email, m.role, m.addedAt)
    }

    enum CodingKeys: String, CodingKey {
        case object, id, name, email, role
        case addedAt = "added_at"
    }
}

typealias UserObject = PersonObject
typealias ProjectUserObject = PersonObject

struct ProjectObject: Encodable, Sendable {
    var object = "organization.project"
    var id: String
    var name: String
    var createdAt: Int64
    @ExplicitNull var archivedAt: Int64?
    var status: String

    init(_ p: Project) {
        (id, name, createdAt, archivedAt, status) = (p.id, p.name, p.createdAt, p.archivedAt, p.status)
    }

    enum CodingKeys: String, CodingKey {
        case object, id, name, status
        case createdAt = "created_at", archivedAt = "archived_at"
    }
}

struct ServiceAccountObject: Encodable, Sendable {
    struct CreatedKey: Encodable, Sendable {
        var object = "organization.project.service_account.api_key"
        var value: String
        var name: String
        var createdAt: Int64
        var id: String
        enum CodingKeys: String, CodingKey {
            case object, value, name, id
            case createdAt = "created_at"
        }
    }

    var object = "organization.project.service_account"
    var id: String
    var name: String
    var role: String
    var createdAt: Int64
    /// Only in the answer that creates the account: its key, once.
    var apiKey: CreatedKey?

    init(_ a: ServiceAccount, key: SightglassStore.CreatedKey? = nil) {
        (id, name, role, createdAt) = (a.id, a.name, a.role, a.createdAt)
        apiKey = key.map { CreatedKey(value: $0.secret, name: $0.key.name, createdAt: $0.key.createdAt, id: $0.key.id) }
    }

    enum CodingKeys: String, CodingKey {
        case object, id, name, role
        case createdAt = "created_at", apiKey = "api_key"
    }
}

struct APIKeyObject: Encodable, Sendable {
    struct Owner: Encodable, Sendable {
        var type: String
        var user: ProjectUserObject?
        var serviceAccount: ServiceAccountObject?
        enum CodingKeys: String, CodingKey {
            case type, user
            case serviceAccount = "service_account"
        }
    }

    var object = "organization.project.api_key"
    var redactedValue: String
    /// The secret: only in the answer that creates the key.
    var value: String?
    var name: String
    var createdAt: Int64
    @ExplicitNull var lastUsedAt: Int64?
    @ExplicitNull var expiresAt: Int64?
    var id: String
    var owner: Owner
    var scopes: KeyScopes
    /// The limits set on the key itself (its tier's come on top).
    var rateLimits: RateLimits
    @ExplicitNull var tier: String?
    @ExplicitNull var budget: Budget?

    init(_ k: StoredKey, owner: Owner, secret: String? = nil) {
        redactedValue = k.hint
        value = secret
        (name, createdAt, lastUsedAt, expiresAt, id, scopes) = (k.name, k.createdAt, k.lastUsedAt, k.expiresAt, k.id, k.scopes)
        (rateLimits, tier, budget) = (k.limits.rateLimits, k.limits.tier, k.limits.budget)
        self.owner = owner
    }

    enum CodingKeys: String, CodingKey {
        case object, value, name, id, owner, scopes, tier, budget
        case rateLimits = "rate_limits"
        case redactedValue = "redacted_value", createdAt = "created_at", lastUsedAt = "last_used_at", expiresAt = "expires_at"
    }
}

/// `DELETE` answers: `{"object": "organization.project.api_key.deleted", "id": …, "deleted": true}`.
struct DeletedObject: Encodable, Sendable {
    var object: String
    var id: String
    var deleted = true
}

/// OpenAI's error shape, which its clients turn into typed exceptions by status.
struct OpenAIErrorBody: Encodable, Sendable {
    struct Detail: Encodable, Sendable {
        var message: String
        var type: String
        @ExplicitNull var param: String?
        @ExplicitNull var code: String?
    }
    var error: Detail
}

struct InviteObject: Encodable, Sendable {
    var object = "organization.invite"
    var id: String
    var email: String
    var role: String
    var status: String
    var invitedAt: Int64
    var expiresAt: Int64
    @ExplicitNull var acceptedAt: Int64?

    init(_ i: OrgInvite) {
        (id, email, role, status, invitedAt, expiresAt, acceptedAt) = (i.id, i.email, i.role, i.status, i.invitedAt, i.expiresAt, i.acceptedAt)
    }

    enum CodingKeys: String, CodingKey {
        case object, id, email, role, status
        case invitedAt = "invited_at", expiresAt = "expires_at", acceptedAt = "accepted_at"
    }
}

/// `GET /api/projects/own`: what a project key's holder may see of its own project.
struct OwnProjectAnswer: Encodable, Sendable {
    var project: ProjectObject
    var users: OrgList<PersonObject>
    var serviceAccounts: OrgList<ServiceAccountObject>
    var apiKeys: OrgList<APIKeyObject>

    enum CodingKeys: String, CodingKey {
        case project, users
        case serviceAccounts = "service_accounts", apiKeys = "api_keys"
    }
}
