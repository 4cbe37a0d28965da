import Testing

@testable import SightglassProxy

/// Feeds `wire` to a decoder in pieces of `step` bytes; returns the payload and bytes consumed.
func decodeChunked(_ wire: [UInt8], step: Int, max: Int = .max) throws -> (payload: [UInt8], consumed: Int, done: Bool) {
    var decoder = ChunkedDecoder(maxPayload: max)
    var payload: [UInt8] = []
    var offset = 0
    while offset < wire.count && !decoder.isDone {
        let end = min(wire.count, offset + step)
        let piece = Array(wire[offset..<end])
        let used = try piece.withUnsafeBytes { ptr in
            try decoder.feed(ptr) { range in payload += ptr[range] }
        }
        offset += used
        if used < piece.count { break }
    }
    return (payload, offset, decoder.isDone)
}

@Suite struct ChunkedDecoderTests {
    let wire = Array("5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT".utf8)

    @Test func decodesAtEverySplit() throws {
        for step in 1...wire.count {
            let r = try decodeChunked(wire, step: step)
            #expect(String(decoding: r.payload, as: UTF8.self) == "hello, world")
            #expect(r.done)
            #expect(r.consumed == wire.count - 4, "leaves the next message's bytes")
        }
    }

    @Test(arguments: ["z\r\nab\r\n0\r\n\r\n", "2\r\nabc\r\n0\r\n\r\n", "2\nab\r\n0\r\n\r\n", "ffffffffffffffffff\r\n", "\r\n"])
    func rejectsMalformed(text: String) {
        #expect(throws: HTTPParseError.self) { try decodeChunked(Array(text.utf8), step: 3) }
    }

    @Test func enforcesMaximum() {
        #expect(throws: HTTPParseError.bodyTooLarge) { try decodeChunked(Array("a\r\n0123456789\r\n0\r\n\r\n".utf8), step: 100, max: 5) }
    }

    @Test func uppercaseHexAndLargeChunk() throws {
        let body = [UInt8](repeating: 65, count: 0x1A2B)
        let w = Array("1A2B\r\n".utf8) + body + Array("\r\n0\r\n\r\n".utf8)
        let r = try decodeChunked(w, step: 997)
        #expect(r.payload == body)
    }
}
