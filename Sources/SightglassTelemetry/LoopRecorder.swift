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

    /// Proof that a request was counted as in flight: `finished` takes it back, so a request
    /// is uncounted exactly as it was counted (instead of passing `-1` for "never started").
    public struct InFlight: Sendable, Equatable {
        /// The backend's slot (`Backend.index`).
        public let backend: Int
        public let stream: Bool
    }

    /// A request was admitted and sent to the backend in slot `backend`.
    public func started(backend: Int, stream: Bool) -> InFlight {
        precondition(backend >= 0, "backend slots start at 0")
        state.withLockedValue { s in
            // A reload may have added backend slots since this recorder was made.
            if backend >= s.activeByBackend.count { s.activeByBackend += Array(repeating: 0, count: backend + 1 - s.activeByBackend.count) }
            s.activeByBackend[backend] += 1
            if stream { s.activeStreams += 1 }
        }
        return InFlight(backend: backend, stream: stream)
    }

    /// Records a finished request; `started` is what `started(backend:stream:)` returned, nil for
    /// a request that never reached a backend (refused, or answered by the gateway itself).
    public func finished(_ event: RequestEvent, started: InFlight? = nil) {
        state.withLockedValue { s in
            if let started {
                s.activeByBackend[started.backend] -= 1
                if started.stream { s.activeStreams -= 1 }
            }
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
