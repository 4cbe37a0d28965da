import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Watches a response body as it is relayed, to learn when the first content token passed and
/// what usage the backend reported. It never decodes JSON: it looks for a handful of keys in
/// each SSE or NDJSON line. In `stripUsage` mode (usage was requested upstream on the client's
/// behalf) it also removes what the client did not ask for: the usage-only chunk and `"usage":null`.
public struct StreamTap: Sendable {
    public enum Format: Sendable, Equatable {
        /// `text/event-stream` (OpenAI).
        case sse
        /// `application/x-ndjson` (Ollama).
        case ndjson
        /// A single JSON document (non-streamed responses).
        case json
    }

    public let format: Format
    public let stripUsage: Bool
    public private(set) var firstTokenSeen = false
    /// Lines that carried content: the output-token estimate when the backend gives no usage.
    public private(set) var contentChunks = 0
    public private(set) var usage: Usage?
    /// The stream's own end marker went by (`data: [DONE]`, or Ollama's final line with its
    /// counts): a client that closes after it has the whole answer and did not cancel anything.
    public private(set) var endSeen = false
    /// Bytes of a line split across reads.
    var carry: [UInt8] = []
    /// The content key the first token came in; later lines are checked for it alone.
    var contentKey: Int?
    /// A blank line following a dropped usage event is dropped too.
    var dropNextBlank = false
    /// The end of a JSON body, where `usage` lives.
    var tail: [UInt8] = []
    static let tailLimit = 16 * 1024
    static let lineLimit = 1 << 20

    public init(format: Format, stripUsage: Bool = false) {
        self.format = format
        self.stripUsage = stripUsage && format == .sse
    }

    static let contentKeys: [[UInt8]] = ["\"content\"", "\"text\"", "\"reasoning_content\"", "\"reasoning\"", "\"arguments\"", "\"response\"", "\"thinking\""]
        .map { Array($0.utf8) }
    static let choicesKey = Array("\"choices\"".utf8)
    static let usageKey = Array("\"usage\"".utf8)
    static let evalCountKey = Array("eval_count\"".utf8)

    /// Observes relayed bytes (decoded payload). Returns true when the first content token is in them.
    public mutating func observe(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let before = firstTokenSeen
        switch format {
        case .json:
            appendTail(bytes)
        case .sse, .ndjson:
            var c = carry
            carry = []
            Self.forEachLine(bytes, carry: &c) { line, _ in inspect(line) }
            carry = c
        }
        return !before && firstTokenSeen
    }

    /// Strip mode: inspects and rewrites the bytes, appending what the client should get to `out`.
    /// Returns true when the first content token is in them.
    public mutating func filter(_ bytes: UnsafeRawBufferPointer, into out: inout ByteBuffer) -> Bool {
        let before = firstTokenSeen
        var c = carry
        carry = []
        defer { carry = c }
        Self.forEachLine(bytes, carry: &c) { line, full in
            if Self.trimmedLineRange(line).isEmpty {
                if dropNextBlank { dropNextBlank = false; return }
                out.writeBytes(UnsafeRawBufferPointer(rebasing: full))
                return
            }
            dropNextBlank = false
            switch inspect(line) {
            case .usageOnly:
                dropNextBlank = true
            case .usageNull(let r):
                // Leave out `"usage":null` and one comma next to it; everything else as sent.
                let f = UnsafeRawBufferPointer(rebasing: full)
                var lo = r.lowerBound, hi = r.upperBound
                var k = lo - 1
                while k >= 0, f[k] == 32 || f[k] == 9 { k -= 1 }
                if k >= 0, f[k] == 44 {
                    lo = k
                } else {
                    var m = hi
                    while m < f.count, f[m] == 32 || f[m] == 9 { m += 1 }
                    if m < f.count, f[m] == 44 { hi = m + 1 }
                }
                out.writeBytes(UnsafeRawBufferPointer(rebasing: f[0..<lo]))
                out.writeBytes(UnsafeRawBufferPointer(rebasing: f[hi...]))
            case .other:
                out.writeBytes(UnsafeRawBufferPointer(rebasing: full))
            }
        }
        return !before && firstTokenSeen
    }

    /// Processes a final unterminated line, if any. Call when the body ended.
    public mutating func finish(into out: inout ByteBuffer?) {
        switch format {
        case .json:
            // Time to first token is a streaming measure; a single JSON body only carries usage.
            tail.withUnsafeBytes { b in
                usage = Usage.openAI(in: b, range: 0..<b.count) ?? Usage.ollama(in: b, range: 0..<b.count) ?? usage
            }
        case .sse, .ndjson:
            guard !carry.isEmpty else { return }
            var rest = carry
            carry = []
            if stripUsage {
                // Complete the line so it is filtered like every other, then drop the added newline.
                rest.append(10)
                var buffer = ByteBuffer()
                _ = rest.withUnsafeBytes { filter($0, into: &buffer) }
                if buffer.readableBytes > 0, buffer.getInteger(at: buffer.writerIndex - 1, as: UInt8.self) == 10 {
                    buffer.moveWriterIndex(to: buffer.writerIndex - 1)
                }
                out?.writeBuffer(&buffer)
            } else {
                rest.withUnsafeBytes { b in
                    inspect(b[0..<b.count])
                    out?.writeBytes(b)
                }
            }
        }
    }

