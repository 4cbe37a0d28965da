/// The messages of the live feed `ws /dashboard/ws` (seed 000's subscribe protocol): the
/// envelope around topic payloads, and the control messages of the conversation.

/// One topic message: the topic (twice: `type` for seed 000's clients), what happened, when, and the payload.
public struct LiveEnvelope<Payload: Codable & Sendable>: Codable, Sendable {
    public var type: String
    public var topic: String
    public var event: String
    public var timestamp: String
    public var data: Payload
}

/// The first message on a connection: the topics there are, and how often snapshots come.
public struct LiveHello: Codable, Sendable {
    /// Seconds between snapshots of the periodic topics.
    public struct Intervals: Codable, Sendable {
        public var stats: Double
        public var metrics: Double
    }

    public var type = "hello"
    public var topics: [String]
    public var timestamp: String
    public var intervals: Intervals
}

/// The answer to `{"action": "ping"}`.
public struct LivePong: Codable, Sendable {
    public var type = "pong"
    public var timestamp: String
}

/// The answer to a subscribe (`subscribed`) or unsubscribe (`unsubscribed`, with what it removed).
public struct LiveSubscription: Codable, Sendable {
    public var type: String
    /// The connection's topics now.
    public var topics: [String]
    public var removed: [String]?
    public var timestamp: String
}

/// A refused client message or connection; `status` (the HTTP one) only when the connection is refused.
public struct LiveError<Details: Codable & Sendable>: Codable, Sendable {
    /// What went wrong.
    public struct Body: Codable, Sendable {
        public var code: String
        public var message: String
        public var details: Details
        public var status: Int?
    }

    public var type = "error"
    public var error: Body
}

/// What was wrong with a client's message: what it sent, the field at fault, the topics there are.
public struct ClientMessageProblem: Codable, Sendable {
    public var received: String?
    public var field: String?
    public var topics: [String]?
    public var available: [String]?
}

/// The `requests` topic's note when a batch held more finished requests than it sends.
public struct SkippedRequests: Codable, Sendable {
    public var count: Int
    public var reason: String
}
