/// A response head kept as the bytes the backend sent, with the positions of its parts.
///
/// The relay forwards header lines by copying them, so a response costs no String per header;
/// only the few fields that decide framing are interpreted.
struct RawResponseHead {
    struct Field {
        var name: Range<Int>
        var value: Range<Int>
        /// The whole line without its CRLF.
        var line: Range<Int>
    }

    var status = 0
    var versionMinor = 1
    var reason: Range<Int> = 0..<0
    var fields: [Field] = []
    /// Values of the headers that decide framing and connection reuse.
    var contentLengths: [Range<Int>] = []
    var transferEncoding: [Range<Int>] = []
    var connection: [Range<Int>] = []
    var contentType: Range<Int>?

    static let hopByHop: [[UInt8]] = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "transfer-encoding"].map { Array($0.utf8) }

    /// Parses the head in `bytes` (which must end with the blank line).
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> RawResponseHead {
        var head = RawResponseHead()
        var lines = LineIterator(bytes)
        guard let first = lines.next(), first.count >= 12 else { throw HTTPParseError.badStatusLine }
        let s = first.startIndex
        guard first[s..<(s + 7)].elementsEqual("HTTP/1.".utf8), first[s + 8] == 32 else { throw HTTPParseError.badStatusLine }
        switch first[s + 7] {
        case 48: head.versionMinor = 0
        case 49: head.versionMinor = 1
        default: throw HTTPParseError.badStatusLine
        }
        var code = 0
        for i in (s + 9)..<(s + 12) {
            let c = first[i]
            guard c >= 48 && c <= 57 else { throw HTTPParseError.badStatusLine }
            code = code * 10 + Int(c - 48)
        }
        guard code >= 100 else { throw HTTPParseError.badStatusLine }
        head.status = code
        if first.count > 12 {
            guard first[s + 12] == 32 else { throw HTTPParseError.badStatusLine }
            head.reason = (s + 13)..<first.endIndex
        }
        head.fields.reserveCapacity(12)
        while let line = lines.next() {
            if line.isEmpty { return head }
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex else { throw HTTPParseError.badHeader }
            for i in line.startIndex..<colon where !HeadParser.isTokenChar(line[i]) { throw HTTPParseError.badHeader }
            var vs = colon + 1, ve = line.endIndex
            while vs < ve, line[vs] == 32 || line[vs] == 9 { vs += 1 }
            while ve > vs, line[ve - 1] == 32 || line[ve - 1] == 9 { ve -= 1 }
            for i in vs..<ve where line[i] < 32 && line[i] != 9 || line[i] == 127 { throw HTTPParseError.badHeader }
            let field = Field(name: line.startIndex..<colon, value: vs..<ve, line: line.startIndex..<line.endIndex)
            head.fields.append(field)
            if equals(bytes, field.name, "content-length") {
                head.contentLengths.append(field.value)
            } else if equals(bytes, field.name, "transfer-encoding") {
                head.transferEncoding.append(field.value)
            } else if equals(bytes, field.name, "connection") {
                head.connection.append(field.value)
            } else if equals(bytes, field.name, "content-type") {
                head.contentType = field.value
            }
        }
        throw HTTPParseError.badHeader
    }

    /// Whether the name at `range` starts with `lower` (ASCII case-insensitive).
    static func hasPrefix(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ lower: StaticString) -> Bool {
        range.count >= lower.utf8CodeUnitCount && equals(bytes, range.lowerBound..<(range.lowerBound + lower.utf8CodeUnitCount), lower)
    }

    /// ASCII case-insensitive comparison of `bytes[range]` with a lowercase literal.
    static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ lower: StaticString) -> Bool {
        guard range.count == lower.utf8CodeUnitCount else { return false }
        let p = lower.utf8Start
        for (k, i) in range.enumerated() {
            let c = bytes[i]
            if ((c >= 65 && c <= 90) ? c | 0x20 : c) != p[k] { return false }
        }
        return true
    }

    static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ lower: [UInt8]) -> Bool {
        guard range.count == lower.count else { return false }
        for (k, i) in range.enumerated() {
            let c = bytes[i]
            if ((c >= 65 && c <= 90) ? c | 0x20 : c) != lower[k] { return false }
        }
        return true
    }

    /// Lowercased comma-separated tokens of the given header values.
    static func tokens(_ bytes: UnsafeRawBufferPointer, _ values: [Range<Int>]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        for r in values {
            var current: [UInt8] = []
            for i in r {
                let c = bytes[i]
                if c == 44 {
                    if !current.isEmpty { out.append(current) }
                    current = []
                } else if c != 32 && c != 9 {
                    current.append((c >= 65 && c <= 90) ? c | 0x20 : c)
                }
            }
            if !current.isEmpty { out.append(current) }
        }
        return out
    }

    /// Framing of the body (RFC 9112 §6.3) for a response to `method`.
    func framing(_ bytes: UnsafeRawBufferPointer, requestMethod: String) throws -> BodyFraming {
        if requestMethod == "HEAD" || status < 200 || status == 204 || status == 304 { return .none }
        if !transferEncoding.isEmpty {
            return Self.tokens(bytes, transferEncoding).last == Array("chunked".utf8) ? .chunked : .untilClose
        }
        if contentLengths.isEmpty { return .untilClose }
        var value: Int?
        for r in contentLengths {
            // "5, 5" and repeated identical headers are tolerated from a backend; differing values are not.
            var n = 0, digits = 0
            for i in r {
                let c = bytes[i]
                if c >= 48 && c <= 57 {
                    guard digits < 18 else { throw HTTPParseError.badContentLength }
                    n = n * 10 + Int(c - 48)
                    digits += 1
                } else if c == 44 || c == 32 || c == 9 {
                    if c == 44 {
                        guard digits > 0, value == nil || value == n else { throw HTTPParseError.badContentLength }
                        value = n
                        n = 0
                        digits = 0
                    }
                } else {
                    throw HTTPParseError.badContentLength
                }
            }
            guard digits > 0, value == nil || value == n else { throw HTTPParseError.badContentLength }
            value = n
        }
        return .contentLength(value!)
    }

    /// Whether the backend lets the connection be reused after this response.
    func keepAlive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let t = Self.tokens(bytes, connection)
        if t.contains(Array("close".utf8)) { return false }
        if versionMinor == 0 { return t.contains(Array("keep-alive".utf8)) }
        return true
    }
}
