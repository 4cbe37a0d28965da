import Foundation
import Hummingbird
import SightglassTelemetry

/// JSON and error responses of the control plane.
enum JSONResponse {
    /// The one encoder of typed answers: keys sorted, slashes unescaped.
    static func encode<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data(value))))
    }

    static func data<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    /// The same, as text: a live-feed message, a webhook body, an audit entry's details.
    static func text<T: Encodable>(_ value: T) -> String {
        String(decoding: data(value), as: UTF8.self)
    }

    /// The product error shape `{"error":{"code","message","details"}}` (seed 002's codes).
    static func error(_ status: HTTPResponse.Status, code: String, message: String, details: Any? = nil) -> Response {
        encode(ProductError(error: .init(code: code, message: message, details: JSONValue(details), timestamp: ISO8601.string(Date()))), status: status)
    }
}

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
