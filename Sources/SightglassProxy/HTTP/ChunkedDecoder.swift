/// Incremental decoder of `Transfer-Encoding: chunked` (RFC 9112 §7.1).
///
/// Fed arbitrary slices of the wire, it reports the ranges of payload data inside each slice
/// without copying, so the relay can forward raw bytes and still see the decoded payload.
public struct ChunkedDecoder: Sendable, Equatable {
    enum State: Equatable, Sendable {
        case size(value: Int, digits: Int)
        case extensionUntilCR
        case sizeLF
        case data(remaining: Int)
        case dataCR
        case dataLF
        case trailerLineStart
        case trailerLine
        case trailerLF(blank: Bool)
        case done
    }

    var state: State = .size(value: 0, digits: 0)
    /// Payload bytes decoded so far.
    public private(set) var payloadBytes = 0
    /// Upper bound on total payload; exceeding it throws `bodyTooLarge`.
    public let maxPayload: Int

    public init(maxPayload: Int = .max) {
        self.maxPayload = maxPayload
    }

    public var isDone: Bool { state == .done }

    /// Consumes bytes up to the end of the message. Returns how many bytes were consumed;
    /// fewer than `bytes.count` only when the message ended inside this slice.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, onData: (Range<Int>) -> Void) throws -> Int {
        var i = 0
        let n = bytes.count
        while i < n {
            switch state {
            case .done:
                return i
            case .size(let value, let digits):
                let c = bytes[i]
                if let d = Self.hex(c) {
                    guard digits < 15 else { throw HTTPParseError.badChunk }
                    state = .size(value: value << 4 | d, digits: digits + 1)
                } else if digits == 0 {
                    throw HTTPParseError.badChunk
                } else if c == 13 {
                    state = .sizeLF
                    pendingSize = value
                } else if c == 59 || c == 32 || c == 9 {  // ';' chunk extension (or BWS before it)
                    state = .extensionUntilCR
                    pendingSize = value
                } else {
                    throw HTTPParseError.badChunk
                }
                i += 1
            case .extensionUntilCR:
                let c = bytes[i]
                if c == 13 { state = .sizeLF } else if c == 10 { throw HTTPParseError.badChunk }
                i += 1
            case .sizeLF:
                guard bytes[i] == 10 else { throw HTTPParseError.badChunk }
                i += 1
                if pendingSize == 0 {
                    state = .trailerLineStart
                } else {
                    guard payloadBytes + pendingSize <= maxPayload else { throw HTTPParseError.bodyTooLarge }
                    state = .data(remaining: pendingSize)
                }
            case .data(let remaining):
                let take = Swift.min(remaining, n - i)
                onData(i..<(i + take))
                payloadBytes += take
                i += take
                state = remaining == take ? .dataCR : .data(remaining: remaining - take)
            case .dataCR:
                guard bytes[i] == 13 else { throw HTTPParseError.badChunk }
                state = .dataLF
                i += 1
            case .dataLF:
                guard bytes[i] == 10 else { throw HTTPParseError.badChunk }
                state = .size(value: 0, digits: 0)
                i += 1
            case .trailerLineStart:
                state = bytes[i] == 13 ? .trailerLF(blank: true) : .trailerLine
                if bytes[i] == 10 { throw HTTPParseError.badChunk }
                i += 1
            case .trailerLine:
                if bytes[i] == 13 { state = .trailerLF(blank: false) }
                i += 1
            case .trailerLF(let blank):
                guard bytes[i] == 10 else { throw HTTPParseError.badChunk }
                state = blank ? .done : .trailerLineStart
                i += 1
            }
        }
        return i
    }

    var pendingSize = 0

    static func hex(_ c: UInt8) -> Int? {
        switch c {
        case 48...57: return Int(c - 48)
        case 65...70: return Int(c - 55)
        case 97...102: return Int(c - 87)
        default: return nil
        }
    }
}
