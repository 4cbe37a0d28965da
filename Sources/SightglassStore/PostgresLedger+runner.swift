import PostgresNIO

extension PostgresLedger: SQLRunner {
    func select(_ sql: String, _ args: [SQLValue]) async throws -> [[SQLValue]] {
        try await rows(query(sql, args)) { r in
            try (0..<r.count).map { i -> SQLValue in
                let cell = r[i]
                guard cell.bytes != nil else { return .null }
                switch cell.dataType {
                case .int8, .int4, .int2: return .int(try cell.decode(Int64.self))
                default: return .text(try cell.decode(String.self))
                }
            }
        }
    }

    func change(_ steps: [SQLStep]) async throws {
        do {
            try await Self.withDeadline(timeout) {
                try await self.client.withTransaction(logger: self.logger) { conn in
                    for step in steps {
                        var matched = false
                        for try await _ in try await conn.query(self.query(step.sql, step.args), logger: self.logger) { matched = true }
                        if let failure = step.failure, !matched { throw failure }
                    }
                }
            }
        } catch let e as PostgresTransactionError {
            // A step's own failure is the caller's to report (404, 409), not a database error.
            if let failure = e.closureError as? IdentityError { throw failure }
            throw PostgresLedgerError(e)
        } catch {
            throw PostgresLedgerError(error)
        }
    }
}
