import NIOCore
import PostgresNIO

/// Where a row's values go: a `COPY` text line or an insert's bindings.
protocol PostgresRowValues {
    mutating func int(_ v: Int64?)
    mutating func bool(_ v: Bool)
    mutating func double(_ v: Double)
    mutating func text(_ v: String?)
}

extension PostgresBindings: PostgresRowValues {
    mutating func int(_ v: Int64?) { append(v) }
    mutating func bool(_ v: Bool) { append(v) }
    mutating func double(_ v: Double) { append(v) }
    mutating func text(_ v: String?) { append(v) }
}

/// Rows in PostgreSQL's `COPY … FROM STDIN` text format: values separated by tabs, rows by
/// newlines, `\N` for NULL, and backslash, tab, newline and carriage return escaped in text.
struct PostgresCopyLine: PostgresRowValues {
    var buffer: ByteBuffer
    private var first = true

    init(capacity: Int) { buffer = ByteBufferAllocator().buffer(capacity: capacity) }

    private mutating func separate() {
        if !first { buffer.writeInteger(UInt8(ascii: "\t")) }
        first = false
    }

    private mutating func null() { buffer.writeStaticString("\\N") }

    mutating func int(_ v: Int64?) {
        separate()
        guard let v else { return null() }
        buffer.writeString(String(v))
    }

    mutating func bool(_ v: Bool) {
        separate()
        buffer.writeInteger(v ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    }

    /// Swift prints the shortest text that reads back as the same double, which PostgreSQL parses.
    mutating func double(_ v: Double) {
        separate()
        buffer.writeString(v.isFinite ? "\(v)" : "0")
    }

    mutating func text(_ v: String?) {
        separate()
        guard let v else { return null() }
        let special = v.utf8.contains { $0 == UInt8(ascii: "\\") || $0 < 32 }
        guard special else { buffer.writeString(v); return }
        for b in v.utf8 {
            switch b {
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
            case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
            case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
            case 0: continue  // PostgreSQL text cannot hold NUL
            default: buffer.writeInteger(b)
            }
        }
    }

    mutating func endRow() {
        buffer.writeInteger(UInt8(ascii: "\n"))
        first = true
    }
}
