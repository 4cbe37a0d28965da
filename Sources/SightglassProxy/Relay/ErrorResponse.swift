import NIOCore
import SightglassTelemetry

/// Error responses written by the gateway itself, in the shape each route's clients expect.
enum ErrorResponse {
    /// seed 002's product error codes, by status.
    static func productCode(_ status: Int) -> String {
        switch status {
        case 400, 413: return "INVALID_REQUEST"
        case 401: return "UNAUTHORIZED"
        case 403: return "FORBIDDEN"
        case 404: return "MODEL_NOT_FOUND"
        case 429: return "RATE_LIMIT_EXCEEDED"
        case 502, 503: return "SERVICE_UNAVAILABLE"
        case 504: return "TIMEOUT"
        default: return "INTERNAL_ERROR"
        }
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Content Too Large"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 505: return "HTTP Version Not Supported"
        default: return "Error"
        }
    }

    /// The JSON body. `code` is OpenAI's `error.code` (e.g. "model_not_found"), `param` the offending field.
    /// `type` replaces OpenAI's type for the status (a rate limit's `requests` or `tokens`).
    static func body(dialect: Dialect, status: Int, message: String, code: String?, param: String?, type override: String? = nil) -> String {
        switch dialect {
        case .ollama:
            return "{\"error\":\(JSONText.quote(message))}"
        case .openAI:
            let type: String
            switch status {
            case _ where override != nil: type = override!
            case 400, 401, 404, 413: type = "invalid_request_error"
            case 403: type = "permission_error"
            case 429: type = "rate_limit_error"
            default: type = "server_error"
            }
            return
                "{\"error\":{\"message\":\(JSONText.quote(message)),\"type\":\"\(type)\",\"param\":\(param.map(JSONText.quote) ?? "null"),\"code\":\(code.map(JSONText.quote) ?? "null")}}"
        case .product:
            let details = param.map { "\"field '\($0)'\"" } ?? (code.map(JSONText.quote) ?? "null")
            return "{\"error\":{\"code\":\"\(productCode(status))\",\"message\":\(JSONText.quote(message)),\"details\":\(details)}}"
        }
    }

    /// A complete response: head and body in one buffer.
    static func response(
        dialect: Dialect, status: Int, message: String, code: String? = nil, param: String? = nil,
        type: String? = nil, close: Bool, retryAfter: Int? = nil, requestId: String? = nil, headers: String = "", allocator: ByteBufferAllocator
    ) -> ByteBuffer {
        let body = self.body(dialect: dialect, status: status, message: message, code: code, param: param, type: type)
        var buf = allocator.buffer(capacity: body.utf8.count + 160)
        buf.writeString("HTTP/1.1 \(status) \(reason(status))\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n")
        if let retryAfter { buf.writeString("Retry-After: \(retryAfter)\r\n") }
        if let requestId { buf.writeString("X-Request-Id: \(requestId)\r\n") }
        if !headers.isEmpty { buf.writeString(headers) }
        if close { buf.writeString("Connection: close\r\n") }
        buf.writeString("\r\n")
        buf.writeString(body)
        return buf
    }
}
