import Foundation
import Hummingbird
import NIOCore
import SightglassStore
import SightglassTelemetry

/// The request ledger's API: `/api/requests`, one request, the export, and the analytics.
struct LedgerRoutes: RouteGroup {
    /// The request ledger's writer (its store, once open); nil when the ledger is disabled.
    let ledger: LedgerWriter?
    let auth: DashboardAuth
    let audit: AuditLog

    func add(to router: Router<ControlContext>) {
        let plane = self
        // Request records are as private as the dashboard: the same credentials guard them.
        let api = router.group("/api").add(middleware: DashboardGuard(auth: auth, limiter: nil, audit: audit))
        api.get("requests") { req, _ in try await plane.withLedger { try await plane.listRequests(req, $0) } }
        api.get("requests/export") { req, _ in try await plane.withLedger { try plane.export(req, $0) } }
        api.get("requests/{id}") { _, ctx in
            try await plane.withLedger { ledger in
                let id = ctx.parameters.get("id") ?? ""
                guard let r = try await ledger.request(id: id) else {
                    return JSONResponse.error(.notFound, code: "NOT_FOUND", message: "no request with id '\(id)'", details: ["field": "id"])
                }
                return JSONResponse.encode(RequestRecord(r, detail: true))
            }
        }
        api.get("analytics/timeseries") { req, _ in try await plane.withLedger { try await plane.timeseries(req, $0) } }
        api.get("analytics/breakdown") { req, _ in try await plane.withLedger { try await plane.breakdown(req, $0) } }
    }
}

extension LedgerRoutes {

    /// Runs `body` with the ledger, or answers 503 saying why there is none; bad parameters
    /// become 400 naming the field.
    func withLedger(_ body: (any LedgerStore) async throws -> Response) async throws -> Response {
        guard let writer = ledger else {
            return JSONResponse.error(.serviceUnavailable, code: "SERVICE_UNAVAILABLE", message: "the request ledger is disabled (ledger.enabled: false)")
        }
        guard let l = await writer.store(waitingUpTo: .seconds(10)) else {
            return JSONResponse.error(
                .serviceUnavailable, code: "SERVICE_UNAVAILABLE", message: "the request ledger is unavailable",
                details: writer.status.degradedReason)
        }
        do {
            return try await body(l)
        } catch let e as LedgerQueryError {
            if e.field == "store" {
                return JSONResponse.error(.serviceUnavailable, code: "SERVICE_UNAVAILABLE", message: e.message)
            }
            return JSONResponse.error(.badRequest, code: "INVALID_REQUEST", message: e.message, details: ["field": e.field])
        } catch {
            return JSONResponse.error(.serviceUnavailable, code: "SERVICE_UNAVAILABLE", message: "the request ledger could not be read: \(error)")
        }
    }

    static let filterParameters: Set<String> = [
        "model", "backend", "route", "status", "status_class", "error_type", "user", "api_key_id", "project_id",
        "since", "until", "min_latency_ms", "q", "id", "cursor", "limit",
    ]

    func listRequests(_ req: Request, _ ledger: any LedgerStore) async throws -> Response {
        let q = try DashboardParameters(req, known: Self.filterParameters).values
        let filter = try RequestFilter.parse(q)
        let page = try await ledger.requests(filter)
        return JSONResponse.encode(
            RequestPage(
                requests: page.requests.map { RequestRecord($0, detail: false) }, count: page.requests.count, limit: filter.limit,
                nextCursor: page.nextCursor))
    }

    /// Streams every matching request, newest first, a page at a time: constant memory for any size.
    func export(_ req: Request, _ ledger: any LedgerStore) throws -> Response {
        var q = try DashboardParameters(req, known: Self.filterParameters.union(["format"])).values
        let format = q.removeValue(forKey: "format") ?? "jsonl"
        guard format == "csv" || format == "jsonl" else {
            throw LedgerQueryError(field: "format", message: "format must be csv or jsonl")
        }
        var filter = try RequestFilter.parse(q)
        let total = q["limit"].flatMap(Int.init)  // an explicit limit caps the export; none exports everything
        filter.limit = RequestFilter.maxLimit
        let columns = [
            "id", "timestamp", "route", "method", "backend", "model", "stream", "status", "error_type", "error_message",
            "tokens_input", "tokens_output", "tokens_cached", "tokens_estimated", "cost", "cost_estimated", "latency_ms", "ttft_ms",
            "first_byte_ms", "tokens_per_second", "request_bytes", "response_bytes", "client_ip", "user", "synthetic",
            "api_key_id", "project_id",
        ]
        let startFilter = filter
        let body = ResponseBody { writer in
            var f = startFilter
            var sent = 0
            if format == "csv" { try await writer.write(ByteBuffer(string: columns.joined(separator: ",") + "\n")) }
            while true {
                if let total { f.limit = min(RequestFilter.maxLimit, total - sent) }
                guard f.limit > 0 else { break }
                let page = try await ledger.requests(f)
                var chunk = ""
                for r in page.requests {
                    if format == "csv" {
                        chunk += Self.csvLine(r) + "\n"
                    } else {
                        chunk += JSONResponse.text(RequestRecord(r, detail: false))
                        chunk += "\n"
                    }
                }
                if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
                sent += page.requests.count
                guard let next = page.nextCursor else { break }
                f.cursor = try RequestFilter.parse(["cursor": next]).cursor
            }
            try await writer.finish(nil)
        }
        let type = format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson"
        return Response(status: .ok, headers: [.contentType: type, .contentDisposition: "attachment; filename=\"sightglass-requests.\(format)\""], body: body)
    }

