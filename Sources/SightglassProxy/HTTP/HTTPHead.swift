/// A parsed HTTP/1.x request or response head. Only what the relay needs is interpreted;
/// header names and values are kept as sent so they can be forwarded unchanged.
public struct HTTPHead: Sendable, Equatable {
    public var method: String = ""
    public var target: String = ""
    public var status: Int = 0
    public var reason: String = ""
    public var versionMinor: Int = 1
    public var headers: [(name: String, value: String)] = []

    public init() {}

    public static func == (a: HTTPHead, b: HTTPHead) -> Bool {
        a.method == b.method && a.target == b.target && a.status == b.status && a.versionMinor == b.versionMinor
            && a.headers.elementsEqual(b.headers, by: { $0.name == $1.name && $0.value == $1.value })
    }

    /// The first value of a header; `name` must be lowercase.
    public func value(_ name: String) -> String? {
        for h in headers where Self.sameName(h.name, name) { return h.value }
        return nil
    }

    /// Every value of a header; `name` must be lowercase.
    public func values(_ name: String) -> [String] {
        headers.filter { Self.sameName($0.name, name) }.map(\.value)
    }

    /// ASCII case-insensitive comparison against a lowercase name, without allocating.
    @inline(__always)
    static func sameName(_ header: String, _ lowercase: String) -> Bool {
        var a = header.utf8.makeIterator()
        var b = lowercase.utf8.makeIterator()
        while true {
            switch (a.next(), b.next()) {
            case (nil, nil): return true
            case (let x?, let y?):
                let lx = (x >= 65 && x <= 90) ? x | 0x20 : x
                if lx != y { return false }
            default: return false
            }
        }
    }

    /// The path without query string.
    public var path: Substring {
        if let q = target.firstIndex(of: "?") { return target[..<q] }
        return Substring(target)
    }

    /// Tokens of all `Connection` headers, lowercased.
    public var connectionTokens: [String] {
        values("connection").flatMap { $0.split(separator: ",") }.map { String($0.trimmingOWS).lowercased() }
    }

    /// Whether the connection stays open after this message, by version and `Connection`.
    public var keepAlive: Bool {
        guard value("connection") != nil else { return versionMinor == 1 }
        let tokens = connectionTokens
        if tokens.contains("close") { return false }
        if versionMinor == 0 { return tokens.contains("keep-alive") }
        return true
    }
}

/// Why a head or body could not be accepted. Each maps to a 400 (or 502 from a backend).
public enum HTTPParseError: Error, Equatable, Sendable {
    case headTooLarge
    case badRequestLine
    case unsupportedVersion
    case badHeader
    case missingHost
    case duplicateHost
    case transferEncodingInHTTP10
    case badContentLength
    case conflictingFraming
    case unsupportedTransferEncoding
    case badChunk
    case bodyTooLarge
    case badStatusLine

    public var message: String {
        switch self {
        case .headTooLarge: return "request header block is larger than allowed"
        case .badRequestLine: return "malformed request line"
        case .unsupportedVersion: return "only HTTP/1.0 and HTTP/1.1 are supported"
        case .badHeader: return "malformed header line"
        case .missingHost: return "HTTP/1.1 request without Host header"
        case .duplicateHost: return "more than one Host header"
        case .transferEncodingInHTTP10: return "Transfer-Encoding in an HTTP/1.0 request (faulty framing)"
        case .badContentLength: return "invalid or duplicate Content-Length"
        case .conflictingFraming: return "both Content-Length and Transfer-Encoding are present"
        case .unsupportedTransferEncoding: return "unsupported Transfer-Encoding (only chunked is accepted)"
        case .badChunk: return "malformed chunked body"
        case .bodyTooLarge: return "request body is larger than allowed"
        case .badStatusLine: return "malformed status line"
        }
    }
}

/// How a message body is delimited (RFC 9112 §6).
public enum BodyFraming: Equatable, Sendable {
    case none
    case contentLength(Int)
    case chunked
    /// Response bodies only: the body ends when the server closes the connection.
    case untilClose
}

extension StringProtocol {
    /// The value without leading and trailing spaces and tabs (HTTP's optional whitespace).
    var trimmingOWS: Substring {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return Substring(s)
    }
}
