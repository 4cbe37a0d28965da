import Foundation
import GRDB
import SightglassTelemetry

extension Ledger {
    static let requestColumns = """
        seq, id, ts, route, backend, model, method, stream, status, error_type, error_message, tokens_in, tokens_out,
        tokens_cached, estimated, cost, latency_us, first_byte_us, first_token_us, bytes_in, bytes_out, client, user,
        api_key, synthetic
        """

    func stored(_ row: Row, _ db: Database) throws -> StoredRequest {
        StoredRequest(
            seq: row[0], id: row[1], startTime: Double(row[2] as Int64) / 1e6,
            route: try dims.name(row[3], db) ?? "", backend: try dims.name(row[4], db) ?? "", model: try dims.name(row[5], db) ?? "",
            method: row[6], stream: row[7], status: row[8], errorType: try dims.name(row[9], db), errorMessage: row[10],
            tokensIn: row[11], tokensOut: row[12], tokensCached: row[13], tokensEstimated: row[14], cost: row[15],
            latency: Double(row[16] as Int64) / 1e6, firstByte: (row[17] as Int64?).map { Double($0) / 1e6 },
            firstToken: (row[18] as Int64?).map { Double($0) / 1e6 }, bytesIn: row[19], bytesOut: row[20], client: try dims.name(row[21], db),
            user: try dims.name(row[22], db), apiKeyId: row[23], synthetic: row[24])
    }

    /// Newest first, after `filter.cursor`, at most `filter.limit`.
    public func requests(_ filter: RequestFilter) throws -> RequestPage {
        try pool.read { db in
            var conditions: [String] = []
            var args: [any DatabaseValueConvertible] = []
            func dim(_ kind: DimensionKind, _ column: String, _ name: String?) throws -> Bool {
                guard let name else { return true }
                guard let id = try dims.existing(kind, name, db) else { return false }
                conditions.append("\(column) = ?"); args.append(id)
                return true
            }
            guard try dim(.model, "model", filter.model), try dim(.backend, "backend", filter.backend),
                  try dim(.route, "route", filter.route), try dim(.errorType, "error_type", filter.errorType),
                  try dim(.user, "user", filter.user) else {
                return RequestPage(requests: [], nextCursor: nil)
            }
            if filter.onlyErrors { conditions.append("error_type IS NOT NULL") }
            if let s = filter.status { conditions.append("status = ?"); args.append(s) }
            if let c = filter.statusClass { conditions.append("status >= ? AND status < ?"); args += [c * 100, c * 100 + 100] }
            if let s = filter.since { conditions.append("ts >= ?"); args.append(Int64(s * 1e6)) }
            if let u = filter.until { conditions.append("ts < ?"); args.append(Int64(u * 1e6)) }
            if let m = filter.minLatencyMs { conditions.append("latency_us >= ?"); args.append(Int64(m * 1000)) }
            if let q = filter.idSearch, !q.isEmpty {
                let escaped = q.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
                conditions.append("id LIKE ? ESCAPE '\\'"); args.append("%\(escaped)%")
            }
            if let (ts, seq) = filter.cursor {
                conditions.append("(ts < ? OR (ts = ? AND seq < ?))"); args += [ts, ts, seq]
            }
            let whereSQL = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let sql = "SELECT \(Self.requestColumns) FROM requests \(whereSQL) ORDER BY ts DESC, seq DESC LIMIT \(filter.limit + 1)"
            var rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args))
            let more = rows.count > filter.limit
            if more { rows.removeLast() }
            let out = try rows.map { try stored($0, db) }
            return RequestPage(requests: out, nextCursor: more ? out.last?.cursor : nil)
        }
    }

    /// The newest request with this id, with its queue and connect times where it had them.
    public func request(id: String) throws -> StoredRequest? {
        try pool.read { db in
            guard var r = try Row.fetchOne(db, sql: "SELECT \(Self.requestColumns) FROM requests WHERE id_hash = ? AND id = ? ORDER BY ts DESC LIMIT 1",
                                           arguments: [Self.idHash(id), id]).map({ try stored($0, db) }) else { return nil }
            if let t = try Row.fetchOne(db, sql: "SELECT queue_us, connect_us FROM request_timing WHERE seq = ?", arguments: [r.seq]) {
                r.queued = (t[0] as Int64?).map { Double($0) / 1e6 }
                r.connect = (t[1] as Int64?).map { Double($0) / 1e6 }
            }
            return r
        }
    }

    // MARK: - Rollup reads

    /// Merges the rollup rows of `level` in [since, until) into cells by `key(bucket, group name)`
    /// (nil skips the row). Histograms are decoded only when `histograms` is true.
    func rollups<Key: Hashable>(level: RollupLevel, since: Double, until: Double, group: AnalyticsGroup?, histograms: Bool,
                                key: (Int64, String) -> Key?) throws -> [Key: RollupCell] {
        try pool.read { db in
            let groupColumn: String
            switch group {
            case .model: groupColumn = "model"
            case .backend: groupColumn = "backend"
            case .route: groupColumn = "route"
            case .status: groupColumn = "status_class"
            case .user, nil: groupColumn = "0"
            }
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT bucket, \(groupColumn), count, errors, tokens_in, tokens_out, tokens_cached, cost, gen_tokens, gen_seconds,
                    \(histograms ? "latency, ttft" : "NULL, NULL")
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

    /// All-time totals from the day rollups (for continuity after a restart).
    public func totals() throws -> RollupCell {
        try pool.read { db in
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT count, errors, tokens_in, tokens_out, tokens_cached, cost, gen_tokens, gen_seconds, latency, ttft
                FROM rollups WHERE level = ?
                """, arguments: [RollupLevel.day.rawValue])
            var total = RollupCell()
            while let row = try cursor.next() { Self.add(row, offset: 0, histograms: true, to: &total) }
            return total
        }
    }

    /// The newest row's sequence number: one index probe, for health checks that time a query.
    public func latestSequence() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM requests") ?? 0 }
    }

    public func requestCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM requests") ?? 0 }
    }

    /// Per-user aggregates from the hourly user rollups (hours that start in [since, until)).
    func userCells(since: Double, until: Double) throws -> [String: RollupCell] {
        try pool.read { db in
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT user, count, errors, tokens_in, tokens_out, tokens_cached, cost, gen_tokens, gen_seconds, latency, ttft
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

extension Ledger {
    /// Error groups since `since`, most frequent first. Uses the partial error-type index, so it
    /// reads only failed requests however many succeeded.
    public func errorGroups(since: Double, examples: Int = 5) throws -> [ErrorGroup] {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT error_type, COUNT(*), MIN(ts), MAX(ts) FROM requests
                WHERE error_type IS NOT NULL AND ts >= ? GROUP BY error_type ORDER BY COUNT(*) DESC
                """, arguments: [Int64(since * 1e6)])
            return try rows.map { r in
                let typeId: Int64 = r[0]
                let recent = try Row.fetchAll(db, sql: """
                    SELECT id, error_message, status FROM requests WHERE error_type = ? AND ts >= ? ORDER BY ts DESC LIMIT ?
                    """, arguments: [typeId, Int64(since * 1e6), examples])
                return ErrorGroup(type: try dims.name(typeId, db) ?? "unknown", count: r[1], firstSeen: Double(r[2] as Int64) / 1e6,
                                  lastSeen: Double(r[3] as Int64) / 1e6, exampleIds: recent.map { $0[0] }, lastMessage: recent.first?[1],
                                  lastStatus: recent.first?[2] ?? 0)
            }
        }
    }
}
