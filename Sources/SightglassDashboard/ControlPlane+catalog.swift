import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import SightglassTelemetry

extension ControlPlane {
    /// Serves a catalog route and records it like any other request.
    func catalogRoute(_ route: String, _ body: () async -> Response) async -> Response {
        let start = Date()
        let response = await body()
        let event = RequestEvent(
            route: route, method: "GET", backend: "", model: "", status: Int(response.status.code),
            errorType: response.status.code >= 400 ? .upstreamError : nil, stream: false,
            startTime: start.timeIntervalSince1970, latency: Date().timeIntervalSince(start))
        hub.controlRecorder.finished(event, backend: -1, stream: false)
        return response
    }

    /// Union of every backend's models in OpenAI's list shape.
    func openAIModels() -> Response {
        let items = catalogUnion(\.openAIEntries) { model, backend in
            #"{"id":\#(JSONText.quote(model)),"object":"model","owned_by":\#(JSONText.quote(backend))}"#
        }
        return raw(#"{"object":"list","data":[\#(items.joined(separator: ","))]}"#)
    }

    /// Union of every backend's models in Ollama's `/api/tags` shape.
    func ollamaTags() -> Response {
        let items = catalogUnion(\.ollamaEntries) { model, _ in
            #"{"name":\#(JSONText.quote(model)),"model":\#(JSONText.quote(model)),"details":{}}"#
        }
        return raw(#"{"models":[\#(items.joined(separator: ","))]}"#)
    }

    /// Each model once, first backend wins: the backend's own entry where it listed the model in
    /// this dialect, else only what is known (its name), never invented details.
    func catalogUnion(_ entries: KeyPath<BackendStatus, [String: String]>, known: (String, String) -> String) -> [String] {
        var seen = Set<String>()
        var items: [String] = []
        for b in hub.board.all {
            for model in b.models where seen.insert(model).inserted {
                items.append(b[keyPath: entries][model] ?? known(model, b.name))
            }
        }
        return items
    }

    /// What every Ollama backend reports loaded right now.
    func ollamaPs() async -> Response {
        var items: [String] = []
        for b in hub.board.all where b.kind == .ollama {
            guard let data = await fetch(b.url + "/api/ps"),
                let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let models = obj["models"] as? [Any]
            else { continue }
            for m in models {
                if let d = try? JSONSerialization.data(withJSONObject: m, options: [.withoutEscapingSlashes]) {
                    items.append(String(decoding: d, as: UTF8.self))
                }
            }
        }
        return raw(#"{"models":[\#(items.joined(separator: ","))]}"#)
    }

    /// The first Ollama backend's version; Sightglass's own when there is none.
    func ollamaVersion() async -> Response {
        for b in hub.board.all where b.kind == .ollama {
            if let data = await fetch(b.url + "/api/version"),
                let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], obj["version"] is String
            {
                return raw(String(decoding: data, as: UTF8.self))
            }
        }
        return JSONResponse.make(["version": hub.version])
    }

    func fetch(_ url: String) async -> Data? {
        do {
            let response = try await httpClient.execute(HTTPClientRequest(url: url), timeout: .seconds(3))
            guard response.status == .ok else { return nil }
            let body = try await response.body.collect(upTo: 8 << 20)
            return Data(body.readableBytesView)
        } catch {
            return nil
        }
    }

    func raw(_ json: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}
