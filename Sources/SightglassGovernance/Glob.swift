/// Shell-style patterns for model names in key scopes: `*` any run of characters, `?` one
/// character, everything else literal (`qwen2.5:*`, `llama3.?:1b`, `*`).
public struct Glob: Sendable, Hashable, Codable {
    public let pattern: String
    let bytes: [UInt8]

    public init(_ pattern: String) {
        self.pattern = pattern
        bytes = Array(pattern.utf8)
    }

    public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(pattern)
    }

    /// Whether `pattern` can be a scope: non-empty visible ASCII without `,` (scopes travel as a
    /// comma-separated header between the planes, so a comma or a line break must never be in one).
    public static func isValid(_ pattern: String) -> Bool {
        !pattern.isEmpty && pattern.utf8.count <= 256 && pattern.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ",") }
    }

    /// Iterative matching with one backtrack point: linear in practice, no recursion.
    public func matches(_ name: String) -> Bool {
        let s = Array(name.utf8)
        var p = 0, i = 0
        var star = -1, mark = 0
        while i < s.count {
            if p < bytes.count && (bytes[p] == UInt8(ascii: "?") || bytes[p] == s[i]) {
                p += 1
                i += 1
            } else if p < bytes.count && bytes[p] == UInt8(ascii: "*") {
                star = p
                mark = i
                p += 1
            } else if star >= 0 {
                p = star + 1
                mark += 1
                i = mark
            } else {
                return false
            }
        }
        while p < bytes.count && bytes[p] == UInt8(ascii: "*") { p += 1 }
        return p == bytes.count
    }
}
