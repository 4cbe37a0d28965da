import Foundation
import Logging
import SightglassConfig
import SightglassStore
import SightglassTelemetry
import Testing

func event(
    _ i: Int, at time: Double, model: String = "m1", backend: String = "b1", status: Int = 200, latency: Double = 0.1,
    ttft: Double? = 0.02, user: String? = nil, stream: Bool = true
) -> RequestEvent {
    RequestEvent(
        route: "/v1/chat/completions", method: "POST", backend: backend, model: model, status: status,
        errorType: status >= 400 ? .upstreamError : nil, stream: stream, startTime: time, firstByte: 0.005,
        firstToken: stream ? ttft : nil, latency: latency, inputTokens: 10, outputTokens: status >= 400 ? 0 : 20,
        requestBytes: 100, responseBytes: 500, cost: 0.001, id: "req-\(i)", clientAddress: "127.0.0.1", user: user)
}

@Suite struct LedgerTests {
    @Test func histogramBytesRoundTrip() {
        var h = DenseHistogram()
        for i in 1...1000 { h.record(Double(i) / 1000) }
        var back = DenseHistogram()
        let read = back.merge(encoded: h.encoded())
        #expect(read)
        #expect(back.encoded() == h.encoded() && back.count == 1000 && back.quantile(0.5) == h.quantile(0.5))
        #expect(abs(h.quantile(0.5) - 0.5) < 0.02 && h.quantile(1) == 1)
        var empty = DenseHistogram()
        let none = empty.merge(encoded: [UInt8]())
        #expect(none && empty.count == 0)
        var bad = DenseHistogram()
        let garbage = bad.merge(encoded: [0xff, 0xff])
        #expect(!garbage)
        var truncated = h.encoded()
        truncated.removeLast(20)
        truncated.append(0xff)
        var cut = DenseHistogram()
        let partial = cut.merge(encoded: truncated)
        #expect(!partial)
        #expect(cut.count == 0 && cut.quantile(0.5) == 0)  // a rejected blob adds nothing
    }

