/// What the request path knows about one live key: who it belongs to and what it may do.
/// Keys of archived projects, revoked keys and keys past expiry are not in the table at all,
/// except that expiry is also checked per request (a key can expire between two snapshots).
public struct KeyGrant: Sendable, Equatable {
    public var keyId: String
    public var projectId: String
    /// The user who owns the key, or the service account's id.
    public var ownerId: String
    public var scopes: KeyScopes
    /// Unix seconds; nil: never.
    public var expiresAt: Double?
    /// Its tier, limit overrides and budget.
    public var limits: KeyLimits

    public init(
        keyId: String, projectId: String, ownerId: String, scopes: KeyScopes = KeyScopes(), expiresAt: Double? = nil,
        limits: KeyLimits = KeyLimits()
    ) {
        self.keyId = keyId
        self.projectId = projectId
        self.ownerId = ownerId
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.limits = limits
    }
}
