import CSightglassShims
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SightglassConfig
import SightglassGovernance
import SightglassTelemetry

/// The data plane: a SwiftNIO listener whose event loops each own their connections, upstream
/// pools and telemetry recorder. Inference routes are relayed here; everything else goes to the
/// control plane.
public final class ProxyServer: Sendable {
    public let group: MultiThreadedEventLoopGroup
    public let admission: AdmissionController
    let contexts: [ObjectIdentifier: LoopContext]
    let orderedContexts: [LoopContext]
    let config: GatewayConfig
    let serverChannel = NIOLockedValueBox<(any Channel)?>(nil)
    /// Every backend slot so far: a slot keeps its index for the life of the process.
    let slots: NIOLockedValueBox<[Backend]>
    /// Rate limits and budgets, shared by every loop (striped locks, touched only by requests
    /// that have a limit).
    public let limiter: UsageLimiter
    public let bans = AddressBans()

    /// Event loops to use when the configuration says 0: the CPUs this process may run on
    /// (its affinity mask, so `taskset -c 0 sightglass serve` gets one loop), not all CPUs.
    public static func defaultLoopCount() -> Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") })
        {
            let list = line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
            let n = cpuListCount(list)
            if n > 0 { return n }
        }
        return System.coreCount
    }

    /// Counts CPUs in a Linux CPU list such as "0-3,8,10-11".
    static func cpuListCount(_ list: String) -> Int {
        list.split(separator: ",").reduce(0) { total, part in
            let bounds = part.split(separator: "-").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            if bounds.count == 2, bounds[1] >= bounds[0] { return total + bounds[1] - bounds[0] + 1 }
            if bounds.count == 1 { return total + 1 }
            return total
        }
    }

    public init(
        config: GatewayConfig, telemetry: TelemetryHub, controlPlane: ControlPlaneTarget, routing: RoutingTable,
        limiter: UsageLimiter = UsageLimiter(unixNow: Date().timeIntervalSince1970, monotonic: { Int64(DispatchTime.now().uptimeNanoseconds) }),
        leases: (any LimitLeaseSource)? = nil
    ) throws {
        self.config = config
        self.limiter = limiter
        let loops = config.server.eventLoops > 0 ? config.server.eventLoops : Self.defaultLoopCount()
        group = MultiThreadedEventLoopGroup(numberOfThreads: loops)
        admission = AdmissionController(maxConcurrent: config.limits.maxConcurrentRequests, maxQueue: config.limits.maxQueueSize)
        let backends = try config.backends.enumerated().map { try Backend(index: $0.offset, config: $0.element) }
        slots = NIOLockedValueBox(backends)
        let settings = RelaySettings(config: config)
        var map: [ObjectIdentifier: LoopContext] = [:]
        var ordered: [LoopContext] = []
        for (i, loop) in group.makeIterator().enumerated() {
            let c = LoopContext(
                loop: loop, index: i, backends: backends, recorder: telemetry.recorder(i), admission: admission, limiter: limiter,
                bans: bans, leases: leases, settings: settings, controlPlane: controlPlane, routing: routing)
            map[ObjectIdentifier(loop)] = c
            ordered.append(c)
        }
        contexts = map
        orderedContexts = ordered
        for c in ordered {
            c.loop.execute {
                // The event loops wait for the network; the ledger writer, the hub's drain and the
                // control plane compute. A short slice lets a loop that wakes take the core at once
                // instead of after the computing thread's slice (milliseconds of added p99 on a
                // shared core), without changing anyone's share of the CPU.
                _ = sg_request_time_slice(100_000)
                c.startSweep()
            }
        }
        let admission = self.admission
        telemetry.setAdmissionProvider { admission.snapshot }
    }

    /// Binds and starts accepting. Returns the bound port (useful with port 0).
    public func start(host: String, port: Int) async throws -> Int {
        let contexts = self.contexts
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 4096)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                guard let ctx = contexts[ObjectIdentifier(channel.eventLoop)] else {
                    return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ClientConnectionHandler(ctx: ctx))
                }
            }
            .bind(host: host, port: port).get()
        serverChannel.withLockedValue { $0 = channel }
        return channel.localAddress?.port ?? port
    }

    /// Applies a reloaded configuration to new requests: backends (a name keeps its slot; a
    /// changed URL, key or TLS setting gets a new `Backend` in that slot; new names get new
    /// slots), relay settings and admission limits. Returns the slot of each configured backend,
    /// in order, for the routing table. Throws, changing nothing, if a backend cannot be built.
    public func apply(_ config: GatewayConfig) throws -> [Int] {
        var all = slots.withLockedValue { $0 }
        var order: [Int] = []
        for b in config.backends {
            if let i = all.firstIndex(where: { $0.name == b.name }) {
                if all[i].config != b { all[i] = try Backend(index: i, config: b) }
                order.append(i)
            } else {
                all.append(try Backend(index: all.count, config: b))
                order.append(all.count - 1)
            }
        }
        let settings = RelaySettings(config: config)
        slots.withLockedValue { $0 = all }
        for c in orderedContexts {
            c.loop.execute { c.apply(backends: all, settings: settings) }
        }
        admission.reconfigure(maxConcurrent: config.limits.maxConcurrentRequests, maxQueue: config.limits.maxQueueSize)
        return order
    }

    /// Replaces the key table on every loop: new requests see it as soon as their loop runs this.
    public func updateKeys(_ table: KeyTable) {
        for c in orderedContexts {
            c.loop.execute { c.keys = table }
        }
    }

    /// Replaces the model → backend table on every loop.
    public func updateRouting(_ table: RoutingTable) {
        for c in orderedContexts {
            c.loop.execute { c.routing = table }
        }
    }

    /// Stops accepting, lets in-flight requests finish for up to `timeout`, then closes everything.
    public func shutdown(timeout: TimeAmount) async {
        let ch = serverChannel.withLockedValue { c -> (any Channel)? in
            defer { c = nil }
            return c
        }
        try? await ch?.close()
        // Every loop's last connection closing completes its future; the timeout fails the
        // wait instead. No polling either way.
        let loop = group.next()
        let done = loop.makePromise(of: Void.self)
        let timer = loop.scheduleTask(in: timeout) { done.succeed() }
        EventLoopFuture.andAllComplete(orderedContexts.map { c in c.loop.flatSubmit { c.beginDraining() } }, on: loop).whenComplete { _ in
            timer.cancel()
            done.succeed()  // a no-op when the timeout came first
        }
        try? await done.futureResult.get()
        for c in orderedContexts {
            try? await c.loop.submit {
                for client in c.clients.values { client.context?.close(promise: nil) }
                c.closeIdle()
            }.get()
        }
        try? await group.shutdownGracefully()
    }
}
