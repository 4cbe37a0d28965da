import Foundation
import Logging
import SightglassConfig
import SightglassTelemetry

/// Where requests are kept: a SQLite file (one gateway) or a PostgreSQL database (several
/// gateways sharing one history). Both hold the same tables and answer the same queries.
///
/// Writes are synchronous: they run on the ledger writer's own thread (and the audit queue),
/// never on the request path or the cooperative pool. Reads are `async` so the dashboard's
/// handlers can await PostgreSQL; SQLite's synchronous reads satisfy them as they are.
public protocol LedgerStore: AnyObject, Sendable {
    /// A file path, or a `postgres://` URL without its password: safe to show.
    var location: String { get }
    /// `sqlite` or `postgresql`.
    var engine: String { get }

    /// Writes one batch in one transaction: the rows and their contribution to every rollup level.
    func write(_ events: [RequestEvent], synthetic: Bool) throws
    /// Deletes at most `limit` rows older than each cut-off; returns how many went.
    func prune(rawBefore: Double, minuteBefore: Double, hourBefore: Double, dayBefore: Double, limit: Int) throws -> Int
    /// Stores audit entries, ignoring ones already stored (same id).
    func appendAudit(_ entries: [AuditEntry]) throws

    /// Newest first, after `filter.cursor`, at most `filter.limit`.
    func requests(_ filter: RequestFilter) async throws -> RequestPage
    /// The newest request with this id, with its queue and connect times where it had them.
    func request(id: String) async throws -> StoredRequest?
    /// Merges the rollup rows of `level` in [since, until) into cells by `key(bucket, group name)`
    /// (nil skips the row). Histograms are decoded only when `histograms` is true.
    func rollups<Key: Hashable>(
        level: RollupLevel, since: Double, until: Double, group: AnalyticsGroup?, histograms: Bool,
        key: (Int64, String) -> Key?
    ) async throws -> [Key: RollupCell]
    /// Per-user aggregates from the hourly user rollups (hours that start in [since, until)).
    func userCells(since: Double, until: Double) async throws -> [String: RollupCell]
    /// The key rollups of `level` whose buckets start in [since, until), named (requests made
    /// with an API key only).
    func keyUsage(level: RollupLevel, since: Double, until: Double) async throws -> [KeyUsageRow]
    /// Error groups since `since`, most frequent first, with the newest `examples` ids of each.
    func errorGroups(since: Double, examples: Int) async throws -> [ErrorGroup]
    /// All-time totals from the day rollups.
    func totals() async throws -> RollupCell
    /// The newest row's sequence number: one index probe, for health checks that time a query.
    func latestSequence() async throws -> Int64
    func requestCount() async throws -> Int
    /// Bytes the store uses on disk.
    func sizeBytes() async throws -> Int64
    /// Newest first; `total` counts every stored entry, `filtered` those matching.
    func audit(_ q: AuditQuery) async throws -> (entries: [AuditEntry], total: Int, filtered: Int)
    /// Releases connections; the store is not used afterwards.
    func close()
}

extension LedgerStore {
    /// The organization (users, projects, keys) kept in the same database.
    public var organization: Organization { Organization(self) }

    public func write(_ events: [RequestEvent]) throws { try write(events, synthetic: false) }

    public func errorGroups(since: Double) async throws -> [ErrorGroup] { try await errorGroups(since: since, examples: 5) }

    public func prune(rawBefore: Double, minuteBefore: Double, hourBefore: Double, dayBefore: Double) throws -> Int {
        try prune(rawBefore: rawBefore, minuteBefore: minuteBefore, hourBefore: hourBefore, dayBefore: dayBefore, limit: 5_000)
    }
}

/// Opens the store a `--db` value names: a `postgres://` (or `postgresql://`) URL, else a SQLite path.
public enum LedgerStores {
    public static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// Opens and migrates the store. For PostgreSQL this connects (bounded by a timeout), so
    /// call it off the cooperative pool: from the ledger writer's thread or a command's main thread.
    public static func open(_ location: String, logger: Logger) throws -> any LedgerStore {
        if isPostgres(location) { return try PostgresLedger(url: location, logger: logger) }
        return try SQLiteLedger(path: location)
    }

    /// Runs async store code from a thread outside Swift's cooperative pool (a command's main
    /// thread, the writer's thread) and waits for it.
    public static func blocking<T: Sendable>(_ op: @escaping @Sendable () async throws -> T) throws -> T {
        try PostgresLedger.blocking(.seconds(3600), op)
    }

    /// The location with any password replaced, for logs, `/health` and the config endpoint.
    public static func redacted(_ location: String) -> String {
        GatewayConfig.withoutPassword(location)
    }
}
