import SightglassGovernance

/// A member of the organization. `owner`s administer it; `reader`s see their own projects.
public struct OrgUser: Sendable, Equatable {
    public var id: String
    public var email: String
    public var name: String
    public var role: String
    public var addedAt: Int64
    public static let roles = ["owner", "reader"]
}

public struct OrgInvite: Sendable, Equatable {
    public var id: String
    public var email: String
    public var role: String
    /// `pending`, `accepted` or `expired` (a pending invite past `expiresAt` reads as expired).
    public var status: String
    public var invitedAt: Int64
    public var expiresAt: Int64
    public var acceptedAt: Int64?
}

public struct Project: Sendable, Equatable {
    public var id: String
    public var name: String
    /// `active` or `archived`; an archived project's keys stop working.
    public var status: String
    public var createdAt: Int64
    public var archivedAt: Int64?
}

/// A user's membership of a project.
public struct ProjectMember: Sendable, Equatable {
    public var user: OrgUser
    /// `owner` or `member`.
    public var role: String
    public var addedAt: Int64
    public static let roles = ["owner", "member"]

    public init(user: OrgUser, role: String, addedAt: Int64) {
        self.user = user
        self.role = role
        self.addedAt = addedAt
    }
}

/// A project's non-human identity; its key is created with it.
public struct ServiceAccount: Sendable, Equatable {
    public var id: String
    public var projectId: String
    public var name: String
    public var role: String
    public var createdAt: Int64
}

/// A key as stored: never the secret, only its hint.
public struct StoredKey: Sendable, Equatable {
    public var id: String
    /// `project` (inference) or `admin` (the Admin API).
    public var kind: String
    public var projectId: String?
    /// `user` or `service_account`.
    public var ownerKind: String
    public var ownerId: String
    public var name: String
    public var hint: String
    public var scopes: KeyScopes
    public var createdAt: Int64
    public var expiresAt: Int64?
    public var lastUsedAt: Int64?
    public var revokedAt: Int64?
    /// Its tier, limit overrides and budget.
    public var limits = KeyLimits()
}

/// A key just created: the only moment its secret exists outside the client.
public struct CreatedKey: Sendable {
    public var key: StoredKey
    public var secret: String
}

/// One page of a list, as OpenAI's lists page (`limit`, `after` an id).
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var hasMore: Bool

    public init(items: [Item], hasMore: Bool) {
        self.items = items
        self.hasMore = hasMore
    }

    public func map<T: Sendable>(_ transform: (Item) throws -> T) rethrows -> Page<T> {
        Page<T>(items: try items.map(transform), hasMore: hasMore)
    }
}

/// What `sightglass admin bootstrap` creates on a fresh store.
public struct Bootstrap: Sendable {
    public var user: OrgUser
    public var project: Project
    public var adminKey: CreatedKey
}
