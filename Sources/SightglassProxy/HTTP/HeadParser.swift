/// Parses HTTP/1.x heads from raw bytes. A pure function over a byte buffer: no I/O, no state,
/// so every malformed shape can be unit-tested.
public enum HeadParser {
    /// Index just past the `\r\n\r\n` that ends a head, or nil if the head is not complete yet.
    public static func headEnd(_ bytes: UnsafeRawBufferPointer, from start: Int = 0) -> Int? {
        let n = bytes.count
        var i = Swift.max(0, start)
        while i + 3 < n {
            if bytes[i + 3] == 10 {  // \n at i+3: check \r\n\r\n
                if bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 { return i + 4 }
                i += 1
            } else if bytes[i + 3] == 13 {
                i += 1
            } else {
                i += 4
            }
        }
        return nil
    }

    /// Parses a request head (everything before and including the blank line).
    public static func parseRequest(_ bytes: UnsafeRawBufferPointer) throws -> HTTPHead {
        var lines = LineIterator(bytes)
        guard let first = lines.next(), !first.isEmpty else { throw HTTPParseError.badRequestLine }
        var head = HTTPHead()
        let parts = first.split(separator: 32, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else { throw HTTPParseError.badRequestLine }
        guard parts[0].allSatisfy({ isTokenChar($0) }) else { throw HTTPParseError.badRequestLine }
        guard parts[1].allSatisfy({ $0 > 32 && $0 < 127 }) else { throw HTTPParseError.badRequestLine }
        head.method = String(decoding: parts[0], as: UTF8.self)
        head.target = try originForm(parts[1])
        head.versionMinor = try parseVersion(parts[2])
        try parseHeaders(&lines, into: &head)
        // RFC 9112 §3.2: an HTTP/1.1 request needs exactly one Host; two are refused, never forwarded.
        var hosts = 0
        for h in head.headers where HTTPHead.sameName(h.name, "host") { hosts += 1 }  // counted without allocating
        switch hosts {
        case 0: if head.versionMinor == 1 { throw HTTPParseError.missingHost }
        case 1: break
        default: throw HTTPParseError.duplicateHost
        }
        return head
    }

    /// The target in origin form (`/path?query`). An absolute-form target
    /// (`http://host:port/path?query`, RFC 9112 §3.2.2), which proxies and some clients send, is
    /// routed by its path; its authority is not used (the backend's is).
    static func originForm(_ target: UnsafeRawBufferPointer.SubSequence) throws -> String {
        let text = String(decoding: target, as: UTF8.self)
        guard text.first != "/", let scheme = text.range(of: "://") else { return text }
        guard ["http", "https"].contains(text[..<scheme.lowerBound].lowercased()) else { throw HTTPParseError.badRequestLine }
        let afterAuthority = text[scheme.upperBound...]
        guard let pathStart = afterAuthority.firstIndex(where: { $0 == "/" || $0 == "?" }) else { return "/" }
        let rest = afterAuthority[pathStart...]
        return rest.first == "?" ? "/" + rest : String(rest)
    }

    /// Parses a response head.
    public static func parseResponse(_ bytes: UnsafeRawBufferPointer) throws -> HTTPHead {
        var lines = LineIterator(bytes)
        guard let first = lines.next(), first.count >= 12 else { throw HTTPParseError.badStatusLine }
        var head = HTTPHead()
        let version = first.prefix(8)
        head.versionMinor = (try? parseVersion(version)) ?? -1
        guard head.versionMinor >= 0, first[first.startIndex + 8] == 32 else { throw HTTPParseError.badStatusLine }
        let code = first[(first.startIndex + 9)..<(first.startIndex + 12)]
        guard code.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { throw HTTPParseError.badStatusLine }
        head.status = code.reduce(0) { $0 * 10 + Int($1 - 48) }
        guard head.status >= 100 else { throw HTTPParseError.badStatusLine }
        if first.count > 12 {
            guard first[first.startIndex + 12] == 32 else { throw HTTPParseError.badStatusLine }
            head.reason = String(decoding: first[(first.startIndex + 13)...], as: UTF8.self)
        }
        try parseHeaders(&lines, into: &head)
        return head
    }

    /// Body framing of a request (RFC 9112 §6.3), rejecting request-smuggling shapes.
    public static func requestFraming(_ head: HTTPHead) throws -> BodyFraming {
        let te = head.values("transfer-encoding")
        let cl = head.values("content-length")
        if !te.isEmpty {
            guard cl.isEmpty else { throw HTTPParseError.conflictingFraming }
            // RFC 9112 §6.1: HTTP/1.0 has no transfer codings; such a request's framing is faulty.
            guard head.versionMinor == 1 else { throw HTTPParseError.transferEncodingInHTTP10 }
            let codings = te.flatMap { $0.split(separator: ",") }.map { String($0.trimmingOWS).lowercased() }
            guard codings == ["chunked"] else { throw HTTPParseError.unsupportedTransferEncoding }
            return .chunked
        }
        if cl.isEmpty { return .none }
        guard cl.count == 1, let n = parseLength(cl[0]) else { throw HTTPParseError.badContentLength }
        return n == 0 ? .none : .contentLength(n)
    }

    static func parseLength<S: StringProtocol>(_ s: S) -> Int? {
        guard !s.isEmpty, s.count <= 18, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(s)
    }

    static func parseVersion(_ v: UnsafeRawBufferPointer.SubSequence) throws -> Int {
        guard v.count == 8, v.starts(with: "HTTP/1.".utf8) else { throw HTTPParseError.unsupportedVersion }
        switch v[v.startIndex + 7] {
        case 48: return 0
        case 49: return 1
        default: throw HTTPParseError.unsupportedVersion
        }
    }

    static func parseHeaders(_ lines: inout LineIterator, into head: inout HTTPHead) throws {
        while let line = lines.next() {
            if line.isEmpty { return }
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex else { throw HTTPParseError.badHeader }
            let name = line[line.startIndex..<colon]
            // No whitespace before the colon, no obsolete line folding (RFC 9112 §5.1, §5.2).
            guard name.allSatisfy({ isTokenChar($0) }) else { throw HTTPParseError.badHeader }
            var v = line[(colon + 1)...]
            while let f = v.first, f == 32 || f == 9 { v = v.dropFirst() }
            while let l = v.last, l == 32 || l == 9 { v = v.dropLast() }
            guard v.allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) }) else { throw HTTPParseError.badHeader }
            head.headers.append((String(decoding: name, as: UTF8.self), String(decoding: v, as: UTF8.self)))
        }
        throw HTTPParseError.badHeader
    }

    static func isTokenChar(_ c: UInt8) -> Bool {
        switch c {
        case 48...57, 65...90, 97...122: return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default: return false
        }
    }
}

/// Splits a head into CRLF-terminated lines; a bare LF or CR inside a line is an error surfaced as a line containing it.
struct LineIterator {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func next() -> UnsafeRawBufferPointer.SubSequence? {
        guard position < bytes.count else { return nil }
        var i = position
        while i + 1 < bytes.count {
            if bytes[i] == 13 && bytes[i + 1] == 10 {
                let line = bytes[position..<i]
                position = i + 2
                return line
            }
            i += 1
        }
        let line = bytes[position..<bytes.count]
        position = bytes.count
        return line
    }
}
