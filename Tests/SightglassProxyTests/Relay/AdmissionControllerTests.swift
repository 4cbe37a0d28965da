import NIOEmbedded
import Testing

@testable import SightglassProxy

/// Limits that a configuration reload changes while requests are in flight and queued.
@Suite struct AdmissionControllerTests {
    final class Count: @unchecked Sendable { var value = 0 }

    func admitted(_ d: AdmissionController.Decision) -> Bool { if case .admitted = d { return true }; return false }
    func queued(_ d: AdmissionController.Decision) -> Bool { if case .queued = d { return true }; return false }

    @Test func raisingTheLimitAdmitsWaitersAtOnce() {
        let loop = EmbeddedEventLoop()
        let a = AdmissionController(maxConcurrent: 1, maxQueue: 5)
        let count = Count()
        #expect(admitted(a.acquire(loop: loop) {}))
        #expect(queued(a.acquire(loop: loop) { count.value += 1 }))
        #expect(queued(a.acquire(loop: loop) { count.value += 1 }))
        a.reconfigure(maxConcurrent: 2, maxQueue: 5)
        loop.run()
        #expect(count.value == 1)
        #expect(a.snapshot.inFlight == 2 && a.snapshot.queued == 1 && a.snapshot.maxConcurrent == 2)
        a.reconfigure(maxConcurrent: 0, maxQueue: 5)  // no limit: everyone in
        loop.run()
        #expect(count.value == 2 && a.snapshot.queued == 0)
    }

    @Test func loweringTheLimitHoldsWaitersUntilInFlightFallsBelowIt() {
        let loop = EmbeddedEventLoop()
        let a = AdmissionController(maxConcurrent: 2, maxQueue: 5)
        let count = Count()
        #expect(admitted(a.acquire(loop: loop) {}))
        #expect(admitted(a.acquire(loop: loop) {}))
        #expect(queued(a.acquire(loop: loop) { count.value += 1 }))
        a.reconfigure(maxConcurrent: 1, maxQueue: 5)
        a.release()  // 2 in flight, limit 1: the slot is not handed on
        loop.run()
        #expect(count.value == 0 && a.snapshot.inFlight == 1)
        a.release()  // now the waiter takes the freed slot
        loop.run()
        #expect(count.value == 1 && a.snapshot.inFlight == 1 && a.snapshot.queued == 0)
    }

    @Test func queueSizeChangesForNewArrivals() {
        let loop = EmbeddedEventLoop()
        let a = AdmissionController(maxConcurrent: 1, maxQueue: 0)
        #expect(admitted(a.acquire(loop: loop) {}))
        if case .rejected = a.acquire(loop: loop, admit: {}) {} else { Issue.record("expected a refusal with no queue") }
        a.reconfigure(maxConcurrent: 1, maxQueue: 1)
        #expect(queued(a.acquire(loop: loop) {}))
    }
}
