import Foundation
import Hummingbird
import SightglassStore

/// `GET /v1/organization/usage/completions`, `/usage/embeddings` and `/costs`: what requests
/// made with the organization's keys used and cost, from the key rollups, in OpenAI's shapes.
extension OrganizationRoutes {
    /// The parsed query of a usage or costs request.
    struct UsageQuery {
        var start: Int64
        var end: Int64
        var width: RollupLevel
        var projects: Set<String>
        var users: Set<String>
        var keys: Set<String>
        var models: Set<String>
        var groupBy: Set<String>
        var limit: Int
        /// First bucket of this page.
        var from: Int64

        /// Parses OpenAI's parameters (lists as repeated `name=` or `name[]=`); unknown names are refused.
        static func parse(_ request: Request, widths: [String: RollupLevel], groups: Set<String>, now: Int64) throws -> UsageQuery {
            let lists: Set<String> = ["project_ids", "user_ids", "api_key_ids", "models", "group_by"]
            let singles: Set<String> = ["start_time", "end_time", "bucket_width", "limit", "page"]
            var values: [String: [String]] = [:]
            for (k, v) in request.uri.queryParameters {
                // Keys may arrive percent-encoded (`group_by%5B%5D`, as the openai package sends lists).
                var name = String(k).removingPercentEncoding ?? String(k)
                if name.hasSuffix("[]") { name.removeLast(2) }
                guard lists.contains(name) || singles.contains(name) || name == "access_token" else {
                    throw AdminAPIError.invalid(param: name, "unknown parameter '\(name)'")
                }
                let value = String(v).removingPercentEncoding ?? String(v)
                values[name, default: []] += value.split(separator: ",").map(String.init)
            }
            func one(_ name: String) throws -> String? {
                guard let v = values[name] else { return nil }
                guard v.count == 1 else { throw AdminAPIError.invalid(param: name, "'\(name)' is given more than once") }
                return v[0]
            }
            func seconds(_ name: String) throws -> Int64? {
                guard let s = try one(name) else { return nil }
                // Bounded (before the year 3000) so bucket arithmetic can never overflow.
                guard let n = Int64(s), n >= 0, n < 32_503_680_000 else {
                    throw AdminAPIError.invalid(param: name, "'\(name)' must be Unix seconds before the year 3000")
                }
                return n
            }
            guard let start = try seconds("start_time") else { throw AdminAPIError.invalid(param: "start_time", "'start_time' is required") }
            let end = try seconds("end_time") ?? now
            guard end > start else { throw AdminAPIError.invalid(param: "end_time", "'end_time' must be after 'start_time'") }
            let widthName = try one("bucket_width") ?? "1d"
            guard let width = widths[widthName] else {
                throw AdminAPIError.invalid(param: "bucket_width", "'bucket_width' must be one of \(widths.keys.sorted().joined(separator: ", "))")
            }
            let groupBy = Set(values["group_by"] ?? [])
            if let bad = groupBy.subtracting(groups).sorted().first {
                throw AdminAPIError.invalid(param: "group_by", "cannot group by '\(bad)' (one of \(groups.sorted().joined(separator: ", ")))")
            }
            let (defaultLimit, maxLimit): (Int, Int) =
                switch width {
                case .minute: (60, 1440)
                case .hour: (24, 168)
                case .day: (7, 31)
                }
            var limit = defaultLimit
            if let l = try one("limit") {
                guard let n = Int(l), (1...maxLimit).contains(n) else {
                    throw AdminAPIError.invalid(param: "limit", "'limit' must be between 1 and \(maxLimit)")
                }
                limit = n
            }
            var from = width.bucket(Double(start))
            if let page = try one("page") {
                guard let p = Int64(page), p >= from, p < end else { throw AdminAPIError.invalid(param: "page", "'page' is not a cursor of this query") }
                from = p
            }
            return UsageQuery(
                start: start, end: end, width: width, projects: Set(values["project_ids"] ?? []), users: Set(values["user_ids"] ?? []),
                keys: Set(values["api_key_ids"] ?? []), models: Set(values["models"] ?? []), groupBy: groupBy, limit: limit, from: from)
        }

        /// The page's buckets, [from, pageEnd), and where the next page starts, if any.
        var buckets: (starts: [Int64], next: Int64?) {
            let step = Int64(width.seconds)
            var starts: [Int64] = []
            var b = from
            while b < end && starts.count < limit {
                starts.append(b)
                b += step
            }
            return (starts, b < end ? b : nil)
        }

