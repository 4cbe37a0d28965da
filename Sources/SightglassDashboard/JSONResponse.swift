import Foundation
import Hummingbird
import SightglassTelemetry

/// JSON and error responses of the control plane.
enum JSONResponse {
    static func make(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: sanitize(object), options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func encode<T: Encodable>(_ value: T) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The product error shape `{"error":{"code","message","details"}}` (seed 002's codes).
    static func error(_ status: HTTPResponse.Status, code: String, message: String, details: Any? = nil) -> Response {
        make(["error": ["code": code, "message": message, "details": details ?? NSNull(), "timestamp": ISO8601.string(Date())]], status: status)
    }

    /// JSON cannot carry NaN or infinities; they become null rather than crash the encoder.
    static func sanitize(_ value: Any) -> Any {
        switch value {
        case let d as Double: return d.isFinite ? d : NSNull()
        case let dict as [String: Any]: return dict.mapValues(sanitize)
        case let array as [Any]: return array.map(sanitize)
        default: return value
        }
    }
}

/// Renders thrown errors and unmatched routes in the product error shape.
struct ProductErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let code: String
            switch error.status.code {
            case 400: code = "INVALID_REQUEST"
            case 404: code = "NOT_FOUND"
            case 405: code = "METHOD_NOT_ALLOWED"
            case 429: code = "RATE_LIMIT_EXCEEDED"
            case 503: code = "SERVICE_UNAVAILABLE"
            default: code = "INTERNAL_ERROR"
            }
            let message = error.body ?? (error.status.code == 404 ? "no route for \(request.method) \(request.uri.path)" : error.status.reasonPhrase)
            return JSONResponse.error(error.status, code: code, message: message)
        }
    }
}
