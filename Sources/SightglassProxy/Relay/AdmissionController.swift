import NIOConcurrencyHelpers
import NIOCore
import SightglassTelemetry

/// Caps concurrent requests and queues the overflow. All of its state is one `AdmissionState`
/// under one lock, held for a few instructions per request; a waiter is admitted on its own
/// event loop.
public final class AdmissionController: Sendable {
    final class Waiter: @unchecked Sendable {
        // Immutable; `admit` runs only on `loop`.
        let loop: any EventLoop
        let admit: () -> Void
        init(loop: any EventLoop, admit: @escaping () -> Void) {
            self.loop = loop
            self.admit = admit
        }

        func wake() { loop.execute { self.admit() } }
    }

    let state: NIOLockedValueBox<AdmissionState<Waiter>>

    public init(maxConcurrent: Int, maxQueue: Int) {
        state = NIOLockedValueBox(AdmissionState(maxConcurrent: maxConcurrent, maxQueue: maxQueue))
    }

    public var maxConcurrent: Int { state.withLockedValue { $0.maxConcurrent } }
    public var maxQueue: Int { state.withLockedValue { $0.maxQueue } }

    enum Decision {
        case admitted
        case queued(Waiter)
        case rejected
    }

    /// Tries to take a slot. When queued, `admit` runs on `loop` once a slot frees.
    func acquire(loop: any EventLoop, admit: @escaping () -> Void) -> Decision {
        // The waiter is allocated only for a request that has to wait, not on the common path.
        var queued: Waiter?
        let arrival = state.withLockedValue { s in
            s.arrive(
                {
                    let w = Waiter(loop: loop, admit: admit)
                    queued = w
                    return w
                }())
        }
        switch arrival {
        case .admitted: return .admitted
        case .queued: return .queued(queued!)
        case .rejected: return .rejected
        }
    }

    /// Releases a slot, handing it straight to the oldest waiter if there is one.
    func release() {
        state.withLockedValue { $0.depart() }?.wake()
    }

    /// Removes a waiter that gave up (client gone or queue timeout). Returns false if it was already admitted.
    func cancel(_ waiter: Waiter) -> Bool {
        state.withLockedValue { $0.cancel(waiter) }
    }

    /// New limits from a reload. A higher (or no) concurrency limit admits waiters at once; a
    /// lower one lets requests in flight finish and admits no one until they fall below it.
    public func reconfigure(maxConcurrent: Int, maxQueue: Int) {
        for w in state.withLockedValue({ $0.reconfigure(maxConcurrent: maxConcurrent, maxQueue: maxQueue) }) { w.wake() }
    }

    public var snapshot: AdmissionSnapshot {
        state.withLockedValue { s in
            var out = AdmissionSnapshot()
            out.inFlight = s.inFlight
            out.queued = s.waiting.count
            out.maxConcurrent = s.maxConcurrent
            out.maxQueue = s.maxQueue
            return out
        }
    }
}
