import NIOCore
import NIOPosix
import NIOSSL
import SightglassConfig
import SightglassGovernance
import SightglassTelemetry

/// Where requests the data plane does not handle are sent.
public enum ControlPlaneTarget: Sendable {
    /// Hummingbird on a private Unix socket (one public port serves both planes).
    case unixSocket(String)
    case tcp(host: String, port: Int)
    /// The control plane has its own public port; other paths get 404 here.
    case none
}

/// Settings the relay reads on every request. A reload replaces them for new requests; an
/// exchange keeps the copy it started with.
public struct RelaySettings: Sendable {
    public var maxHeaderBytes: Int
    public var maxBodyBytes: Int
    public var requestReadTimeout: TimeAmount
    public var keepAliveTimeout: TimeAmount
    public var connectTimeout: TimeAmount
    public var firstByteTimeout: TimeAmount
    public var idleTimeout: TimeAmount
    public var totalTimeout: TimeAmount
    public var queueTimeout: TimeAmount
    public var maxIdleUpstreamPerBackend = 512
    /// Lowercased name of the header that names the end user (`x-user-id` by default).
    public var userHeader: String
    /// Bytes of each body to keep for the ledger; 0 (the default) keeps none and costs nothing.
    public var bodyCaptureBytes: Int
    /// Whether inference requests need a key (`auth.inference`, resolved for the listen address).
    public var auth: GatewayAuthSettings.Mode
    /// Tiers, per-model, per-backend and per-user limits, and the default output reservation.
    public var limits: LimitSettings
    /// Prices per model (USD per million tokens), for budgets' reservations and settlements.
    public var pricing: [String: ModelPrice]
    /// Failed authentications from one address within a minute that get it refused for `banSeconds` (0: never).
    public var banAfterFailures: Int
    public var banSeconds: Double
    /// Whether any limit can apply without a key (per model, backend or user): when false, a
    /// request without a key skips the limiter entirely.
    public var limitsWithoutKey: Bool

    public init(config: GatewayConfig) {
        func t(_ s: Double) -> TimeAmount { .nanoseconds(Int64(s * 1e9)) }
        maxHeaderBytes = config.server.maxHeaderBytes
        maxBodyBytes = config.server.maxRequestBodyBytes
        requestReadTimeout = t(config.server.requestReadTimeoutSeconds)
        keepAliveTimeout = t(config.server.keepAliveTimeoutSeconds)
        connectTimeout = t(config.timeouts.connectSeconds)
        firstByteTimeout = t(config.timeouts.firstByteSeconds)
        idleTimeout = t(config.timeouts.idleSeconds)
        totalTimeout = t(config.timeouts.totalSeconds)
        queueTimeout = t(config.limits.queueTimeoutSeconds)
        userHeader = config.ledger.userHeader.lowercased()
        bodyCaptureBytes = config.ledger.enabled && config.ledger.bodies.enabled ? config.ledger.bodies.maxBytes : 0
        auth = config.auth.effectiveInference(host: config.server.host)
        limits = config.limits
        pricing = config.pricing
        banAfterFailures = config.auth.banAfterFailures
        banSeconds = config.auth.banSeconds
        limitsWithoutKey =
            !config.limits.models.isEmpty || !config.limits.backends.isEmpty || !config.limits.perUser.isEmpty || config.limits.perUserBudget != nil
    }
}

