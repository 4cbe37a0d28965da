/// An immutable snapshot of every live inference key, by digest. The control plane builds a new
/// one when keys change (on this instance, or on another sharing the database) and hands it to
/// each event loop, which reads its own copy without a lock.
public struct KeyTable: Sendable {
    var grants: [KeyDigest: KeyGrant]
    /// Increases with every change to the keys the table was built from.
    public let version: Int64

    public init(_ grants: [KeyDigest: KeyGrant] = [:], version: Int64 = 0) {
        self.grants = grants
        self.version = version
    }

    public var count: Int { grants.count }

    public func grant(for digest: KeyDigest) -> KeyGrant? { grants[digest] }
}
