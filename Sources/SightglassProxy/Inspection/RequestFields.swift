/// The few request-body fields Sightglass needs, found by walking the top level of a JSON
/// object once: values are skipped, not decoded, and their byte ranges are remembered so the
/// body can be edited in place (stream_options injection) without re-encoding it.
public struct RequestFields: Sendable, Equatable {
    public var model: String?
    /// nil when absent.
    public var stream: Bool?
    /// Range of the whole `"stream_options"` object value, when present.
    public var streamOptionsRange: Range<Int>?
    /// Range of the `include_usage` value inside stream_options, when present.
    public var includeUsageRange: Range<Int>?
    public var includeUsage: Bool?
    /// OpenAI's output cap (`max_tokens`, `max_completion_tokens` winning), 0 to 2^31 − 1.
    public var maxTokens: Int?
    /// Ollama's (`options.num_predict`; a negative value, "unlimited", is left out).
    public var numPredict: Int?
    /// Other models the request names (`destination` of a copy, `from` of a create), which a
    /// key's model scope must allow too.
    public var otherModels: [String] = []
    /// Whether the body has an Ollama `options` object.
    public var hasOptions = false
    /// Index of the closing brace of the top-level object.
    public var objectEnd: Int = 0
    /// Whether the top-level object has at least one member.
    public var hasMembers = false

    public init() {}

    public enum ScanError: Error, Equatable, Sendable {
        case malformed(String)
        case wrongType(field: String, expected: String)
        /// A field the gateway reads given twice: servers differ on which one wins (Go and
        /// Python take the last), so the gateway's checks would not be the backend's.
        case duplicate(field: String)

        public var message: String {
            switch self {
            case .malformed(let why): return "request body is not valid JSON: \(why)"
            case .wrongType(let field, let expected): return "'\(field)' must be \(expected)"
            case .duplicate(let field): return "'\(field)' is given more than once"
            }
        }
        /// OpenAI's `error.code`: `invalid_type` for a value of the wrong type, as its API answers.
        public var code: String {
            if case .wrongType = self { return "invalid_type" }
            return "invalid_request"
        }

        public var field: String? {
            switch self {
            case .wrongType(let f, _), .duplicate(let f): return f
            case .malformed: return nil
            }
        }
    }

    /// Scans `bytes` as one JSON object. `modelKeys` lists accepted names of the model field in
    /// order of preference (Ollama's `/api/show` also accepts `name`).
    public static func scan(_ bytes: UnsafeRawBufferPointer, modelKeys: [String] = ["model"], otherModelKeys: [String] = []) throws -> RequestFields {
        var s = JSONScanner(bytes: bytes)
        var fields = RequestFields()
        // Fields seen so far, one bit each (no set to allocate per request): model keys first,
        // then other model keys, then `tracked`.
        var seen: UInt32 = 0
        s.skipWhitespace()
        guard s.peek() == UInt8(ascii: "{") else { throw ScanError.malformed("expected an object") }
        s.i += 1
        var modelRank = Int.max
        var first = true
        while true {
            s.skipWhitespace()
            if s.peek() == UInt8(ascii: "}") {
                fields.objectEnd = s.i
                s.i += 1
                break
            }
            if !first {
                guard s.peek() == UInt8(ascii: ",") else { throw ScanError.malformed("expected ',' or '}' at byte \(s.i)") }
                s.i += 1
                s.skipWhitespace()
            }
            first = false
            let key = try s.string()
            fields.hasMembers = true
            s.skipWhitespace()
            guard s.peek() == UInt8(ascii: ":") else { throw ScanError.malformed("expected ':' at byte \(s.i)") }
            s.i += 1
            s.skipWhitespace()
            let valueStart = s.i
            let bit: Int? =
                modelKeys.firstIndex(of: key) ?? otherModelKeys.firstIndex(of: key).map { modelKeys.count + $0 }
                ?? tracked.firstIndex(of: key).map { modelKeys.count + otherModelKeys.count + $0 }
            if let bit, bit < 32 {
                guard seen & (1 << bit) == 0 else { throw ScanError.duplicate(field: key) }
                seen |= 1 << bit
            }
            if otherModelKeys.contains(key) {
                if s.peek() == UInt8(ascii: "\"") { fields.otherModels.append(try s.string()) } else { try s.skipValue() }
            } else if let rank = modelKeys.firstIndex(of: key) {
                guard s.peek() == UInt8(ascii: "\"") else {
                    try s.skipValue()
                    if s.slice(valueStart..<s.i) == "null" { continue }
                    throw ScanError.wrongType(field: key, expected: "a string")
                }
                let value = try s.string()
                if rank < modelRank {
                    fields.model = value
                    modelRank = rank
                }
            } else if key == "stream" {
                try s.skipValue()
                switch s.slice(valueStart..<s.i) {
                case "true": fields.stream = true
                case "false": fields.stream = false
                case "null": fields.stream = nil
                default: throw ScanError.wrongType(field: "stream", expected: "a boolean")
                }
            } else if key == "max_tokens" || key == "max_completion_tokens" {
                try s.skipValue()
                let text = s.slice(valueStart..<s.i)
                guard text == "null" || Int(text) != nil else { throw ScanError.wrongType(field: key, expected: "an integer") }
                if let n = Int(text), n < 0 || n > Int(Int32.max) {
                    throw ScanError.wrongType(field: key, expected: "an integer from 0 to 2147483647")
                }
                if let n = Int(text), key == "max_completion_tokens" || fields.maxTokens == nil { fields.maxTokens = n }
            } else if key == "options", s.peek() == UInt8(ascii: "{") {
                fields.hasOptions = true
                fields.numPredict = try scanNumPredict(&s)
            } else if key == "stream_options" {
                if s.peek() == UInt8(ascii: "{") {
                    try scanStreamOptions(&s, into: &fields)
                    fields.streamOptionsRange = valueStart..<s.i
                } else {
                    try s.skipValue()
                    guard s.slice(valueStart..<s.i) == "null" else {
                        throw ScanError.wrongType(field: "stream_options", expected: "an object")
                    }
                }
            } else {
                try s.skipValue()
            }
        }
        s.skipWhitespace()
        guard s.i == bytes.count else { throw ScanError.malformed("unexpected data after the object") }
        return fields
    }

