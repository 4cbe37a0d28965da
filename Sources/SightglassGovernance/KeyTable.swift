/// An immutable snapshot of every live inference key, by digest. The control plane builds a new
/// one when keys change (on this instance, or on another sharing the database) and hands it to
/// each event loop, which reads its own copy without a lock.
public struct KeyTable: Sendable {
    var grants: [KeyDigest: KeyGrant]
    /// Limits set on projects (their own and per model), by project id.
    public var projects: [String: ProjectLimits]
    /// Increases with every change to the keys the table was built from.
    public let version: Int64

    public init(_ grants: [KeyDigest: KeyGrant] = [:], projects: [String: ProjectLimits] = [:], version: Int64 = 0) {
        self.grants = grants
        self.projects = projects
        self.version = version
    }

    public var count: Int { grants.count }

    public func grant(for digest: KeyDigest) -> KeyGrant? { grants[digest] }

    /// Every live key's grant (for the limit analytics; never the digests).
    public var allGrants: [KeyGrant] { Array(grants.values) }
}
