import Foundation
import Logging
import NIOConcurrencyHelpers
import SightglassConfig
import SightglassTelemetry

/// Moves finished requests from the telemetry hub to the ledger without ever making the
/// proxy wait: `enqueue` only appends to a bounded buffer; a thread of its own writes a batch
/// at least every flush interval or as soon as a batch is full. When the store fails (disk
/// full, read-only, unreachable), records wait in the buffer and writing resumes when it comes
/// back; what does not fit is dropped and counted, never silently.
public final class LedgerWriter: Sendable {
    /// Where the ledger lives: a SQLite file path or a `postgres://` URL.
    public let location: String
    let opened = NIOLockedValueBox<(any LedgerStore)?>(nil)
    let settings: LedgerSettings
    let logger: Logger
    let state = NIOLockedValueBox(State())
    /// When each key's `last_used_at` was last written: at most once a minute per key, so a busy
    /// key costs one small update a minute, not one per batch.
    let touched = NIOLockedValueBox<[String: Int64]>([:])
    let wake = ConditionLock(value: false)
    /// True once the writer thread has flushed and returned.
    let finished = ConditionLock(value: false)
    let redactor: BodyRedactor

    struct State {
        var buffer: [RequestEvent] = []
        var stopping = false
        var stopped = false
        var written = 0
        var dropped = 0
        var lastError: String?
        var lastFlushAt: Double?
        var pruned = 0
    }

    /// Figures for `/health` and the metrics: written, dropped, waiting, and the store's condition.
    public struct Status: Sendable {
        public var written: Int
        public var dropped: Int
        public var pending: Int
        public var degradedReason: String?
        public var lastFlushAt: Double?
        public var pruned: Int
        public var healthy: Bool { degradedReason == nil }
    }

    /// Opens the ledger at `location`; if that fails (unwritable directory, corrupt file,
    /// unreachable server) the writer still starts, reports the reason, and retries on every
    /// flush. A PostgreSQL ledger is opened by the writer's thread, so starting never waits on
    /// the network.
    public init(location: String, settings: LedgerSettings, logger: Logger) {
        self.location = location
        self.settings = settings
        self.logger = logger
        redactor = BodyRedactor(settings.bodies)
        if !LedgerStores.isPostgres(location) { _ = openIfNeeded() }
    }

    /// The opened ledger, or nil while it cannot be opened.
    public var ledger: (any LedgerStore)? { opened.withLockedValue { $0 } }

    /// The store; while it is still being opened for the first time (PostgreSQL connects on the
    /// writer's thread, after the gateway already listens), waits for it up to `timeout`, so the
    /// first queries after a start get answers instead of "unavailable". Nil once opening failed.
    public func store(waitingUpTo timeout: Duration) async -> (any LedgerStore)? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let l = ledger { return l }
            if status.degradedReason != nil || ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The location without any password.
    public var displayLocation: String { LedgerStores.redacted(location) }

    func openIfNeeded() -> (any LedgerStore)? {
        if let l = ledger { return l }
        do {
            let l = try LedgerStores.open(location, logger: logger)
            opened.withLockedValue { $0 = l }
            // With records waiting, the store is healthy again only once they are written
            // (flushAll clears the reason then): /health must not say healthy with 0 written.
            state.withLockedValue { s in if s.buffer.isEmpty { s.lastError = nil } }
            return l
        } catch {
            let reason = "cannot open \(displayLocation): \(error)"
            let first = state.withLockedValue { s -> Bool in
                defer { s.lastError = reason }
                return s.lastError == nil
            }
            if first { logger.error("ledger unavailable; requests are kept in memory and writing is retried", metadata: ["error": "\(reason)"]) }
            return nil
        }
    }

    /// Starts the writer thread.
    public func start() {
        let t = Thread { [self] in run() }
        t.name = "sightglass-ledger"
        t.start()
    }

    /// Called by the hub's drain (off the request path) with every batch of finished requests.
    public func enqueue(_ events: [RequestEvent]) {
        guard !events.isEmpty else { return }
        let full = state.withLockedValue { s -> Bool in
            let room = settings.bufferCapacity - s.buffer.count
            if room >= events.count {
                s.buffer += events
            } else {
                if room > 0 { s.buffer += events.prefix(room) }
                s.dropped += events.count - max(0, room)
            }
            return s.buffer.count >= settings.batchSize
        }
        if full { wake.lock(); wake.unlock(withValue: true) }
    }

