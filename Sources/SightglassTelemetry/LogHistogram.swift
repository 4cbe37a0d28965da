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

    /// LEB128 varint, as the ledger's histogram bytes use it (`DenseHistogram.encoded()`).
    public static func putVarint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 { out.append(UInt8(v & 0x7f) | 0x80); v >>= 7 }
        out.append(UInt8(v))
    }
}
