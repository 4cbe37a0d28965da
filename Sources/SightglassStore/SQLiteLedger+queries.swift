import Foundation
import GRDB
import SightglassTelemetry

extension SQLiteLedger {
    func stored(_ row: Row, _ db: Database) throws -> StoredRequest {
        StoredRequest(
            seq: row[0], id: SQLiteRequestId.text(row[1]), startTime: Double(row[2] as Int64) / 1e6,
            route: try dims.name(row[3], db) ?? "", backend: try dims.name(row[4], db) ?? "", model: try dims.name(row[5], db) ?? "",
            method: try dims.name(row[6], db) ?? "", stream: row[7], status: row[8], errorType: try dims.name(row[9], db), errorMessage: row[10],
            tokensIn: row[11], tokensOut: row[12], tokensCached: row[13], tokensEstimated: row[14], cost: Double(row[15] as Int64) / 1e9,
            latency: Double(row[16] as Int64) / 1e6, firstByte: (row[17] as Int64?).map { Double($0) / 1e6 },
            firstToken: (row[18] as Int64?).map { Double($0) / 1e6 }, bytesIn: row[19], bytesOut: row[20], client: try dims.name(row[21], db),
            user: try dims.name(row[22], db), apiKeyId: row[23], projectId: row[25], synthetic: row[24])
    }

    public func requests(_ filter: RequestFilter) throws -> RequestPage {
        try pool.read { db in
            guard
                let c = try SQLCondition.requests(
                    filter, idText: SQLiteRequestId.searchExpression,
                    dimension: { try dims.existing($0, $1, db) })
            else {
                return RequestPage(requests: [], nextCursor: nil)
            }
            let sql = "SELECT \(Self.requestColumns) FROM requests\(c.whereSQL) ORDER BY ts DESC, seq DESC LIMIT \(filter.limit + 1)"
            let rows = try Row.fetchAll(db, sql: sql, arguments: Self.arguments(c.values))
            return RequestPage(newestFirst: try rows.map { try stored($0, db) }, limit: filter.limit)
        }
    }

    /// `SQLCondition.requestColumns` in this engine's columns (the cost is kept in nano-dollars).
    static let requestColumns = SQLCondition.requestColumns(cost: "cost_nano_usd")

    static func arguments(_ values: [SQLValue]) -> StatementArguments {
        StatementArguments(
            values.map { v -> (any DatabaseValueConvertible)? in
                switch v {
                case .int(let n): n
                case .text(let t): t
                case .null: nil
                }
            })
    }

    public func audit(_ q: AuditQuery) throws -> (entries: [AuditEntry], total: Int, filtered: Int) {
        try pool.read { db in
            let c = SQLCondition.audit(q)
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") ?? 0
            let filtered = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit" + c.whereSQL, arguments: Self.arguments(c.values)) ?? 0
            let rows = try Row.fetchAll(
                db, sql: "SELECT \(SQLCondition.auditColumns) FROM audit" + c.whereSQL + " ORDER BY ts DESC, seq DESC LIMIT \(q.limit)",
                arguments: Self.arguments(c.values))
            let entries = rows.map { r in
                AuditEntry(
                    id: r[0], timestamp: LedgerRow.seconds(r[1]), user: r[2], action: r[3], resource: r[4], level: r[5], sourceIP: r[6],
                    userAgent: r[7], detailsJSON: r[8], result: r[9])
            }
            return (entries, total, filtered)
        }
    }

    /// The newest request with this id, with its queue and connect times where it had them.
    public func request(id: String) throws -> StoredRequest? {
        try pool.read { db in
            guard
                var r = try Row.fetchOne(
                    db, sql: "SELECT \(Self.requestColumns) FROM requests WHERE id = ? ORDER BY ts DESC LIMIT 1",
                    arguments: [SQLiteRequestId.stored(id)]
                ).map({ try stored($0, db) })
            else { return nil }
            if let t = try Row.fetchOne(db, sql: "SELECT queue_us, connect_us FROM request_timing WHERE seq = ?", arguments: [r.seq]) {
                r.queued = (t[0] as Int64?).map { Double($0) / 1e6 }
                r.connect = (t[1] as Int64?).map { Double($0) / 1e6 }
            }
            if let b = try Row.fetchOne(
                db, sql: "SELECT request, request_truncated, response, response_truncated FROM request_bodies WHERE seq = ?",
                arguments: [r.seq])
            {
                r.bodies = StoredBodies(request: b[0], requestTruncated: b[1], response: b[2], responseTruncated: b[3])
            }
            return r
        }
    }

    // MARK: - Rollup reads

