import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import SightglassConfig
import SightglassGovernance
import SightglassProxy
import SightglassTelemetry

/// The model catalogs the control plane answers for every backend at once: `GET /v1/models`
/// and `GET /api/tags` (the union), `GET /api/ps` (what every Ollama backend has loaded),
/// `GET /api/version`. Each is recorded like a proxied request.
struct CatalogRoutes: RouteGroup {
    let hub: TelemetryHub
    let httpClient: HTTPClient
    /// Whether inference needs keys, as configured now (a reload may change it).
    let inferenceAuth: @Sendable () -> GatewayAuthSettings.Mode

    func add(to router: Router<ControlContext>) {
        let routes = self
        router.get("/v1/models") { req, ctx in
            await routes.catalogRoute("/v1/models") { routes.keysUnchecked(ctx) ?? routes.openAIModels(Self.scope(req)) }
        }
        router.get("/api/tags") { req, ctx in await routes.catalogRoute("/api/tags") { routes.keysUnchecked(ctx) ?? routes.ollamaTags(Self.scope(req)) } }
        router.get("/api/ps") { req, ctx in
            await routes.catalogRoute("/api/ps") {
                if let refused = routes.keysUnchecked(ctx) { return refused }
                return await routes.ollamaPs(Self.scope(req))
            }
        }
        router.get("/api/version") { _, _ in await routes.catalogRoute("/api/version") { await routes.ollamaVersion() } }
    }

    /// With auth on, keys are checked by the data plane: a catalog request that reached the
    /// control plane's own TCP port (`server.control_port`) did not pass that check, so it is
    /// refused rather than answered unfiltered. Nil when the request may be answered.
    func keysUnchecked(_ context: ControlContext) -> Response? {
        guard inferenceAuth() != .off else { return nil }
        if case .unixDomainSocket? = context.remoteAddress { return nil }
        return JSONResponse.encode(
            OpenAIErrorBody(
                error: .init(
                    message: "With auth.inference on, the model catalog is served on the inference port, where keys are checked.",
                    type: "invalid_request_error", param: nil, code: "use_inference_port")), status: .forbidden)
    }

    /// The models the caller's key may use, as the data plane names them; nil: every model.
    static func scope(_ request: Request) -> KeyScopes? {
        guard let list = request.headers.first(where: { $0.name.canonicalName == ProxyRoute.keyModelsHeader })?.value else { return nil }
        return KeyScopes(models: list.split(separator: ",").map { Glob(String($0)) })
    }

    /// Serves a catalog route and records it like any other request.
    func catalogRoute(_ route: String, _ body: () async -> Response) async -> Response {
        let start = Date()
        let response = await body()
        let event = RequestEvent(
            route: route, method: "GET", backend: "", model: "", status: Int(response.status.code),
            errorType: response.status.code >= 400 ? .upstreamError : nil, stream: false,
            startTime: start.timeIntervalSince1970, latency: Date().timeIntervalSince(start))
        hub.controlRecorder.finished(event)
        return response
    }

    /// Union of every backend's models in OpenAI's list shape.
    func openAIModels(_ scope: KeyScopes?) -> Response {
        JSONResponse.encode(
            OpenAIModelList(
                data: catalogUnion(\.openAIEntries, scope) { model, backend in
                    .object(["id": .string(model), "object": .string("model"), "owned_by": .string(backend)])
                }))
    }

    /// Union of every backend's models in Ollama's `/api/tags` shape.
    func ollamaTags(_ scope: KeyScopes?) -> Response {
        JSONResponse.encode(
            OllamaModelList(
                models: catalogUnion(\.ollamaEntries, scope) { model, _ in
                    .object(["name": .string(model), "model": .string(model), "details": .object([:])])
                }))
    }

    /// Each model once, first backend wins: the backend's own entry where it listed the model in
    /// this dialect, else only what is known (its name), never invented details.
    func catalogUnion(_ entries: KeyPath<BackendStatus, [String: String]>, _ scope: KeyScopes?, known: (String, String) -> JSONValue) -> [JSONValue] {
        var seen = Set<String>()
        var items: [JSONValue] = []
        for b in hub.board.all {
            for model in b.models where scope?.allows(model: model) ?? true && seen.insert(model).inserted {
                items.append(b[keyPath: entries][model].map(JSONValue.init(parsing:)) ?? known(model, b.name))
            }
        }
        return items
    }

    /// What every Ollama backend reports loaded right now.
    func ollamaPs(_ scope: KeyScopes?) async -> Response {
        var items: [JSONValue] = []
        for b in hub.board.all where b.kind == .ollama {
            guard let data = await httpClient.fetchData(b.url + "/api/ps"), case .object(let obj) = JSONValue(parsing: String(decoding: data, as: UTF8.self)),
                case .array(let models)? = obj["models"]
            else { continue }
            items += models.filter { m in
                guard let scope, case .object(let o) = m, case .string(let name)? = o["name"] ?? o["model"] else { return true }
                return scope.allows(model: name)
            }
        }
        return JSONResponse.encode(OllamaModelList(models: items))
    }

    /// The first Ollama backend's version; Sightglass's own when there is none.
    func ollamaVersion() async -> Response {
        for b in hub.board.all where b.kind == .ollama {
            if let data = await httpClient.fetchData(b.url + "/api/version"), let answer = try? JSONDecoder().decode(OllamaVersion.self, from: data) {
                return JSONResponse.encode(answer)
            }
        }
        return JSONResponse.encode(OllamaVersion(version: hub.version))
    }
}

extension HTTPClient {
    /// The body of a `GET` that answered 200 within 3 seconds, else nil.
    func fetchData(_ url: String) async -> Data? {
        do {
            let response = try await execute(HTTPClientRequest(url: url), timeout: .seconds(3))
            guard response.status == .ok else { return nil }
            let body = try await response.body.collect(upTo: 8 << 20)
            return Data(body.readableBytesView)
        } catch {
            return nil
        }
    }
}
