import NIOCore
import SightglassGovernance

/// The rate-limit headers of an admitted request, written straight into the response head:
/// the same lines as `LimitStatus.headerLines`, without building a string per request.
enum LimitHeaders {
    static func write(_ s: LimitStatus, into out: inout ByteBuffer) {
        if let r = s.requests {
            write(r, into: &out, "x-ratelimit-limit-requests: ", "\r\nx-ratelimit-remaining-requests: ", "\r\nx-ratelimit-reset-requests: ")
        }
        if let t = s.tokens {
            write(t, into: &out, "x-ratelimit-limit-tokens: ", "\r\nx-ratelimit-remaining-tokens: ", "\r\nx-ratelimit-reset-tokens: ")
        }
        if let w = s.requests ?? s.tokens {
            out.writeStaticString("X-RateLimit-Limit: ")
            writeDecimal(w.limit, into: &out)
            out.writeStaticString("\r\nX-RateLimit-Remaining: ")
            writeDecimal(w.remaining, into: &out)
            out.writeStaticString("\r\nX-RateLimit-Reset: ")
            writeDecimal(Int(w.resetAt), into: &out)
            out.writeStaticString("\r\n")
        }
    }

    /// OpenAI's three lines for one window, under the given names.
    static func write(_ w: LimitWindow, into out: inout ByteBuffer, _ limit: StaticString, _ remaining: StaticString, _ reset: StaticString) {
        out.writeStaticString(limit)
        writeDecimal(w.limit, into: &out)
        out.writeStaticString(remaining)
        writeDecimal(w.remaining, into: &out)
        out.writeStaticString(reset)
        writeDuration(w.resetSeconds, into: &out)
        out.writeStaticString("\r\n")
    }

    /// A non-negative integer in decimal ASCII (negative values are written as 0).
    static func writeDecimal(_ value: Int, into out: inout ByteBuffer) {
        var n = max(0, value)
        var digits:
            (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            repeat {
                buf[19 - count] = UInt8(48 + n % 10)
                n /= 10
                count += 1
            } while n > 0
            out.writeBytes(UnsafeRawBufferPointer(rebasing: buf[(20 - count)...]))
        }
    }

    /// Go's duration format, by the rule `LimitCalendar.GoDuration` holds.
    static func writeDuration(_ seconds: Double, into out: inout ByteBuffer) {
        switch LimitCalendar.GoDuration(seconds) {
        case .milliseconds(let ms):
            writeDecimal(ms, into: &out)
            out.writeStaticString("ms")
        case .clock(let h, let m, let sec):
            if h > 0 {
                writeDecimal(h, into: &out)
                out.writeStaticString("h")
            }
            if h > 0 || m > 0 {
                writeDecimal(m, into: &out)
                out.writeStaticString("m")
            }
            writeDecimal(sec, into: &out)
            out.writeStaticString("s")
        }
    }
}
