import NIOConcurrencyHelpers
import Synchronization

/// Addresses that keep failing authentication are shut out for a while: after `maxFailures`
/// failed attempts (no key, unknown, revoked or expired) within one minute, every request from
/// the address is refused (403, `Retry-After`) for `banSeconds`. A guessing client learns
/// nothing more and costs nothing more.
///
/// The request path asks `banned(_:)` first; while no ban is in force that is one relaxed
/// atomic load, no lock.
public final class AddressBans: Sendable {
    struct State {
        /// Address → (minute, failures in it).
        var failures: [String: (minute: Int64, count: Int)] = [:]
        /// Address → Unix seconds the ban ends.
        var bans: [String: Double] = [:]
    }

    let state = NIOLockedValueBox(State())
    /// Bans in force (an upper bound: expired ones leave when next looked at or swept).
    let active = Atomic<Int>(0)

    public init() {}

    /// Whether any ban may be in force: one relaxed load, for the request path to skip the rest.
    public var anyActive: Bool { active.load(ordering: .relaxed) > 0 }

    /// Seconds left on `address`'s ban, or nil when it may go on.
    public func banned(_ address: String, now: Double) -> Double? {
        guard active.load(ordering: .relaxed) > 0 else { return nil }
        return state.withLockedValue { s -> Double? in
            guard let until = s.bans[address] else { return nil }
            if until > now { return until - now }
            s.bans[address] = nil
            active.subtract(1, ordering: .relaxed)
            return nil
        }
    }

    /// Counts a failed authentication; true when it starts a ban.
    public func failure(_ address: String, now: Double, maxFailures: Int, banSeconds: Double) -> Bool {
        guard maxFailures > 0 else { return false }
        let minute = LimitCalendar.minute(Int64(now))
        return state.withLockedValue { s -> Bool in
            var f = s.failures[address] ?? (minute, 0)
            if f.minute != minute { f = (minute, 0) }
            f.count += 1
            s.failures[address] = f
            if s.failures.count > 10_000 { s.failures = s.failures.filter { $0.value.minute == minute } }
            guard f.count >= maxFailures, s.bans[address] == nil else { return false }
            s.bans[address] = now + banSeconds
            s.failures[address] = nil
            active.add(1, ordering: .relaxed)
            return true
        }
    }

    /// Addresses banned now, with the Unix seconds each ban ends.
    public func current(now: Double) -> [String: Double] {
        state.withLockedValue { $0.bans.filter { $0.value > now } }
    }
}
