import Foundation

/// A mergeable histogram with logarithmic buckets (about 2 % relative width).
///
/// Bounded memory whatever the traffic, O(1) to record, and percentiles of any union of
/// histograms (per second, per minute, per model) without keeping samples.
public struct LogHistogram: Sendable, Equatable {
    /// Smallest value resolved; smaller values land in bucket 0.
    public static let minValue = 1e-6
    static let growth = 1.04
    static let logGrowth = log(growth)
    public static let bucketCount = 800  // 1e-6 * 1.04^800 ≈ 4e7

    public private(set) var counts: [UInt32: UInt32] = [:]
    public private(set) var count: Int = 0
    public private(set) var sum: Double = 0
    public private(set) var min: Double = .infinity
    public private(set) var max: Double = -.infinity

    public init() {}

    public mutating func record(_ value: Double) {
        guard value.isFinite, value >= 0 else { return }
        let index = Self.bucket(for: value)
        counts[index, default: 0] &+= 1
        count += 1
        sum += value
        if value < min { min = value }
        if value > max { max = value }
    }

    public mutating func merge(_ other: LogHistogram) {
        guard other.count > 0 else { return }
        for (k, v) in other.counts { counts[k, default: 0] &+= v }
        count += other.count
        sum += other.sum
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
    }

    public var average: Double { count > 0 ? sum / Double(count) : 0 }

    /// The value at quantile `q` (0...1), clamped to the observed min and max.
    public func quantile(_ q: Double) -> Double {
        guard count > 0 else { return 0 }
        let rank = Swift.max(1, Int((q * Double(count)).rounded(.up)))
        var seen = 0
        for index in counts.keys.sorted() {
            seen += Int(counts[index]!)
            if seen >= rank {
                return Swift.min(max, Swift.max(min, Self.representative(of: index)))
            }
        }
        return max
    }

    public static func bucket(for value: Double) -> UInt32 {
        if value <= minValue { return 0 }
        let i = Int(log(value / minValue) / logGrowth) + 1
        return UInt32(Swift.min(i, bucketCount))
    }

    /// Geometric middle of a bucket.
    public static func representative(of index: UInt32) -> Double {
        if index == 0 { return minValue }
        let lower = minValue * pow(growth, Double(index - 1))
        return lower * sqrt(growth)
    }

    // MARK: - Storage form

    /// A compact byte form for the ledger's rollups: count, sum, min, max, then (bucket, count)
    /// pairs as LEB128 varints. Empty histograms encode to no bytes.
    public func encoded() -> [UInt8] {
        guard count > 0 else { return [] }
        var out: [UInt8] = []
        out.reserveCapacity(32 + counts.count * 3)
        Self.putVarint(UInt64(count), &out)
        for d in [sum, min, max] { withUnsafeBytes(of: d.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        for k in counts.keys.sorted() {
            Self.putVarint(UInt64(k), &out)
            Self.putVarint(UInt64(counts[k]!), &out)
        }
        return out
    }

    /// Reads `encoded()` bytes; nil if they are not a histogram.
    public init?<Bytes: Collection>(encoded bytes: Bytes) where Bytes.Element == UInt8 {
        self.init()
        guard !bytes.isEmpty else { return }
        var i = bytes.startIndex
        func varint() -> UInt64? {
            var v: UInt64 = 0, shift: UInt64 = 0
            while i != bytes.endIndex, shift < 64 {
                let b = bytes[i]; i = bytes.index(after: i)
                v |= UInt64(b & 0x7f) << shift
                if b & 0x80 == 0 { return v }
                shift += 7
            }
            return nil
        }
        func double() -> Double? {
            var bits: UInt64 = 0
            for n in 0..<8 {
                guard i != bytes.endIndex else { return nil }
                bits |= UInt64(bytes[i]) << (8 * UInt64(n)); i = bytes.index(after: i)
            }
            return Double(bitPattern: bits)
        }
        guard let c = varint(), let s = double(), let lo = double(), let hi = double() else { return nil }
        var total = 0
        while i != bytes.endIndex {
            guard let k = varint(), let n = varint(), k <= UInt64(Self.bucketCount), n <= UInt64(UInt32.max) else { return nil }
            counts[UInt32(k), default: 0] &+= UInt32(n)
            total += Int(n)
        }
        guard total == Int(c) else { return nil }
        count = Int(c); sum = s; min = lo; max = hi
    }

    public static func putVarint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }
}
