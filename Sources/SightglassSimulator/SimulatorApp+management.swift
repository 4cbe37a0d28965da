import Crypto
import Foundation
import Hummingbird

/// Ollama's model management, simulated: pull, push and create stream their progress as
/// NDJSON status lines (one JSON object unless `"stream": false`), as Ollama does; copy and
/// delete answer 200 with no body, or 404 for a model that does not exist.
extension Handlers {
    func body(_ request: Request) async throws -> [String: Any] {
        var request = request
        let buffer = try await request.collectBody(upTo: Self.maxBody)
        guard let body = (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] else {
            throw Rejected(response: error(.ollama, 400, "invalid JSON body"))
        }
        return body
    }

    func name(_ body: [String: Any], _ keys: [String] = ["model", "name"]) throws -> String {
        guard let name = keys.lazy.compactMap({ body[$0] as? String }).first, !name.isEmpty else {
            throw Rejected(response: error(.ollama, 400, "model is required"))
        }
        return name
    }

    /// Status lines, streamed (paced a little, like a download) or just the last one.
    func progress(_ lines: [[String: Any]], stream: Bool) -> Response {
        guard stream else { return Simulator.json(lines.last ?? ["status": "success"]) }
        let encoded = lines.map { (try? JSONSerialization.data(withJSONObject: $0, options: [.withoutEscapingSlashes])) ?? Data() }
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson"],
            body: ResponseBody { writer in
                for line in encoded {
                    var buf = ByteBuffer(bytes: line)
                    buf.writeString("\n")
                    try await writer.write(buf)
                    try await Task.sleep(nanoseconds: 2_000_000)
                }
                try await writer.finish(nil)
            })
    }

    func pull(_ request: Request) async throws -> Response {
        let body = try await body(request)
        let model = try name(body)
        let digest = "sha256:" + digest(model)
        let total = 1_000_000 + model.utf8.count * 1000
        var lines: [[String: Any]] = [["status": "pulling manifest"]]
        for done in [0, total / 2, total] { lines.append(["status": "pulling \(digest.prefix(19))", "digest": digest, "total": total, "completed": done]) }
        lines += [["status": "verifying sha256 digest"], ["status": "writing manifest"], ["status": "success"]]
        models.add(model)
        return progress(lines, stream: body["stream"] as? Bool ?? true)
    }

    func push(_ request: Request) async throws -> Response {
        let body = try await body(request)
        let model = try name(body)
        guard resolve(model) != nil else { throw Rejected(response: error(.ollama, 404, "model \"\(model)\" not found")) }
        return progress([["status": "retrieving manifest"], ["status": "pushing manifest"], ["status": "success"]], stream: body["stream"] as? Bool ?? true)
    }

    func create(_ request: Request) async throws -> Response {
        let body = try await body(request)
        let model = try name(body)
        if let from = body["from"] as? String, resolve(from) == nil {
            throw Rejected(response: error(.ollama, 404, "model \"\(from)\" not found"))
        }
        models.add(model)
        return progress(
            [["status": "reading model metadata"], ["status": "creating system layer"], ["status": "writing manifest"], ["status": "success"]],
            stream: body["stream"] as? Bool ?? true)
    }

    func copy(_ request: Request) async throws -> Response {
        let body = try await body(request)
        let source = try name(body, ["source"])
        guard let destination = body["destination"] as? String, !destination.isEmpty else {
            throw Rejected(response: error(.ollama, 400, "destination is required"))
        }
        guard resolve(source) != nil else { throw Rejected(response: error(.ollama, 404, "model \"\(source)\" not found")) }
        models.add(destination)
        return Response(status: .ok)
    }

    func delete(_ request: Request) async throws -> Response {
        let model = try name(try await body(request))
        guard let resolved = resolve(model), models.remove(resolved) else {
            throw Rejected(response: error(.ollama, 404, "model \"\(model)\" not found"))
        }
        return Response(status: .ok)
    }
}

extension Handlers {
    /// `HEAD /api/blobs/:digest`: 200 when the blob is stored, else 404.
    func hasBlob(_ digest: String) -> Response {
        Response(status: blobs.contains(digest) ? .ok : .notFound)
    }

    /// `POST /api/blobs/:digest`: stores the upload if its SHA-256 is the digest named (201),
    /// else 400, as Ollama checks it.
    func storeBlob(_ request: Request, digest: String) async throws -> Response {
        var request = request
        let buffer = try await request.collectBody(upTo: Self.maxBody)
        let actual = "sha256:" + SHA256.hash(data: Array(buffer.readableBytesView)).map { String(format: "%02x", $0) }.joined()
        guard actual == digest else { throw Rejected(response: error(.ollama, 400, "digest mismatch, expected \"\(digest)\", got \"\(actual)\"")) }
        blobs.add(digest)
        return Response(status: .created)
    }
}
