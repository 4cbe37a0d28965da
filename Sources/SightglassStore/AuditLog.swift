import Foundation
import NIOConcurrencyHelpers

/// One audited event: who did what to which resource, from where, and how it ended.
public struct AuditEntry: Sendable, Equatable {
    public var id: String
    public var timestamp: Double
    public var user: String?
    public var action: String
    public var resource: String?
    /// `info`, `warning` or `error`.
    public var level: String
    public var sourceIP: String?
    public var userAgent: String?
    /// A JSON object, kept as text.
    public var detailsJSON: String
    /// `success` or `failure`.
    public var result: String

    public init(
        id: String = AuditLog.newID(), timestamp: Double = Date().timeIntervalSince1970, user: String?, action: String, resource: String?,
        level: String = "info", sourceIP: String? = nil, userAgent: String? = nil, detailsJSON: String = "{}", result: String = "success"
    ) {
        self.id = id
        self.timestamp = timestamp
        self.user = user
        self.action = action
        self.resource = resource
        self.level = level
        self.sourceIP = sourceIP
        self.userAgent = userAgent
        self.detailsJSON = detailsJSON
        self.result = result
    }
}

/// Filters of `/dashboard/audit`.
public struct AuditQuery: Sendable {
    public var user: String?
    public var action: String?
    public var resource: String?
    public var level: String?
    public var since: Double?
    public var limit = 100
    public init() {}

    func matches(_ e: AuditEntry) -> Bool {
        (user == nil || e.user == user) && (action == nil || e.action == action) && (resource == nil || e.resource == resource)
            && (level == nil || e.level == level) && (since == nil || e.timestamp >= since!)
    }
}

/// The audit trail. Entries are stored in the ledger's database (table `audit`) so they survive
/// restarts; the most recent are also kept in memory, which is all there is when the ledger is
/// disabled or cannot be written (then `persistent` says so).
public final class AuditLog: Sendable {
    struct State {
        var recent: [AuditEntry] = []
        var unsaved: [AuditEntry] = []
        var total = 0
    }

    let ledger: @Sendable () -> (any LedgerStore)?
    let memoryCapacity: Int
    private let state = NIOLockedValueBox(State())
    /// Writes happen here, never on the caller's thread: a control-plane handler must not wait
    /// for SQLite's write lock while the ledger writer holds it.
    private let queue = DispatchQueue(label: "sightglass.audit")

    public init(memoryCapacity: Int = 1_000, ledger: @escaping @Sendable () -> (any LedgerStore)?) {
        self.memoryCapacity = memoryCapacity
        self.ledger = ledger
    }

    private static let counter = NIOLockedValueBox(0)

    public static func newID() -> String {
        let n = counter.withLockedValue { c -> Int in
            c += 1; return c
        }
        return "audit_" + String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36) + String(format: "%04x", n & 0xffff)
    }

    /// Entries not yet in the database (waiting for it to come back).
    public var pendingCount: Int { state.withLockedValue { $0.unsaved.count } }

    /// Whether entries reach the database.
    public var persistent: Bool { ledger() != nil }

    /// Records an entry: kept in memory at once, written to the database on the audit queue.
    /// If the database cannot take it now, it is retried with the next entry.
    public func record(_ entry: AuditEntry) {
        state.withLockedValue { s in
            s.recent.append(entry)
            if s.recent.count > memoryCapacity { s.recent.removeFirst(s.recent.count - memoryCapacity) }
            s.total += 1
            s.unsaved.append(entry)
            if s.unsaved.count > memoryCapacity { s.unsaved.removeFirst(s.unsaved.count - memoryCapacity) }
        }
        queue.async { self.save() }
    }

    /// Waits until every recorded entry has been offered to the database (shutdown, tests).
    public func flush() {
        queue.sync {}
    }

    func save() {
        let pending = state.withLockedValue { $0.unsaved }
        guard !pending.isEmpty, let l = ledger() else { return }
        do {
            try l.appendAudit(pending)
            let saved = Set(pending.map(\.id))
            state.withLockedValue { $0.unsaved.removeAll { saved.contains($0.id) } }
        } catch {
            // Kept in `unsaved`; the next record retries.
        }
    }

    /// Newest first; `total` counts every stored entry, `filtered` those matching. From the
    /// in-memory ring when there is no readable store.
    public func query(_ q: AuditQuery) async -> (entries: [AuditEntry], total: Int, filtered: Int) {
        if let l = ledger(), let r = try? await l.audit(q) { return r }
        return state.withLockedValue { s in
            let matching = s.recent.filter(q.matches)
            return (Array(matching.reversed().prefix(q.limit)), s.total, matching.count)
        }
    }
}
