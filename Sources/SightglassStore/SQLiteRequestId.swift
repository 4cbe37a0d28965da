import Foundation
import GRDB

/// How a request id is kept in SQLite's `requests.id`: the gateway's own ids (`req_` and 20
/// hex digits) as their 10 raw bytes, any other id (a client's `X-Request-Id`) as text.
///
/// The id is the largest thing in a row; this keeps a row and its index entry within the
/// ledger's size budget (≤ 150 bytes a request) without losing a character: the text comes
/// back exactly as it went in.
enum SQLiteRequestId {
    static let prefix = "req_"
    static let hexDigits = 20

    /// Bytes a gateway id takes in its compact form.
    static let compactByteCount = hexDigits / 2

    /// What to bind for `id` in an insert or a lookup.
    static func stored(_ id: String) -> DatabaseValue {
        withUnsafeTemporaryAllocation(byteCount: compactByteCount, alignment: 1) { bytes in
            compact(id, into: bytes) ? Data(bytes).databaseValue : id.databaseValue
        }
    }

    /// Writes the 10 bytes of a gateway id into `out` (at least `compactByteCount` long);
    /// false, leaving `out` undefined, for any other id, which is then kept as text.
    static func compact(_ id: String, into out: UnsafeMutableRawBufferPointer) -> Bool {
        let utf8 = id.utf8
        guard utf8.count == prefix.utf8.count + hexDigits, id.hasPrefix(prefix) else { return false }
        var n = 0
        var high: UInt8?
        for c in utf8.dropFirst(prefix.utf8.count) {
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c - UInt8(ascii: "a") + 10
            default: return false  // upper case or not hex: kept as sent
            }
            if let h = high {
                out[n] = h << 4 | v
                n += 1
                high = nil
            } else {
                high = v
            }
        }
        return true
    }

    /// The id's text, from either form.
    static func text(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .blob(let data):
            let digits: [UInt8] = Array("0123456789abcdef".utf8)
            var out = [UInt8](prefix.utf8)
            for b in data { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xf)]) }
            return String(decoding: out, as: UTF8.self)
        case .string(let s): return s
        default: return ""
        }
    }

    /// The id as text inside SQL, for searching within ids.
    static let searchExpression = "(CASE WHEN typeof(id) = 'blob' THEN '\(prefix)' || lower(hex(id)) ELSE id END)"

    /// `compact_request_id(id)`: `stored` for SQL, used when the v5 migration rewrites old rows.
    static let function = DatabaseFunction("compact_request_id", argumentCount: 1, pure: true) { values in
        guard let s = String.fromDatabaseValue(values[0]) else { return values[0] }
        return stored(s)
    }
}
