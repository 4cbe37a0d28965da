import Atomics
import NIOConcurrencyHelpers
import NIOCore
import SightglassTelemetry

/// Caps concurrent requests and queues the overflow. The common path is one atomic add;
/// the lock is touched only when the gateway is at its limit.
public final class AdmissionController: Sendable {
    public let maxConcurrent: Int
    public let maxQueue: Int
    let inFlight = ManagedAtomic<Int>(0)
    let queuedCount = ManagedAtomic<Int>(0)

    final class Waiter: @unchecked Sendable {
        // Mutated only under `waiters`' lock or on `loop`.
        let loop: any EventLoop
        let admit: () -> Void
        var cancelled = false
        init(loop: any EventLoop, admit: @escaping () -> Void) {
            self.loop = loop
            self.admit = admit
        }
    }
    let waiters = NIOLockedValueBox<[Waiter]>([])

    public init(maxConcurrent: Int, maxQueue: Int) {
        self.maxConcurrent = maxConcurrent
        self.maxQueue = maxQueue
    }

    enum Decision {
        case admitted
        case queued(Waiter)
        case rejected
    }

    /// Tries to take a slot. When queued, `admit` runs on `loop` once a slot frees.
    func acquire(loop: any EventLoop, admit: @escaping () -> Void) -> Decision {
        guard maxConcurrent > 0 else {
            inFlight.wrappingIncrement(ordering: .relaxed)
            return .admitted
        }
        let now = inFlight.wrappingIncrementThenLoad(ordering: .acquiring)
        if now <= maxConcurrent { return .admitted }
        inFlight.wrappingDecrement(ordering: .releasing)
        return waiters.withLockedValue { list in
            // Re-check under the lock: a slot may have freed meanwhile.
            let current = inFlight.load(ordering: .acquiring)
            if current < maxConcurrent, list.isEmpty {
                inFlight.wrappingIncrement(ordering: .acquiring)
                return .admitted
            }
            guard list.count < maxQueue else { return .rejected }
            let w = Waiter(loop: loop, admit: admit)
            list.append(w)
            queuedCount.store(list.count, ordering: .relaxed)
            return .queued(w)
        }
    }

    /// Releases a slot, handing it straight to the oldest waiter if there is one.
    func release() {
        if maxConcurrent > 0, queuedCount.load(ordering: .relaxed) > 0 {
            let next: Waiter? = waiters.withLockedValue { list in
                while !list.isEmpty {
                    let w = list.removeFirst()
                    if !w.cancelled {
                        queuedCount.store(list.count, ordering: .relaxed)
                        return w
                    }
                }
                queuedCount.store(0, ordering: .relaxed)
                return nil
            }
            if let next {
                // The slot passes to the waiter: inFlight stays the same.
                next.loop.execute { next.admit() }
                return
            }
        }
        inFlight.wrappingDecrement(ordering: .releasing)
    }

    /// Removes a waiter that gave up (client gone or queue timeout). Returns false if it was already admitted.
    func cancel(_ waiter: Waiter) -> Bool {
        waiters.withLockedValue { list in
            guard let i = list.firstIndex(where: { $0 === waiter }) else { return false }
            list.remove(at: i)
            waiter.cancelled = true
            queuedCount.store(list.count, ordering: .relaxed)
            return true
        }
    }

    public var snapshot: AdmissionSnapshot {
        var s = AdmissionSnapshot()
        s.inFlight = inFlight.load(ordering: .relaxed)
        s.queued = queuedCount.load(ordering: .relaxed)
        s.maxConcurrent = maxConcurrent
        s.maxQueue = maxQueue
        return s
    }
}