    public var status: Status {
        state.withLockedValue { s in
            Status(
                written: s.written, dropped: s.dropped, pending: s.buffer.count, degradedReason: s.lastError,
                lastFlushAt: s.lastFlushAt, pruned: s.pruned)
        }
    }

    /// Writes everything still buffered and stops the thread; for SIGTERM.
    /// Asks the writer thread to write what waits and stop, and blocks until it has (or
    /// `timeout` passes): the caller's thread sleeps on a condition, no polling.
    public func stop(timeout: Double = 10) {
        state.withLockedValue { $0.stopping = true }
        wake.lock(); wake.unlock(withValue: true)
        if finished.lock(whenValue: true, timeoutSeconds: timeout) { finished.unlock() }
    }

    func run() {
        _ = openIfNeeded()
        var lastPrune = 0.0
        while true {
            if wake.lock(whenValue: true, timeoutSeconds: settings.flushIntervalSeconds) { wake.unlock(withValue: false) }
            let stopping = state.withLockedValue { $0.stopping }
            flushAll()
            let now = Date().timeIntervalSince1970
            if now - lastPrune > 10 {
                lastPrune = now
                prune(now: now)
            }
            if stopping {
                state.withLockedValue { $0.stopped = true }
                finished.lock(); finished.unlock(withValue: true)
                return
            }
        }
    }

    /// Records when keys were last used, here on the writer's thread, never on the request path:
    /// at most once a minute per key. A failure only delays `last_used_at`.
    func touchKeys(_ batch: [RequestEvent], _ ledger: any LedgerStore) {
        var last: [String: Int64] = [:]
        for e in batch { if let k = e.apiKeyId { last[k] = max(last[k] ?? 0, Int64(e.startTime)) } }
        guard !last.isEmpty else { return }
        let due = touched.withLockedValue { written in
            last.filter { key, at in
                guard at >= (written[key] ?? 0) + 60 else { return false }
                written[key] = at
                return true
            }
        }
        guard !due.isEmpty else { return }
        let map = due
        _ = try? LedgerStores.blocking { try await ledger.organization.touch(map) }
    }

    /// Writes the buffer in batches; on failure keeps them for the next attempt.
    func flushAll() {
        while true {
            let batch = state.withLockedValue { s -> [RequestEvent] in
                let n = min(s.buffer.count, settings.batchSize)
                let b = Array(s.buffer.prefix(n))
                return b
            }
            guard !batch.isEmpty, let ledger = openIfNeeded() else { return }
            do {
                try ledger.write(batch.contains { $0.bodies != nil } ? batch.map(redactor.redacted) : batch)
                touchKeys(batch, ledger)
                state.withLockedValue { s in
                    s.buffer.removeFirst(batch.count)
                    s.written += batch.count
                    s.lastFlushAt = Date().timeIntervalSince1970
                    if s.lastError != nil { logger.info("ledger writable again", metadata: ["location": "\(displayLocation)"]) }
                    s.lastError = nil
                }
            } catch {
                let reason = "\(error)"
                let first = state.withLockedValue { s -> Bool in
                    let first = s.lastError == nil
                    s.lastError = reason
                    return first
                }
                if first { logger.error("ledger write failed; keeping records in memory and retrying", metadata: ["error": "\(reason)"]) }
                // A SQLite file that turned read-only (or was replaced) stays so for the handle
                // that saw it: open it afresh next time. PostgreSQL's pool reconnects by itself.
                if !LedgerStores.isPostgres(location) { opened.withLockedValue { $0 = nil } }
                return
            }
        }
    }

    func prune(now: Double) {
        guard let ledger else { return }
        let r = settings.retention
        let day = 86400.0
        do {
            var total = 0
            for _ in 0..<20 {  // bounded: at most 20 small steps per pass
                let n = try ledger.prune(
                    rawBefore: now - r.rawDays * day, minuteBefore: now - r.minuteDays * day,
                    hourBefore: now - r.hourDays * day, dayBefore: now - r.dayDays * day)
                total += n
                if n == 0 { break }
            }
            if total > 0 { state.withLockedValue { $0.pruned += total } }
        } catch {
            logger.warning("ledger pruning failed", metadata: ["error": "\(error)"])
        }
    }
}
