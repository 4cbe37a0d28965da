/// Token counts a backend reported for one request.
public struct Usage: Sendable, Equatable {
    public var input: Int
    public var output: Int
    public var cached: Int

    public init(input: Int, output: Int, cached: Int = 0) {
        self.input = input
        self.output = output
        self.cached = cached
    }

    static let usageKey = Array("\"usage\"".utf8)
    static let promptTokens = Array("\"prompt_tokens\"".utf8)
    static let completionTokens = Array("\"completion_tokens\"".utf8)
    static let cachedTokens = Array("\"cached_tokens\"".utf8)
    static let promptEvalCount = Array("\"prompt_eval_count\"".utf8)
    static let evalCount = Array("\"eval_count\"".utf8)

    /// OpenAI `usage{prompt_tokens, completion_tokens, prompt_tokens_details{cached_tokens}}`,
    /// searched from the last `"usage"` object in the range (a null usage is skipped).
    public static func openAI(in bytes: UnsafeRawBufferPointer, range: Range<Int>) -> Usage? {
        var from = range.lowerBound
        var found: Range<Int>?
        while let start = ByteSearch.valueStart(ofKey: usageKey, in: bytes, range: from..<range.upperBound) {
            if start < range.upperBound, bytes[start] == UInt8(ascii: "{"),
                let end = ByteSearch.matchingClose(bytes, from: start, end: range.upperBound)
            {
                found = start..<end
            }
            from = start
        }
        guard let r = found else { return nil }
        guard let input = ByteSearch.int(forKey: promptTokens, in: bytes, range: r) else { return nil }
        let output = ByteSearch.int(forKey: completionTokens, in: bytes, range: r) ?? 0
        let cached = ByteSearch.int(forKey: cachedTokens, in: bytes, range: r) ?? 0
        return Usage(input: input, output: output, cached: cached)
    }

    /// Ollama's final object: `prompt_eval_count` and `eval_count` (absent when 0 or cached).
    public static func ollama(in bytes: UnsafeRawBufferPointer, range: Range<Int>) -> Usage? {
        let input = ByteSearch.int(forKey: promptEvalCount, in: bytes, range: range)
        let output = ByteSearch.int(forKey: evalCount, in: bytes, range: range)
        guard input != nil || output != nil else { return nil }
        return Usage(input: input ?? 0, output: output ?? 0)
    }
}
