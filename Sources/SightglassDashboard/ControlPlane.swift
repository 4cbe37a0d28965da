import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOConcurrencyHelpers
import NIOCore
import SightglassConfig
import SightglassGovernance
import SightglassStore
import SightglassTelemetry

/// The control plane: every route that is not a proxied inference call, composed of route
/// groups (exports and health, model catalogs, ledger API, dashboard API, live feed, web assets,
/// admin), each a small type holding only what it depends on. Tens of microseconds do not matter
/// here, so it is plain Hummingbird.
public struct ControlPlane: Sendable {
    public let hub: TelemetryHub
    /// The configuration in force (a reload replaces it), as every route reads it.
    public var config: GatewayConfig { current.withLockedValue { $0 } }
    let current: NIOLockedValueBox<GatewayConfig>
    /// What `POST /admin/reload` runs; installed by the runtime.
    let reloader = NIOLockedValueBox<Reloader?>(nil)
    /// What reloads the request path's key table after an Admin API change; installed by the runtime.
    let keysChanged = NIOLockedValueBox<(@Sendable () async -> Void)?>(nil)
    public let httpClient: HTTPClient
    public let startedAt: Date
    /// The request ledger's writer; nil when the ledger is disabled.
    public let ledger: LedgerWriter?
    public let services: DashboardServices
    /// The request path's limiter (shared, so its windows can be shown) and the key table in force.
    public let limiter: UsageLimiter
    let keyTable = NIOLockedValueBox(KeyTable())
    /// Throttle analytics folded from finished requests.
    public let throttles: ThrottleTracker

    public init(
        hub: TelemetryHub, config: GatewayConfig, httpClient: HTTPClient, ledger: LedgerWriter? = nil, services: DashboardServices,
        limiter: UsageLimiter = UsageLimiter(unixNow: Date().timeIntervalSince1970, monotonic: { Int64(DispatchTime.now().uptimeNanoseconds) }),
        startedAt: Date = Date()
    ) {
        self.limiter = limiter
        throttles = ThrottleTracker(startedAt: startedAt.timeIntervalSince1970)
        self.ledger = ledger
        self.services = services
        self.hub = hub
        current = NIOLockedValueBox(config)
        self.httpClient = httpClient
        self.startedAt = startedAt
    }

    // The route groups, each with exactly what it depends on.
    var exports: ExportRoutes { ExportRoutes(hub: hub, ledger: ledger, feed: services.feed, startedAt: startedAt) }
    var catalog: CatalogRoutes {
        CatalogRoutes(hub: hub, httpClient: httpClient) { [current] in
            let c = current.withLockedValue { $0 }
            return c.auth.effectiveInference(host: c.server.host)
        }
    }
    var ledgerAPI: LedgerRoutes { LedgerRoutes(ledger: ledger, auth: services.auth, audit: services.audit) }
    var dashboard: DashboardRoutes {
        DashboardRoutes(hub: hub, current: current, ledger: ledger, services: services, httpClient: httpClient, startedAt: startedAt)
    }
    var liveFeed: LiveFeedRoutes { LiveFeedRoutes(services: services, current: current, hub: hub, dashboard: dashboard) }
    var organization: OrganizationRoutes {
        OrganizationRoutes(
            ledger: ledger, auth: services.auth, audit: services.audit, tiers: { [current] in current.withLockedValue { $0.limits.tiers } },
            models: { [hub] in Array(Set(hub.board.all.flatMap(\.models))) }
        ) { [keysChanged] in
            await keysChanged.withLockedValue { $0 }?()
        }
    }
    var rateLimits: RateLimitRoutes {
        RateLimitRoutes(limiter: limiter, keys: keyTable, current: current, tracker: throttles, services: services)
    }
    var admin: AdminRoutes { AdminRoutes(auth: services.auth, limiter: services.limiter, audit: services.audit, reloader: reloader) }

    /// Every plain HTTP route (WebSocket upgrades: `webSocketRouter`).
    public func router() -> Router<ControlContext> {
        let router = Router(context: ControlContext.self)
        router.add(middleware: ProductErrorMiddleware())
        let groups: [any RouteGroup] = [exports, ledgerAPI, dashboard, AssetRoutes(), admin, organization, rateLimits, catalog]
        for group in groups { group.add(to: router) }
        return router
    }

    /// Every budget's spend in its current period, for the budget alert rules.
    public func budgetReadings(now: Double) -> [AlertEngine.BudgetReading] {
        rateLimits.statuses(now: now).compactMap { s in
            s.budget.map { b in
                AlertEngine.BudgetReading(
                    scope: "\(s.scope) \(s.id)", spentUSD: s.usageSpent ?? 0, amountUSD: b.amountUSD, period: b.period.rawValue)
            }
        }
    }

    /// The key table the request path now uses (for the limit analytics).
    public func keysUpdated(_ table: KeyTable) { keyTable.withLockedValue { $0 = table } }

    /// The live feed's WebSocket routes.
    public func webSocketRouter() -> Router<ControlContext> { liveFeed.webSocketRouter() }

    /// The live feed's periodic snapshots, until cancelled.
    public func runLiveFeed() async { await liveFeed.runLiveFeed() }

    /// One `requests` event per finished request (called with each drained batch).
    public func publishRequests(_ events: [RequestEvent]) { liveFeed.publishRequests(events) }

    /// Connects logs and alerts to the feed (and alerts to the audit trail and the webhook).
    public func wireLiveSources(webhook: AlertWebhook?) { liveFeed.wireLiveSources(webhook: webhook) }

    /// Records an admin or system action in the audit trail.
    public func audit(_ action: String, user: String?, resource: String?, details: [String: Any] = [:], level: String = "info", result: String = "success") {
        services.audit.record(action, user: user, resource: resource, details: details, level: level, result: result)
    }

    /// Installs what runs after an Admin API change to keys, projects or users.
    public func setKeysChanged(_ body: @escaping @Sendable () async -> Void) {
        keysChanged.withLockedValue { $0 = body }
    }

    /// Installs what `POST /admin/reload` runs.
    public func setReloader(_ body: @escaping Reloader) {
        reloader.withLockedValue { $0 = body }
    }

    /// Takes a reloaded configuration: what the routes show, and the alert rules.
    public func apply(_ config: GatewayConfig) {
        current.withLockedValue { $0 = config }
        services.alerts.apply(config.dashboard.alerts)
    }

    public var uptime: Double { Date().timeIntervalSince(startedAt) }
}