    static func csvLine(_ r: StoredRequest) -> String {
        func ms(_ s: Double?) -> String { s.map { String(($0 * 1e6).rounded() / 1000) } ?? "" }
        let fields: [String] = [
            r.id, ISO8601.string(epoch: r.startTime), r.route, r.method, r.backend, r.model, String(r.stream), String(r.status),
            r.errorType ?? "", r.errorMessage ?? "", String(r.tokensIn), String(r.tokensOut), String(r.tokensCached),
            String(r.tokensEstimated), String(r.cost), String(r.costEstimated), ms(r.latency), ms(r.firstToken), ms(r.firstByte),
            r.tokensPerSecond.map { String($0) } ?? "", String(r.bytesIn), String(r.bytesOut), r.client ?? "", r.user ?? "",
            String(r.synthetic), r.apiKeyId ?? "", r.projectId ?? "",
        ]
        return fields.map(CSV.field).joined(separator: ",")
    }

    /// since/until of the analytics routes: default the last 24 hours.
    static func range(_ q: [String: String]) throws(LedgerQueryError) -> (Double, Double) {
        let now = Date().timeIntervalSince1970
        let since = try TimeParameter.parse(q["since"] ?? "24h", field: "since", now: now)
        let until = try q["until"].map { v throws(LedgerQueryError) in try TimeParameter.parse(v, field: "until", now: now) } ?? now
        guard until > since else { throw LedgerQueryError(field: "until", message: "until must be later than since") }
        return (since, until)
    }

    func timeseries(_ req: Request, _ ledger: any LedgerStore) async throws -> Response {
        let q = try DashboardParameters(req, known: ["metric", "interval", "group_by", "since", "until"]).values
        guard let m = q["metric"] else {
            throw LedgerQueryError(field: "metric", message: "metric is required: one of \(AnalyticsMetric.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let metric = AnalyticsMetric(rawValue: m) else {
            throw LedgerQueryError(
                field: "metric", message: "unknown metric '\(m)'; one of \(AnalyticsMetric.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let iv = q["interval"] ?? "5m"
        guard let interval = AnalyticsInterval(rawValue: iv) else {
            throw LedgerQueryError(field: "interval", message: "interval must be one of 1m, 5m, 1h, 1d")
        }
        var group: AnalyticsGroup?
        if let g = q["group_by"] {
            guard let parsed = AnalyticsGroup(rawValue: g), parsed != .user, !parsed.byKey else {
                throw LedgerQueryError(field: "group_by", message: "group_by must be one of model, backend, route, status")
            }
            group = parsed
        }
        let (since, until) = try Self.range(q)
        let series = try await ledger.timeseries(metric: metric, interval: interval, group: group, since: since, until: until)
        let unit: String
        switch metric {
        case .latencyP50, .latencyP95, .latencyP99, .ttftP50, .ttftP95: unit = "ms"
        case .cost, .estimatedCost: unit = "usd"
        case .errorRate: unit = "ratio"
        case .tokensPerSecond: unit = "tokens/s"
        case .tokensIn, .tokensOut: unit = "tokens"
        case .requests, .errors: unit = "requests"
        }
        return JSONResponse.encode(
            TimeseriesAnswer(
                metric: metric.rawValue, unit: unit, interval: interval.rawValue, groupBy: group?.rawValue, since: ISO8601.string(epoch: since),
                until: ISO8601.string(epoch: until),
                series: series.map { s in
                    .init(group: s.group, points: s.points.map { .init(timestamp: ISO8601.string(epoch: Double($0.time)), value: $0.value) })
                }))
    }

    func breakdown(_ req: Request, _ ledger: any LedgerStore) async throws -> Response {
        let q = try DashboardParameters(req, known: ["by", "since", "until"]).values
        let byName = q["by"] ?? "model"
        guard let by = AnalyticsGroup(rawValue: byName) else {
            throw LedgerQueryError(field: "by", message: "by must be one of model, backend, route, status, user, project, api_key")
        }
        let (since, until) = try Self.range(q)
        let (rows, total) = try await ledger.breakdown(by: by, since: since, until: until)
        return JSONResponse.encode(
            BreakdownAnswer(
                by: by.rawValue, since: ISO8601.string(epoch: since), until: ISO8601.string(epoch: until),
                groups: rows.map { RollupFigures($0.cell, key: $0.key) }, total: RollupFigures(total)))
    }
}
