import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import SightglassTelemetry

/// The request ledger in PostgreSQL, for several gateways sharing one history
/// (`--db postgres://user:password@host:5432/database?sslmode=disable`).
///
/// Same tables and queries as `SQLiteLedger`. Each gateway writes its own batches; rollup
/// buckets are merged under an advisory lock, so two writers adding to the same minute add up
/// instead of overwriting each other. Every operation has a time limit: an unreachable server
/// fails a flush (the writer keeps the records and retries) instead of hanging it.
public final class PostgresLedger: LedgerStore {
    public let location: String
    public var engine: String { "postgresql" }
    let client: PostgresClient
    let runner: Task<Void, Never>
    let logger: Logger
    let timeout: Duration
    let dims = DimensionCache()

    /// Connects, and brings the schema up to date; throws if the server cannot be reached within `timeout`.
    /// Blocks the calling thread: call from the ledger writer's thread or a command, not from async code.
    public init(url: String, logger: Logger, timeout: Duration = .seconds(10)) throws {
        location = LedgerStores.redacted(url)
        self.logger = logger
        self.timeout = timeout
        let quiet = {
            var l = logger; l.logLevel = .critical; return l
        }()  // retries are reported once, by the writer
        let client = PostgresClient(configuration: try Self.configuration(url), backgroundLogger: quiet)
        self.client = client
        runner = Task { await client.run() }
        do {
            try Self.blocking(timeout) { try await PostgresSchema.migrate(client, logger: quiet) }
        } catch {
            runner.cancel()
            throw error
        }
    }

    public func close() { runner.cancel() }

