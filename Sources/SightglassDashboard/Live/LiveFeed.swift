import Foundation
import NIOConcurrencyHelpers

/// Fan-out of live messages to WebSocket clients (`/dashboard/ws`, `/metrics/stream`).
///
/// Publishers never wait: each connection has a bounded queue, and a client that lets it fill
/// is disconnected with a close reason instead of slowing the gateway or other clients.
/// Messages are built once per publish, only when some connection wants the topic.
public final class LiveFeed: Sendable {
    public static let topics = ["stats", "metrics", "alerts", "requests", "logs"]
    /// The seed-003 metrics JSON pushed by `/metrics/stream`; not subscribable on `/dashboard/ws`.
    public static let metricsStreamTopic = "metrics_stream"

    public final class Connection: Sendable {
        public let id: Int
        public let user: String
        public let messages: AsyncStream<String>
        let continuation: AsyncStream<String>.Continuation
        let subscribed: NIOLockedValueBox<Set<String>>
        let overflow = NIOLockedValueBox(false)
        let overflowAction = NIOLockedValueBox<(@Sendable () -> Void)?>(nil)

        init(id: Int, user: String, queueLimit: Int, topics: Set<String>) {
            self.id = id
            self.user = user
            subscribed = NIOLockedValueBox(topics)
            (messages, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(queueLimit))
        }

        public var topics: Set<String> { subscribed.withLockedValue { $0 } }
        /// True once the client fell behind and its queue overflowed.
        public var overflowed: Bool { overflow.withLockedValue { $0 } }

        /// Queues a message; on overflow the stream ends, the writer sends a close frame if it
        /// can, and `onOverflow`'s action cuts the connection (a writer blocked on a client that
        /// does not read would never get there).
        public func send(_ message: String) {
            if case .dropped = continuation.yield(message) {
                let first = overflow.withLockedValue { o -> Bool in
                    defer { o = true }; return !o
                }
                continuation.finish()
                if first { overflowAction.withLockedValue { $0 }?() }
            }
        }

        public func onOverflow(_ action: @escaping @Sendable () -> Void) {
            overflowAction.withLockedValue { $0 = action }
        }

        public func subscribe(_ topics: [String]) { subscribed.withLockedValue { $0.formUnion(topics) } }
        public func unsubscribe(_ topics: [String]) { subscribed.withLockedValue { $0.subtract(topics) } }
        public func finish() { continuation.finish() }
    }

    struct State {
        var connections: [Int: Connection] = [:]
        var nextId = 1
    }

    public let queueLimit: Int
    private let state = NIOLockedValueBox(State())

    public init(queueLimit: Int) {
        self.queueLimit = queueLimit
    }

    /// Registers a connection unless `user` already holds `perUserLimit` (nil: no limit).
    public func register(user: String, perUserLimit: Int?, topics: Set<String> = []) -> Connection? {
        state.withLockedValue { s in
            if let limit = perUserLimit, s.connections.values.filter({ $0.user == user }).count >= limit { return nil }
            let c = Connection(id: s.nextId, user: user, queueLimit: queueLimit, topics: topics)
            s.nextId += 1
            s.connections[c.id] = c
            return c
        }
    }

    public func unregister(_ connection: Connection) {
        connection.finish()
        _ = state.withLockedValue { $0.connections.removeValue(forKey: connection.id) }
    }

    public var connectionCount: Int { state.withLockedValue { $0.connections.count } }

    public func connections(of user: String) -> Int {
        state.withLockedValue { s in s.connections.values.filter { $0.user == user }.count }
    }

    func subscribers(_ topic: String) -> [Connection] {
        state.withLockedValue { s in s.connections.values.filter { $0.topics.contains(topic) } }
    }

    public func hasSubscribers(_ topic: String) -> Bool { !subscribers(topic).isEmpty }

    /// Sends `build()`'s message to every subscriber of `topic`; `build` runs only if there is one.
    public func publish(_ topic: String, _ build: () -> String?) {
        let targets = subscribers(topic)
        guard !targets.isEmpty, let message = build() else { return }
        for c in targets { c.send(message) }
    }
}
