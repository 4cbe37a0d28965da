import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOConcurrencyHelpers
import NIOCore
import SightglassConfig
import SightglassStore
import SightglassTelemetry

/// The control plane: every route that is not a proxied inference call. Metrics exports,
/// health and status, and the model catalog (`/v1/models`, `/api/tags` answer the union over
/// backends). Tens of microseconds do not matter here, so it is plain Hummingbird.
public struct ControlPlane: Sendable {
    public let hub: TelemetryHub
    /// The configuration in force (a reload replaces it), as every route reads it.
    public var config: GatewayConfig { current.withLockedValue { $0 } }
    let current: NIOLockedValueBox<GatewayConfig>
    /// What `POST /admin/reload` runs; installed by the runtime.
    let reloader = NIOLockedValueBox<Reloader?>(nil)
    public let httpClient: HTTPClient
    public let startedAt: Date
    /// The request ledger's writer; nil when the ledger is disabled.
    public let ledger: LedgerWriter?
    public let services: DashboardServices

    public init(
        hub: TelemetryHub, config: GatewayConfig, httpClient: HTTPClient, ledger: LedgerWriter? = nil, services: DashboardServices,
        startedAt: Date = Date()
    ) {
        self.ledger = ledger
        self.services = services
        self.hub = hub
        current = NIOLockedValueBox(config)
        self.httpClient = httpClient
        self.startedAt = startedAt
    }

    public func router() -> Router<ControlContext> {
        let router = Router(context: ControlContext.self)
        router.add(middleware: ProductErrorMiddleware())
        let plane = self
        router.get("/metrics") { req, _ in
            PrometheusExporter.prefersText(accept: req.headers[.accept]) ? plane.prometheus() : JSONResponse.encode(MetricsReport.build(plane.hub))
        }
        router.get("/metrics/prometheus") { _, _ in plane.prometheus() }
        router.get("/metrics/json") { _, _ in JSONResponse.encode(MetricsReport.build(plane.hub)) }
        router.get("/metrics/csv") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"sightglass-metrics.csv\""],
                body: .init(byteBuffer: ByteBuffer(string: MetricsReport.build(plane.hub).csv())))
        }
        router.get("/health") { _, _ in plane.health() }
        router.get("/health/detailed") { _, _ in plane.detailedHealth() }
        router.get("/api/metrics/summary") { _, _ in plane.summary() }
        router.get("/api/status") { _, _ in plane.status() }
        plane.addLedgerRoutes(to: router)
        plane.addDashboardRoutes(to: router)
        plane.addWebRoutes(to: router)
        plane.addAdminRoutes(to: router)
        router.get("/v1/models") { _, _ in await plane.catalogRoute("/v1/models") { plane.openAIModels() } }
        router.get("/api/tags") { _, _ in await plane.catalogRoute("/api/tags") { plane.ollamaTags() } }
        router.get("/api/ps") { _, _ in await plane.catalogRoute("/api/ps") { await plane.ollamaPs() } }
        router.get("/api/version") { _, _ in await plane.catalogRoute("/api/version") { await plane.ollamaVersion() } }
        return router
    }

    func prometheus() -> Response {
        Response(
            status: .ok, headers: [.contentType: PrometheusText.contentType],
            body: .init(byteBuffer: ByteBuffer(string: PrometheusExporter.render(hub) + ledgerPrometheus())))
    }

    /// Takes a reloaded configuration: what the routes show, and the alert rules.
    public func apply(_ config: GatewayConfig) {
        current.withLockedValue { $0 = config }
        services.alerts.apply(config.dashboard.alerts)
    }

    public var uptime: Double { Date().timeIntervalSince(startedAt) }
}
