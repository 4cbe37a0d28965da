import Foundation
import NIOCore
import PostgresNIO

extension PostgresLedger {
    func query(_ sql: String, _ values: [SQLValue] = []) -> PostgresQuery {
        var b = PostgresBindings(capacity: values.count)
        for v in values {
            switch v {
            case .int(let n): b.append(n)
            case .text(let t): b.append(t)
            case .null: b.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: SQLCondition.numbered(sql), binds: b)
    }

    /// Every row of `q`, each turned into a value as it arrives.
    func rows<T: Sendable>(_ q: PostgresQuery, _ each: @escaping @Sendable (PostgresRandomAccessRow) throws -> T) async throws -> [T] {
        try await run {
            var out: [T] = []
            for try await row in try await self.client.query(q, logger: self.logger) { out.append(try each(row.makeRandomAccess())) }
            return out
        }
    }

    /// Rollup rows of `q` merged into cells by `key(row)` as they arrive; the cell columns start at `offset`.
    func cells<Key: Hashable & Sendable>(
        _ q: PostgresQuery, offset: Int, histograms: Bool,
        key: @escaping @Sendable (PostgresRandomAccessRow) throws -> Key
    ) async throws -> [Key: RollupCell] {
        try await run {
            var out: [Key: RollupCell] = [:]
            for try await row in try await self.client.query(q, logger: self.logger) {
                let r = row.makeRandomAccess()
                try Self.add(r, offset: offset, histograms: histograms, to: &out[try key(r), default: RollupCell()])
            }
            return out
        }
    }

    func scalar(_ sql: String) async throws -> Int64 {
        try await rows(query(sql)) { try $0[0].decode(Int64?.self) ?? 0 }.first ?? 0
    }

    /// Makes sure every id in `ids` has its name cached, loading the table once if not
    /// (another gateway, or an earlier run, may have named it).
    func loadNames(_ ids: some Sequence<Int64?>) async throws {
        guard ids.contains(where: { $0 != nil && dims.cachedName($0!) == nil }) else { return }
        dims.rememberAll(
            try await rows(query("SELECT id, kind, name FROM dims")) {
                (try $0[0].decode(Int64.self), try $0[1].decode(Int.self), try $0[2].decode(String.self))
            })
    }

    func name(_ id: Int64?) -> String? { id.flatMap { dims.cachedName($0) } }

    public func requests(_ filter: RequestFilter) async throws -> RequestPage {
        var known: [DimensionCache.DimensionKey: Int64] = [:]
        for (kind, _, name) in SQLCondition.dimensionFilters(filter) {
            guard let name else { continue }
            if let id = dims.cachedId(kind, name) { known[.init(kind: kind.rawValue, name: name)] = id; continue }
            let found = try await rows(query("SELECT id FROM dims WHERE kind = ? AND name = ?", [.int(Int64(kind.rawValue)), .text(name)])) {
                try $0[0].decode(Int64.self)
            }
            if let id = found.first { known[.init(kind: kind.rawValue, name: name)] = id }
        }
        guard let c = try SQLCondition.requests(filter, dimension: { known[.init(kind: $0.rawValue, name: $1)] }) else {
            return RequestPage(requests: [], nextCursor: nil)
        }
        let raw = try await rows(
            query(
                "SELECT \(SQLCondition.requestColumns) FROM requests\(c.whereSQL) ORDER BY ts DESC, seq DESC LIMIT \(filter.limit + 1)",
                c.values), RawRequest.init)
        return RequestPage(newestFirst: try await stored(raw), limit: filter.limit)
    }

    public func request(id: String) async throws -> StoredRequest? {
        let raw = try await rows(
            query(
                "SELECT \(SQLCondition.requestColumns) FROM requests WHERE id_hash = ? AND id = ? ORDER BY ts DESC LIMIT 1",
                [.int(LedgerRow.idHash(id)), .text(id)]), RawRequest.init)
        guard var r = try await stored(raw).first else { return nil }
        let marks = try await rows(query("SELECT queue_us, connect_us FROM request_timing WHERE seq = ?", [.int(r.seq)])) {
            (try $0[0].decode(Int64?.self), try $0[1].decode(Int64?.self))
        }
        if let (q, c) = marks.first {
            r.queued = q.map(LedgerRow.seconds)
            r.connect = c.map(LedgerRow.seconds)
        }
        r.bodies = try await rows(query("SELECT request, request_truncated, response, response_truncated FROM request_bodies WHERE seq = ?", [.int(r.seq)])) {
            StoredBodies(
                request: try $0[0].decode(String.self), requestTruncated: try $0[1].decode(Bool.self),
                response: try $0[2].decode(String.self), responseTruncated: try $0[3].decode(Bool.self))
        }.first
        return r
    }

    /// Rows as they come from the server, before their dimension ids are named.
    struct RawRequest: Sendable {
        var seq: Int64, id: String, ts: Int64, route: Int64, backend: Int64, model: Int64, method: String, stream: Bool, status: Int
        var errorType: Int64?, errorMessage: String?, tokensIn: Int, tokensOut: Int, tokensCached: Int, estimated: Bool, cost: Double
        var latency: Int64, firstByte: Int64?, firstToken: Int64?, bytesIn: Int, bytesOut: Int, client: Int64?, user: Int64?
        var apiKey: String?, synthetic: Bool, project: String?

        init(_ r: PostgresRandomAccessRow) throws {
            seq = try r[0].decode(Int64.self); id = try r[1].decode(String.self); ts = try r[2].decode(Int64.self)
            route = try r[3].decode(Int64.self); backend = try r[4].decode(Int64.self); model = try r[5].decode(Int64.self)
            method = try r[6].decode(String.self); stream = try r[7].decode(Bool.self); status = try r[8].decode(Int.self)
            errorType = try r[9].decode(Int64?.self); errorMessage = try r[10].decode(String?.self)
            tokensIn = try r[11].decode(Int.self); tokensOut = try r[12].decode(Int.self); tokensCached = try r[13].decode(Int.self)
            estimated = try r[14].decode(Bool.self); cost = try r[15].decode(Double.self); latency = try r[16].decode(Int64.self)
            firstByte = try r[17].decode(Int64?.self); firstToken = try r[18].decode(Int64?.self)
            bytesIn = try r[19].decode(Int.self); bytesOut = try r[20].decode(Int.self)
            client = try r[21].decode(Int64?.self); user = try r[22].decode(Int64?.self)
            apiKey = try r[23].decode(String?.self); synthetic = try r[24].decode(Bool.self)
            project = try r[25].decode(String?.self)
        }
    }

    func stored(_ raw: [RawRequest]) async throws -> [StoredRequest] {
        try await loadNames(raw.flatMap { [$0.route, $0.backend, $0.model, $0.errorType, $0.client, $0.user] })
        return raw.map { r in
            StoredRequest(
                seq: r.seq, id: r.id, startTime: LedgerRow.seconds(r.ts), route: name(r.route) ?? "", backend: name(r.backend) ?? "",
                model: name(r.model) ?? "", method: r.method, stream: r.stream, status: r.status, errorType: name(r.errorType),
                errorMessage: r.errorMessage, tokensIn: r.tokensIn, tokensOut: r.tokensOut, tokensCached: r.tokensCached,
                tokensEstimated: r.estimated, cost: r.cost, latency: LedgerRow.seconds(r.latency),
                firstByte: r.firstByte.map(LedgerRow.seconds), firstToken: r.firstToken.map(LedgerRow.seconds),
                bytesIn: r.bytesIn, bytesOut: r.bytesOut, client: name(r.client), user: name(r.user), apiKeyId: r.apiKey,
                projectId: r.project, synthetic: r.synthetic)
        }
    }

    // MARK: - Rollup reads

    public func rollups<Key: Hashable>(
        level: RollupLevel, since: Double, until: Double, group: AnalyticsGroup?, histograms: Bool,
        key: (Int64, String) -> Key?
    ) async throws -> [Key: RollupCell] {
        let groupColumn = group == nil || group == .user ? "0::bigint" : SQLCondition.groupColumn(group)
        // Without histograms the server adds the cells up: one row per bucket and group reaches
        // us instead of one per route, backend, model and status class.
        let q = query(
            histograms
                ? """
                SELECT bucket, \(groupColumn), \(SQLCondition.cellColumns)
                FROM rollups WHERE level = ? AND bucket >= ? AND bucket < ?
                """
                : """
                SELECT bucket, \(groupColumn), SUM(count)::bigint, SUM(errors)::bigint, SUM(tokens_in)::bigint, SUM(tokens_out)::bigint,
                    SUM(tokens_cached)::bigint, SUM(cost), SUM(gen_tokens)::bigint, SUM(gen_seconds), NULL::bytea, NULL::bytea,
                    SUM(cost_estimated)
                FROM rollups WHERE level = ? AND bucket >= ? AND bucket < ? GROUP BY 1, 2
                """, [.int(Int64(level.rawValue)), .int(level.bucket(since)), .int(Int64(until.rounded(.up)))])
        // Merged by (bucket, group id) as rows arrive; named afterwards.
        let bySlot = try await cells(q, offset: 2, histograms: histograms) {
            RollupSlot(bucket: try $0[0].decode(Int64.self), group: try $0[1].decode(Int64.self))
        }
        let named = group == .model || group == .backend || group == .route
        if named { try await loadNames(bySlot.keys.map { Optional($0.group) }) }
        var out: [Key: RollupCell] = [:]
        for (slot, cell) in bySlot {
            let g: String =
                switch group {
                case .status: "\(slot.group)xx"
                case nil, .user: "all"
                default: name(slot.group) ?? ""
                }
            guard let k = key(slot.bucket, g) else { continue }
            out[k, default: RollupCell()].merge(cell)
        }
        return out
    }

    public func userCells(since: Double, until: Double) async throws -> [String: RollupCell] {
        let q = query(
            "SELECT \"user\", \(SQLCondition.cellColumns) FROM user_rollups WHERE bucket >= ? AND bucket < ?",
            [.int(RollupLevel.hour.bucket(since)), .int(Int64(until.rounded(.up)))])
        let byId = try await cells(q, offset: 1, histograms: true) { try $0[0].decode(Int64.self) }
        try await loadNames(byId.keys.map { Optional($0) })
        var out: [String: RollupCell] = [:]
        for (id, cell) in byId { out[name(id) ?? "", default: RollupCell()].merge(cell) }
        return out
    }

    public func totals() async throws -> RollupCell {
        let q = query("SELECT \(SQLCondition.cellColumns) FROM rollups WHERE level = ?", [.int(Int64(RollupLevel.day.rawValue))])
        return try await cells(q, offset: 0, histograms: true) { _ in 0 }[0] ?? RollupCell()
    }

    public func errorGroups(since: Double, examples: Int) async throws -> [ErrorGroup] {
        let from = LedgerRow.micros(since)
        let groups = try await rows(
            query(
                """
                SELECT error_type, COUNT(*), MIN(ts), MAX(ts) FROM requests
                WHERE error_type IS NOT NULL AND ts >= ? GROUP BY error_type ORDER BY COUNT(*) DESC
                """, [.int(from)])
        ) { (try $0[0].decode(Int64.self), try $0[1].decode(Int.self), try $0[2].decode(Int64.self), try $0[3].decode(Int64.self)) }
        try await loadNames(groups.map { Optional($0.0) })
        var out: [ErrorGroup] = []
        for (type, count, first, last) in groups {
            let recent = try await rows(
                query(
                    "SELECT id, error_message, status FROM requests WHERE error_type = ? AND ts >= ? ORDER BY ts DESC LIMIT \(examples)",
                    [.int(type), .int(from)])
            ) {
                (try $0[0].decode(String.self), try $0[1].decode(String?.self), try $0[2].decode(Int.self))
            }
            out.append(
                ErrorGroup(
                    type: name(type) ?? "unknown", count: count, firstSeen: LedgerRow.seconds(first), lastSeen: LedgerRow.seconds(last),
                    exampleIds: recent.map(\.0), lastMessage: recent.first?.1, lastStatus: recent.first?.2 ?? 0))
        }
        return out
    }

    public func latestSequence() async throws -> Int64 { try await scalar("SELECT MAX(seq) FROM requests") }

    public func requestCount() async throws -> Int { Int(try await scalar("SELECT COUNT(*) FROM requests")) }

    public func sizeBytes() async throws -> Int64 {
        try await scalar(
            "SELECT "
                + ["dims", "requests", "rollups", "user_rollups", "audit", "request_timing"]
                .map { "pg_total_relation_size('\($0)')" }.joined(separator: " + "))
    }

    public func audit(_ q: AuditQuery) async throws -> (entries: [AuditEntry], total: Int, filtered: Int) {
        let c = SQLCondition.audit(q)
        let total = try await scalar("SELECT COUNT(*) FROM audit")
        let filtered = try await rows(query("SELECT COUNT(*) FROM audit" + c.whereSQL, c.values)) { try $0[0].decode(Int.self) }.first ?? 0
        let entries = try await rows(query("SELECT \(SQLCondition.auditColumns) FROM audit\(c.whereSQL) ORDER BY ts DESC, seq DESC LIMIT \(q.limit)", c.values))
        { r in
            AuditEntry(
                id: try r[0].decode(String.self), timestamp: LedgerRow.seconds(try r[1].decode(Int64.self)), user: try r[2].decode(String?.self),
                action: try r[3].decode(String.self), resource: try r[4].decode(String?.self), level: try r[5].decode(String.self),
                sourceIP: try r[6].decode(String?.self), userAgent: try r[7].decode(String?.self), detailsJSON: try r[8].decode(String.self),
                result: try r[9].decode(String.self))
        }
        return (entries, Int(total), filtered)
    }
}

/// A rollup bucket of one group id, while rows are merged.
struct RollupSlot: Hashable {
    var bucket: Int64
    var group: Int64
}

extension PostgresLedger {
    public func keyUsage(level: RollupLevel, since: Double, until: Double) async throws -> [KeyUsageRow] {
        let q = query(
            """
            SELECT bucket, project, api_key, "user", model, route, \(SQLCondition.cellColumns)
            FROM key_rollups WHERE level = ? AND bucket >= ? AND bucket < ?
            """, [.int(Int64(level.rawValue)), .int(level.bucket(since)), .int(Int64(until.rounded(.up)))])
        let raw = try await rows(q) { r -> ([Int64], RollupCell) in
            var cell = RollupCell()
            try Self.add(r, offset: 6, histograms: true, to: &cell)
            return (try (0..<6).map { try r[$0].decode(Int64.self) }, cell)
        }
        try await loadNames(raw.flatMap { $0.0[1...].map { Optional($0) } })
        return raw.map { ids, cell in
            KeyUsageRow(
                bucket: ids[0], project: name(ids[1]) ?? "", apiKey: name(ids[2]) ?? "", user: name(ids[3]) ?? "", model: name(ids[4]) ?? "",
                route: name(ids[5]) ?? "", cell: cell)
        }
    }
}
