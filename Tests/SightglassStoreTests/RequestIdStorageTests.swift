import Foundation
import GRDB
import SightglassTelemetry
import Testing

@testable import SightglassStore

/// The gateway's ids are kept compactly in SQLite and any other id as sent; either way an id
/// comes back exactly, is found by lookup and by search, on both engines.
@Suite struct RequestIdStorageTests {
    static let ids = ["req_0123456789abcdef0123", "req_0123456789ABCDEF0123", "client-chosen/id:7", "req_12", "req_0123456789abcdef012z"]

    @Test(arguments: LedgerEngine.available)
    func idsMethodAndCostComeBackExactly(engine: LedgerEngine) async throws {
        try await withLedger(engine) { ledger in
            let t0 = 1_800_000_000.0
            let events = Self.ids.enumerated().map { i, id in
                var e = event(i, at: t0 + Double(i))
                e.id = id
                e.method = i == 2 ? "GET" : "POST"
                e.cost = 0.000_123_456_7 * Double(i + 1)
                e.errorMessage = Self.message(i)
                if i == 3 { e.queued = 0.002 }  // a row with side data: PostgreSQL inserts it apart from the COPY
                return e
            }
            try await offPool { try ledger.write(events) }
            for (i, id) in Self.ids.enumerated() {
                let r = try #require(try await ledger.request(id: id), "\(id) not found")
                #expect(r.id == id)
                #expect(r.method == (i == 2 ? "GET" : "POST"))
                #expect(abs(r.cost - 0.000_123_456_7 * Double(i + 1)) < 1e-9)
                #expect(r.errorMessage == Self.message(i))
                #expect(r.queued == (i == 3 ? 0.002 : nil))
            }
            #expect(try await ledger.request(id: "req_0123456789abcdef0124") == nil)
            let page = try await ledger.requests(try RequestFilter.parse(["limit": "10"], now: t0))
            #expect(page.requests.map(\.id) == Self.ids.reversed())
            let found = try await ledger.requests(try RequestFilter.parse(["q": "456789"], now: t0))
            #expect(Set(found.requests.map(\.id)) == Set(Self.ids.filter { $0.contains("456789") }))
            let prefix = try await ledger.requests(try RequestFilter.parse(["q": "req_0123"], now: t0))
            #expect(prefix.requests.count == 3)
        }
    }

    /// Error messages that must come back exactly: control characters, escapes, an empty text (not NULL), none.
    static func message(_ i: Int) -> String? {
        switch i {
        case 1: "line 1\n\tline 2 \\ back\rslash ü"
        case 4: ""
        default: nil
        }
    }

    @Test func compactFormRoundTrips() {
        let id = "req_00ff10a0b0c0d0e0f009"
        let stored = SQLiteRequestId.stored(id)
        guard case .blob(let data) = stored.storage else { Issue.record("not compact"); return }
        #expect(data.count == 10)
        #expect(SQLiteRequestId.text(stored) == id)
        #expect(SQLiteRequestId.text(SQLiteRequestId.stored("REQ_00ff10a0b0c0d0e0f009")) == "REQ_00ff10a0b0c0d0e0f009")
    }

    /// A ledger written before the compact rows (schema v4) is rewritten on open, every value kept.
    @Test func aVersion4LedgerIsUpgradedWithItsRows() async throws {
        let path = NSTemporaryDirectory() + "ledger-v4-\(UUID().uuidString).sqlite"
        defer { for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + s) } }
        do {
            let pool = try DatabasePool(path: path)
            try SQLiteSchema.migrator().migrate(pool, upTo: "v4: request and response bodies")
            try await pool.write { db in
                try db.execute(sql: "INSERT INTO dims (id, kind, name) VALUES (1, 1, '/v1/chat/completions'), (2, 2, 'b1'), (3, 3, 'm1')")
                for (i, id) in Self.ids.enumerated() {
                    try db.execute(
                        sql: """
                            INSERT INTO requests (id, id_hash, ts, route, backend, model, method, stream, status, tokens_in, tokens_out,
                                tokens_cached, estimated, cost, latency_us, bytes_in, bytes_out)
                            VALUES (?, 0, ?, 1, 2, 3, ?, 1, 200, 10, 20, 0, 0, ?, 1500, 100, 500)
                            """, arguments: [id, 1_800_000_000_000_000 + Int64(i), i == 2 ? "GET" : "POST", 0.25 * Double(i)])
                }
            }
            try pool.close()
        }
        let ledger = try SQLiteLedger(path: path)
        defer { ledger.close() }
        for (i, id) in Self.ids.enumerated() {
            let r = try #require(try ledger.request(id: id))
            #expect(r.id == id && r.model == "m1" && r.tokensOut == 20 && r.latency == 0.0015)
            #expect(r.method == (i == 2 ? "GET" : "POST") && r.cost == 0.25 * Double(i))
        }
        #expect(try ledger.requestCount() == Self.ids.count)
    }
}
