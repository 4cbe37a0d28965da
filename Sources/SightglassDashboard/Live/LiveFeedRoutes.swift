import Foundation
import Hummingbird
import HummingbirdWebSocket
import NIOConcurrencyHelpers
import NIOCore
import SightglassConfig
import SightglassStore
import SightglassTelemetry

/// The live feed: `ws /dashboard/ws` (seed 000's subscribe protocol over the topics `stats`,
/// `metrics`, `alerts`, `requests`, `logs`) and `ws /metrics/stream` (seed 003's metrics JSON
/// every second), and the publishers that feed them.
struct LiveFeedRoutes: Sendable {
    /// Logs, alerts, the feed itself and the access checks.
    let services: DashboardServices
    /// The configuration in force (pacing, per-user connection limit).
    let current: NIOLockedValueBox<GatewayConfig>
    let hub: TelemetryHub
    /// The `stats`, `metrics` and `alerts` snapshots are the dashboard API's answers.
    let dashboard: DashboardRoutes

    var config: GatewayConfig { current.withLockedValue { $0 } }
}

extension LiveFeedRoutes {
    /// WebSocket upgrades are routed separately from plain HTTP (Hummingbird's advice), with
    /// the same guard in front of the dashboard feed.
    func webSocketRouter() -> Router<ControlContext> {
        let router = Router(context: ControlContext.self)
        router.add(middleware: ProductErrorMiddleware())
        let plane = self
        let perUser = config.dashboard.auth.websocketsPerUser
        router.group("/dashboard")
            .add(middleware: DashboardGuard(auth: services.auth, limiter: services.limiter, audit: services.audit, deferDenial: true))
            .ws("ws") { inbound, outbound, ctx in
                let request = ctx.requestContext
                if let denial = request.denial {
                    await Self.refuse(outbound, denial: denial, closeCode: 4000 + Int(denial.status.code))
                    return
                }
                // One live connection per authenticated user (seed 000), configurable.
                if plane.services.auth.mode != .off, let user = request.principal?.user, plane.services.feed.connections(of: user) >= perUser {
                    let denial = AccessDenial(
                        status: .tooManyRequests, code: "TOO_MANY_CONNECTIONS",
                        message: "user '\(user)' already holds \(perUser) live connection(s) (dashboard.auth.websockets_per_user)",
                        detailsJSON: JSONResponse.text(AccessProblem(limit: perUser)), headers: [:])
                    await Self.refuse(outbound, denial: denial, closeCode: 4429)
                    return
                }
                await plane.serveDashboardSocket(inbound: inbound, outbound: outbound, principal: request.principal, channel: request.channel)
            }
        router.ws("/metrics/stream") { inbound, outbound, ctx in
            await plane.serve(
                inbound: inbound, outbound: outbound, channel: ctx.requestContext.channel, user: "metrics_stream", perUserLimit: nil,
                topics: [LiveFeed.metricsStreamTopic]
            ) { _, _ in }
        }
        return router
    }

    func serveDashboardSocket(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, principal: Principal?, channel: any Channel) async {
        let limit = services.auth.mode == .off ? nil : config.dashboard.auth.websocketsPerUser
        await serve(inbound: inbound, outbound: outbound, channel: channel, user: principal?.user ?? "anonymous", perUserLimit: limit, topics: []) {
            text, conn in
            self.handleClientMessage(text, conn)
        }
    }