/// Everything one event loop owns: its upstream keep-alive pools, its routing table copy and
/// its telemetry recorder. Confined to `loop`: only code running on that loop touches it,
/// which is why it needs no lock (hence `@unchecked Sendable`).
public final class LoopContext: @unchecked Sendable {
    let loop: any EventLoop
    let index: Int
    /// Indexed by backend slot (`Backend.index`); a reload replaces or appends, never reorders.
    var backends: [Backend]
    let recorder: LoopRecorder
    let admission: AdmissionController
    let limiter: UsageLimiter
    /// Addresses refused for failing authentication too often, shared by every loop.
    let bans: AddressBans
    /// Where shared limits are leased from (PostgreSQL); nil when this instance's limits are its own.
    let leases: (any LimitLeaseSource)?
    var settings: RelaySettings
    let controlPlane: ControlPlaneTarget
    var routing: RoutingTable
    /// The live keys; replaced whole (on this loop) when keys change, read without a lock.
    var keys = KeyTable()
    var idle: [[UpstreamConnection]]
    var roundRobin = 0
    var controlIdle: [UpstreamConnection] = []
    /// Client connections open on this loop, for graceful shutdown.
    var clients: [ObjectIdentifier: ClientConnectionHandler] = [:]
    var draining = false
    /// Completed when draining and the last client connection has closed.
    var drained: EventLoopPromise<Void>?
    /// Request ids are this prefix (random per loop and process start) and a counter: unique
    /// without a random draw per request.
    let idPrefix: String
    var idCounter: UInt64 = 0

    init(
        loop: any EventLoop, index: Int, backends: [Backend], recorder: LoopRecorder, admission: AdmissionController, limiter: UsageLimiter,
        bans: AddressBans = AddressBans(), leases: (any LimitLeaseSource)? = nil, settings: RelaySettings, controlPlane: ControlPlaneTarget,
        routing: RoutingTable
    ) {
        self.loop = loop
        self.index = index
        self.backends = backends
        self.recorder = recorder
        self.admission = admission
        self.limiter = limiter
        self.bans = bans
        self.leases = leases
        self.settings = settings
        self.controlPlane = controlPlane
        self.routing = routing
        idle = Array(repeating: [], count: backends.count)
        let random = UInt64.random(in: 0..<(1 << 40))
        idPrefix = "req_" + String(random, radix: 16).leftPadded(to: 10) + String(index & 0xff, radix: 16).leftPadded(to: 2)
    }

    /// The client's `X-Request-Id` when it is usable (1–128 visible ASCII characters), else a new id.
    func requestId(for head: HTTPHead) -> String {
        if let sent = head.value("x-request-id"), !sent.isEmpty, sent.utf8.count <= 128, sent.utf8.allSatisfy({ $0 > 32 && $0 < 127 }) {
            return sent
        }
        idCounter &+= 1
        return idPrefix + String(idCounter, radix: 16).leftPadded(to: 8)
    }

    /// Picks a backend for a model, rotating among several.
    func pickBackend(for model: String) -> Backend? {
        guard let list = routing.backends(for: model), !list.isEmpty else { return nil }
        roundRobin &+= 1
        let slot = list[roundRobin % list.count]
        return slot < backends.count ? backends[slot] : nil
    }

    /// An Ollama backend, rotating, for a model no backend serves yet (pull, create).
    func pickOllama() -> Backend? {
        guard !routing.ollama.isEmpty else { return nil }
        roundRobin &+= 1
        let slot = routing.ollama[roundRobin % routing.ollama.count]
        return slot < backends.count ? backends[slot] : nil
    }

    /// An idle upstream connection to `backend` (nil for the control plane), or nil.
    func checkout(_ backend: Backend?) -> UpstreamConnection? {
        if let backend {
            guard backends[backend.index] === backend else { return nil }  // replaced by a reload
            while let c = idle[backend.index].popLast() {
                if c.channel.isActive { return c }
            }
            return nil
        }
        while let c = controlIdle.popLast() {
            if c.channel.isActive { return c }
        }
        return nil
    }

    /// Pools a connection for reuse, unless a reload has since replaced its backend.
    func checkin(_ backend: Backend?, _ connection: UpstreamConnection) {
        guard !draining else { connection.channel.close(promise: nil); return }
        if let backend {
            if backends[backend.index] === backend, idle[backend.index].count < settings.maxIdleUpstreamPerBackend {
                idle[backend.index].append(connection)
                return
            }
        } else if controlIdle.count < settings.maxIdleUpstreamPerBackend {
            controlIdle.append(connection)
            return
        }
        connection.channel.close(promise: nil)
    }