    /// `postgres://user:password@host:port/database?sslmode=disable|prefer|require`.
    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let parts = URLComponents(string: url), let host = parts.host, !host.isEmpty else {
            throw PostgresLedgerError("not a PostgreSQL URL (postgres://user:password@host:5432/database): \(LedgerStores.redacted(url))")
        }
        let user = parts.user ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        let database = parts.path.hasPrefix("/") && parts.path.count > 1 ? String(parts.path.dropFirst()) : user
        let sslmode = parts.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch sslmode {
        case "disable": tls = .disable
        case "prefer", "allow": tls = .prefer(.makeClientConfiguration())
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: throw PostgresLedgerError("sslmode must be disable, prefer or require, not \(sslmode)")
        }
        var c = PostgresClient.Configuration(
            host: host, port: parts.port ?? 5432, username: user, password: parts.password,
            database: database, tls: tls)
        c.options.connectTimeout = .seconds(5)
        c.options.maximumConnections = 8
        return c
    }

    // MARK: - Bridging

    /// Runs `op` to completion from a thread that is not part of Swift's cooperative pool.
    static func blocking<T: Sendable>(_ limit: Duration, _ op: @escaping @Sendable () async throws -> T) throws -> T {
        let result = NIOLockedValueBox<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let r: Result<T, any Error>
            do { r = .success(try await withDeadline(limit, op)) } catch { r = .failure(error) }
            result.withLockedValue { $0 = r }
            done.signal()
        }
        done.wait()
        return try result.withLockedValue { $0! }.get()
    }

    /// `op`, or a `PostgresLedgerError` once `limit` has passed.
    static func withDeadline<T: Sendable>(_ limit: Duration, _ op: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await op() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw PostgresLedgerError("PostgreSQL did not answer within \(limit)")
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    func run<T: Sendable>(_ op: @escaping @Sendable () async throws -> T) async throws -> T {
        do { return try await Self.withDeadline(timeout, op) } catch { throw PostgresLedgerError(error) }
    }

    func runBlocking<T: Sendable>(limit: Duration? = nil, _ op: @escaping @Sendable () async throws -> T) throws -> T {
        do { return try Self.blocking(limit ?? timeout, op) } catch { throw PostgresLedgerError(error) }
    }

    // MARK: - Writing

    public func write(_ events: [RequestEvent], synthetic: Bool) throws {
        guard !events.isEmpty else { return }
        do {
            // The deadline is there to notice a server that does not answer, not to cut a big
            // batch short (`ledger generate` writes 20,000 rows at a time): it grows with the batch.
            try runBlocking(limit: timeout * max(1, events.count / 2_000)) { try await self.writeBatch(events, synthetic: synthetic) }
        } catch {
            dims.reset()  // ids learnt in a failed batch may have been rolled back with it
            throw error
        }
    }

    func writeBatch(_ events: [RequestEvent], synthetic: Bool) async throws {
        // Names first, each in its own statement outside the batch's transaction: committed
        // ids are safe to cache, and `ON CONFLICT` lets gateways add the same name at once.
        var names = Set<DimensionCache.DimensionKey>()
        for e in events {
            for (kind, name) in [(DimensionKind.route, e.route), (.backend, e.backend), (.model, e.model), (.model, "")] {
                names.insert(.init(kind: kind.rawValue, name: name))
            }
            if let t = e.errorType { names.insert(.init(kind: DimensionKind.errorType.rawValue, name: t.rawValue)) }
            if let u = e.user { names.insert(.init(kind: DimensionKind.user.rawValue, name: u)) }
            if !e.clientAddress.isEmpty { names.insert(.init(kind: DimensionKind.client.rawValue, name: e.clientAddress)) }
            if let p = e.projectId, let k = e.apiKeyId {
                names.insert(.init(kind: DimensionKind.project.rawValue, name: p))
                names.insert(.init(kind: DimensionKind.apiKey.rawValue, name: k))
                names.insert(.init(kind: DimensionKind.user.rawValue, name: e.user ?? ""))
            }
        }
        for key in names where dims.cachedId(DimensionKind(rawValue: key.kind)!, key.name) == nil {
            let rows = try await client.query(
                """
                WITH ins AS (INSERT INTO dims (kind, name) VALUES (\(Int64(key.kind)), \(key.name)) ON CONFLICT (kind, name) DO NOTHING RETURNING id)
                SELECT id FROM ins UNION ALL SELECT id FROM dims WHERE kind = \(Int64(key.kind)) AND name = \(key.name) LIMIT 1
                """, logger: logger)
            for try await id in rows.decode(Int64.self) { dims.remember(DimensionKind(rawValue: key.kind)!, key.name, id) }
            if dims.cachedId(DimensionKind(rawValue: key.kind)!, key.name) == nil {
                // Another writer inserted the same name at the same moment: its row was not yet
                // committed when this statement's snapshot was taken. It is now; read it.
                let again = try await client.query(
                    "SELECT id FROM dims WHERE kind = \(Int64(key.kind)) AND name = \(key.name)", logger: logger)
                for try await id in again.decode(Int64.self) { dims.remember(DimensionKind(rawValue: key.kind)!, key.name, id) }
            }
            guard dims.cachedId(DimensionKind(rawValue: key.kind)!, key.name) != nil else {
                throw PostgresLedgerError("no id for the name '\(key.name)' in dims")
            }
        }
        func id(_ kind: DimensionKind, _ name: String) -> Int64 { dims.cachedId(kind, name)! }

        var cells: [RollupKey: RollupCell] = [:]
        var users: [UserRollupKey: RollupCell] = [:]
        var keys: [KeyRollupKey: RollupCell] = [:]
        for e in events {
            let model = id(.model, e.backend.isEmpty ? "" : e.model)
            for level in RollupLevel.allCases {
                cells[
                    RollupKey(
                        level: level, bucket: level.bucket(e.startTime), route: id(.route, e.route), backend: id(.backend, e.backend),
                        model: model, statusClass: e.status / 100), default: RollupCell()
                ].add(e)
            }
            if let u = e.user { users[UserRollupKey(bucket: RollupLevel.hour.bucket(e.startTime), user: id(.user, u)), default: RollupCell()].add(e) }
            if let project = e.projectId, let key = e.apiKeyId {
                let (p, k, u) = (id(.project, project), id(.apiKey, key), id(.user, e.user ?? ""))
                for level in RollupLevel.allCases {
                    let slot = KeyRollupKey(
                        level: level, bucket: level.bucket(e.startTime), project: p, apiKey: k, user: u, model: model, route: id(.route, e.route))
                    keys[slot, default: RollupCell()].add(e)
                }
            }
        }

        try await client.withTransaction(logger: logger) { conn in
            try await self.insert(events, synthetic: synthetic, ids: id, conn)
            try await conn.query("SELECT pg_advisory_xact_lock(\(PostgresSchema.rollupLock))", logger: self.logger)
            try await self.merge(
                cells.map {
                    (
                        [
                            Int64($0.key.level.rawValue), $0.key.bucket, $0.key.route, $0.key.backend, $0.key.model,
                            Int64($0.key.statusClass),
                        ], $0.value
                    )
                },
                table: "rollups", keyColumns: ["level", "bucket", "route", "backend", "model", "status_class"], conn)
            try await self.merge(users.map { ([$0.key.bucket, $0.key.user], $0.value) }, table: "user_rollups", keyColumns: ["bucket", "\"user\""], conn)
            try await self.merge(keys.map { ($0.key.values, $0.value) }, table: "key_rollups", keyColumns: KeyRollupKey.columns, conn)
        }
    }

    static let insertColumns = """
        id, id_hash, ts, route, backend, model, method, stream, status, error_type, error_message, tokens_in, tokens_out, tokens_cached,
        estimated, cost, latency_us, first_byte_us, first_token_us, bytes_in, bytes_out, client, "user", api_key, synthetic, project_id
        """

    /// The rows: most by `COPY` (several times faster for the server to take than an insert's
    /// parameters); those with side-table data (timing marks, bodies), which need their sequence
    /// numbers back, by multi-row inserts.
    func insert(_ events: [RequestEvent], synthetic: Bool, ids: (DimensionKind, String) -> Int64, _ conn: PostgresConnection) async throws {
        let hasSideData = { (e: RequestEvent) in e.queued != nil || e.connect != nil || e.bodies != nil }
        let plain = events.filter { !hasSideData($0) }
        if !plain.isEmpty { try await copy(plain, synthetic: synthetic, ids: ids, conn) }
        let rest = events.filter(hasSideData)
        if !rest.isEmpty { try await insertReturningSeq(rest, synthetic: synthetic, ids: ids, conn) }
    }

    static let copyColumns = insertColumns.split(separator: ",").map {
        $0.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\"", with: "")
    }

    /// One row's values in `insertColumns` order, for `COPY` and for inserts alike.
    static func row(_ e: RequestEvent, synthetic: Bool, ids: (DimensionKind, String) -> Int64, into r: inout some PostgresRowValues) {
        r.text(e.id); r.int(LedgerRow.idHash(e.id)); r.int(LedgerRow.micros(e.startTime))
        r.int(ids(.route, e.route)); r.int(ids(.backend, e.backend)); r.int(ids(.model, e.model))
        r.text(e.method); r.bool(e.stream); r.int(Int64(e.status))
        r.int(e.errorType.map { ids(.errorType, $0.rawValue) }); r.text(e.errorMessage)
        r.int(Int64(e.inputTokens)); r.int(Int64(e.outputTokens)); r.int(Int64(e.cachedTokens))
        r.bool(e.tokensEstimated); r.double(e.cost); r.int(LedgerRow.micros(e.latency))
        r.int(e.firstByte.map(LedgerRow.micros)); r.int(e.firstToken.map(LedgerRow.micros))
        r.int(Int64(e.requestBytes)); r.int(Int64(e.responseBytes))
        r.int(e.clientAddress.isEmpty ? nil : ids(.client, e.clientAddress)); r.int(e.user.map { ids(.user, $0) })
        r.text(e.apiKeyId); r.bool(synthetic); r.text(e.projectId)
    }

    /// `COPY requests FROM STDIN` in text format, sent in pieces of about 1 MB.
    func copy(_ events: [RequestEvent], synthetic: Bool, ids: (DimensionKind, String) -> Int64, _ conn: PostgresConnection) async throws {
        try await conn.copyFrom(table: "requests", columns: Self.copyColumns, logger: logger) { writer in
            var line = PostgresCopyLine(capacity: 1 << 20)
            for e in events {
                Self.row(e, synthetic: synthetic, ids: ids, into: &line)
                line.endRow()
                if line.buffer.readableBytes >= 1 << 20 {
                    try await writer.write(line.buffer)
                    line.buffer.clear()
                }
            }
            if line.buffer.readableBytes > 0 { try await writer.write(line.buffer) }
        }
    }

    /// Multi-row inserts, 1,000 rows a statement (25,000 parameters, under PostgreSQL's 65,535),
    /// returning each row's sequence number for its timing marks and bodies.
    func insertReturningSeq(_ events: [RequestEvent], synthetic: Bool, ids: (DimensionKind, String) -> Int64, _ conn: PostgresConnection) async throws {
        var timings: [String: RequestEvent] = [:]
        for e in events { timings[e.id] = e }
        for start in stride(from: 0, to: events.count, by: 1_000) {
            let chunk = events[start..<min(start + 1_000, events.count)]
            var b = PostgresBindings(capacity: chunk.count * 26)
            for e in chunk { Self.row(e, synthetic: synthetic, ids: ids, into: &b) }
            let sql = "INSERT INTO requests (\(Self.insertColumns)) VALUES " + Self.placeholders(rows: chunk.count, columns: 26) + " RETURNING seq, id"
            let rows = try await conn.query(PostgresQuery(unsafeSQL: sql, binds: b), logger: logger)
            var marks = PostgresBindings(), bodies = PostgresBindings()
            var count = 0, bodyCount = 0
            for try await (seq, id) in rows.decode((Int64, String).self) {
                guard let e = timings[id] else { continue }
                if e.queued != nil || e.connect != nil {
                    marks.append(seq); marks.append(e.queued.map(LedgerRow.micros)); marks.append(e.connect.map(LedgerRow.micros))
                    count += 1
                }
                if let b = e.bodies {
                    bodies.append(seq); bodies.append(String(decoding: b.request, as: UTF8.self)); bodies.append(b.requestTruncated)
                    bodies.append(String(decoding: b.response, as: UTF8.self)); bodies.append(b.responseTruncated)
                    bodyCount += 1
                }
            }
            if bodyCount > 0 {
                try await conn.query(
                    PostgresQuery(
                        unsafeSQL: "INSERT INTO request_bodies (seq, request, request_truncated, response, response_truncated) VALUES "
                            + Self.placeholders(rows: bodyCount, columns: 5) + " ON CONFLICT (seq) DO NOTHING", binds: bodies), logger: logger)
            }
            if count > 0 {
                try await conn.query(
                    PostgresQuery(
                        unsafeSQL: "INSERT INTO request_timing (seq, queue_us, connect_us) VALUES "
                            + Self.placeholders(rows: count, columns: 3) + " ON CONFLICT (seq) DO NOTHING", binds: marks), logger: logger)
            }
        }
    }

    /// `($1, $2), ($3, $4)` for `rows` rows of `columns` values.
    static func placeholders(rows: Int, columns: Int) -> String {
        var s = ""
        s.reserveCapacity(rows * columns * 6)
        var n = 1
        for r in 0..<rows {
            s += r == 0 ? "(" : ", ("
            for c in 0..<columns {
                if c > 0 { s += ", " }
                s += "$\(n)"
                n += 1
            }
            s += ")"
        }
        return s
    }

    /// Adds cells to the stored rollups: reads the rows they touch, merges, writes them back.
    /// Runs under the rollup advisory lock, so no other writer changes those rows meanwhile.
    func merge(_ cells: [(key: [Int64], cell: RollupCell)], table: String, keyColumns: [String], _ conn: PostgresConnection) async throws {
        let width = keyColumns.count
        let keyList = keyColumns.joined(separator: ", ")
        for start in stride(from: 0, to: cells.count, by: 500) {
            let chunk = Array(cells[start..<min(start + 500, cells.count)])
            var merged: [[Int64]: RollupCell] = [:]
            for (key, cell) in chunk { merged[key] = cell }
            var keys = PostgresBindings(capacity: chunk.count * width)
            for (key, _) in chunk { for v in key { keys.append(v) } }
            let existing = try await conn.query(
                PostgresQuery(
                    unsafeSQL: """
                        SELECT \(keyList), \(SQLCondition.cellColumns) FROM \(table)
                        WHERE (\(keyList)) IN (VALUES \(Self.placeholders(rows: chunk.count, columns: width)))
                        """, binds: keys), logger: logger)
            for try await row in existing {
                let r = row.makeRandomAccess()
                let key = try (0..<width).map { try r[$0].decode(Int64.self) }
                try Self.add(r, offset: width, histograms: true, to: &merged[key, default: RollupCell()])
            }
            var b = PostgresBindings(capacity: merged.count * (width + SQLCondition.cellColumnCount))
            for (key, c) in merged {
                for v in key { b.append(v) }
                b.append(Int64(c.count)); b.append(Int64(c.errors)); b.append(Int64(c.tokensIn)); b.append(Int64(c.tokensOut))
                b.append(Int64(c.tokensCached)); b.append(c.cost); b.append(Int64(c.genTokens)); b.append(c.genSeconds)
                b.append(ByteBuffer(bytes: c.latency.encoded())); b.append(ByteBuffer(bytes: c.ttft.encoded()))
                b.append(c.estimatedCost)
            }
            let updates = SQLCondition.cellColumns.split(separator: ",").map { c -> String in
                let name = c.trimmingCharacters(in: .whitespaces)
                return name + " = EXCLUDED." + name
            }.joined(separator: ", ")
            try await conn.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO \(table) (\(keyList), \(SQLCondition.cellColumns)) VALUES \(Self.placeholders(rows: merged.count, columns: width + SQLCondition.cellColumnCount))
                        ON CONFLICT (\(keyList)) DO UPDATE SET \(updates)
                        """, binds: b), logger: logger)
        }
    }

    /// Adds a row whose columns, from `offset`, are `cellColumns`, to `c` in place.
    static func add(_ r: PostgresRandomAccessRow, offset o: Int, histograms: Bool, to c: inout RollupCell) throws {
        c.count += try r[o].decode(Int.self)
        c.errors += try r[o + 1].decode(Int.self)
        c.tokensIn += try r[o + 2].decode(Int.self)
        c.tokensOut += try r[o + 3].decode(Int.self)
        c.tokensCached += try r[o + 4].decode(Int.self)
        c.cost += try r[o + 5].decode(Double.self)
        c.genTokens += try r[o + 6].decode(Int.self)
        c.genSeconds += try r[o + 7].decode(Double.self)
        c.estimatedCost += try r[o + 10].decode(Double.self)
        guard histograms else { return }
        if let lat = try r[o + 8].decode(ByteBuffer?.self) { c.latency.merge(encoded: lat.readableBytesView) }
        if let ttft = try r[o + 9].decode(ByteBuffer?.self) { c.ttft.merge(encoded: ttft.readableBytesView) }
    }

    public func appendAudit(_ entries: [AuditEntry]) throws {
        guard !entries.isEmpty else { return }
        try runBlocking {
            var b = PostgresBindings(capacity: entries.count * 10)
            for e in entries {
                b.append(e.id); b.append(LedgerRow.micros(e.timestamp)); b.append(e.user); b.append(e.action); b.append(e.resource)
                b.append(e.level); b.append(e.sourceIP); b.append(e.userAgent); b.append(e.detailsJSON); b.append(e.result)
            }
            try await self.client.query(
                PostgresQuery(
                    unsafeSQL: "INSERT INTO audit (\(SQLCondition.auditColumns)) VALUES "
                        + Self.placeholders(rows: entries.count, columns: 10) + " ON CONFLICT (id) DO NOTHING", binds: b), logger: self.logger)
        }
    }

    // MARK: - Retention

    public func prune(rawBefore: Double, minuteBefore: Double, hourBefore: Double, dayBefore: Double, limit: Int) throws -> Int {
        try runBlocking {
            var n = 0
            func deleted(_ q: PostgresQuery) async throws -> Int {
                var count = 0
                for try await c in try await self.client.query(q, logger: self.logger).decode(Int.self) { count = c }
                return count
            }
            let raw = LedgerRow.micros(rawBefore), lim = Int64(limit)
            n += try await deleted(
                """
                WITH d AS (DELETE FROM requests WHERE seq IN (SELECT seq FROM requests WHERE ts < \(raw) ORDER BY ts LIMIT \(lim)) RETURNING 1)
                SELECT count(*) FROM d
                """)
            try await self.client.query("DELETE FROM request_timing WHERE seq < (SELECT COALESCE(MIN(seq), 0) FROM requests)", logger: self.logger)
            try await self.client.query("DELETE FROM request_bodies WHERE seq < (SELECT COALESCE(MIN(seq), 0) FROM requests)", logger: self.logger)
            for (level, before) in [(RollupLevel.minute, minuteBefore), (.hour, hourBefore), (.day, dayBefore)] {
                let l = Int64(level.rawValue), b = Int64(before)
                n += try await deleted(
                    """
                    WITH d AS (DELETE FROM rollups WHERE level = \(l) AND bucket < \(b) AND bucket IN
                        (SELECT bucket FROM rollups WHERE level = \(l) AND bucket < \(b) ORDER BY bucket LIMIT \(lim)) RETURNING 1)
                    SELECT count(*) FROM d
                    """)
            }
            let h = Int64(hourBefore)
            n += try await deleted(
                """
                WITH d AS (DELETE FROM user_rollups WHERE bucket < \(h) AND bucket IN
                    (SELECT bucket FROM user_rollups WHERE bucket < \(h) ORDER BY bucket LIMIT \(lim)) RETURNING 1)
                SELECT count(*) FROM d
                """)
            return n
        }
    }
}

/// A PostgreSQL ledger failure, said in a sentence (`PSQLError`'s own description hides the
/// server's message).
public struct PostgresLedgerError: Error, CustomStringConvertible {
    public var description: String

    init(_ message: String) { description = message }

    init(_ error: any Error) { description = Self.describe(error) }

    static func describe(_ error: any Error) -> String {
        if let e = error as? PostgresLedgerError { return e.description }
        if let e = error as? PostgresTransactionError, let inner = e.closureError ?? e.beginError ?? e.commitError { return describe(inner) }
        guard let e = error as? PSQLError else { return "\(error)" }
        var parts = ["PostgreSQL \(e.code)"]
        if let m = e.serverInfo?[.message] { parts.append(m) }
        if let u = e.underlying { parts.append("\(u)") }
        return parts.joined(separator: ": ")
    }
}