    /// Runs one connection: a writer draining its bounded queue, and the reader handing client
    /// messages to `onMessage`. Ends when either side closes; a client whose queue overflowed
    /// is closed with a reason.
    func serve(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, channel: any Channel, user: String, perUserLimit: Int?, topics: Set<String>,
        onMessage: @escaping @Sendable (String, LiveFeed.Connection) -> Void
    ) async {
        let feed = services.feed
        guard let conn = feed.register(user: user, perUserLimit: perUserLimit, topics: topics) else {
            try? await outbound.close(.policyViolation, reason: "too many live connections for this user")
            return
        }
        defer { feed.unregister(conn) }
        // The close frame gets a second to go out; then the connection is cut regardless.
        let logger = services.logger
        conn.onOverflow {
            logger.warning("live-feed client too slow; disconnecting", metadata: ["user": "\(user)", "queued": "\(feed.queueLimit)"])
            channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
        }
        if topics.isEmpty {
            let live = config.dashboard.live
            conn.send(
                JSONResponse.text(
                    LiveHello(
                        topics: LiveFeed.topics, timestamp: ISO8601.string(Date()),
                        intervals: .init(stats: live.statsIntervalSeconds, metrics: live.metricsIntervalSeconds))))
        } else {
            publishMetricsStream(to: conn)
        }
        let queueLimit = feed.queueLimit
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in conn.messages {
                    do { try await outbound.write(.text(message)) } catch { break }
                }
                if conn.overflowed {
                    try? await outbound.close(.policyViolation, reason: "client too slow: more than \(queueLimit) messages waiting")
                }
            }
            do {
                for try await message in inbound.messages(maxSize: 1 << 16) {
                    switch message {
                    case .text(let text): onMessage(text, conn)
                    case .binary: conn.send(Self.socketError("INVALID_MESSAGE", "send JSON text messages"))
                    }
                }
            } catch {
                // The client went away or sent a bad frame; either way this connection is done.
            }
            conn.finish()
        }
    }

    /// Sends the denial as an error message, then closes with an application close code
    /// (4401, 4403, 4429: the HTTP status plus 4000) and the message as the reason.
    static func refuse(_ outbound: WebSocketOutboundWriter, denial: AccessDenial, closeCode: Int) async {
        let error = LiveError(error: .init(code: denial.code, message: denial.message, details: denial.details, status: Int(denial.status.code)))
        try? await outbound.write(.text(JSONResponse.text(error)))
        try? await outbound.close(.unknown(UInt16(closeCode)), reason: String(denial.message.prefix(120)))
    }

    static func socketError(_ code: String, _ message: String, _ details: ClientMessageProblem = .init()) -> String {
        JSONResponse.text(LiveError(error: .init(code: code, message: message, details: details)))
    }

    /// `{"action":"subscribe"|"unsubscribe","topics":[…]}`; `{"action":"ping"}` answers `pong`.
    func handleClientMessage(_ text: String, _ conn: LiveFeed.Connection) {
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any], let action = obj["action"] as? String else {
            conn.send(Self.socketError("INVALID_MESSAGE", "expected {\"action\": \"subscribe\", \"topics\": [...]}", .init(received: String(text.prefix(200)))))
            return
        }
        switch action {
        case "ping":
            conn.send(JSONResponse.text(LivePong(timestamp: ISO8601.string(Date()))))
        case "subscribe", "unsubscribe":
            guard let topics = obj["topics"] as? [String], !topics.isEmpty else {
                conn.send(Self.socketError("INVALID_MESSAGE", "topics must be a non-empty list of strings", .init(field: "topics", available: LiveFeed.topics)))
                return
            }
            let unknown = topics.filter { !LiveFeed.topics.contains($0) }
            guard unknown.isEmpty else {
                conn.send(
                    Self.socketError(
                        "INVALID_TOPIC", "unknown topic(s): \(unknown.joined(separator: ", "))", .init(topics: unknown, available: LiveFeed.topics)))
                return
            }
            if action == "subscribe" {
                conn.subscribe(topics)
                conn.send(JSONResponse.text(LiveSubscription(type: "subscribed", topics: conn.topics.sorted(), timestamp: ISO8601.string(Date()))))
                // A new subscriber sees the current state at once instead of waiting for the next tick.
                for t in topics {
                    switch t {
                    case "stats": conn.send(LiveMessage.typed(topic: "stats", data: dashboard.dashboardStats()))
                    case "metrics": conn.send(LiveMessage.typed(topic: "metrics", data: dashboard.dashboardMetrics()))
                    case "alerts": conn.send(LiveMessage.typed(topic: "alerts", data: dashboard.dashboardAlerts()))
                    default: break
                    }
                }
            } else {
                conn.unsubscribe(topics)
                conn.send(
                    JSONResponse.text(LiveSubscription(type: "unsubscribed", topics: conn.topics.sorted(), removed: topics, timestamp: ISO8601.string(Date()))))
            }
        default:
            conn.send(Self.socketError("INVALID_ACTION", "unknown action '\(action)'; use subscribe, unsubscribe or ping", .init(field: "action")))
        }
    }

    // MARK: - Publishers

    /// The periodic snapshots, until cancelled. Each is built only when someone listens.
    func runLiveFeed() async {
        let live = config.dashboard.live
        let plane = self
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: UInt64(live.statsIntervalSeconds * 1e9))
                    plane.services.feed.publish("stats") { LiveMessage.typed(topic: "stats", data: plane.dashboard.dashboardStats()) }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: UInt64(live.metricsIntervalSeconds * 1e9))
                    plane.services.feed.publish("metrics") { LiveMessage.typed(topic: "metrics", data: plane.dashboard.dashboardMetrics()) }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(nanoseconds: 1_000_000_000)
                    let targets = plane.services.feed.subscribers(LiveFeed.metricsStreamTopic)
                    guard !targets.isEmpty else { continue }
                    let text = plane.metricsStreamText()
                    for c in targets { c.send(text) }
                }
            }
        }
    }

    func metricsStreamText() -> String {
        JSONResponse.text(MetricsReport.build(hub))
    }

    func publishMetricsStream(to conn: LiveFeed.Connection) {
        conn.send(metricsStreamText())
    }

    /// Most request events one drained batch sends; beyond it subscribers get a count instead,
    /// so a traffic burst cannot flood every dashboard.
    static let requestEventsPerBatch = 500

    /// One `requests` event per finished request (called with each drained batch).
    func publishRequests(_ events: [RequestEvent]) {
        let targets = services.feed.subscribers("requests")
        guard !targets.isEmpty, !events.isEmpty else { return }
        let shown = events.suffix(Self.requestEventsPerBatch)
        var messages = shown.map { LiveMessage.typed(topic: "requests", event: "finished", data: RequestRecord(StoredRequest($0), detail: false)) }
        if events.count > shown.count {
            let skipped = SkippedRequests(
                count: events.count - shown.count, reason: "more than \(Self.requestEventsPerBatch) requests finished in one 50 ms batch")
            messages.insert(LiveMessage.typed(topic: "requests", event: "skipped", data: skipped), at: 0)
        }
        for c in targets { for m in messages { c.send(m) } }
    }

    /// Connects logs and alerts to the feed (and alerts to the audit trail and the webhook).
    func wireLiveSources(webhook: AlertWebhook?) {
        let feed = services.feed
        services.logs.onAppend { e in
            feed.publish("logs") { LiveMessage.typed(topic: "logs", event: "entry", data: DashboardRoutes.logLine(e)) }
        }
        let plane = self
        services.alerts.onChange { change in
            let (event, alert): (String, Alert) =
                switch change {
                case .fired(let a): ("fired", a)
                case .resolved(let a): ("resolved", a)
                }
            let record = DashboardRoutes.record(alert)
            feed.publish("alerts") { LiveMessage.typed(topic: "alerts", event: event, data: record) }
            plane.services.audit.record(
                "alert_\(event)", user: "system", resource: alert.rule.name,
                details: ["alert_id": alert.id, "value": alert.value, "threshold": alert.rule.threshold],
                level: event == "fired" ? (alert.rule.severity == "critical" ? "error" : "warning") : "info")
            webhook?.deliver(event: event, alert: record)
        }
    }
}

/// Live-feed message text: the envelope `{"type": topic, "topic", "event", "timestamp", "data"}` around a typed payload.
enum LiveMessage {
    static func typed<Payload: Codable & Sendable>(topic: String, event: String = "snapshot", data: Payload) -> String {
        JSONResponse.text(LiveEnvelope(type: topic, topic: topic, event: event, timestamp: ISO8601.string(Date()), data: data))
    }
}