    /// The cap the route's clients set: Ollama ignores a top-level `max_tokens`, OpenAI's servers `options`.
    public func outputCap(ollama: Bool) -> Int? { ollama ? numPredict : maxTokens }

    /// Top-level fields the gateway acts on, each allowed once.
    static let tracked = ["stream", "stream_options", "max_tokens", "max_completion_tokens", "options"]

    /// Walks a nested object's members (the scanner is at its `{`), handing each key and its
    /// value's byte range to `member`, and leaves the scanner after the closing `}`.
    static func forEachMember(_ s: inout JSONScanner, of name: String, _ member: (String, Range<Int>) throws -> Void) throws {
        s.i += 1
        var first = true
        while true {
            s.skipWhitespace()
            if s.peek() == UInt8(ascii: "}") { s.i += 1; return }
            if !first {
                guard s.peek() == UInt8(ascii: ",") else { throw ScanError.malformed("expected ',' in \(name)") }
                s.i += 1
                s.skipWhitespace()
            }
            first = false
            let key = try s.string()
            s.skipWhitespace()
            guard s.peek() == UInt8(ascii: ":") else { throw ScanError.malformed("expected ':' in \(name)") }
            s.i += 1
            s.skipWhitespace()
            let start = s.i
            try s.skipValue()
            try member(key, start..<s.i)
        }
    }

    /// Ollama's `options` object: its `num_predict`, if it is an integer (-1, unlimited, is nil).
    static func scanNumPredict(_ s: inout JSONScanner) throws -> Int? {
        var found: Int?
        let scanner = s
        try forEachMember(&s, of: "options") { key, range in
            if key == "num_predict", let n = Int(scanner.slice(range)), n >= 0 { found = min(n, Int(Int32.max)) }
        }
        return found
    }

    static func scanStreamOptions(_ s: inout JSONScanner, into fields: inout RequestFields) throws {
        var usage: (Bool, Range<Int>)?
        let scanner = s
        try forEachMember(&s, of: "stream_options") { key, range in
            guard key == "include_usage" else { return }
            switch scanner.slice(range) {
            case "true": usage = (true, range)
            case "false": usage = (false, range)
            default: throw ScanError.wrongType(field: "stream_options.include_usage", expected: "a boolean")
            }
        }
        if let (value, range) = usage {
            fields.includeUsage = value
            fields.includeUsageRange = range
        }
    }
}

/// A minimal JSON tokenizer over raw bytes: strings are decoded only when asked for,
/// everything else is skipped with structural validation.
struct JSONScanner {
    let bytes: UnsafeRawBufferPointer
    var i = 0
    var depth = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

