/// Typed answers of the model catalog routes. The entries are the backends' own JSON objects
/// (`JSONValue`), forwarded as each backend described its models; only the envelopes are ours.

/// OpenAI's `GET /v1/models`.
public struct OpenAIModelList: Codable, Sendable {
    public var object = "list"
    public var data: [JSONValue]
}

/// Ollama's `GET /api/tags` and `GET /api/ps`.
public struct OllamaModelList: Codable, Sendable {
    public var models: [JSONValue]
}

/// Ollama's `GET /api/version`.
public struct OllamaVersion: Codable, Sendable {
    public var version: String
}
