import Foundation
import Hummingbird

/// A JSON object sent to the Admin API, read field by field: a wrong type, an unknown field or
/// a missing required one is refused naming the field, before anything is written.
struct AdminBody: Sendable {
    let fields: [String: JSONValue]

    static let maxBytes = 64 * 1024

    /// Parses `request`'s body; an empty body is an empty object. `allowed` lists the known fields.
    static func read(_ request: Request, allowed: Set<String>) async throws -> AdminBody {
        var request = request
        let buffer = try await request.collectBody(upTo: maxBytes)
        guard buffer.readableBytes > 0 else { return AdminBody(fields: [:]) }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView)), case .object(let o) = value else {
            throw AdminAPIError.invalid(param: nil, "the body must be a JSON object")
        }
        if let unknown = o.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw AdminAPIError.invalid(param: unknown, "unknown field '\(unknown)' (expected one of \(allowed.sorted().joined(separator: ", ")))")
        }
        return AdminBody(fields: o)
    }

    func string(_ name: String, required: Bool = false) throws -> String? {
        switch fields[name] {
        case nil, .null?:
            if required { throw AdminAPIError.invalid(param: name, "'\(name)' is required") }
            return nil
        case .string(let s)?: return s
        default: throw AdminAPIError.invalid(param: name, "'\(name)' must be a string")
        }
    }

    func integer(_ name: String) throws -> Int64? {
        switch fields[name] {
        case nil, .null?: return nil
        case .number(let n)? where n == n.rounded() && abs(n) < 1e15: return Int64(n)
        default: throw AdminAPIError.invalid(param: name, "'\(name)' must be a whole number")
        }
    }

    func bool(_ name: String) throws -> Bool? {
        switch fields[name] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        default: throw AdminAPIError.invalid(param: name, "'\(name)' must be true or false")
        }
    }

    func strings(_ name: String) throws -> [String]? {
        switch fields[name] {
        case nil, .null?: return nil
        case .array(let a)?:
            return try a.map {
                guard case .string(let s) = $0 else { throw AdminAPIError.invalid(param: name, "'\(name)' must be a list of strings") }
                return s
            }
        default: throw AdminAPIError.invalid(param: name, "'\(name)' must be a list of strings")
        }
    }

    /// A nested object, read with its own allowed fields (`scopes`).
    func object(_ name: String, allowed: Set<String>) throws -> AdminBody? {
        switch fields[name] {
        case nil, .null?: return nil
        case .object(let o)?:
            if let unknown = o.keys.sorted().first(where: { !allowed.contains($0) }) {
                throw AdminAPIError.invalid(param: "\(name).\(unknown)", "unknown field '\(name).\(unknown)'")
            }
            return AdminBody(fields: o)
        default: throw AdminAPIError.invalid(param: name, "'\(name)' must be an object")
        }
    }
}

/// What the Admin API answers instead of a result, in OpenAI's error shape.
struct AdminAPIError: Error, Sendable {
    var status: HTTPResponse.Status
    var type: String
    var code: String?
    var param: String?
    var message: String

    static func invalid(param: String?, _ message: String) -> AdminAPIError {
        AdminAPIError(status: .badRequest, type: "invalid_request_error", code: nil, param: param, message: message)
    }

    func response() -> Response {
        var r = JSONResponse.encode(OpenAIErrorBody(error: .init(message: message, type: type, param: param, code: code)), status: status)
        if status == .unauthorized { r.headers[.wwwAuthenticate] = "Bearer realm=\"sightglass\"" }
        return r
    }
}
