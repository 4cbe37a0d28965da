/// The route groups a key may be allowed: what a client can do, not which URL it uses, so one
/// scope covers the OpenAI and the Ollama form of the same operation.
public enum RouteScope: String, Sendable, Codable, CaseIterable {
    /// Chat and text completions: `/v1/chat/completions`, `/v1/completions`, `/api/chat`, `/api/generate`.
    case completions
    case embeddings
    /// `/v1/files` and `/v1/batches`.
    case batch
    /// Ollama's `/api/pull`, `/api/push`, `/api/create`, `/api/copy`, `/api/delete`, `/api/blobs/…`.
    case modelManagement = "model_management"

    /// Every scope but model management: what a key gets when its creator names none.
    public static let standard: Set<RouteScope> = [.completions, .embeddings, .batch]
}

/// What a key may do. Empty `models` allows every model.
public struct KeyScopes: Sendable, Equatable, Codable {
    public var models: [Glob]
    public var routes: Set<RouteScope>
    /// Cap on a request's `max_tokens` (or `max_completion_tokens`, `num_predict`); nil: none.
    public var maxTokens: Int?
    /// Whether the caller may name its end user (`X-User-Id`), as OpenAI's `user` field does.
    public var endUser: Bool

    public init(models: [Glob] = [], routes: Set<RouteScope> = RouteScope.standard, maxTokens: Int? = nil, endUser: Bool = false) {
        self.models = models
        self.routes = routes
        self.maxTokens = maxTokens
        self.endUser = endUser
    }

    public func allows(model: String) -> Bool { models.isEmpty || models.contains { $0.matches(model) } }

    enum CodingKeys: String, CodingKey {
        case models, routes
        case maxTokens = "max_tokens", endUser = "end_user"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        models = try c.decodeIfPresent([Glob].self, forKey: .models) ?? []
        routes = try c.decodeIfPresent(Set<RouteScope>.self, forKey: .routes) ?? RouteScope.standard
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
        endUser = try c.decodeIfPresent(Bool.self, forKey: .endUser) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(models, forKey: .models)
        try c.encode(routes.map(\.rawValue).sorted(), forKey: .routes)
        try c.encodeIfPresent(maxTokens, forKey: .maxTokens)
        try c.encode(endUser, forKey: .endUser)
    }
}
