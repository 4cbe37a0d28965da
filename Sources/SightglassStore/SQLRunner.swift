/// SQL both engines run the same way, for code written once for SQLite and PostgreSQL (the
/// organization's identity tables): queries returning plain values, and changes made of steps
/// that either all happen or none do.
protocol SQLRunner: Sendable {
    /// Every row of `sql` (with `?` placeholders), each column as an integer, text or null.
    func select(_ sql: String, _ args: [SQLValue]) async throws -> [[SQLValue]]
    /// Runs the steps in one transaction. A step with a `failure` must return at least one row
    /// (it ends in `RETURNING`); when it returns none the transaction rolls back and `failure` is thrown.
    func change(_ steps: [SQLStep]) async throws
}

struct SQLStep: Sendable {
    var sql: String
    var args: [SQLValue]
    /// What to report when the step matched nothing (a row that vanished, a name taken).
    var failure: IdentityError?

    init(_ sql: String, _ args: [SQLValue] = [], failure: IdentityError? = nil) {
        self.sql = sql
        self.args = args
        self.failure = failure
    }
}