        func keeps(_ row: KeyUsageRow) -> Bool {
            (projects.isEmpty || projects.contains(row.project)) && (users.isEmpty || users.contains(row.user))
                && (keys.isEmpty || keys.contains(row.apiKey)) && (models.isEmpty || models.contains(row.model))
        }

        /// The grouped dimensions of a row, as (project, user, key, model); nil where not grouped.
        func group(_ row: KeyUsageRow) -> [String?] {
            [
                groupBy.contains("project_id") ? row.project : nil, groupBy.contains("user_id") ? row.user : nil,
                groupBy.contains("api_key_id") ? row.apiKey : nil,
                groupBy.contains("model") || groupBy.contains("line_item") ? row.model : nil,
            ]
        }
    }

    static let usageWidths: [String: RollupLevel] = ["1m": .minute, "1h": .hour, "1d": .day]

    /// Rows of the page's buckets that pass the filters, merged per bucket and group.
    func usage(_ q: UsageQuery, _ store: any LedgerStore, routes: (String) -> Bool) async throws -> [Int64: [[String?]: RollupCell]] {
        let (starts, _) = q.buckets
        guard let last = starts.last else { return [:] }
        let rows = try await store.keyUsage(level: q.width, since: Double(starts[0]), until: Double(last + Int64(q.width.seconds)))
        var out: [Int64: [[String?]: RollupCell]] = [:]
        for row in rows where routes(row.route) && q.keeps(row) {
            out[row.bucket, default: [:]][q.group(row), default: RollupCell()].merge(row.cell)
        }
        return out
    }

    func page<R: Encodable & Sendable>(
        _ q: UsageQuery, _ cells: [Int64: [[String?]: RollupCell]], _ make: ([String?], RollupCell) -> R
    ) -> UsagePage<R> {
        let (starts, next) = q.buckets
        let step = Int64(q.width.seconds)
        let data = starts.map { b in
            let groups = (cells[b] ?? [:]).sorted { ($0.key.map { $0 ?? "" }).lexicographicallyPrecedes($1.key.map { $0 ?? "" }) }
            return UsagePage<R>.Bucket(startTime: b, endTime: b + step, results: groups.map { make($0.key, $0.value) })
        }
        return UsagePage(data: data, hasMore: next != nil, nextPage: next.map(String.init))
    }

    static func isEmbeddings(_ route: String) -> Bool { route.contains("embed") }

    func completionsUsage(_ req: Request, _ store: any LedgerStore) async throws -> UsagePage<CompletionsUsageResult> {
        let q = try UsageQuery.parse(
            req, widths: Self.usageWidths, groups: ["project_id", "user_id", "api_key_id", "model", "batch"], now: Int64(Date().timeIntervalSince1970))
        let cells = try await usage(q, store) { !Self.isEmbeddings($0) }
        return page(q, cells) { g, c in
            CompletionsUsageResult(
                inputTokens: c.tokensIn, outputTokens: c.tokensOut, inputCachedTokens: c.tokensCached, numModelRequests: c.count,
                projectId: g[0], userId: g[1], apiKeyId: g[2], model: g[3], batch: q.groupBy.contains("batch") ? false : nil)
        }
    }

    func embeddingsUsage(_ req: Request, _ store: any LedgerStore) async throws -> UsagePage<EmbeddingsUsageResult> {
        let q = try UsageQuery.parse(
            req, widths: Self.usageWidths, groups: ["project_id", "user_id", "api_key_id", "model"], now: Int64(Date().timeIntervalSince1970))
        let cells = try await usage(q, store, routes: Self.isEmbeddings)
        return page(q, cells) { g, c in
            EmbeddingsUsageResult(inputTokens: c.tokensIn, numModelRequests: c.count, projectId: g[0], userId: g[1], apiKeyId: g[2], model: g[3])
        }
    }

    /// Costs per day; `group_by=line_item` splits by model (the line items of a self-hosted bill).
    func costs(_ req: Request, _ store: any LedgerStore) async throws -> UsagePage<CostsResult> {
        let q = try UsageQuery.parse(req, widths: ["1d": .day], groups: ["project_id", "line_item"], now: Int64(Date().timeIntervalSince1970))
        let cells = try await usage(q, store) { _ in true }
        return page(q, cells) { g, c in
            CostsResult(amount: .init(value: c.cost), lineItem: g[3], projectId: g[0], estimated: c.estimatedCost > 0)
        }
    }
}