    public func rollups<Key: Hashable>(
        level: RollupLevel, since: Double, until: Double, group: AnalyticsGroup?, histograms: Bool,
        key: (Int64, String) -> Key?
    ) throws -> [Key: RollupCell] {
        try pool.read { db in
            let groupColumn = SQLCondition.groupColumn(group)
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT bucket, \(groupColumn), \(SQLCondition.cellColumns(histograms: histograms))
                    FROM rollups WHERE level = ? AND bucket >= ? AND bucket < ?
                    """, arguments: [level.rawValue, level.bucket(since), Int64(until.rounded(.up))])
            var out: [Key: RollupCell] = [:]
            var names: [Int64: String] = [:]
            while let row = try cursor.next() {
                let raw: Int64 = row[1]
                let name: String
                if let known = names[raw] {
                    name = known
                } else {
                    switch group {
                    case .status: name = "\(raw)xx"
                    case nil, .user: name = "all"
                    default: name = try dims.name(raw, db) ?? ""
                    }
                    names[raw] = name
                }
                guard let k = key(row[0], name) else { continue }
                Self.add(row, offset: 2, histograms: histograms, to: &out[k, default: RollupCell()])
            }
            return out
        }
    }

    public func totals() throws -> RollupCell {
        try pool.read { db in
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT \(SQLCondition.cellColumns)
                    FROM rollups WHERE level = ?
                    """, arguments: [RollupLevel.day.rawValue])
            var total = RollupCell()
            while let row = try cursor.next() { Self.add(row, offset: 0, histograms: true, to: &total) }
            return total
        }
    }

    public func latestSequence() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM requests") ?? 0 }
    }

    public func requestCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM requests") ?? 0 }
    }

    public func userCells(since: Double, until: Double) throws -> [String: RollupCell] {
        try pool.read { db in
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT user, \(SQLCondition.cellColumns)
                    FROM user_rollups WHERE bucket >= ? AND bucket < ?
                    """, arguments: [RollupLevel.hour.bucket(since), Int64(until.rounded(.up))])
            var byId: [Int64: RollupCell] = [:]
            while let row = try cursor.next() { Self.add(row, offset: 1, histograms: true, to: &byId[row[0], default: RollupCell()]) }
            var out: [String: RollupCell] = [:]
            for (id, cell) in byId { out[try dims.name(id, db) ?? "", default: RollupCell()].merge(cell) }
            return out
        }
    }
}

/// Failed requests of one error type over a time range (`/dashboard/errors`).
public struct ErrorGroup: Sendable {
    public var type: String
    public var count: Int
    public var firstSeen: Double
    public var lastSeen: Double
    /// The newest few, to open in the request view.
    public var exampleIds: [String]
    public var lastMessage: String?
    public var lastStatus: Int
}

extension SQLiteLedger {
    /// Uses the partial error-type index, so it reads only failed requests however many succeeded.
    public func errorGroups(since: Double, examples: Int) throws -> [ErrorGroup] {
        try pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT error_type, COUNT(*), MIN(ts), MAX(ts) FROM requests
                    WHERE error_type IS NOT NULL AND ts >= ? GROUP BY error_type ORDER BY COUNT(*) DESC
                    """, arguments: [Int64(since * 1e6)])
            return try rows.map { r in
                let typeId: Int64 = r[0]
                let recent = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, error_message, status FROM requests WHERE error_type = ? AND ts >= ? ORDER BY ts DESC LIMIT ?
                        """, arguments: [typeId, Int64(since * 1e6), examples])
                return ErrorGroup(
                    type: try dims.name(typeId, db) ?? "unknown", count: r[1], firstSeen: Double(r[2] as Int64) / 1e6,
                    lastSeen: Double(r[3] as Int64) / 1e6, exampleIds: recent.map { SQLiteRequestId.text($0[0]) }, lastMessage: recent.first?[1],
                    lastStatus: recent.first?[2] ?? 0)
            }
        }
    }
}

extension SQLiteLedger {
    public func keyUsage(level: RollupLevel, since: Double, until: Double) throws -> [KeyUsageRow] {
        try pool.read { db in
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT bucket, project, api_key, user, model, route, \(SQLCondition.cellColumns)
                    FROM key_rollups WHERE level = ? AND bucket >= ? AND bucket < ?
                    """, arguments: [level.rawValue, level.bucket(since), Int64(until.rounded(.up))])
            var out: [KeyUsageRow] = []
            while let row = try cursor.next() {
                var cell = RollupCell()
                Self.add(row, offset: 6, histograms: true, to: &cell)
                func name(_ i: Int) throws -> String { try dims.name(row[i], db) ?? "" }
                out.append(
                    KeyUsageRow(
                        bucket: row[0], project: try name(1), apiKey: try name(2), user: try name(3), model: try name(4), route: try name(5), cell: cell))
            }
            return out
        }
    }
}
