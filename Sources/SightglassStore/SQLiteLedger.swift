import Foundation
import GRDB
import NIOConcurrencyHelpers
import SightglassTelemetry

/// The request ledger in SQLite (WAL): the default, one file beside one gateway.
///
/// Written only by `LedgerWriter`'s thread, in batches, never from the request path; read by
/// the dashboard API from any thread (WAL lets readers run beside the writer).
public final class SQLiteLedger: LedgerStore {
    public let path: String
    let pool: DatabasePool
    let dims = DimensionCache()

    public var location: String { path }
    public var engine: String { "sqlite" }

    /// Opens (creating if needed) the ledger at `path` and brings its schema up to date.
    public init(path: String) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: config)
        try SQLiteSchema.migrator().migrate(pool)
    }

    // MARK: - Writing

    /// Writes one batch in one transaction: the rows, and their contribution to every rollup level.
    public func write(_ events: [RequestEvent], synthetic: Bool) throws {
        guard !events.isEmpty else { return }
        do {
            try writeBatch(events, synthetic: synthetic)
        } catch {
            dims.reset()  // ids learnt in a failed batch were rolled back with it
            throw error
        }
    }

    func writeBatch(_ events: [RequestEvent], synthetic: Bool) throws {
        try pool.write { db in
            let insert = try db.cachedStatement(sql: Self.insertSQL)
            var cells: [RollupKey: RollupCell] = [:]
            var users: [UserRollupKey: RollupCell] = [:]
            var keys: [KeyRollupKey: RollupCell] = [:]
            for e in events {
                // One pass per row: its dimension ids serve the insert and every rollup level.
                let route = try dims.id(.route, e.route, db), backend = try dims.id(.backend, e.backend, db)
                let model = try dims.id(.model, e.model, db)
                let user: Int64? = try e.user.map { try dims.id(.user, $0, db) }
                try insertRow(e, route: route, backend: backend, model: model, user: user, synthetic: synthetic, statement: insert, db: db)
                // As in the live metrics, a model is a rollup dimension only once a backend served it:
                // names in rejected requests are whatever clients typed (the raw row keeps them).
                let rollupModel = e.backend.isEmpty ? try dims.id(.model, "", db) : model
                for level in RollupLevel.allCases {
                    let key = RollupKey(
                        level: level, bucket: level.bucket(e.startTime), route: route, backend: backend, model: rollupModel,
                        statusClass: e.status / 100)
                    cells[key, default: RollupCell()].add(e)
                }
                if let user {
                    users[UserRollupKey(bucket: RollupLevel.hour.bucket(e.startTime), user: user), default: RollupCell()].add(e)
                }
                if let project = e.projectId, let key = e.apiKeyId {
                    let p = try dims.id(.project, project, db), k = try dims.id(.apiKey, key, db), u = try user ?? dims.id(.user, "", db)
                    for level in RollupLevel.allCases {
                        let slot = KeyRollupKey(
                            level: level, bucket: level.bucket(e.startTime), project: p, apiKey: k, user: u, model: rollupModel, route: route)
                        keys[slot, default: RollupCell()].add(e)
                    }
                }
            }
            try merge(cells, db: db)
            try mergeUsers(users, db: db)
            try merge(
                keys.map { (StatementArguments($0.key.values), $0.value) }, table: "key_rollups", keyColumns: KeyRollupKey.columns, db: db)
        }
    }

    public func appendAudit(_ entries: [AuditEntry]) throws {
        try pool.write { db in
            let stmt = try db.cachedStatement(sql: "INSERT OR IGNORE INTO audit (\(SQLCondition.auditColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            for e in entries {
                try stmt.execute(arguments: [
                    e.id, Int64(e.timestamp * 1e6), e.user, e.action, e.resource, e.level, e.sourceIP, e.userAgent,
                    e.detailsJSON, e.result,
                ])
            }
        }
    }

    public func close() { try? pool.close() }

    static let insertSQL = """
        INSERT INTO requests (id, ts, route, backend, model, method, stream, status, error_type, error_message,
            tokens_in, tokens_out, tokens_cached, estimated, cost_nano_usd, latency_us, first_byte_us, first_token_us,
            bytes_in, bytes_out, client, "user", api_key, synthetic, project_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// Inserts one request row (values bound directly: this runs once per proxied request),
    /// and its side rows when it has timing marks or bodies.
    func insertRow(
        _ e: RequestEvent, route: Int64, backend: Int64, model: Int64, user: Int64?, synthetic: Bool,
        statement: Statement, db: Database
    ) throws {
        let errorType: Int64? = try e.errorType.map { try dims.id(.errorType, $0.rawValue, db) }
        let client: Int64? = e.clientAddress.isEmpty ? nil : try dims.id(.client, e.clientAddress, db)
        let method = try dims.id(.method, e.method, db)
        try SQLiteRowBinder.execute(statement, in: db) { row in
            row.bind(requestId: e.id)
            row.bind(Int64((e.startTime * 1e6).rounded()))
            row.bind(route)
            row.bind(backend)
            row.bind(model)
            row.bind(method)
            row.bind(e.stream)
            row.bind(e.status)
            row.bind(errorType)
            row.bind(e.errorMessage)
            row.bind(e.inputTokens)
            row.bind(e.outputTokens)
            row.bind(e.cachedTokens)
            row.bind(e.tokensEstimated)
            row.bind(LedgerRow.nanoDollars(e.cost))
            row.bind(LedgerRow.micros(e.latency))
            row.bind(e.firstByte.map(LedgerRow.micros))
            row.bind(e.firstToken.map(LedgerRow.micros))
            row.bind(e.requestBytes)
            row.bind(e.responseBytes)
            row.bind(client)
            row.bind(user)
            row.bind(e.apiKeyId)
            row.bind(synthetic)
            row.bind(e.projectId)
        }
        if let b = e.bodies {
            try db.execute(
                sql: "INSERT INTO request_bodies (seq, request, request_truncated, response, response_truncated) VALUES (?, ?, ?, ?, ?)",
                arguments: [
                    db.lastInsertedRowID, String(decoding: b.request, as: UTF8.self), b.requestTruncated,
                    String(decoding: b.response, as: UTF8.self), b.responseTruncated,
                ])
        }
        if e.queued != nil || e.connect != nil {
            try db.execute(
                sql: "INSERT INTO request_timing (seq, queue_us, connect_us) VALUES (?, ?, ?)",
                arguments: [db.lastInsertedRowID, e.queued.map(LedgerRow.micros), e.connect.map(LedgerRow.micros)])
        }
    }

    /// Adds cells to the stored rollups (read, merge, write back), so several writers, or a
    /// restarted one, extend the same buckets instead of overwriting them.
    func merge(_ cells: [RollupKey: RollupCell], db: Database) throws {
        try merge(
            cells.map { ([$0.key.level.rawValue, $0.key.bucket, $0.key.route, $0.key.backend, $0.key.model, $0.key.statusClass], $0.value) },
            table: "rollups", keyColumns: ["level", "bucket", "route", "backend", "model", "status_class"], db: db)
    }

    func mergeUsers(_ cells: [UserRollupKey: RollupCell], db: Database) throws {
        try merge(cells.map { ([$0.key.bucket, $0.key.user], $0.value) }, table: "user_rollups", keyColumns: ["bucket", "user"], db: db)
    }

    func merge(_ cells: [(key: StatementArguments, cell: RollupCell)], table: String, keyColumns: [String], db: Database) throws {
        guard !cells.isEmpty else { return }
        let select = try db.cachedStatement(
            sql: "SELECT \(SQLCondition.cellColumns) FROM \(table) WHERE "
                + keyColumns.map { "\($0) = ?" }.joined(separator: " AND "))
        let upsert = try db.cachedStatement(
            sql: "INSERT OR REPLACE INTO \(table) (\(keyColumns.joined(separator: ", ")), \(SQLCondition.cellColumns)) VALUES ("
                + Array(repeating: "?", count: keyColumns.count + SQLCondition.cellColumnCount).joined(separator: ", ") + ")")
        for (key, cell) in cells {
            var merged = cell
            if let row = try Row.fetchOne(select, arguments: key) { Self.add(row, offset: 0, histograms: true, to: &merged) }
            try upsert.execute(
                arguments: key + [
                    merged.count, merged.errors, merged.tokensIn, merged.tokensOut, merged.tokensCached, merged.cost,
                    merged.genTokens, merged.genSeconds, Data(merged.latency.encoded()), Data(merged.ttft.encoded()),
                    merged.estimatedCost,
                ])
        }
    }

    /// Adds a row whose columns, from `offset`, are `cellColumns`, to `c` in place;
    /// `histograms: false` skips decoding them (counting metrics).
    static func add(_ row: Row, offset o: Int, histograms: Bool, to c: inout RollupCell) {
        c.count += row[o] as Int
        c.errors += row[o + 1] as Int
        c.tokensIn += row[o + 2] as Int
        c.tokensOut += row[o + 3] as Int
        c.tokensCached += row[o + 4] as Int
        c.cost += row[o + 5] as Double
        c.genTokens += row[o + 6] as Int
        c.genSeconds += row[o + 7] as Double
        c.estimatedCost += row[o + 10] as Double
        guard histograms else { return }
        if let lat = row.dataNoCopy(atIndex: o + 8) { lat.withUnsafeBytes { c.latency.merge(encoded: $0) } }
        if let ttft = row.dataNoCopy(atIndex: o + 9) { ttft.withUnsafeBytes { c.ttft.merge(encoded: $0) } }
    }

    // MARK: - Retention

    /// Deletes at most `limit` rows older than each cut-off; returns how many went. Called
    /// repeatedly in small steps by the writer so pruning never holds the database for long.
    public func prune(rawBefore: Double, minuteBefore: Double, hourBefore: Double, dayBefore: Double, limit: Int) throws -> Int {
        try pool.write { db in
            try db.execute(
                sql: "DELETE FROM requests WHERE seq IN (SELECT seq FROM requests WHERE ts < ? ORDER BY ts LIMIT ?)",
                arguments: [Int64(rawBefore * 1e6), limit])
            var n = db.changesCount
            // Timing marks of rows that are gone (seq grows with time, so older marks sort first).
            try db.execute(sql: "DELETE FROM request_timing WHERE seq < (SELECT COALESCE(MIN(seq), 0) FROM requests)")
            try db.execute(sql: "DELETE FROM request_bodies WHERE seq < (SELECT COALESCE(MIN(seq), 0) FROM requests)")
            for (level, before) in [(RollupLevel.minute, minuteBefore), (.hour, hourBefore), (.day, dayBefore)] {
                try db.execute(
                    sql: """
                        DELETE FROM rollups WHERE level = ? AND bucket < ? AND bucket IN
                            (SELECT bucket FROM rollups WHERE level = ? AND bucket < ? ORDER BY bucket LIMIT ?)
                        """, arguments: [level.rawValue, Int64(before), level.rawValue, Int64(before), limit])
                n += db.changesCount
            }
            try db.execute(
                sql: """
                    DELETE FROM user_rollups WHERE bucket < ? AND bucket IN
                        (SELECT bucket FROM user_rollups WHERE bucket < ? ORDER BY bucket LIMIT ?)
                    """, arguments: [Int64(hourBefore), Int64(hourBefore), limit])
            n += db.changesCount
            return n
        }
    }

    /// Bytes the database uses on disk (main file and WAL).
    public func sizeBytes() -> Int64 {
        var total: Int64 = 0
        for p in [path, path + "-wal"] {
            if let size = (try? FileManager.default.attributesOfItem(atPath: p))?[.size] as? NSNumber { total += size.int64Value }
        }
        return total
    }
}

extension DimensionCache {
    /// The id of `name`, inserting it if new. Must run inside a write.
    func id(_ kind: DimensionKind, _ name: String, _ db: Database) throws -> Int64 {
        if let id = cachedId(kind, name) { return id }
        try db.execute(sql: "INSERT OR IGNORE INTO dims (kind, name) VALUES (?, ?)", arguments: [kind.rawValue, name])
        let id = try Int64.fetchOne(db, sql: "SELECT id FROM dims WHERE kind = ? AND name = ?", arguments: [kind.rawValue, name])!
        remember(kind, name, id)
        return id
    }

    /// The id of an existing name, or nil (a filter on a name never seen matches nothing).
    func existing(_ kind: DimensionKind, _ name: String, _ db: Database) throws -> Int64? {
        if let id = cachedId(kind, name) { return id }
        return try Int64.fetchOne(db, sql: "SELECT id FROM dims WHERE kind = ? AND name = ?", arguments: [kind.rawValue, name])
    }

    /// The name of an id, loading the table once when an id is unknown.
    func name(_ id: Int64?, _ db: Database) throws -> String? {
        guard let id else { return nil }
        if let n = cachedName(id) { return n }
        rememberAll(try Row.fetchAll(db, sql: "SELECT id, kind, name FROM dims").map { ($0[0], $0[1], $0[2]) })
        return cachedName(id)
    }
}
