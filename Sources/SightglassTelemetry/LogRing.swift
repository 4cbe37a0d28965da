import Foundation
import Logging
import NIOConcurrencyHelpers

/// The process's own recent logs, kept in a bounded ring for `/dashboard/logs` and the live
/// `logs` topic. Fed by `RingLogHandler`; the oldest entry goes when the ring is full.
public final class LogRing: Sendable {
    public struct Entry: Sendable {
        public var sequence: Int
        public var timestamp: Double
        public var level: Logger.Level
        public var component: String
        public var message: String
        public var metadata: [String: String]
    }

    struct State {
        var entries: [Entry] = []
        var head = 0
        var total = 0
        var listeners: [@Sendable (Entry) -> Void] = []
    }

    public let capacity: Int
    private let state = NIOLockedValueBox(State())

    public init(capacity: Int = 2_000) {
        self.capacity = max(1, capacity)
    }

    public func append(level: Logger.Level, component: String, message: String, metadata: [String: String]) {
        let (entry, listeners) = state.withLockedValue { s -> (Entry, [@Sendable (Entry) -> Void]) in
            let e = Entry(sequence: s.total, timestamp: Date().timeIntervalSince1970, level: level, component: component, message: message, metadata: metadata)
            if s.entries.count < capacity { s.entries.append(e) } else { s.entries[s.head] = e; s.head = (s.head + 1) % capacity }
            s.total += 1
            return (e, s.listeners)
        }
        for l in listeners { l(entry) }
    }

    /// Called for every entry after it is stored (the live feed); must not block.
    public func onAppend(_ listener: @escaping @Sendable (Entry) -> Void) {
        state.withLockedValue { $0.listeners.append(listener) }
    }

    /// Newest first, and how many entries were ever logged.
    public func snapshot() -> (entries: [Entry], total: Int) {
        state.withLockedValue { s in
            let ordered = s.entries.count < capacity ? s.entries : Array(s.entries[s.head...] + s.entries[..<s.head])
            return (ordered.reversed(), s.total)
        }
    }
}

/// A swift-log handler that writes to the ring and passes on to another handler (the console)
/// what that handler's own level lets through. The ring keeps `info` and above even when the
/// console is quieter, so the dashboard's log view does not depend on the terminal's verbosity.
public struct RingLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let ring: LogRing
    var next: any LogHandler
    let forwardLevel: Logger.Level

    public init(label: String, ring: LogRing, next: any LogHandler) {
        self.label = label
        self.ring = ring
        self.next = next
        forwardLevel = next.logLevel
        logLevel = min(.info, next.logLevel)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all: [String: String] = [:]
        for (k, v) in metadata { all[k] = "\(v)" }
        if let extra = event.metadata { for (k, v) in extra { all[k] = "\(v)" } }
        // "sightglass.proxy" → "proxy": the component is the last part of the logger's label.
        let component = label.split(separator: ".").last.map(String.init) ?? label
        ring.append(level: event.level, component: component, message: "\(event.message)", metadata: all)
        if event.level >= forwardLevel { next.log(event: event) }
    }
}
