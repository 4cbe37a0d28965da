import Foundation
import Logging
import PostgresNIO
import SightglassStore
import Testing

/// The stores the ledger tests run against: SQLite always; PostgreSQL when the test command
/// started one (`SIGHTGLASS_TEST_POSTGRES`, a `postgres://` URL of a server we may create
/// databases on). Each test gets a fresh file or a fresh database.
enum LedgerEngine: String, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["SIGHTGLASS_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var available: [LedgerEngine] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// A location no test has used: a temporary file, or a new database on the test server.
    func freshLocation() async throws -> String {
        switch self {
        case .sqlite:
            return NSTemporaryDirectory() + "ledger-test-\(UUID().uuidString).sqlite"
        case .postgres:
            let base = try #require(Self.postgresURL)
            let parts = try #require(URLComponents(string: base))
            let name = "sg_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
            let logger = Logger(label: "test")
            let config = PostgresConnection.Configuration(
                host: parts.host ?? "127.0.0.1", port: parts.port ?? 5432, username: parts.user ?? "postgres",
                password: parts.password, database: "postgres", tls: .disable)
            let conn = try await PostgresConnection.connect(configuration: config, id: 1, logger: logger)
            try await conn.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
            try await conn.close()
            var url = parts
            url.path = "/" + name
            url.query = "sslmode=disable"
            return url.string!
        }
    }

    /// Removes a SQLite file (test databases stay with the temporary server, which the test command deletes).
    func remove(_ location: String) {
        guard self == .sqlite else { return }
        for s in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: location + s) }
    }
}

/// A fresh ledger of `engine`, closed and removed afterwards.
func withLedger(_ engine: LedgerEngine, _ body: (any LedgerStore) async throws -> Void) async throws {
    let location = try await engine.freshLocation()
    defer { engine.remove(location) }
    let ledger = try await offPool { try LedgerStores.open(location, logger: Logger(label: "test")) }
    defer { ledger.close() }
    try await body(ledger)
}

/// Runs blocking store calls (PostgreSQL's writes wait on the network) on a thread of their
/// own, never on the cooperative pool the tests and the database client share.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { done in
        Thread { done.resume(with: Result { try body() }) }.start()
    }
}

func offPool(_ body: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { done in
        Thread {
            body(); done.resume()
        }.start()
    }
}

@Suite struct LedgerEngineCoverage {
    /// In CI the PostgreSQL store must be tested too: a missing server fails here, not silently.
    @Test func postgresIsTestedInCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(LedgerEngine.postgresURL != nil, "scripts/test.sh starts PostgreSQL and sets SIGHTGLASS_TEST_POSTGRES")
        }
    }
}
