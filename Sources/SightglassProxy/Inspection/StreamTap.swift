import NIOCore

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
    /// Bytes of a line split across reads.
    var carry: [UInt8] = []
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

    static let contentKeys: [[UInt8]] = ["\"content\"", "\"text\"", "\"reasoning_content\"", "\"reasoning\"", "\"arguments\"", "\"response\"", "\"thinking\""].map { Array($0.utf8) }
    static let choicesKey = Array("\"choices\"".utf8)
    static let usageNull: [[UInt8]] = [",\"usage\":null", ", \"usage\": null", "\"usage\":null,", "\"usage\": null, "].map { Array($0.utf8) }

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
            let content = Self.trimmedLineRange(line)
            if content.isEmpty {
                if dropNextBlank { dropNextBlank = false; return }
                out.writeBytes(UnsafeRawBufferPointer(rebasing: full))
                return
            }
            dropNextBlank = false
            if isUsageOnlyChunk(line) {
                inspect(line)
                dropNextBlank = true
                return
            }
            inspect(line)
            out.writeBytes(Self.removingUsageNull(UnsafeRawBufferPointer(rebasing: full)))
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
            let rest = carry
            carry = []
            rest.withUnsafeBytes { b in
                let line = b[0..<b.count]
                if stripUsage && isUsageOnlyChunk(line) { inspect(line); return }
                inspect(line)
                out?.writeBytes(stripUsage ? Self.removingUsageNull(b) : Array(b))
            }
        }
    }

    // MARK: - Lines

    /// Calls `body` with each complete line (without terminator) and the line with its terminator.
    static func forEachLine(_ bytes: UnsafeRawBufferPointer, carry: inout [UInt8], _ body: (UnsafeRawBufferPointer.SubSequence, UnsafeRawBufferPointer.SubSequence) -> Void) {
        var start = 0
        var i = 0
        let n = bytes.count
        while i < n {
            if bytes[i] == 10 {
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
            i += 1
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

    mutating func inspect(_ line: UnsafeRawBufferPointer.SubSequence) {
        let bytes = UnsafeRawBufferPointer(rebasing: line.base[line.startIndex..<line.endIndex])
        let r = 0..<bytes.count
        guard !r.isEmpty else { return }
        if format == .sse {
            // Only `data:` lines carry payload.
            guard bytes.count >= 5, bytes[0] == UInt8(ascii: "d"), bytes[1] == UInt8(ascii: "a"), bytes[2] == UInt8(ascii: "t"),
                  bytes[3] == UInt8(ascii: "a"), bytes[4] == UInt8(ascii: ":") else { return }
        }
        for key in Self.contentKeys where ByteSearch.hasNonEmptyString(forKey: key, in: bytes, range: r) {
            contentChunks += 1
            firstTokenSeen = true
            break
        }
        if format == .sse {
            if let u = Usage.openAI(in: bytes, range: r) { usage = u }
        } else if let u = Usage.ollama(in: bytes, range: r) {
            usage = u
        }
    }

    /// A `data:` line whose object has `"choices":[]` and a non-null usage.
    func isUsageOnlyChunk(_ line: UnsafeRawBufferPointer.SubSequence) -> Bool {
        let bytes = UnsafeRawBufferPointer(rebasing: line)
        let r = 0..<bytes.count
        guard var i = ByteSearch.valueStart(ofKey: Self.choicesKey, in: bytes, range: r), i < bytes.count, bytes[i] == UInt8(ascii: "[") else { return false }
        i += 1
        ByteSearch.skipWhitespace(bytes, &i, bytes.count)
        guard i < bytes.count, bytes[i] == UInt8(ascii: "]") else { return false }
        return Usage.openAI(in: bytes, range: r) != nil
    }

    static func removingUsageNull(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        for p in usageNull {
            if let at = ByteSearch.find(p, in: bytes, range: 0..<bytes.count) {
                var out = [UInt8]()
                out.reserveCapacity(bytes.count - p.count)
                out.append(contentsOf: bytes[0..<at])
                out.append(contentsOf: bytes[(at + p.count)...])
                return out
            }
        }
        return Array(bytes)
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
