/// Cumulative Prometheus series of one family, with each series' label text rendered once
/// when the series is created so a scrape only appends cached strings and numbers.
struct CounterFamily {
    let name: String
    let help: String
    let labelNames: [String]
    private(set) var series: [[String]: (labels: String, value: Double)] = [:]

    init(_ name: String, help: String, labels: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labels
    }

    mutating func add(_ labels: [String], _ amount: Double = 1) {
        if let i = series.index(forKey: labels) {
            series.values[i].value += amount
        } else {
            series[labels] = (PrometheusText.labelText(labelNames, labels), amount)
        }
    }

    func value(_ labels: [String]) -> Double { series[labels]?.value ?? 0 }

    var isEmpty: Bool { series.isEmpty }

    func render(into out: inout String) {
        guard !series.isEmpty else { return }
        PrometheusText.header(&out, name: name, help: help, type: "counter")
        for (_, s) in series {
            out += name
            if !s.labels.isEmpty { out += "{"; out += s.labels; out += "}" }
            out += " "
            PrometheusText.append(s.value, to: &out)
            out += "\n"
        }
    }
}

/// A Prometheus histogram family with fixed upper bounds.
struct HistogramFamily {
    let name: String
    let help: String
    let labelNames: [String]
    let bounds: [Double]
    let boundText: [String]
    struct Series {
        var labels: String
        var buckets: [UInt64]
        var sum: Double = 0
        var count: UInt64 = 0
    }
    private(set) var series: [[String]: Series] = [:]

    init(_ name: String, help: String, labels: [String], buckets: [Double]) {
        self.name = name
        self.help = help
        self.labelNames = labels
        self.bounds = buckets
        self.boundText = buckets.map { PrometheusText.format($0) }
    }

    mutating func observe(_ labels: [String], _ value: Double) {
        guard value.isFinite else { return }
        if series[labels] == nil {
            series[labels] = Series(labels: PrometheusText.labelText(labelNames, labels), buckets: Array(repeating: 0, count: bounds.count))
        }
        let i = series.index(forKey: labels)!
        // Buckets are stored non-cumulatively and summed at render time.
        var lo = 0, hi = bounds.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if value <= bounds[mid] { hi = mid } else { lo = mid + 1 }
        }
        if lo < bounds.count { series.values[i].buckets[lo] += 1 }
        series.values[i].sum += value
        series.values[i].count += 1
    }

    func snapshot(_ labels: [String]) -> Series? { series[labels] }

    func render(into out: inout String) {
        guard !series.isEmpty else { return }
        PrometheusText.header(&out, name: name, help: help, type: "histogram")
        for (_, s) in series {
            let sep = s.labels.isEmpty ? "" : ","
            var cumulative: UInt64 = 0
            for (i, b) in boundText.enumerated() {
                cumulative += s.buckets[i]
                out += name; out += "_bucket{"; out += s.labels; out += sep; out += "le=\""; out += b; out += "\"} "
                out += String(cumulative); out += "\n"
            }
            out += name; out += "_bucket{"; out += s.labels; out += sep; out += "le=\"+Inf\"} "; out += String(s.count); out += "\n"
            out += name; out += "_sum"
            if !s.labels.isEmpty { out += "{"; out += s.labels; out += "}" }
            out += " "; PrometheusText.append(s.sum, to: &out); out += "\n"
            out += name; out += "_count"
            if !s.labels.isEmpty { out += "{"; out += s.labels; out += "}" }
            out += " "; out += String(s.count); out += "\n"
        }
    }
}

/// Prometheus text exposition format (version 0.0.4) helpers.
public enum PrometheusText {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func header(_ out: inout String, name: String, help: String, type: String) {
        out += "# HELP "; out += name; out += " "; out += help; out += "\n"
        out += "# TYPE "; out += name; out += " "; out += type; out += "\n"
    }

    /// Renders a gauge family from already computed values.
    static func gauge(_ out: inout String, name: String, help: String, labelNames: [String] = [], values: [([String], Double)]) {
        guard !values.isEmpty else { return }
        header(&out, name: name, help: help, type: "gauge")
        for (labels, value) in values {
            out += name
            if !labelNames.isEmpty { out += "{"; out += labelText(labelNames, labels); out += "}" }
            out += " "; append(value, to: &out); out += "\n"
        }
    }

    static func labelText(_ names: [String], _ values: [String]) -> String {
        var s = ""
        for (i, name) in names.enumerated() {
            if i > 0 { s += "," }
            s += name; s += "=\""; s += escape(i < values.count ? values[i] : ""); s += "\""
        }
        return s
    }

    static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else {
            return value
        }
        var out = ""
        for ch in value {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out
    }

    static func format(_ v: Double) -> String {
        var s = ""
        append(v, to: &s)
        return s
    }

    static func append(_ v: Double, to out: inout String) {
        if v.isNaN { out += "NaN"; return }
        if v.isInfinite { out += v > 0 ? "+Inf" : "-Inf"; return }
        if v == v.rounded(), abs(v) < 1e15 {
            out += String(Int64(v))
        } else {
            out += String(v)
        }
    }
}
