/// A value bound to a `?` in SQL shared by both engines; each engine binds it its own way.
enum SQLValue: Sendable, Equatable {
    case int(Int64)
    case text(String)
    case null

    var int: Int64? { if case .int(let n) = self { n } else { nil } }
    var text: String? { if case .text(let t) = self { t } else { nil } }
}

/// A WHERE clause written once for SQLite and PostgreSQL: conditions with `?` placeholders, in
/// order. PostgreSQL numbers them (`numbered`).
struct SQLCondition {
    var clauses: [String] = []
    var values: [SQLValue] = []

    mutating func add(_ sql: String, _ v: SQLValue...) {
        clauses.append(sql)
        values += v
    }

    var whereSQL: String { clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ") }

    /// `?` → `$1`, `$2`, … (our SQL has no `?` inside literals).
    static func numbered(_ sql: String, from start: Int = 1) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = start
        for ch in sql {
            if ch == "?" { out += "$\(n)"; n += 1 } else { out.append(ch) }
        }
        return out
    }

    /// The conditions of `GET /api/requests`. Names are looked up as dimension ids; nil when a
    /// name was never seen, which matches nothing.
    /// `idText` is the id as text in SQL (SQLite keeps the gateway's ids as bytes).
    static func requests(
        _ filter: RequestFilter, idText: String = "id",
        dimension: (DimensionKind, String) throws -> Int64?
    ) throws -> SQLCondition? {
        var c = SQLCondition()
        for (kind, column, name) in dimensionFilters(filter) {
            guard let name else { continue }
            guard let id = try dimension(kind, name) else { return nil }
            c.add("\(column) = ?", .int(id))
        }
        if filter.onlyErrors { c.add("error_type IS NOT NULL") }
        if let k = filter.apiKeyId { c.add("api_key = ?", .text(k)) }
        if let p = filter.projectId { c.add("project_id = ?", .text(p)) }
        if let s = filter.status { c.add("status = ?", .int(Int64(s))) }
        if let k = filter.statusClass { c.add("status >= ? AND status < ?", .int(Int64(k * 100)), .int(Int64(k * 100 + 100))) }
        if let s = filter.since { c.add("ts >= ?", .int(Int64(s * 1e6))) }
        if let u = filter.until { c.add("ts < ?", .int(Int64(u * 1e6))) }
        if let m = filter.minLatencyMs { c.add("latency_us >= ?", .int(Int64(m * 1000))) }
        if let q = filter.idSearch, !q.isEmpty {
            let escaped = q.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            c.add("\(idText) LIKE ? ESCAPE '\\'", .text("%\(escaped)%"))
        }
        if let (ts, seq) = filter.cursor { c.add("(ts < ? OR (ts = ? AND seq < ?))", .int(ts), .int(ts), .int(seq)) }
        return c
    }

    /// The name filters of a request filter, with the dimension and column each reads.
    static func dimensionFilters(_ filter: RequestFilter) -> [(DimensionKind, String, String?)] {
        [
            (.model, "model", filter.model), (.backend, "backend", filter.backend), (.route, "route", filter.route),
            (.errorType, "error_type", filter.errorType), (.user, "\"user\"", filter.user),
        ]
    }

    /// The conditions of `/dashboard/audit`.
    static func audit(_ q: AuditQuery) -> SQLCondition {
        var c = SQLCondition()
        if let v = q.user { c.add("\"user\" = ?", .text(v)) }
        if let v = q.action { c.add("action = ?", .text(v)) }
        if let v = q.resource { c.add("resource = ?", .text(v)) }
        if let v = q.level { c.add("level = ?", .text(v)) }
        if let v = q.since { c.add("ts >= ?", .int(Int64(v * 1e6))) }
        return c
    }

    static let requestColumns = requestColumns(cost: "cost")

    /// The columns a `StoredRequest` is read from, in order; `cost` names the cost column.
    static func requestColumns(cost: String) -> String {
        """
        seq, id, ts, route, backend, model, method, stream, status, error_type, error_message, tokens_in, tokens_out,
        tokens_cached, estimated, \(cost), latency_us, first_byte_us, first_token_us, bytes_in, bytes_out, client, "user",
        api_key, synthetic, project_id
        """
    }

    static let auditColumns = "id, ts, \"user\", action, resource, level, source_ip, user_agent, details, result"

    /// The columns of a rollup cell, in the order `add(_:offset:…)` reads them (`cost_estimated`,
    /// added in v6, last, so the older offsets stay).
    static let cellColumns = cellColumns(histograms: true)

    /// `cellColumns`, with NULL in place of the histograms when they are not needed.
    static func cellColumns(histograms: Bool) -> String {
        "count, errors, tokens_in, tokens_out, tokens_cached, cost, gen_tokens, gen_seconds, "
            + (histograms ? "latency, ttft" : "NULL, NULL") + ", cost_estimated"
    }

    /// How many columns `cellColumns` names.
    static let cellColumnCount = 11

    /// The rollup column a group reads (a constant when not grouped).
    static func groupColumn(_ group: AnalyticsGroup?) -> String {
        switch group {
        case .model: "model"
        case .backend: "backend"
        case .route: "route"
        case .status: "status_class"
        case .user, .project, .apiKey, nil: "0"
        }
    }
}
