import Testing

@testable import SightglassProxy

/// The admission state machine, transition by transition, and the invariant the old design
/// broke: no request waits while a slot is free.
@Suite struct AdmissionStateTests {
    final class W {}

    @Test func admitsUntilTheLimitThenQueuesThenRefuses() {
        var s = AdmissionState<W>(maxConcurrent: 1, maxQueue: 1)
        #expect(s.arrive(W()) == .admitted)
        #expect(s.arrive(W()) == .queued)
        #expect(s.arrive(W()) == .rejected)
        #expect(s.inFlight == 1 && s.waiting.count == 1)
    }

    @Test func aDepartureHandsItsSlotToTheOldestWaiter() {
        var s = AdmissionState<W>(maxConcurrent: 1, maxQueue: 5)
        let first = W(), second = W()
        _ = s.arrive(W())
        _ = s.arrive(first)
        _ = s.arrive(second)
        #expect(s.depart() === first)
        #expect(s.inFlight == 1 && s.waiting.count == 1)
        #expect(s.depart() === second)
        #expect(s.depart() == nil && s.inFlight == 0)
    }

    @Test func noLimitAdmitsEveryone() {
        var s = AdmissionState<W>(maxConcurrent: 0, maxQueue: 0)
        for _ in 0..<100 { #expect(s.arrive(W()) == .admitted) }
        #expect(s.inFlight == 100)
    }

    @Test func aCancelledWaiterIsGoneAndAnAdmittedOneCannotCancel() {
        var s = AdmissionState<W>(maxConcurrent: 1, maxQueue: 5)
        let a = W(), b = W()
        _ = s.arrive(W())
        _ = s.arrive(a)
        _ = s.arrive(b)
        let first = s.cancel(a), again = s.cancel(a)
        #expect(first && !again)
        let next = s.depart()
        #expect(next === b)
        let late = s.cancel(b)
        #expect(!late, "already admitted: its slot is released by its own departure")
    }

    /// The race of the old controller: a departure landing between an arrival's check and its
    /// enqueue. In one state under one lock the two can only happen one before the other; in
    /// both orders the arrival ends up in flight, not waiting beside a free slot.
    @Test func departureAndArrivalInEitherOrderLeaveNoOneBehind() {
        for departureFirst in [true, false] {
            var s = AdmissionState<W>(maxConcurrent: 1, maxQueue: 5)
            _ = s.arrive(W())
            let late = W()
            if departureFirst {
                #expect(s.depart() == nil)
                #expect(s.arrive(late) == .admitted)
            } else {
                #expect(s.arrive(late) == .queued)
                #expect(s.depart() === late)
            }
            #expect(s.inFlight == 1 && s.waiting.isEmpty)
        }
    }

    /// Thousands of seeded random events: after every one, nobody waits while a slot is free,
    /// and the counts match a plain model.
    @Test func randomEventsKeepTheInvariant() {
        var rng = SplitMix(seed: 7)
        var s = AdmissionState<W>(maxConcurrent: 3, maxQueue: 4)
        var running = 0
        var queue: [W] = []
        for step in 0..<20_000 {
            switch rng.next() % 5 {
            case 0, 1:
                let w = W()
                switch s.arrive(w) {
                case .admitted: running += 1
                case .queued: queue.append(w)
                case .rejected: #expect(queue.count == s.maxQueue)
                }
            case 2 where running > 0:
                if let next = s.depart() {
                    let oldest = queue.removeFirst()
                    #expect(next === oldest)
                } else {
                    running -= 1
                }
            case 3 where !queue.isEmpty:
                let gone = queue.remove(at: Int(rng.next() % UInt64(queue.count)))
                let cancelled = s.cancel(gone)
                #expect(cancelled)
            case 4 where step % 500 == 0:
                let admitted = s.reconfigure(maxConcurrent: Int(rng.next() % 5), maxQueue: 4)
                for w in admitted {
                    let oldest = queue.removeFirst()
                    #expect(w === oldest)
                }
                running += admitted.count
            default:
                break
            }
            #expect(!(s.hasRoom && !s.waiting.isEmpty), "step \(step): a request waits while a slot is free")
            #expect(s.inFlight == running && s.waiting.count == queue.count)
        }
    }
}

/// A small seeded generator, so the random test is the same on every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
