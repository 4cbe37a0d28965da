import Foundation
import Hummingbird
import NIOCore
import SightglassStore
import SightglassTelemetry

/// Exports and health: `/metrics` (seed-003 JSON, or Prometheus text when asked), `/metrics/json`,
/// `/metrics/csv`, `/metrics/prometheus`, `/health`, `/health/detailed`, `/api/metrics/summary`,
/// `/api/status`. Open to scrapers and probes: no credentials, no rate limit.
struct ExportRoutes: RouteGroup {
    let hub: TelemetryHub
    /// The request ledger's writer, for its health and its Prometheus families; nil when disabled.
    let ledger: LedgerWriter?
    /// The live feed, whose connections `/api/status` counts.
    let feed: LiveFeed
    let startedAt: Date

    var uptime: Double { Date().timeIntervalSince(startedAt) }

    func add(to router: Router<ControlContext>) {
        let routes = self
        router.get("/metrics") { req, _ in
            PrometheusExporter.prefersText(accept: req.headers[.accept]) ? routes.prometheus() : JSONResponse.encode(MetricsReport.build(routes.hub))
        }
        router.get("/metrics/prometheus") { _, _ in routes.prometheus() }
        router.get("/metrics/json") { _, _ in JSONResponse.encode(MetricsReport.build(routes.hub)) }
        router.get("/metrics/csv") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"sightglass-metrics.csv\""],
                body: .init(byteBuffer: ByteBuffer(string: MetricsReport.build(routes.hub).csv())))
        }
        router.get("/health") { _, _ in routes.health() }
        router.get("/health/detailed") { _, _ in routes.detailedHealth() }
        router.get("/api/metrics/summary") { _, _ in routes.summary() }
        router.get("/api/status") { _, _ in routes.status() }
    }

    func prometheus() -> Response {
        Response(
            status: .ok, headers: [.contentType: PrometheusText.contentType],
            body: .init(byteBuffer: ByteBuffer(string: PrometheusExporter.render(hub) + ledgerPrometheus())))
    }

    /// The ledger's own families, appended to `/metrics/prometheus`.
    func ledgerPrometheus() -> String {
        guard let writer = ledger else { return "" }
        let s = writer.status
        return """
            # HELP sightglass_ledger_up Whether the request ledger is writable (1) or degraded (0).
            # TYPE sightglass_ledger_up gauge
            sightglass_ledger_up \(s.healthy ? 1 : 0)
            # HELP sightglass_ledger_records_written_total Requests written to the ledger.
            # TYPE sightglass_ledger_records_written_total counter
            sightglass_ledger_records_written_total \(s.written)
            # HELP sightglass_ledger_records_dropped_total Requests lost because the ledger's buffer was full.
            # TYPE sightglass_ledger_records_dropped_total counter
            sightglass_ledger_records_dropped_total \(s.dropped)
            # HELP sightglass_ledger_pending_records Requests waiting to be written.
            # TYPE sightglass_ledger_pending_records gauge
            sightglass_ledger_pending_records \(s.pending)

            """
    }
}
