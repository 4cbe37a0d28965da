import CSightglassShims

/// Small byte-pattern helpers for scanning JSON text that is being relayed, without decoding it.
enum ByteSearch {
    /// First index of `pattern` in `bytes[range]` (libc's vectorised `memmem`).
    static func find(_ pattern: [UInt8], in bytes: UnsafeRawBufferPointer, range: Range<Int>) -> Int? {
        guard !pattern.isEmpty, pattern.count <= range.count, let base = bytes.baseAddress else { return nil }
        return pattern.withUnsafeBytes { p -> Int? in
            guard let hit = sg_memmem(base + range.lowerBound, range.count, p.baseAddress!, p.count) else { return nil }
            return UnsafeRawPointer(hit) - base
        }
    }

    static func skipWhitespace(_ bytes: UnsafeRawBufferPointer, _ i: inout Int, _ end: Int) {
        while i < end, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 10 || bytes[i] == 13 { i += 1 }
    }

    /// Index of the value after `"key"` and its colon, scanning from `range.lowerBound`.
    static func valueStart(ofKey key: [UInt8], in bytes: UnsafeRawBufferPointer, range: Range<Int>) -> Int? {
        var from = range.lowerBound
        while let k = find(key, in: bytes, range: from..<range.upperBound) {
            var i = k + key.count
            skipWhitespace(bytes, &i, range.upperBound)
            if i < range.upperBound && bytes[i] == UInt8(ascii: ":") {
                i += 1
                skipWhitespace(bytes, &i, range.upperBound)
                return i
            }
            from = k + 1
        }
        return nil
    }

    /// The non-negative integer value of `"key"` in `bytes[range]`.
    static func int(forKey key: [UInt8], in bytes: UnsafeRawBufferPointer, range: Range<Int>) -> Int? {
        guard var i = valueStart(ofKey: key, in: bytes, range: range) else { return nil }
        var value = 0
        var digits = 0
        while i < range.upperBound, bytes[i] >= 48, bytes[i] <= 57, digits < 18 {
            value = value * 10 + Int(bytes[i] - 48)
            digits += 1
            i += 1
        }
        return digits > 0 ? value : nil
    }

    /// True if some `"key"` in the range has a non-empty string value.
    static func hasNonEmptyString(forKey key: [UInt8], in bytes: UnsafeRawBufferPointer, range: Range<Int>) -> Bool {
        var from = range.lowerBound
        while let k = find(key, in: bytes, range: from..<range.upperBound) {
            var i = k + key.count
            skipWhitespace(bytes, &i, range.upperBound)
            if i < range.upperBound && bytes[i] == UInt8(ascii: ":") {
                i += 1
                skipWhitespace(bytes, &i, range.upperBound)
                if i + 1 < range.upperBound && bytes[i] == UInt8(ascii: "\"") && bytes[i + 1] != UInt8(ascii: "\"") { return true }
            }
            from = k + 1
        }
        return false
    }

    /// End (exclusive) of the JSON object or array starting at `start`, skipping strings.
    static func matchingClose(_ bytes: UnsafeRawBufferPointer, from start: Int, end: Int) -> Int? {
        var depth = 0
        var i = start
        var inString = false
        while i < end {
            let c = bytes[i]
            if inString {
                if c == UInt8(ascii: "\\") { i += 2; continue }
                if c == UInt8(ascii: "\"") { inString = false }
            } else if c == UInt8(ascii: "\"") {
                inString = true
            } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                depth += 1
            } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { return i + 1 }
            }
            i += 1
        }
        return nil
    }
}
