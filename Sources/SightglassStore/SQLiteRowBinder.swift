import GRDB
import GRDBSQLite

/// Binds one row's values straight onto a prepared statement and runs it.
///
/// The ledger inserts one row per proxied request. Building GRDB's `StatementArguments` for it
/// (an array of boxed `DatabaseValueConvertible`s) cost more than SQLite's own work for the row
/// (15 % against 5 % of the writer's samples in `perf`), and on a machine where the writer
/// shares a core with the event loop that time comes out of the proxy's. Only the hot insert
/// uses this; everything else stays with GRDB's arguments.
struct SQLiteRowBinder {
    private let statement: SQLiteStatement
    private var index: CInt = 1
    private var failure: CInt = SQLITE_OK

    /// Resets `statement`, lets `bind` bind every parameter in order, and steps it to the end.
    /// Throws SQLite's error (disk full, read-only file, constraint) as a `DatabaseError`.
    static func execute(_ statement: Statement, in db: Database, _ bind: (inout SQLiteRowBinder) -> Void) throws {
        var binder = SQLiteRowBinder(statement: statement.sqliteStatement)
        sqlite3_reset(binder.statement)
        bind(&binder)
        precondition(binder.index - 1 == sqlite3_bind_parameter_count(binder.statement), "bound \(binder.index - 1) values for: \(statement.sql)")
        var code = binder.failure
        if code == SQLITE_OK {
            code = sqlite3_step(binder.statement)
            if code == SQLITE_DONE { return }
        }
        let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
        sqlite3_reset(binder.statement)
        throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }

    private mutating func next(_ code: CInt) {
        if code != SQLITE_OK, failure == SQLITE_OK { failure = code }
        index += 1
    }

    mutating func bind(_ value: Int64) { next(sqlite3_bind_int64(statement, index, value)) }

    mutating func bind(_ value: Int) { bind(Int64(value)) }

    mutating func bind(_ value: Bool) { bind(Int64(value ? 1 : 0)) }

    mutating func bind(_ value: Int64?) {
        if let value { bind(value) } else { bindNull() }
    }

    mutating func bindNull() { next(sqlite3_bind_null(statement, index)) }

    /// Text, copied by SQLite (so the Swift string need not outlive the call); any byte,
    /// NUL included, is kept.
    mutating func bind(_ value: String?) {
        guard var value else { return bindNull() }
        let code = value.withUTF8 { utf8 -> CInt in
            guard let base = utf8.baseAddress else {
                return sqlite3_bind_text(statement, index, "", 0, SQLITE_TRANSIENT)  // not NULL: an empty text
            }
            return sqlite3_bind_text(statement, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), CInt(utf8.count), SQLITE_TRANSIENT)
        }
        next(code)
    }

    /// A blob, copied by SQLite.
    mutating func bind(blob: UnsafeRawBufferPointer) {
        next(sqlite3_bind_blob(statement, index, blob.baseAddress, CInt(blob.count), SQLITE_TRANSIENT))
    }

    /// A request id in the form `SQLiteRequestId` keeps it: 10 bytes for the gateway's own ids,
    /// the text for any other.
    mutating func bind(requestId id: String) {
        withUnsafeTemporaryAllocation(byteCount: SQLiteRequestId.compactByteCount, alignment: 1) { bytes in
            if SQLiteRequestId.compact(id, into: bytes) { bind(blob: UnsafeRawBufferPointer(bytes)) } else { bind(id) }
        }
    }
}

/// Tells SQLite to copy the bytes before the bind call returns (GRDB's own constant is internal).
private let SQLITE_TRANSIENT = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
