import Foundation
import NIOConcurrencyHelpers
import SightglassConfig

/// Live values that belong to the data plane (admission queue), read at export time.
public struct AdmissionSnapshot: Sendable {
    public var inFlight = 0
    public var queued = 0
    public var maxConcurrent = 0
    public var maxQueue = 0
    public init() {}
}

/// The meeting point of the data plane and everything that reads telemetry.
///
/// Each event loop records into its own `LoopRecorder`; the hub drains them off the request
/// path (on a timer and before every export), prices the events, folds them into the
/// aggregator and hands them to subscribers (ledger, live feed).
public final class TelemetryHub: Sendable {
    /// Backend names by slot (`Backend.index`), removed ones included: slots never move.
    public var backendNames: [String] { names.withLockedValue { $0 } }
    let names: NIOLockedValueBox<[String]>
    public let board: BackendStatusBoard
    public let system: SystemSampler
    let recorders: [LoopRecorder]
    /// For requests the control plane answers itself (model catalogs).
    public let controlRecorder: LoopRecorder
    /// Prices by model; a reload replaces them for events drained after it.
    let pricing: NIOLockedValueBox<[String: ModelPrice]>
    let aggregator: NIOLockedValueBox<MetricsAggregator>
    let subscribers = NIOLockedValueBox<[@Sendable ([RequestEvent]) -> Void]>([])
    let admission = NIOLockedValueBox<@Sendable () -> AdmissionSnapshot>({ AdmissionSnapshot() })
    public let version: String

    public init(config: GatewayConfig, loops: Int, version: String, eventCapacityPerLoop: Int = 1 << 18, system: SystemSampler = SystemSampler()) {
        names = NIOLockedValueBox(config.backends.map(\.name))
        board = BackendStatusBoard(backends: config.backends.map { ($0.name, $0.url) })
        recorders = (0..<max(1, loops)).map { _ in LoopRecorder(backendCount: config.backends.count, capacity: eventCapacityPerLoop) }
        controlRecorder = LoopRecorder(backendCount: config.backends.count, capacity: eventCapacityPerLoop)
        pricing = NIOLockedValueBox(config.pricing)
        aggregator = NIOLockedValueBox(MetricsAggregator(windowSeconds: config.metrics.windowSeconds, startTime: Date().timeIntervalSince1970))
        self.system = system
        self.version = version
    }

    /// The recorder for event loop number `index`.
    public func recorder(_ index: Int) -> LoopRecorder { recorders[index % recorders.count] }

    public func setAdmissionProvider(_ provider: @escaping @Sendable () -> AdmissionSnapshot) {
        admission.withLockedValue { $0 = provider }
    }

    public var admissionSnapshot: AdmissionSnapshot { admission.withLockedValue { $0 }() }

    /// Called with every batch of drained, priced events, off the request path.
    public func subscribe(_ handler: @escaping @Sendable ([RequestEvent]) -> Void) {
        subscribers.withLockedValue { $0.append(handler) }
    }

    /// Moves recorded events into the aggregator. Cheap when nothing happened.
    public func drain() {
        var batch: [RequestEvent] = []
        var dropped = 0
        for r in recorders + [controlRecorder] {
            let (events, d) = r.drain()
            batch += events
            dropped += d
        }
        guard !batch.isEmpty || dropped > 0 else { return }
        let pricing = self.pricing.withLockedValue { $0 }
        for i in batch.indices {
            if let price = pricing[batch[i].model] {
                batch[i].cost = price.cost(input: batch[i].inputTokens, cached: batch[i].cachedTokens, output: batch[i].outputTokens)
            }
        }
        aggregator.withLockedValue { agg in
            agg.noteDropped(dropped)
            for e in batch { agg.add(e) }
        }
        let subs = subscribers.withLockedValue { $0 }
        for s in subs { s(batch) }
    }

    /// Takes a reloaded configuration: prices for what is drained from now on (what finished
    /// before is priced first, at the old prices), backend names by slot, and the health board's
    /// list of backends.
    public func apply(_ config: GatewayConfig, slots: [Int]) {
        drain()
        pricing.withLockedValue { $0 = config.pricing }
        names.withLockedValue { names in
            for (slot, backend) in zip(slots, config.backends) {
                if slot >= names.count { names += Array(repeating: "", count: slot + 1 - names.count) }
                names[slot] = backend.name
            }
        }
        board.replace(config.backends.map { ($0.name, $0.url) })
    }

    /// Starts the cumulative totals (`/metrics`, `/dashboard/stats`, `/health`) from what the
    /// store already holds, so a restart continues them instead of starting from zero.
    /// Prometheus counters stay per process, as Prometheus expects.
    public func continueTotals(from stored: CumulativeStats, byRoute: [String: CumulativeStats]) {
        aggregator.withLockedValue { $0.continueTotals(from: stored, byRoute: byRoute) }
    }

    /// Drains, then gives `body` a consistent view of the aggregates.
    public func read<T>(_ body: (MetricsAggregator) -> T) -> T {
        drain()
        return aggregator.withLockedValue { body($0) }
    }

    /// Requests in flight per backend name, and active streams, summed over every loop.
    public func live() -> (activeByBackend: [String: Int], activeStreams: Int) {
        var active = Array(repeating: 0, count: backendNames.count)
        var streams = 0
        for r in recorders + [controlRecorder] {
            let (a, s) = r.live()
            for i in a.indices where i < active.count { active[i] += a[i] }
            streams += s
        }
        var out: [String: Int] = [:]
        for (i, name) in backendNames.enumerated() { out[name] = active[i] }
        return (out, streams)
    }
}
