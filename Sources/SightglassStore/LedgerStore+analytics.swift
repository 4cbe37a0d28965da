import Foundation

/// What analytics can be grouped by.
public enum AnalyticsGroup: String, Sendable, CaseIterable {
    case model, backend, route, status, user, project
    case apiKey = "api_key"

    /// Groups read from the key rollups (requests made with a key) rather than the main ones.
    public var byKey: Bool { self == .project || self == .apiKey }
}

/// The time-series metrics of `/api/analytics/timeseries`.
public enum AnalyticsMetric: String, Sendable, CaseIterable {
    case requests, errors
    case errorRate = "error_rate"
    case tokensIn = "tokens_in"
    case tokensOut = "tokens_out"
    case cost
    /// The part of `cost` priced from estimated token counts.
    case estimatedCost = "estimated_cost"
    case latencyP50 = "latency_p50"
    case latencyP95 = "latency_p95"
    case latencyP99 = "latency_p99"
    case ttftP50 = "ttft_p50"
    case ttftP95 = "ttft_p95"
    case tokensPerSecond = "tokens_per_second"

    /// Percentiles need the histograms; counts and sums do not, and skip decoding them.
    var needsHistograms: Bool {
        switch self {
        case .latencyP50, .latencyP95, .latencyP99, .ttftP50, .ttftP95: return true
        default: return false
        }
    }

    /// The value of a cell; nil where the cell has no data for it (no requests, no streams).
    /// Latencies and TTFT in milliseconds.
    public func value(_ c: RollupCell) -> Double? {
        switch self {
        case .requests: return Double(c.count)
        case .errors: return Double(c.errors)
        case .errorRate: return c.count > 0 ? c.errorRate : nil
        case .tokensIn: return Double(c.tokensIn)
        case .tokensOut: return Double(c.tokensOut)
        case .cost: return c.cost
        case .estimatedCost: return c.estimatedCost
        case .latencyP50: return c.latency.count > 0 ? c.latency.quantile(0.5) * 1000 : nil
        case .latencyP95: return c.latency.count > 0 ? c.latency.quantile(0.95) * 1000 : nil
        case .latencyP99: return c.latency.count > 0 ? c.latency.quantile(0.99) * 1000 : nil
        case .ttftP50: return c.ttft.count > 0 ? c.ttft.quantile(0.5) * 1000 : nil
        case .ttftP95: return c.ttft.count > 0 ? c.ttft.quantile(0.95) * 1000 : nil
        case .tokensPerSecond: return c.genSeconds > 0 ? c.tokensPerSecond : nil
        }
    }
}

/// Intervals of `/api/analytics/timeseries`, and the rollup level each reads.
public enum AnalyticsInterval: String, Sendable, CaseIterable {
    case oneMinute = "1m", fiveMinutes = "5m", oneHour = "1h", oneDay = "1d"

    public var seconds: Int64 {
        switch self {
        case .oneMinute: 60
        case .fiveMinutes: 300
        case .oneHour: 3600
        case .oneDay: 86400
        }
    }

    var level: RollupLevel {
        switch self {
        case .oneMinute, .fiveMinutes: .minute
        case .oneHour: .hour
        case .oneDay: .day
        }
    }
}

public struct TimeSeries: Sendable {
    public var group: String
    /// (bucket start, value); every bucket of the range, nil where there is no data.
    public var points: [(time: Int64, value: Double?)]
}

public struct BreakdownRow: Sendable {
    public var key: String
    public var cell: RollupCell
}

/// A time bucket's index within a series of one group.
struct SeriesSlot: Hashable {
    var group: String
    var index: Int64
}

/// The most points one time series may have.
public let maxSeriesPoints = 5_000

extension LedgerStore {

    /// One series per group (or one, "all"), every bucket of [since, until) at `interval`.
    public func timeseries(
        metric: AnalyticsMetric, interval: AnalyticsInterval, group: AnalyticsGroup?,
        since: Double, until: Double
    ) async throws(LedgerQueryError) -> [TimeSeries] {
        if group == .user {
            throw LedgerQueryError(field: "group_by", message: "group_by=user is not available for time series; use /api/analytics/breakdown?by=user")
        }
        let step = interval.seconds
        let first = Int64(since.rounded(.down)) / step * step
        let count = (Int64(until.rounded(.up)) - first + step - 1) / step
        guard count <= maxSeriesPoints else {
            throw LedgerQueryError(
                field: "interval",
                message: "\(count) points at \(interval.rawValue) over this range; use a larger interval or a shorter range (at most \(maxSeriesPoints))")
        }
        let merged: [SeriesSlot: RollupCell]
        do {
            merged = try await rollups(level: interval.level, since: Double(first), until: until, group: group, histograms: metric.needsHistograms) {
                bucket, g in
                let slot = (bucket - first) / step
                return slot >= 0 && slot < count ? SeriesSlot(group: g, index: slot) : nil
            }
        } catch {
            throw LedgerQueryError(field: "store", message: "the ledger could not be read: \(error)")
        }
        var byGroup: [String: [Int64: RollupCell]] = [:]
        for (slot, cell) in merged { byGroup[slot.group, default: [:]][slot.index] = cell }
        if byGroup.isEmpty && group == nil { byGroup["all"] = [:] }
        return byGroup.keys.sorted().map { g in
            let slots = byGroup[g]!
            let points = (0..<count).map { i -> (Int64, Double?) in
                let t = first + i * step
                guard let cell = slots[i] else {
                    // Counting metrics are 0 in an empty bucket; rates and percentiles have no value.
                    switch metric {
                    case .requests, .errors, .tokensIn, .tokensOut, .cost: return (t, 0)
                    default: return (t, nil)
                    }
                }
                return (t, metric.value(cell))
            }
            return TimeSeries(group: g, points: points)
        }
    }

    /// Aggregates per group over [since, until), read from the finest rollup level that keeps the
    /// whole range readable quickly: minutes up to two days, hours up to 90 days, else days.
    public func breakdown(by group: AnalyticsGroup, since: Double, until: Double) async throws(LedgerQueryError) -> (rows: [BreakdownRow], total: RollupCell) {
        var groups: [String: RollupCell] = [:]
        do {
            if group == .user {
                groups = try await userCells(since: since, until: until)
            } else if group.byKey {
                let span = until - since
                let level: RollupLevel = span <= 2 * 86400 ? .minute : (span <= 90 * 86400 ? .hour : .day)
                for row in try await keyUsage(level: level, since: since, until: until) {
                    groups[group == .project ? row.project : row.apiKey, default: RollupCell()].merge(row.cell)
                }
            } else {
                let span = until - since
                let level: RollupLevel = span <= 2 * 86400 ? .minute : (span <= 90 * 86400 ? .hour : .day)
                groups = try await rollups(level: level, since: since, until: until, group: group, histograms: true) { _, g in g }
            }
        } catch {
            throw LedgerQueryError(field: "store", message: "the ledger could not be read: \(error)")
        }
        var total = RollupCell()
        for c in groups.values { total.merge(c) }
        let rows = groups.map { BreakdownRow(key: $0.key, cell: $0.value) }.sorted {
            $0.cell.count != $1.cell.count ? $0.cell.count > $1.cell.count : $0.key < $1.key
        }
        return (rows, total)
    }
}
