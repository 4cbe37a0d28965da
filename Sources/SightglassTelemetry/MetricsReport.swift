import Foundation

/// Distribution summary used throughout the seed-003 JSON: a rate and latency-style statistics.
public struct StatBlock: Codable, Sendable {
    public var rate: Double
    public var avg: Double
    public var min: Double
    public var max: Double
    public var p50: Double
    public var p90: Double
    public var p99: Double

    init(rate: Double, _ h: LogHistogram) {
        self.rate = rate
        avg = h.average
        min = h.count > 0 ? h.min : 0
        max = h.count > 0 ? h.max : 0
        p50 = h.quantile(0.5)
        p90 = h.quantile(0.9)
        p99 = h.quantile(0.99)
    }
}

/// Seed 003's `GET /metrics` JSON: per-endpoint windows plus exact cumulative token totals.
public struct MetricsReport: Codable, Sendable {
    public struct Tokens: Codable, Sendable {
        public var rate, avg, min, max, p50, p90, p99: Double
        public var inputTotal, outputTotal, cachedTotal: Int
        public var estimatedRequests: Int
        enum CodingKeys: String, CodingKey {
            case rate, avg, min, max, p50, p90, p99
            case inputTotal = "input_total", outputTotal = "output_total", cachedTotal = "cached_total"
            case estimatedRequests = "estimated_requests"
        }
    }
    public struct Errors: Codable, Sendable {
        public var rate: Double
        public var count: Int
        public var total: Int
        public var byType: [String: Int]
        enum CodingKeys: String, CodingKey {
            case rate, count, total
            case byType = "by_type"
        }
    }
    public struct Streaming: Codable, Sendable {
        public var activeStreams: Int
        public var completedStreams: Int
        public var failedStreams: Int
        public var ttft: StatBlockNoRate
        public var tokensPerSecond: StatBlockNoRate
        enum CodingKeys: String, CodingKey {
            case activeStreams = "active_streams", completedStreams = "completed_streams", failedStreams = "failed_streams"
            case ttft
            case tokensPerSecond = "tokens_per_second"
        }
    }
    public struct StatBlockNoRate: Codable, Sendable {
        public var avg, min, max, p50, p90, p99: Double
        init(_ h: LogHistogram) {
            let s = StatBlock(rate: 0, h)
            avg = s.avg; min = s.min; max = s.max; p50 = s.p50; p90 = s.p90; p99 = s.p99
        }
    }

    public var timestamp: String
    public var windowSeconds: Double
    public var requests: [String: StatBlock]
    public var responses: [String: StatBlock]
    public var tokens: [String: Tokens]
    public var errors: [String: Errors]
    public var streamingStats: Streaming

    enum CodingKeys: String, CodingKey {
        case timestamp
        case windowSeconds = "window_seconds"
        case requests, responses, tokens, errors
        case streamingStats = "streaming_stats"
    }

    public static func build(_ hub: TelemetryHub, now: Date = Date()) -> MetricsReport {
        let t = now.timeIntervalSince1970
        let live = hub.live()
        return hub.read { agg in
            let window = agg.window(now: t)
            let span = agg.effectiveWindow(now: t)
            var requests: [String: StatBlock] = [:], responses: [String: StatBlock] = [:]
            var tokens: [String: Tokens] = [:], errors: [String: Errors] = [:]
            var ttft = LogHistogram(), tps = LogHistogram()
            for route in Set(agg.byRoute.keys).union(window.keys) {
                let w = window[route] ?? WindowStats()
                let c = agg.byRoute[route] ?? CumulativeStats()
                requests[route] = StatBlock(rate: Double(w.requests) / span, w.latency)
                responses[route] = StatBlock(rate: Double(w.successes) / span, w.successLatency)
                let tb = StatBlock(rate: Double(w.inputTokens + w.outputTokens) / span, w.tokensPerRequest)
                tokens[route] = Tokens(
                    rate: tb.rate, avg: tb.avg, min: tb.min, max: tb.max, p50: tb.p50, p90: tb.p90, p99: tb.p99,
                    inputTotal: c.inputTokens, outputTotal: c.outputTokens, cachedTotal: c.cachedTokens,
                    estimatedRequests: c.estimatedRequests)
                errors[route] = Errors(rate: Double(w.errors) / span, count: w.errors, total: c.errors, byType: w.errorsByType)
                ttft.merge(w.ttft)
                tps.merge(w.tokensPerSecond)
            }
            let streaming = Streaming(
                activeStreams: live.activeStreams, completedStreams: agg.total.streamsCompleted,
                failedStreams: agg.total.streamsFailed, ttft: StatBlockNoRate(ttft), tokensPerSecond: StatBlockNoRate(tps))
            return MetricsReport(
                timestamp: ISO8601.string(now), windowSeconds: span, requests: requests, responses: responses,
                tokens: tokens, errors: errors, streamingStats: streaming)
        }
    }

    /// Seed 003's CSV columns, one row per metric type and endpoint.
    public func csv() -> String {
        var out = "metric_type,endpoint,rate,avg_latency,min_latency,max_latency,p50_latency,p90_latency,p99_latency\n"
        func row(_ type: String, _ endpoint: String, _ s: StatBlock) {
            out += "\(type),\(CSV.field(endpoint)),\(s.rate),\(s.avg),\(s.min),\(s.max),\(s.p50),\(s.p90),\(s.p99)\n"
        }
        for k in requests.keys.sorted() {
            row("requests", k, requests[k]!)
            if let r = responses[k] { row("responses", k, r) }
            if let t = tokens[k] { row("tokens", k, StatBlock(rate: t.rate, LogHistogram())) }
            if let e = errors[k] { row("errors", k, StatBlock(rate: e.rate, LogHistogram())) }
        }
        return out
    }
}

/// JSON string literals written by hand (error bodies, catalog entries), without an encoder.
public enum JSONText {
    /// `s` as a quoted, escaped JSON string.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

/// RFC 4180 field quoting.
public enum CSV {
    public static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// ISO 8601 timestamps with milliseconds, UTC.
public enum ISO8601 {
    public static func string(_ date: Date) -> String { string(epoch: date.timeIntervalSince1970) }

    /// `2026-11-23T10:00:00.123Z`. Written by hand with `gmtime_r`: Foundation's formatter costs
    /// about 100 µs a call, which a page of a thousand requests cannot afford.
    public static func string(epoch: Double) -> String {
        guard epoch.isFinite else { return "1970-01-01T00:00:00.000Z" }
        let whole = epoch.rounded(.down)
        var seconds = time_t(whole)
        let millis = min(999, max(0, Int(((epoch - whole) * 1000).rounded(.down))))
        var t = tm()
        gmtime_r(&seconds, &t)
        var out = [UInt8]()
        out.reserveCapacity(24)
        func put(_ value: Int, _ digits: Int) {
            var d = digits, v = value
            var tmp = [UInt8](repeating: 48, count: digits)
            while d > 0 { d -= 1; tmp[d] = UInt8(48 + v % 10); v /= 10 }
            out += tmp
        }
        put(Int(t.tm_year) + 1900, 4); out.append(45); put(Int(t.tm_mon) + 1, 2); out.append(45); put(Int(t.tm_mday), 2)
        out.append(84); put(Int(t.tm_hour), 2); out.append(58); put(Int(t.tm_min), 2); out.append(58); put(Int(t.tm_sec), 2)
        out.append(46); put(millis, 3); out.append(90)
        return String(decoding: out, as: UTF8.self)
    }
}
