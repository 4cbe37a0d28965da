import Foundation
import NIOConcurrencyHelpers
import SightglassConfig

/// Per-client sliding-window limits: at most `requestsPerMinute` in any 60 seconds and at most
/// `burst` in any `burstWindowSeconds` (seed 000: 100 a minute, 20 per 10 seconds). Exact windows,
/// not token buckets: the 21st request inside 10 seconds is refused, whatever the spacing.
public final class RateLimiter: Sendable {
    public struct Decision: Sendable, Equatable {
        public var allowed: Bool
        public var limit: Int
        public var remaining: Int
        /// Seconds until the window that binds frees a slot.
        public var resetSeconds: Int
    }

    struct State {
        var clients: [String: [Double]] = [:]
        /// Refusals in the last hour, with the client refused.
        var violations: [(time: Double, client: String)] = []
    }

    public let settings: RateLimitSettings
    private let state = NIOLockedValueBox(State())

    public init(settings: RateLimitSettings) {
        self.settings = settings
    }

    public func check(client: String, now: Double = Date().timeIntervalSince1970) -> Decision {
        let minute = 60.0, burstWindow = settings.burstWindowSeconds
        return state.withLockedValue { s in
            var times = s.clients[client] ?? []
            times.removeAll { $0 <= now - minute }
            let inBurst = times.filter { $0 > now - burstWindow }
            let minuteFull = times.count >= settings.requestsPerMinute
            let burstFull = inBurst.count >= settings.burst
            if minuteFull || burstFull {
                // A slot frees when the oldest request of the full window leaves it.
                let frees = max(
                    minuteFull ? times[times.count - settings.requestsPerMinute] + minute : 0,
                    burstFull ? inBurst[inBurst.count - settings.burst] + burstWindow : 0)
                s.clients[client] = times
                s.violations.append((now, client))
                s.violations.removeAll { $0.time <= now - 3600 }
                return Decision(allowed: false, limit: settings.requestsPerMinute, remaining: 0, resetSeconds: max(1, Int((frees - now).rounded(.up))))
            }
            times.append(now)
            s.clients[client] = times
            if s.clients.count > 10_000 { s.clients = s.clients.filter { $0.value.last.map { $0 > now - minute } ?? false } }
            let remaining = min(settings.requestsPerMinute - times.count, settings.burst - inBurst.count - 1)
            let oldest = times.first ?? now
            return Decision(
                allowed: true, limit: settings.requestsPerMinute, remaining: max(0, remaining),
                resetSeconds: max(1, Int((oldest + minute - now).rounded(.up))))
        }
    }

    /// Refusals in the last hour and the distinct clients refused (for `/dashboard/security`).
    public func violations(now: Double = Date().timeIntervalSince1970) -> (count: Int, clients: [String]) {
        state.withLockedValue { s in
            let recent = s.violations.filter { $0.time > now - 3600 }
            return (recent.count, Array(Set(recent.map(\.client))).sorted())
        }
    }
}
