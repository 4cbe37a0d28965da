import ServiceLifecycle

/// Runs `tick` every `interval` until the gateway shuts down, then `last` once: the telemetry
/// drain, the host and GPU samplers, the alert evaluator.
struct PeriodicService: Service, CustomStringConvertible {
    let description: String
    let interval: Duration
    let tick: @Sendable () async -> Void
    var last: (@Sendable () async -> Void)?

    init(_ name: String, every interval: Duration, tick: @escaping @Sendable () async -> Void, last: (@Sendable () async -> Void)? = nil) {
        description = name
        self.interval = interval
        self.tick = tick
        self.last = last
    }

    func run() async throws {
        let (interval, tick) = (interval, tick)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                await tick()
            }
        }
        await last?()
    }
}

/// Runs a long-lived loop (`BackendMonitor.run`, the live feed) until the gateway shuts down.
struct LoopService: Service, CustomStringConvertible {
    let description: String
    let body: @Sendable () async -> Void

    init(_ name: String, _ body: @escaping @Sendable () async -> Void) {
        description = name
        self.body = body
    }

    func run() async throws {
        await cancelWhenGracefulShutdown(body)
    }
}

/// Waits for the gateway's shutdown, then does `stop`: the data plane's drain, the ledger's flush.
struct ShutdownService: Service, CustomStringConvertible {
    let description: String
    let stop: @Sendable () async -> Void

    init(_ name: String, stop: @escaping @Sendable () async -> Void) {
        description = name
        self.stop = stop
    }

    func run() async throws {
        try? await gracefulShutdown()
        await stop()
    }
}