    func slice(_ r: Range<Int>) -> String { String(decoding: bytes[r], as: UTF8.self) }

    mutating func skipWhitespace() {
        while i < bytes.count, bytes[i] == 32 || bytes[i] == 10 || bytes[i] == 13 || bytes[i] == 9 { i += 1 }
    }

    /// Reads a string at the cursor, decoding escapes.
    mutating func string() throws -> String {
        guard peek() == UInt8(ascii: "\"") else { throw RequestFields.ScanError.malformed("expected a string at byte \(i)") }
        i += 1
        let start = i
        var simple = true
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let raw = bytes[start..<i]
                i += 1
                if simple { return String(decoding: raw, as: UTF8.self) }
                return try Self.unescape(raw)
            }
            if c == UInt8(ascii: "\\") {
                simple = false
                i += 2
                continue
            }
            if c < 32 { throw RequestFields.ScanError.malformed("control character in string") }
            i += 1
        }
        throw RequestFields.ScanError.malformed("unterminated string")
    }

    mutating func skipString() throws {
        guard peek() == UInt8(ascii: "\"") else { throw RequestFields.ScanError.malformed("expected a string") }
        i += 1
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") { i += 1; return }
            if c == UInt8(ascii: "\\") { i += 2; continue }
            if c < 32 { throw RequestFields.ScanError.malformed("control character in string") }
            i += 1
        }
        throw RequestFields.ScanError.malformed("unterminated string")
    }

    mutating func skipValue() throws {
        guard let c = peek() else { throw RequestFields.ScanError.malformed("unexpected end of input") }
        switch c {
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
            guard depth <= 512 else { throw RequestFields.ScanError.malformed("nesting too deep") }
            let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            i += 1
            skipWhitespace()
            if peek() == close { i += 1; depth -= 1; return }
            while true {
                skipWhitespace()
                if close == UInt8(ascii: "}") {
                    try skipString()
                    skipWhitespace()
                    guard peek() == UInt8(ascii: ":") else { throw RequestFields.ScanError.malformed("expected ':' at byte \(i)") }
                    i += 1
                    skipWhitespace()
                }
                try skipValue()
                skipWhitespace()
                if peek() == UInt8(ascii: ",") { i += 1; continue }
                if peek() == close { i += 1; depth -= 1; return }
                throw RequestFields.ScanError.malformed("expected ',' or closing bracket at byte \(i)")
            }
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), 48...57:
            let start = i
            i += 1
            while i < bytes.count, let d = peek(),
                (d >= 48 && d <= 57) || d == UInt8(ascii: ".") || d == UInt8(ascii: "e")
                    || d == UInt8(ascii: "E") || d == UInt8(ascii: "+") || d == UInt8(ascii: "-")
            { i += 1 }
            guard i - start > 1 || c != UInt8(ascii: "-") else { throw RequestFields.ScanError.malformed("bad number") }
        default:
            throw RequestFields.ScanError.malformed("unexpected character at byte \(i)")
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw RequestFields.ScanError.malformed("unexpected end of input") }
        let w = UnsafeRawBufferPointer(start: word.utf8Start, count: n)
        guard bytes[i..<(i + n)].elementsEqual(w) else { throw RequestFields.ScanError.malformed("unexpected literal at byte \(i)") }
        i += n
    }

    static func unescape(_ raw: UnsafeRawBufferPointer.SubSequence) throws -> String {
        var out = [UInt8]()
        out.reserveCapacity(raw.count)
        var j = raw.startIndex
        while j < raw.endIndex {
            let c = raw[j]
            if c != UInt8(ascii: "\\") { out.append(c); j += 1; continue }
            j += 1
            guard j < raw.endIndex else { throw RequestFields.ScanError.malformed("bad escape") }
            switch raw[j] {
            case UInt8(ascii: "\""): out.append(34)
            case UInt8(ascii: "\\"): out.append(92)
            case UInt8(ascii: "/"): out.append(47)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                guard j + 4 < raw.endIndex else { throw RequestFields.ScanError.malformed("bad \\u escape") }
                var v: UInt32 = 0
                for k in 1...4 {
                    guard let d = ChunkedDecoder.hex(raw[j + k]) else { throw RequestFields.ScanError.malformed("bad \\u escape") }
                    v = v << 4 | UInt32(d)
                }
                j += 4
                // Surrogate pairs become U+FFFD; model names never need them.
                let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: throw RequestFields.ScanError.malformed("bad escape")
            }
            j += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
