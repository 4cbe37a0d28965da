import SightglassGovernance

/// The API dialect of a route decides the error shape its clients expect.
public enum Dialect: Sendable {
    /// `{"error":{"message","type","param","code"}}`
    case openAI
    /// `{"error":"..."}`
    case ollama
    /// `{"error":{"code","message","details"}}`
    case product
}

/// An inference route the data plane handles itself (all others go to the control plane).
public struct ProxyRoute: Sendable {
    public let path: String
    public let dialect: Dialect
    /// Body keys naming the model, in order of preference.
    public let modelKeys: [String]
    /// What `stream` means when the body leaves it out (Ollama streams by default).
    public let streamsByDefault: Bool
    /// Whether `stream_options.include_usage` applies (OpenAI streaming routes).
    public let acceptsStreamOptions: Bool
    /// Whether the route can stream at all.
    public let canStream: Bool
    /// The method the route answers (Ollama's delete is a DELETE; everything else a POST).
    public var method = "POST"
    /// Ollama's model management (pull, push, create, copy, delete): its own key scope, no tokens;
    /// a model no backend is known to serve (being pulled or created, or just made) goes to an
    /// Ollama backend, which answers for itself.
    public var management = false
    /// Other body fields naming a model the request touches (a copy's destination, a create's source).
    public var otherModelKeys: [String] = []

    /// The route group a key's scopes must include.
    public var scope: RouteScope {
        if management { return .modelManagement }
        // Plain comparisons: this runs per request, and Foundation's `contains` is a slow path.
        return path == "/v1/embeddings" || path == "/api/embed" || path == "/api/embeddings" ? .embeddings : .completions
    }

    /// The proxied routes, matched by exact path and method. `GET /v1/models`, `/api/tags`,
    /// `/api/ps` and `/api/version` are answered from the model catalog by the control plane.
    public static let all: [String: ProxyRoute] = {
        let routes = [
            ProxyRoute(
                path: "/v1/chat/completions", dialect: .openAI, modelKeys: ["model"], streamsByDefault: false, acceptsStreamOptions: true, canStream: true),
            ProxyRoute(path: "/v1/completions", dialect: .openAI, modelKeys: ["model"], streamsByDefault: false, acceptsStreamOptions: true, canStream: true),
            ProxyRoute(path: "/v1/embeddings", dialect: .openAI, modelKeys: ["model"], streamsByDefault: false, acceptsStreamOptions: false, canStream: false),
            ProxyRoute(path: "/api/chat", dialect: .ollama, modelKeys: ["model"], streamsByDefault: true, acceptsStreamOptions: false, canStream: true),
            ProxyRoute(path: "/api/generate", dialect: .ollama, modelKeys: ["model"], streamsByDefault: true, acceptsStreamOptions: false, canStream: true),
            ProxyRoute(path: "/api/embed", dialect: .ollama, modelKeys: ["model"], streamsByDefault: false, acceptsStreamOptions: false, canStream: false),
            ProxyRoute(path: "/api/embeddings", dialect: .ollama, modelKeys: ["model"], streamsByDefault: false, acceptsStreamOptions: false, canStream: false),
            ProxyRoute(
                path: "/api/show", dialect: .ollama, modelKeys: ["model", "name"], streamsByDefault: false, acceptsStreamOptions: false, canStream: false),
            ProxyRoute(
                path: "/api/pull", dialect: .ollama, modelKeys: ["model", "name"], streamsByDefault: true, acceptsStreamOptions: false, canStream: true,
                management: true),
            ProxyRoute(
                path: "/api/create", dialect: .ollama, modelKeys: ["model", "name"], streamsByDefault: true, acceptsStreamOptions: false, canStream: true,
                management: true, otherModelKeys: ["from"]),
            ProxyRoute(
                path: "/api/push", dialect: .ollama, modelKeys: ["model", "name"], streamsByDefault: true, acceptsStreamOptions: false, canStream: true,
                management: true),
            ProxyRoute(
                path: "/api/copy", dialect: .ollama, modelKeys: ["source"], streamsByDefault: false, acceptsStreamOptions: false, canStream: false,
                management: true, otherModelKeys: ["destination"]),
            ProxyRoute(
                path: "/api/delete", dialect: .ollama, modelKeys: ["model", "name"], streamsByDefault: false, acceptsStreamOptions: false,
                canStream: false, method: "DELETE", management: true),
        ]
        return Dictionary(uniqueKeysWithValues: routes.map { ($0.path, $0) })
    }()

    /// A path as routers read it: repeated slashes collapsed, no trailing slash (`//v1/models/`
    /// is `/v1/models` to the control plane's router, so it must be to the key check too).
    /// One pass over the bytes decides; the common, already clean path is copied as it is.
    public static func normalized(_ path: Substring) -> String {
        let bytes = path.utf8
        var previous: UInt8 = 0
        var clean = true
        for b in bytes {
            if b == UInt8(ascii: "/") && previous == UInt8(ascii: "/") {
                clean = false
                break
            }
            previous = b
        }
        if clean && !(bytes.count > 1 && previous == UInt8(ascii: "/")) { return String(path) }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        return "/" + parts.joined(separator: "/")
    }

    /// The model catalogs the control plane answers: with auth on they need a key too, and list
    /// only the models the key may use.
    public static func isCatalog(_ path: String) -> Bool {
        path == "/v1/models" || path.hasPrefix("/v1/models/") || path == "/api/tags" || path == "/api/ps"
    }

    /// The header in which the data plane tells the control plane a key's model scopes (it
    /// removes any a client sends, so it cannot be forged).
    public static let keyModelsHeader = "x-sightglass-key-models"

    /// Ollama's blobs (`HEAD` and `POST /api/blobs/sha256:…`): model files a client uploads before
    /// `/api/create`. Raw bytes, not JSON; recorded under one route whatever the digest.
    public static let blobs = ProxyRoute(
        path: "/api/blobs", dialect: .ollama, modelKeys: [], streamsByDefault: false, acceptsStreamOptions: false, canStream: false,
        management: true)

    /// `path` as `normalized` gives it.
    public static func isBlob(_ head: HTTPHead, path: String) -> Bool {
        (head.method == "HEAD" || head.method == "POST") && path.utf8.starts(with: "/api/blobs/".utf8)
    }

    /// Dialect for an arbitrary path, for errors on routes the data plane does not handle.
    public static func dialect(forPath path: Substring) -> Dialect {
        if path.hasPrefix("/v1/") { return .openAI }
        if let r = all[String(path)] { return r.dialect }
        switch path {
        case "/api/tags", "/api/ps", "/api/version", "/api/pull", "/api/push", "/api/create", "/api/copy", "/api/delete": return .ollama
        default: return .product
        }
    }
}
