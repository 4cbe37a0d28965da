import Atomics
import NIOConcurrencyHelpers
import NIOCore
import SightglassTelemetry

/// Caps concurrent requests and queues the overflow. The common path is one atomic add;
/// the lock is touched only when the gateway is at its limit.
public final class AdmissionController: Sendable {
    /// Both limits change on a configuration reload; requests already admitted keep their slots.
    let concurrencyLimit: ManagedAtomic<Int>
    let queueLimit: ManagedAtomic<Int>
    public var maxConcurrent: Int { concurrencyLimit.load(ordering: .relaxed) }
    public var maxQueue: Int { queueLimit.load(ordering: .relaxed) }
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
        concurrencyLimit = ManagedAtomic(maxConcurrent)
        queueLimit = ManagedAtomic(maxQueue)
    }

    /// New limits from a reload. A higher (or no) concurrency limit admits waiters at once; a
    /// lower one lets requests in flight finish and admits no one until they fall below it.
    public func reconfigure(maxConcurrent: Int, maxQueue: Int) {
        queueLimit.store(maxQueue, ordering: .relaxed)
        concurrencyLimit.store(maxConcurrent, ordering: .releasing)
        let admitted: [Waiter] = waiters.withLockedValue { list in
            var out: [Waiter] = []
            while !list.isEmpty, maxConcurrent == 0 || inFlight.load(ordering: .acquiring) < maxConcurrent {
                let w = list.removeFirst()
                guard !w.cancelled else { continue }
                inFlight.wrappingIncrement(ordering: .acquiring)
                out.append(w)
            }
            queuedCount.store(list.count, ordering: .relaxed)
            return out
        }
        for w in admitted { w.loop.execute { w.admit() } }
    }

    enum Decision {
        case admitted
        case queued(Waiter)
        case rejected
    }

    /// Tries to take a slot. When queued, `admit` runs on `loop` once a slot frees.
    func acquire(loop: any EventLoop, admit: @escaping () -> Void) -> Decision {
        let maxConcurrent = concurrencyLimit.load(ordering: .relaxed)
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
            guard list.count < queueLimit.load(ordering: .relaxed) else { return .rejected }
            let w = Waiter(loop: loop, admit: admit)
            list.append(w)
            queuedCount.store(list.count, ordering: .relaxed)
            return .queued(w)
        }
    }

    /// Releases a slot, handing it straight to the oldest waiter if there is one.
    func release() {
        // After a reload lowered the limit, slots above it are not handed on.
        let limit = concurrencyLimit.load(ordering: .relaxed)
        if queuedCount.load(ordering: .relaxed) > 0, limit == 0 || inFlight.load(ordering: .relaxed) <= limit {
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
