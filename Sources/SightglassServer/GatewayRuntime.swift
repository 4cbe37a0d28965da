import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SightglassConfig
import SightglassDashboard
import SightglassProxy
import SightglassStore
import SightglassTelemetry

/// A running gateway: data plane, control plane, backend monitor and telemetry timers.
/// `start` returns once it accepts connections; `shutdown` drains and stops everything.
public final class GatewayRuntime: Sendable {
    public static let version = "0.1.0"

    public let config: GatewayConfig
    public let hub: TelemetryHub
    public let proxy: ProxyServer
    public let port: Int
    /// The control plane's own port when it does not share the proxy's.
    public let controlPort: Int?
    let control: HummingbirdRunner
    let httpClient: HTTPClient
    let background: Task<Void, Never>
    let socketPath: String?
    let logger: Logger
    /// The request ledger's writer, nil when disabled.
    public let ledger: LedgerWriter?

    public static func start(config: GatewayConfig, logger: Logger) async throws -> GatewayRuntime {
        try config.validate()
        let loops = config.server.eventLoops > 0 ? config.server.eventLoops : ProxyServer.defaultLoopCount()
        let hub = TelemetryHub(config: config, loops: loops, version: version)
        hub.system.sample()
        let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        // The ledger is fed from the hub's drain, off the request path; a store that cannot be
        // opened degrades the ledger, never the proxy.
        var ledger: LedgerWriter?
        if config.ledger.enabled {
            let writer = LedgerWriter(path: config.ledger.effectivePath, settings: config.ledger, logger: logger)
            hub.subscribe { writer.enqueue($0) }
            writer.start()
            ledger = writer
        }
        let controlPlane = ControlPlane(hub: hub, config: config, httpClient: httpClient, ledger: ledger)

        // The control plane listens privately on a Unix socket, reached through the data plane,
        // unless it is given its own port.
        let separate = config.server.controlPort != nil
        var socketPath: String?
        let address: BindAddress
        if let cport = config.server.controlPort {
            address = .hostname(config.server.controlHost ?? config.server.host, port: cport)
        } else {
            let path = NSTemporaryDirectory() + "sightglass-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
            unlink(path)
            socketPath = path
            address = .unixDomainSocket(path: path)
        }
        var controlLogger = logger
        controlLogger.logLevel = .warning
        let control: HummingbirdRunner
        do {
            control = try await HummingbirdRunner.start(router: controlPlane.router(), address: address, name: "control plane", logger: controlLogger)
        } catch {
            ledger?.stop()
            try? await httpClient.shutdown()
            throw error
        }

        let monitor: BackendMonitor
        let proxy: ProxyServer
        let port: Int
        do {
            proxy = try ProxyServer(config: config, telemetry: hub,
                                    controlPlane: socketPath.map { .unixSocket($0) } ?? .none,
                                    routing: RoutingTable(modelToBackends: [:]))
            monitor = BackendMonitor(config: config, board: hub.board, client: httpClient, logger: logger) { table in
                proxy.updateRouting(table)
            }
            proxy.updateRouting(monitor.routingTable())
            await monitor.checkAll()
            port = try await proxy.start(host: config.server.host, port: config.server.port)
        } catch {
            ledger?.stop()
            await control.stop()
            try? await httpClient.shutdown()
            if let socketPath { unlink(socketPath) }
            throw error
        }

        let background = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await monitor.run() }
                group.addTask {
                    // Telemetry leaves the data plane here, twenty times a second: small batches keep
                    // the fold from taking the core in bursts when the gateway is pinned to one.
                    while !Task.isCancelled {
                        try? await Task.sleep(nanoseconds: 50_000_000)
                        hub.drain()
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(nanoseconds: 1_000_000_000)
                        hub.system.sample()
                    }
                }
            }
        }
        return GatewayRuntime(config: config, hub: hub, proxy: proxy, port: port, controlPort: separate ? control.port : nil,
                              control: control, httpClient: httpClient, background: background, socketPath: socketPath,
                              ledger: ledger, logger: logger)
    }

    init(config: GatewayConfig, hub: TelemetryHub, proxy: ProxyServer, port: Int, controlPort: Int?, control: HummingbirdRunner,
         httpClient: HTTPClient, background: Task<Void, Never>, socketPath: String?, ledger: LedgerWriter?, logger: Logger) {
        self.ledger = ledger
        self.config = config
        self.hub = hub
        self.proxy = proxy
        self.port = port
        self.controlPort = controlPort
        self.control = control
        self.httpClient = httpClient
        self.background = background
        self.socketPath = socketPath
        self.logger = logger
    }

    /// Stops accepting, lets in-flight requests and streams finish for up to the drain timeout, then stops.
    public func shutdown() async {
        await proxy.shutdown(timeout: .nanoseconds(Int64(config.server.drainTimeoutSeconds * 1e9)))
        background.cancel()
        await background.value
        hub.drain()
        ledger?.stop()  // writes everything still buffered
        await control.stop()
        try? await httpClient.shutdown()
        if let socketPath { unlink(socketPath) }
    }
}
