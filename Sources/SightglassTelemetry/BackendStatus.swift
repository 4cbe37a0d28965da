import NIOConcurrencyHelpers

/// What the health checker last learned about one backend.
public struct BackendStatus: Sendable, Equatable {
    public enum Kind: String, Sendable { case ollama, openai, unknown }

    public var name: String
    public var url: String
    public var kind: Kind = .unknown
    /// nil until the first check has completed.
    public var healthy: Bool?
    public var lastCheck: Double?
    public var responseTimeMs: Double?
    public var lastError: String?
    public var models: [String] = []
    /// The backend's own catalog entries as JSON object text: `/v1/models` `data[]` items and
    /// `/api/tags` `models[]` items, forwarded as the backend described them.
    public var openAIEntries: [String: String] = [:]
    public var ollamaEntries: [String: String] = [:]
    /// Consecutive failed checks.
    public var failures = 0

    public init(name: String, url: String) {
        self.name = name
        self.url = url
    }
}

/// The backends' health, written by the health checker and read by every export.
public final class BackendStatusBoard: Sendable {
    private let state: NIOLockedValueBox<[BackendStatus]>

    public init(backends: [(name: String, url: String)]) {
        state = NIOLockedValueBox(backends.map { BackendStatus(name: $0.name, url: $0.url) })
    }

    public var all: [BackendStatus] { state.withLockedValue { $0 } }

    /// The list after a reload: backends kept by name keep their health (reset when their URL
    /// changed), new ones start unknown, removed ones are gone.
    public func replace(_ backends: [(name: String, url: String)]) {
        state.withLockedValue { list in
            list = backends.map { b in
                if let old = list.first(where: { $0.name == b.name }), old.url == b.url { return old }
                return BackendStatus(name: b.name, url: b.url)
            }
        }
    }

    public func update(_ name: String, _ change: (inout BackendStatus) -> Void) {
        state.withLockedValue { list in
            if let i = list.firstIndex(where: { $0.name == name }) { change(&list[i]) }
        }
    }
}