    @Test(arguments: LedgerEngine.available)
    func rowsComeBackNewestFirstWithCursorPagesAndFilters(engine: LedgerEngine) async throws {
        try await withLedger(engine) { ledger in
            let t0 = 1_800_000_000.0
            var events: [RequestEvent] = []
            for i in 0..<250 {
                events.append(
                    event(
                        i, at: t0 + Double(i), model: i % 2 == 0 ? "even" : "odd", status: i % 10 == 0 ? 502 : 200,
                        latency: Double(i) / 100, user: i % 5 == 0 ? "u5" : nil))
            }
            let all = events
            try await offPool { try ledger.write(all) }
            #expect(try await ledger.requestCount() == 250)

            var filter = RequestFilter()
            filter.limit = 100
            var seen: [String] = []
            var pages = 0
            while true {
                let page = try await ledger.requests(filter)
                seen += page.requests.map(\.id)
                pages += 1
                guard let next = page.nextCursor else { break }
                filter = try RequestFilter.parse(["cursor": next, "limit": "100"], now: t0)
            }
            #expect(pages == 3)
            #expect(seen == (0..<250).reversed().map { "req-\($0)" })

            let odd = try await ledger.requests(try RequestFilter.parse(["model": "odd", "limit": "1000"], now: t0))
            #expect(odd.requests.count == 125 && odd.requests.allSatisfy { $0.model == "odd" })
            let errors = try await ledger.requests(try RequestFilter.parse(["status": "5xx", "limit": "1000"], now: t0))
            #expect(errors.requests.count == 25 && errors.requests.allSatisfy { $0.status == 502 && $0.errorType == "upstream_error" })
            let slow = try await ledger.requests(try RequestFilter.parse(["min_latency_ms": "2000"], now: t0))
            #expect(slow.requests.map(\.id) == (200..<250).reversed().map { "req-\($0)" })
            let users = try await ledger.requests(try RequestFilter.parse(["user": "u5", "limit": "1000"], now: t0))
            #expect(users.requests.count == 50)
            let window = try await ledger.requests(try RequestFilter.parse(["since": "\(t0 + 10)", "until": "\(t0 + 20)"], now: t0))
            #expect(window.requests.count == 10)
            let unknown = try await ledger.requests(try RequestFilter.parse(["model": "never-seen"], now: t0))
            #expect(unknown.requests.isEmpty)
            let search = try await ledger.requests(try RequestFilter.parse(["q": "req-24"], now: t0))
            #expect(
                Set(search.requests.map(\.id)) == [
                    "req-24", "req-240", "req-241", "req-242", "req-243", "req-244", "req-245", "req-246", "req-247", "req-248", "req-249",
                ])

            let (byUser, _) = try await ledger.breakdown(by: .user, since: t0, until: t0 + 300)
            #expect(byUser.map(\.key) == ["u5"] && byUser[0].cell.count == 50 && byUser[0].cell.errors == 25)
            let one = try #require(try await ledger.request(id: "req-7"))
            #expect(one.model == "odd" && one.tokensIn == 10 && one.tokensOut == 20 && one.stream && one.firstToken == 0.02)
            #expect(try await ledger.request(id: "nope") == nil)
        }
    }

    /// Two stores on one location (two gateways on one PostgreSQL; for SQLite, two handles on
    /// one file) writing the same minutes at once: the rollups add up, nothing is overwritten.
    @Test(arguments: LedgerEngine.available)
    func concurrentWritersMergeTheirRollups(engine: LedgerEngine) async throws {
        let location = try await engine.freshLocation()
        defer { engine.remove(location) }
        let stores = try await offPool {
            [try LedgerStores.open(location, logger: Logger(label: "a")), try LedgerStores.open(location, logger: Logger(label: "b"))]
        }
        defer { for s in stores { s.close() } }
        let t0 = 1_800_000_000.0
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (n, store) in stores.enumerated() {
                group.addTask {
                    for batch in 0..<10 {
                        let events = (0..<50).map { i in
                            event(
                                n * 10_000 + batch * 50 + i, at: t0 + Double(i), model: n == 0 ? "a" : "b",
                                user: "shared")
                        }
                        try await offPool { try store.write(events) }
                    }
                }
            }
            try await group.waitForAll()
        }
        for store in stores {
            #expect(try await store.requestCount() == 1_000)
            let (rows, total) = try await store.breakdown(by: .model, since: t0, until: t0 + 60)
            #expect(total.count == 1_000 && total.latency.count == 1_000)
            #expect(rows.map(\.key) == ["a", "b"] && rows.allSatisfy { $0.cell.count == 500 })
            let (users, _) = try await store.breakdown(by: .user, since: t0, until: t0 + 3600)
            #expect(users.map(\.key) == ["shared"] && users[0].cell.count == 1_000)
        }
    }

    @Test(arguments: LedgerEngine.available)
    func auditEntriesAreStoredAndFiltered(engine: LedgerEngine) async throws {
        try await withLedger(engine) { ledger in
            var entries: [AuditEntry] = []
            for i in 0..<5 {
                let user: String? = i % 2 == 0 ? "alice" : nil
                let action = i < 3 ? "login" : "acknowledge"
                let level = i == 4 ? "warning" : "info"
                entries.append(
                    AuditEntry(
                        id: "audit-\(i)", timestamp: 1_800_000_000 + Double(i), user: user, action: action,
                        resource: "alert/\(i)", level: level, detailsJSON: "{\"n\":\(i)}"))
            }
            let stored = entries
            try await offPool { try ledger.appendAudit(stored) }
            try await offPool { try ledger.appendAudit([stored[0]]) }  // the same id again: ignored
            var q = AuditQuery()
            let all = try await ledger.audit(q)
            #expect(all.total == 5 && all.filtered == 5 && all.entries.map(\.id) == ["audit-4", "audit-3", "audit-2", "audit-1", "audit-0"])
            #expect(all.entries[0] == entries[4])
            q.user = "alice"
            q.action = "login"
            let alice = try await ledger.audit(q)
            #expect(alice.filtered == 2 && alice.entries.map(\.id) == ["audit-2", "audit-0"])
        }
    }

    @Test func redactionCoversKeysAtAnyDepthPatternsAndCutBodies() {
        let r = BodyRedactor(LedgerSettings.Bodies())
        let body = #"{"model":"m","metadata":{"API_KEY": "abc\"def","note":"ok"},"messages":[{"content":"use sk-ABCDEFGHIJKLMNOPQRST now"}],"password":"pw"#
        let out = r.redact(body)
        #expect(!out.contains("abc") && !out.contains("ABCDEFGHIJKLMNOP") && !out.contains("\"pw"))
        #expect(out.contains(#""API_KEY": "[REDACTED]""#) && out.contains(#""note":"ok""#) && out.contains("use [REDACTED] now"))
        #expect(out.hasSuffix(#""password":"[REDACTED]""#))  // a value cut at the cap is still removed
        #expect(r.redact("Authorization: Bearer eyJhbGciOi.x.y") == "Authorization: [REDACTED]")
    }

    @Test func badParametersNameTheField() {
        func field(_ q: [String: String]) -> String? {
            do { _ = try RequestFilter.parse(q); return nil } catch { return error.field }
        }
        #expect(field(["limit": "0"]) == "limit")
        #expect(field(["limit": "1001"]) == "limit")
        #expect(field(["status": "abc"]) == "status")
        #expect(field(["since": "yesterday"]) == "since")
        #expect(field(["since": "1h", "until": "2h"]) == "until")
        #expect(field(["cursor": "x"]) == "cursor")
        #expect(field(["min_latency_ms": "-1"]) == "min_latency_ms")
        #expect(field(["since": "15m", "until": "2026-11-23T10:00:00Z"]) != "since")
    }

    @Test(arguments: LedgerEngine.available)
    func analyticsComeFromRollupsAndMatchTheRows(engine: LedgerEngine) async throws {
        try await withLedger(engine) { ledger in
            let t0 = 1_800_000_000.0 - 1_800_000_000.0.truncatingRemainder(dividingBy: 86400)  // midnight
            var events: [RequestEvent] = []
            // Two hours, one request every 10 s; model a is slow, b fast; every 20th fails.
            for i in 0..<720 {
                let a = i % 2 == 0
                events.append(
                    event(
                        i, at: t0 + Double(i) * 10, model: a ? "a" : "b", status: i % 20 == 0 ? 500 : 200,
                        latency: a ? 1.0 + Double(i % 10) / 10 : 0.1, ttft: a ? 0.5 : 0.05))
            }
            // Written in several batches, as the writer does: rollups must merge, not overwrite.
            let all = events
            try await offPool { for chunk in stride(from: 0, to: all.count, by: 100) { try ledger.write(Array(all[chunk..<min(chunk + 100, all.count)])) } }

            let series = try await ledger.timeseries(metric: .requests, interval: .oneHour, group: nil, since: t0, until: t0 + 7200)
            #expect(series.count == 1 && series[0].points.map(\.value) == [360, 360])
            let byModel = try await ledger.timeseries(metric: .latencyP50, interval: .fiveMinutes, group: .model, since: t0, until: t0 + 600)
            #expect(byModel.map(\.group) == ["a", "b"])
            let a50 = try #require(byModel[0].points[0].value), b50 = try #require(byModel[1].points[0].value)
            #expect(a50 > 1000 && a50 < 2000 && abs(b50 - 100) < 3)

            let (rows, total) = try await ledger.breakdown(by: .model, since: t0, until: t0 + 7200)
            #expect(total.count == 720 && total.errors == 36)
            #expect(rows.map(\.key) == ["a", "b"] && rows[0].cell.count == 360)
            #expect(abs(rows[1].cell.ttft.quantile(0.95) - 0.05) < 0.002)
            #expect(total.tokensIn == 7200 && total.tokensOut == 20 * 684)
            let daily = try await ledger.timeseries(metric: .errorRate, interval: .oneDay, group: .status, since: t0, until: t0 + 86400)
            #expect(daily.map(\.group) == ["2xx", "5xx"])
            #expect(daily[1].points[0].value == 1.0)
            #expect(try await ledger.totals().count == 720)

            await #expect(throws: LedgerQueryError.self) {
                _ = try await ledger.timeseries(metric: .requests, interval: .oneMinute, group: nil, since: t0, until: t0 + 30 * 86400)
            }
        }
    }

    @Test(arguments: LedgerEngine.available)
    func estimatedCostIsKeptApartInEveryAggregate(engine: LedgerEngine) async throws {
        try await withLedger(engine) { ledger in
            let t0 = 1_800_000_000.0 - 1_800_000_000.0.truncatingRemainder(dividingBy: 86400)
            // Model a's backend reports usage; model b's does not, so its tokens (and cost) are estimated.
            var events: [RequestEvent] = []
            for i in 0..<40 {
                var e = event(i, at: t0 + Double(i) * 30, model: i % 4 == 0 ? "b" : "a", user: "u\(i % 2)")
                e.tokensEstimated = i % 4 == 0
                events.append(e)
            }
            let first = Array(events[..<15]), rest = Array(events[15...])
            // Two writes: the column must merge like every other sum.
            try await offPool {
                try ledger.write(first)
                try ledger.write(rest)
            }
            let (rows, total) = try await ledger.breakdown(by: .model, since: t0, until: t0 + 3600)
            #expect(abs(total.cost - 0.040) < 1e-9 && abs(total.estimatedCost - 0.010) < 1e-9)
            #expect(rows.map(\.key) == ["a", "b"])
            #expect(rows[0].cell.estimatedCost == 0 && abs(rows[1].cell.estimatedCost - rows[1].cell.cost) < 1e-9)
            let (users, _) = try await ledger.breakdown(by: .user, since: t0, until: t0 + 3600)
            #expect(abs(users.map(\.cell.estimatedCost).reduce(0, +) - 0.010) < 1e-9)
            let series = try await ledger.timeseries(metric: .estimatedCost, interval: .oneHour, group: nil, since: t0, until: t0 + 3600)
            #expect(series.count == 1 && abs((series[0].points[0].value ?? 0) - 0.010) < 1e-9)
            #expect(abs(try await ledger.totals().estimatedCost - 0.010) < 1e-9)
        }
    }

    @Test(arguments: LedgerEngine.available)
    func pruningRemovesOnlyWhatIsOlderThanRetention(engine: LedgerEngine) async throws {
        try await withLedger(engine) { ledger in
            let now = Date().timeIntervalSince1970
            try await offPool { try ledger.write((0..<50).map { event($0, at: now - 40 * 86400 + Double($0)) }) }
            try await offPool { try ledger.write((50..<60).map { event($0, at: now - Double($0)) }) }
            var removed = 0
            while true {
                let n = try await offPool {
                    try ledger.prune(
                        rawBefore: now - 30 * 86400, minuteBefore: now - 14 * 86400, hourBefore: now - 180 * 86400,
                        dayBefore: now - 1825 * 86400, limit: 7)
                }
                if n == 0 { break }
                removed += n
            }
            #expect(try await ledger.requestCount() == 10)
            #expect(removed >= 50)
            // Hour and day rollups still hold the old traffic.
            let (_, total) = try await ledger.breakdown(by: .model, since: now - 100 * 86400, until: now + 1)
            #expect(total.count == 60)
        }
    }

    @Test(arguments: LedgerEngine.available)
    func writerFlushesWithinAboutASecondAndCountsOverflow(engine: LedgerEngine) async throws {
        let location = try await engine.freshLocation()
        defer { engine.remove(location) }
        var settings = LedgerSettings()
        settings.bufferCapacity = 100
        settings.batchSize = 50
        settings.flushIntervalSeconds = 0.2
        let writer = LedgerWriter(location: location, settings: settings, logger: Logger(label: "test"))
        // Not started yet: the buffer fills, and what does not fit is counted.
        writer.enqueue((0..<150).map { event($0, at: 1_800_000_000 + Double($0)) })
        #expect(writer.status.pending == 100 && writer.status.dropped == 50)
        writer.start()
        let deadline = Date().addingTimeInterval(10)
        while writer.status.written < 100 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(writer.status.written == 100 && writer.status.pending == 0)
        writer.enqueue([event(999, at: 1_800_000_999)])
        let ledger = try #require(writer.ledger)
        await offPool { writer.stop() }  // SIGTERM's path: everything buffered is written first
        #expect(writer.status.written == 101)
        #expect(try await ledger.requestCount() == 101)
    }

    @Test func anUnwritableStoreDegradesAndRecovers() async throws {
        let dir = NSTemporaryDirectory() + "ledger-ro-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A regular file where the ledger's directory should be: opening fails.
        FileManager.default.createFile(atPath: dir, contents: Data("x".utf8))
        var settings = LedgerSettings()
        settings.flushIntervalSeconds = 0.1
        let writer = LedgerWriter(location: dir + "/ledger.sqlite", settings: settings, logger: Logger(label: "test"))
        writer.start()
        writer.enqueue([event(1, at: 1_800_000_000)])
        try await Task.sleep(for: .milliseconds(300))
        #expect(writer.status.degradedReason != nil)
        #expect(writer.status.pending == 1 && writer.ledger == nil)
        // The obstacle goes away: the writer opens the ledger and writes what it kept.
        try FileManager.default.removeItem(atPath: dir)
        let deadline = Date().addingTimeInterval(10)
        while writer.status.written < 1 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(writer.status.written == 1 && writer.status.degradedReason == nil)
        await offPool { writer.stop() }
    }
}
