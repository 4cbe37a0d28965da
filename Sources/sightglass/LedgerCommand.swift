import ArgumentParser
import Foundation
import SightglassConfig
import SightglassStore

/// `sightglass ledger …`: work on a request ledger directly, without a running gateway.
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Work on a request ledger (a SQLite file or a PostgreSQL database).", subcommands: [Generate.self, Stats.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write realistic synthetic history (marked synthetic) into a ledger, with its rollups.")
        @Option(help: "Rows to write.") var rows = 100_000
        @Option(help: "Days of history, ending now.") var days = 7.0
        @Option(help: "Ledger: a SQLite file or a postgres:// URL (default \(LedgerSettings.defaultPath)).") var db: String?
        @Option(help: "Seed: the same seed writes the same rows.") var seed: UInt64 = 1

        func validate() throws {
            guard rows >= 1 && rows <= 1_000_000_000 else { throw ValidationError("--rows must be between 1 and 1000000000") }
            guard days > 0 && days <= 3650 else { throw ValidationError("--days must be between 0 and 3650") }
        }

        func run() throws {
            let path = db ?? LedgerSettings.defaultPath
            let ledger = try LedgerStores.open(path, logger: Console.logger())
            defer { ledger.close() }
            let started = Date()
            var lastReport = Date()
            try SyntheticHistory(rows: rows, days: days, seed: seed).write(to: ledger) { n in
                if Date().timeIntervalSince(lastReport) > 5 {
                    lastReport = Date()
                    Console.say("  \(n) rows, \(Int(Double(n) / Date().timeIntervalSince(started))) rows/s")
                }
            }
            let seconds = Date().timeIntervalSince(started)
            let (bytes, count) = try LedgerStores.blocking { (try await ledger.sizeBytes(), try await ledger.requestCount()) }
            Console.say(
                String(
                    format: "wrote %d synthetic rows over %.1f days to %@ in %.1f s (%.0f rows/s); store %.1f MB, %.0f bytes/row in total",
                    rows, days, ledger.location, seconds, Double(rows) / seconds, Double(bytes) / 1e6, Double(bytes) / Double(max(1, count))))
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print what a ledger holds.")
        @Option(help: "Ledger: a SQLite file or a postgres:// URL (default \(LedgerSettings.defaultPath)).") var db: String?

        func run() throws {
            let path = db ?? LedgerSettings.defaultPath
            if !LedgerStores.isPostgres(path) && !FileManager.default.fileExists(atPath: path) { throw ValidationError("no ledger at \(path)") }
            let ledger = try LedgerStores.open(path, logger: Console.logger())
            defer { ledger.close() }
            let (rows, total, bytes) = try LedgerStores.blocking { (try await ledger.requestCount(), try await ledger.totals(), try await ledger.sizeBytes()) }
            Console.say("\(ledger.location): \(rows) requests stored, \(total.count) in the rollups, \(total.errors) errors, \(bytes) bytes")
        }
    }
}
