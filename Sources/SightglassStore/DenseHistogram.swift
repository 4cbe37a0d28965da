import SightglassTelemetry

/// `LogHistogram`'s buckets in a flat array: what the rollups merge by the thousand when a
/// query spans weeks. Same buckets and byte form as `LogHistogram`, so either reads the other's
/// bytes; a dictionary per histogram made a 30-day breakdown cost a third of a second.
public struct DenseHistogram: Sendable {
    var counts: [UInt32] = []  // allocated on the first value
    public private(set) var count = 0
    public private(set) var sum = 0.0
    public private(set) var min = Double.infinity
    public private(set) var max = -Double.infinity

    public init() {}

    public mutating func record(_ value: Double) {
        guard value.isFinite, value >= 0 else { return }
        if counts.isEmpty { counts = Array(repeating: 0, count: LogHistogram.bucketCount + 1) }
        counts[Int(LogHistogram.bucket(for: value))] &+= 1
        count += 1
        sum += value
        min = Swift.min(min, value)
        max = Swift.max(max, value)
    }

    public mutating func merge(_ o: DenseHistogram) {
        guard o.count > 0 else { return }
        if counts.isEmpty { counts = o.counts } else { for i in counts.indices { counts[i] &+= o.counts[i] } }
        count += o.count
        sum += o.sum
        min = Swift.min(min, o.min)
        max = Swift.max(max, o.max)
    }

    /// Adds a histogram in its byte form, without building it first. False, and nothing added,
    /// if the bytes are not one (truncated, out-of-range bucket, counts that do not add up).
    @discardableResult
    public mutating func merge<Bytes: RandomAccessCollection>(encoded bytes: Bytes) -> Bool where Bytes.Element == UInt8, Bytes.Index == Int {
        guard !bytes.isEmpty else { return true }
        var i = bytes.startIndex
        func varint() -> UInt64? {
            var v: UInt64 = 0, shift: UInt64 = 0
            while i < bytes.endIndex, shift < 64 {
                let b = bytes[i]; i += 1
                v |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { return v }
                shift += 7
            }
            return nil
        }
        func double() -> Double? {
            guard i + 8 <= bytes.endIndex else { return nil }
            var bits: UInt64 = 0
            for n in 0..<8 { bits |= UInt64(bytes[i + n]) << (8 * UInt64(n)) }
            i += 8
            return Double(bitPattern: bits)
        }
        guard let c = varint(), let s = double(), let lo = double(), let hi = double() else { return false }
        var pairs: [(Int, UInt32)] = []
        var total: UInt64 = 0
        while i < bytes.endIndex {
            guard let k = varint(), let n = varint(), k <= UInt64(LogHistogram.bucketCount), n <= UInt64(UInt32.max) else { return false }
            pairs.append((Int(k), UInt32(n)))
            total &+= n
        }
        guard total == c else { return false }
        if counts.isEmpty { counts = Array(repeating: 0, count: LogHistogram.bucketCount + 1) }
        for (k, n) in pairs { counts[k] &+= n }
        count += Int(c)
        sum += s
        min = Swift.min(min, lo)
        max = Swift.max(max, hi)
        return true
    }

    /// Count, sum, min and max, then (bucket, count) pairs, as LEB128 varints; no bytes when empty.
    public func encoded() -> [UInt8] {
        guard count > 0 else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity(64)
        LogHistogram.putVarint(UInt64(count), &out)
        for d in [sum, min, max] { withUnsafeBytes(of: d.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        for (k, n) in counts.enumerated() where n > 0 {
            LogHistogram.putVarint(UInt64(k), &out)
            LogHistogram.putVarint(UInt64(n), &out)
        }
        return out
    }

    public var average: Double { count > 0 ? sum / Double(count) : 0 }

    /// The value at quantile `q` (0...1), clamped to the observed min and max.
    public func quantile(_ q: Double) -> Double {
        guard count > 0 else { return 0 }
        let rank = Swift.max(1, Int((q * Double(count)).rounded(.up)))
        var seen = 0
        for (k, n) in counts.enumerated() where n > 0 {
            seen += Int(n)
            if seen >= rank { return Swift.min(max, Swift.max(min, LogHistogram.representative(of: UInt32(k)))) }
        }
        return max
    }
}
