import GRDB

extension SQLiteLedger: SQLRunner {
    func select(_ sql: String, _ args: [SQLValue]) async throws -> [[SQLValue]] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: Self.arguments(args)).map { row in
                row.databaseValues.map { v in
                    switch v.storage {
                    case .int64(let n): .int(n)
                    case .string(let s): .text(s)
                    case .double(let d): .int(Int64(d))
                    case .null, .blob: .null
                    }
                }
            }
        }
    }

    func change(_ steps: [SQLStep]) async throws {
        try await pool.write { db in
            for step in steps {
                if let failure = step.failure {
                    guard try Row.fetchOne(db, sql: step.sql, arguments: Self.arguments(step.args)) != nil else { throw failure }
                } else {
                    try db.execute(sql: step.sql, arguments: Self.arguments(step.args))
                }
            }
        }
    }
}
