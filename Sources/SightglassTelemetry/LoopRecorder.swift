import NIOConcurrencyHelpers

/// The data plane's window into telemetry: one per event loop, so recording never contends
/// with another loop. The lock is taken only by its own loop and by the hub when it drains.
public final class LoopRecorder: Sendable {
    struct State {
        var events: [RequestEvent] = []
        var activeByBackend: [Int]
        var activeStreams = 0
        var dropped = 0
    }

    let state: NIOLockedValueBox<State>
    /// Above this many undrained events the oldest are dropped and counted, never silently.
    let capacity: Int

    init(backendCount: Int, capacity: Int) {
        state = NIOLockedValueBox(State(activeByBackend: Array(repeating: 0, count: backendCount)))
        self.capacity = capacity
    }

    /// A request was admitted and sent to backend number `backend` (index into the configured list).
    public func started(backend: Int, stream: Bool) {
        state.withLockedValue { s in
            if backend >= 0 {
                // A reload may have added backend slots since this recorder was made.
                if backend >= s.activeByBackend.count { s.activeByBackend += Array(repeating: 0, count: backend + 1 - s.activeByBackend.count) }
                s.activeByBackend[backend] += 1
            }
            if stream { s.activeStreams += 1 }
        }
    }

    /// Records a finished request; `backend` and `stream` must match what `started` was given (or -1 if never started).
    public func finished(_ event: RequestEvent, backend: Int, stream: Bool) {
        state.withLockedValue { s in
            if backend >= 0 && backend < s.activeByBackend.count { s.activeByBackend[backend] -= 1 }
            if stream && backend >= 0 { s.activeStreams -= 1 }
            if s.events.count >= capacity {
                s.dropped += 1
            } else {
                s.events.append(event)
            }
        }
    }

    func drain() -> (events: [RequestEvent], dropped: Int) {
        state.withLockedValue { s in
            let out = (s.events, s.dropped)
            s.events = []
            s.events.reserveCapacity(out.0.count)
            s.dropped = 0
            return out
        }
    }

    func live() -> (active: [Int], streams: Int) {
        state.withLockedValue { ($0.activeByBackend, $0.activeStreams) }
    }
}
