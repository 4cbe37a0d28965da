import PostgresNIO
import SightglassGovernance

/// Limits shared by every gateway using this database: each window of each limited scope is a
/// row counting what all instances together have leased of it. A lease takes the row's lock,
/// grants at most what is left, and commits; an instance then admits from its lease without a
/// round trip per request. Rows of ended windows are deleted as they age.
extension PostgresLedger: LimitLeaseSource {
    static let leaseSchema = [
        """
        CREATE TABLE limit_windows (
            scope TEXT NOT NULL, dim TEXT NOT NULL, win BIGINT NOT NULL, used BIGINT NOT NULL, PRIMARY KEY (scope, dim, win)
        )
        """
    ]

    public func lease(_ needs: [LeaseNeed]) async throws -> [LeaseGrant] {
        try await run {
            try await self.client.withTransaction(logger: self.logger) { conn in
                var grants: [LeaseGrant] = []
                // A fixed order, so two instances leasing the same rows never wait on each other in a cycle.
                for need in needs.sorted(by: { ($0.key, $0.dimension.rawValue) < ($1.key, $1.dimension.rawValue) }) {
                    let key = need.key, dim = need.dimension.rawValue, win = need.window
                    try await conn.query(
                        "INSERT INTO limit_windows (scope, dim, win, used) VALUES (\(key), \(dim), \(win), 0) ON CONFLICT DO NOTHING",
                        logger: self.logger)
                    var used: Int64 = 0
                    for try await u in try await conn.query(
                        "SELECT used FROM limit_windows WHERE scope = \(key) AND dim = \(dim) AND win = \(win) FOR UPDATE", logger: self.logger
                    ).decode(Int64.self) {
                        used = u
                    }
                    let granted = max(0, min(need.amount, need.limit - used))
                    if granted > 0 {
                        try await conn.query(
                            "UPDATE limit_windows SET used = used + \(granted) WHERE scope = \(key) AND dim = \(dim) AND win = \(win)",
                            logger: self.logger)
                    }
                    grants.append(LeaseGrant(need: need, granted: granted))
                }
                return grants
            }
        }
    }

    public func databaseTime() async throws -> Double {
        try await run {
            var t = 0.0
            for try await v in try await self.client.query("SELECT extract(epoch FROM clock_timestamp())::float8", logger: self.logger).decode(Double.self) {
                t = v
            }
            return t
        }
    }

    /// Deletes windows that ended: minutes older than two, days older than two, budget periods
    /// older than two (whatever their length), measured in each dimension's own window index.
    public func pruneLeases(minute: Int64, day: Int64) async throws {
        try await run {
            try await self.client.query(
                """
                DELETE FROM limit_windows WHERE (dim IN ('rpm', 'tpm') AND win < \(minute - 2)) OR (dim IN ('rpd', 'tpd') AND win < \(day - 2))
                """, logger: self.logger)
        }
    }
}
