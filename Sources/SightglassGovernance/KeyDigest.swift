import Crypto

/// The SHA-256 of an API key: all the gateway ever stores or compares. Equality looks at every
/// byte whatever the first difference (constant time), so a lookup reveals nothing of a digest
/// by how long it takes; the hash is the first word, which the digest spreads evenly.
public struct KeyDigest: Hashable, Sendable {
    let w0, w1, w2, w3: UInt64

    /// The digest of a presented key, from its bytes as sent.
    public init(of key: some Collection<UInt8>) {
        self.init(digest: SHA256.hash(data: Array(key)))
    }

    /// Hashes the string's UTF-8 in place: no copy on the request path.
    public init(of key: String) {
        var key = key
        self.init(digest: key.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) })
    }

    init(digest d: SHA256.Digest) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        d.withUnsafeBytes { raw in
            words = (
                raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self), raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
            )
        }
        (w0, w1, w2, w3) = words
    }

    /// From 64 hex digits, as stored; nil for anything else.
    public init?(hex: String) {
        let bytes = Array(hex.utf8)
        guard bytes.count == 64 else { return nil }
        var out = [UInt64](repeating: 0, count: 4)
        for (i, c) in bytes.enumerated() {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            // Bytes in order, each word little-endian as loaded above.
            let byte = i / 2, shift = UInt64((byte % 8) * 8 + (i % 2 == 0 ? 4 : 0))
            out[byte / 8] |= UInt64(v) << shift
        }
        (w0, w1, w2, w3) = (out[0], out[1], out[2], out[3])
    }

    /// 64 lowercase hex digits, the digest's bytes in order.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for w in [w0, w1, w2, w3] {
            for b in 0..<8 {
                let byte = UInt8(truncatingIfNeeded: w >> UInt64(b * 8))
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0xf)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func == (a: KeyDigest, b: KeyDigest) -> Bool {
        ((a.w0 ^ b.w0) | (a.w1 ^ b.w1) | (a.w2 ^ b.w2) | (a.w3 ^ b.w3)) == 0
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(w0) }
}
