import Foundation
import Hummingbird
import SightglassTelemetry

/// JSON and error responses of the control plane.
enum JSONResponse {
    static func make(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        var out = ""
        write(object, to: &out)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: out)))
    }

    /// JSON text of plain values (dictionaries, arrays, strings, numbers, booleans, NSNull),
    /// keys sorted by code point. Hand-written because Foundation's serializer on Linux sorts
    /// keys with locale-aware collation, which made a page of 100 requests cost 30 ms.
    /// NaN and infinities, which JSON cannot carry, become null.
    static func write(_ value: Any, to out: inout String) {
        switch value {
        case let s as String: out += JSONText.quote(s)
        // Exact native types first: on Linux an NSNumber 0 or 1 (from JSONSerialization) also
        // casts to Bool, so numbers from parsed JSON are told apart by their objCType below.
        case let b as Bool where type(of: value) == Bool.self: out += b ? "true" : "false"
        case let i as Int where type(of: value) == Int.self: out += String(i)
        case let i as Int64 where type(of: value) == Int64.self: out += String(i)
        case let i as UInt64 where type(of: value) == UInt64.self: out += String(i)
        case let d as Double where type(of: value) == Double.self: writeDouble(d, to: &out)
        case let n as NSNumber:
            switch String(cString: n.objCType) {
            case "c", "B": out += n.boolValue ? "true" : "false"
            case "f", "d": writeDouble(n.doubleValue, to: &out)
            default: out += n.stringValue
            }
        case let dict as [String: Any]:
            out += "{"
            var first = true
            for key in dict.keys.sorted() {
                if !first { out += "," }
                first = false
                out += JSONText.quote(key)
                out += ":"
                write(dict[key]!, to: &out)
            }
            out += "}"
        case let array as [Any]:
            out += "["
            for (i, v) in array.enumerated() {
                if i > 0 { out += "," }
                write(v, to: &out)
            }
            out += "]"
        default: out += "null"
        }
    }

    static func writeDouble(_ d: Double, to out: inout String) {
        out += d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)") : "null"
    }

    static func string(_ object: Any) -> String {
        var out = ""
        write(object, to: &out)
        return out
    }

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