    /// Opens a new upstream connection on this loop.
    func connect(_ backend: Backend?) -> EventLoopFuture<UpstreamConnection> {
        connectChannel(backend).flatMapThrowing { channel in
            UpstreamConnection(channel: channel, handler: try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self))
        }
    }

    func connectChannel(_ backend: Backend?) -> EventLoopFuture<any Channel> {
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(settings.connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                do {
                    if let backend, let ssl = backend.sslContext {
                        let host = backend.url.host
                        let isAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
                        // SNI carries names only; an IP address is verified against the certificate's IP entries.
                        let handler = try NIOSSLClientHandler(context: ssl, serverHostname: isAddress ? nil : host)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHandler(UpstreamHandler())
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        if let backend {
            return bootstrap.connect(host: backend.url.host, port: backend.url.port)
        }
        switch controlPlane {
        case .unixSocket(let path): return bootstrap.connect(unixDomainSocketPath: path)
        case .tcp(let host, let port): return bootstrap.connect(host: host, port: port)
        case .none: return loop.makeFailedFuture(ChannelError.connectPending)
        }
    }

    /// How often the sweep checks deadlines: a quarter of the shortest timeout, 10–100 ms.
    var sweepInterval: TimeAmount {
        let shortest =
            [
                settings.requestReadTimeout, settings.keepAliveTimeout, settings.firstByteTimeout, settings.idleTimeout,
                settings.totalTimeout, settings.queueTimeout,
            ].map(\.nanoseconds).min() ?? 400_000_000
        return .nanoseconds(min(100_000_000, max(10_000_000, shortest / 4)))
    }

    /// Starts the loop's timeout sweep over its connections and their exchanges.
    func startSweep() {
        loop.scheduleRepeatedTask(initialDelay: sweepInterval, delay: sweepInterval) { [self] (_: RepeatedTask) in
            guard !clients.isEmpty else { return }
            let now = NIODeadline.now()
            for client in Array(clients.values) { client.checkDeadlines(now) }
        }
    }

    /// Takes a reload's backends and settings. Pooled connections to a backend whose settings
    /// changed are closed; requests in flight keep the backend and settings they started with.
    func apply(backends newBackends: [Backend], settings newSettings: RelaySettings) {
        for (i, b) in newBackends.enumerated() where i < backends.count && backends[i] !== b {
            for c in idle[i] { c.channel.close(promise: nil) }
            idle[i] = []
        }
        while idle.count < newBackends.count { idle.append([]) }
        backends = newBackends
        settings = newSettings
    }

    /// Stops taking new requests on this loop's connections (idle ones close now, busy ones after
    /// their exchange) and returns a future that completes once every client connection is gone.
    func beginDraining() -> EventLoopFuture<Void> {
        draining = true
        let promise = drained ?? loop.makePromise()
        drained = promise
        for client in clients.values { client.drain() }
        closeIdle()
        clientClosed()
        return promise.futureResult
    }

    /// A client connection left: the drain is over when it was the last.
    func clientClosed() {
        if draining, clients.isEmpty, let promise = drained {
            drained = nil
            promise.succeed()
        }
    }

    func closeIdle() {
        for list in idle { for c in list { c.channel.close(promise: nil) } }
        for c in controlIdle { c.channel.close(promise: nil) }
        idle = Array(repeating: [], count: backends.count)
        controlIdle = []
    }
}

/// A pooled upstream connection and the handler that routes its bytes to the current exchange.
struct UpstreamConnection {
    let channel: any Channel
    let handler: UpstreamHandler
}

/// Bridges an upstream connection to the exchange currently using it.
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    var exchange: Exchange?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let exchange {
            exchange.upstreamRead(buffer)
        } else {
            // Bytes on an idle pooled connection: the server is confused; drop the connection.
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let e = exchange
        exchange = nil
        e?.upstreamClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