    // MARK: - Lines

    /// Calls `body` with each complete line (without terminator) and the line with its terminator.
    /// `data: [DONE]`, with or without the space and trailing whitespace.
    static func isDone(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 5
        while i < bytes.count, bytes[i] == UInt8(ascii: " ") { i += 1 }
        var end = bytes.count
        while end > i, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\r") || bytes[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        return end - i == 6 && bytes[i..<end].elementsEqual("[DONE]".utf8)
    }

    static func forEachLine(
        _ bytes: UnsafeRawBufferPointer, carry: inout [UInt8], _ body: (UnsafeRawBufferPointer.SubSequence, UnsafeRawBufferPointer.SubSequence) -> Void
    ) {
        guard let base = bytes.baseAddress else { return }
        var start = 0
        let n = bytes.count
        while start < n, let hit = memchr(base + start, 10, n - start) {
            let i = UnsafeRawPointer(hit) - base
            if carry.isEmpty {
                body(bytes[start..<i], bytes[start...i])
            } else {
                carry.append(contentsOf: bytes[start...i])
                let joined = carry
                carry = []
                joined.withUnsafeBytes { j in body(j[0..<(j.count - 1)], j[0..<j.count]) }
            }
            start = i + 1
        }
        if start < n {
            if carry.count + (n - start) <= lineLimit {
                carry.append(contentsOf: bytes[start..<n])
            } else {
                carry = []  // A line this long carries no usage we could use; stop buffering it.
            }
        }
    }

    static func trimmedLineRange(_ line: UnsafeRawBufferPointer.SubSequence) -> Range<Int> {
        var end = line.endIndex
        if end > line.startIndex && line[end - 1] == 13 { end -= 1 }
        return line.startIndex..<end
    }

    enum LineKind {
        /// The chunk that only carries usage (`"choices":[]`).
        case usageOnly
        /// A chunk with `"usage":null` at this byte range.
        case usageNull(Range<Int>)
        case other
    }

    /// Looks at one line: content (until the first token, then only the key it came in), and the
    /// single `"usage"` occurrence, whose position serves parsing, dropping and `null` removal alike.
    @discardableResult
    mutating func inspect(_ line: UnsafeRawBufferPointer.SubSequence) -> LineKind {
        let bytes = UnsafeRawBufferPointer(rebasing: line.base[line.startIndex..<line.endIndex])
        let r = 0..<bytes.count
        guard !r.isEmpty else { return .other }
        if format == .sse {
            // Only `data:` lines carry payload.
            guard bytes.count >= 5, bytes[0] == UInt8(ascii: "d"), bytes[1] == UInt8(ascii: "a"), bytes[2] == UInt8(ascii: "t"),
                bytes[3] == UInt8(ascii: "a"), bytes[4] == UInt8(ascii: ":")
            else { return .other }
            if bytes.count <= 16, Self.isDone(bytes) {
                endSeen = true
                return .other
            }
        }
        if let k = contentKey {
            if ByteSearch.hasNonEmptyString(forKey: Self.contentKeys[k], in: bytes, range: r) { contentChunks += 1 }
        } else {
            for (k, key) in Self.contentKeys.enumerated() where ByteSearch.hasNonEmptyString(forKey: key, in: bytes, range: r) {
                contentChunks += 1
                firstTokenSeen = true
                contentKey = k
                break
            }
        }
        if format != .sse {
            if ByteSearch.find(Self.evalCountKey, in: bytes, range: r) != nil, let u = Usage.ollama(in: bytes, range: r) {
                usage = u
                endSeen = true
            }
            return .other
        }
        guard let at = ByteSearch.find(Self.usageKey, in: bytes, range: r) else { return .other }
        var i = at + Self.usageKey.count
        ByteSearch.skipWhitespace(bytes, &i, bytes.count)
        guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return .other }
        i += 1
        ByteSearch.skipWhitespace(bytes, &i, bytes.count)
        guard i < bytes.count else { return .other }
        if bytes[i] == UInt8(ascii: "n"), i + 4 <= bytes.count, bytes[i + 1] == UInt8(ascii: "u"), bytes[i + 2] == UInt8(ascii: "l"),
            bytes[i + 3] == UInt8(ascii: "l")
        {
            return .usageNull(at..<(i + 4))
        }
        guard bytes[i] == UInt8(ascii: "{"), let u = Usage.openAI(in: bytes, range: at..<bytes.count) else { return .other }
        usage = u
        // Usage-only chunk: `"choices":[]`.
        guard var c = ByteSearch.valueStart(ofKey: Self.choicesKey, in: bytes, range: r), c < bytes.count, bytes[c] == UInt8(ascii: "[") else { return .other }
        c += 1
        ByteSearch.skipWhitespace(bytes, &c, bytes.count)
        return c < bytes.count && bytes[c] == UInt8(ascii: "]") ? .usageOnly : .other
    }

    mutating func appendTail(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count >= Self.tailLimit {
            tail = Array(bytes[(bytes.count - Self.tailLimit)...])
        } else {
            tail.append(contentsOf: bytes)
            if tail.count > Self.tailLimit * 2 { tail.removeFirst(tail.count - Self.tailLimit) }
        }
    }
}
