import Foundation
import SightglassGovernance
import SightglassStore

/// Shared limits lease from the ledger's PostgreSQL, which the ledger writer opens in the
/// background: until it is open, a lease fails and the request is answered 503, never admitted
/// past what the other instances may already hold.
struct LedgerLeaseSource: LimitLeaseSource {
    struct NotOpen: Error, CustomStringConvertible {
        var description: String { "the ledger's PostgreSQL is not open yet" }
    }

    let store: @Sendable () -> (any LedgerStore)?

    func database() throws -> PostgresLedger {
        guard let pg = store() as? PostgresLedger else { throw NotOpen() }
        return pg
    }

    func lease(_ needs: [LeaseNeed]) async throws -> [LeaseGrant] { try await database().lease(needs) }

    func databaseTime() async throws -> Double { try await database().databaseTime() }

    /// Follows the database's clock (from as soon as it is open, then every 15 s) and deletes
    /// windows that ended, until cancelled.
    func run(_ limiter: UsageLimiter) async {
        while !Task.isCancelled {
            let ok = await maintain(limiter)
            try? await Task.sleep(for: ok ? .seconds(15) : .milliseconds(200))
        }
    }

    func maintain(_ limiter: UsageLimiter) async -> Bool {
        guard let pg = try? database(), let t = try? await pg.databaseTime() else { return false }
        limiter.calibrate(unixNow: t)
        let unix = Int64(t)
        try? await pg.pruneLeases(minute: LimitCalendar.minute(unix), day: LimitCalendar.day(unix))
        return true
    }
}
