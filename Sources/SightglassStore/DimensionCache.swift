import NIOConcurrencyHelpers

/// Kinds of names kept in `dims`.
enum DimensionKind: Int {
    case route = 1, backend, model, errorType, user, client, method, project, apiKey
}

/// Name ⇄ id of dimension values (routes, backends, models, error types, users, clients),
/// cached in memory: rows store small numbers, and most lookups never reach the database.
/// Each engine adds the lookups that fill it (`SQLiteLedger`, `PostgresLedger`).
final class DimensionCache: Sendable {
    private let ids = NIOLockedValueBox<[DimensionKey: Int64]>([:])
    private let names = NIOLockedValueBox<[Int64: String]>([:])

    struct DimensionKey: Hashable {
        var kind: Int
        var name: String
    }

    func cachedId(_ kind: DimensionKind, _ name: String) -> Int64? {
        ids.withLockedValue { $0[DimensionKey(kind: kind.rawValue, name: name)] }
    }

    func cachedName(_ id: Int64) -> String? { names.withLockedValue { $0[id] } }

    func remember(_ kind: DimensionKind, _ name: String, _ id: Int64) {
        ids.withLockedValue { $0[DimensionKey(kind: kind.rawValue, name: name)] = id }
        names.withLockedValue { $0[id] = name }
    }

    /// Forgets everything: after a failed write, whose rolled-back ids must not be reused.
    func reset() {
        ids.withLockedValue { $0.removeAll() }
        names.withLockedValue { $0.removeAll() }
    }

    /// (id, kind, name) rows: the whole table, loaded when an unknown id turns up (another
    /// gateway, or an earlier run, named it).
    func rememberAll(_ rows: [(Int64, Int, String)]) {
        ids.withLockedValue { m in for (id, kind, name) in rows { m[DimensionKey(kind: kind, name: name)] = id } }
        names.withLockedValue { m in for (id, _, name) in rows { m[id] = name } }
    }
}

/// Conversions both engines store the same way.
enum LedgerRow {
    static func micros(_ seconds: Double) -> Int64 { Int64((seconds * 1e6).rounded()) }

    static func seconds(_ micros: Int64) -> Double { Double(micros) / 1e6 }

    /// A cost in US dollars as whole nano-dollars (SQLite keeps it in 1–4 bytes, not 8).
    static func nanoDollars(_ usd: Double) -> Int64 { Int64((usd * 1e9).rounded()) }

    /// FNV-1a of the id: what the id index holds (half the size of indexing the text).
    static func idHash(_ id: String) -> Int64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in id.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return Int64(bitPattern: h)
    }
}
