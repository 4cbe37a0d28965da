/// Cumulative Prometheus series of one family, with each series' label text rendered once
/// when the series is created so a scrape only appends cached strings and numbers.
/// Series live in arrays; callers may keep a series' slot to update it without hashing labels.
struct CounterFamily {
    let name: String
    let help: String
    let labelNames: [String]
    private(set) var labelText: [String] = []
    private(set) var values: [Double] = []
    private var index: [[String]: Int] = [:]

    init(_ name: String, help: String, labels: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labels
    }

    /// The slot of a series, created (at zero) if new.
    mutating func slot(_ labels: [String]) -> Int {
        if let i = index[labels] { return i }
        index[labels] = values.count
        labelText.append(PrometheusText.labelText(labelNames, labels))
        values.append(0)
        return values.count - 1
    }

    mutating func add(slot: Int, _ amount: Double = 1) { values[slot] += amount }

    mutating func add(_ labels: [String], _ amount: Double = 1) { add(slot: slot(labels), amount) }

    func render(into out: inout String) {
        guard !values.isEmpty else { return }
        PrometheusText.header(&out, name: name, help: help, type: "counter")
        for i in values.indices {
            out += name
            if !labelText[i].isEmpty { out += "{"; out += labelText[i]; out += "}" }
            out += " "
            PrometheusText.append(values[i], to: &out)
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
    private(set) var series: [Series] = []
    private var index: [[String]: Int] = [:]

    init(_ name: String, help: String, labels: [String], buckets: [Double]) {
        self.name = name
        self.help = help
        self.labelNames = labels
        self.bounds = buckets
        self.boundText = buckets.map { PrometheusText.format($0) }
    }

    mutating func slot(_ labels: [String]) -> Int {
        if let i = index[labels] { return i }
        index[labels] = series.count
        series.append(Series(labels: PrometheusText.labelText(labelNames, labels), buckets: Array(repeating: 0, count: bounds.count)))
        return series.count - 1
    }

    mutating func observe(slot i: Int, _ value: Double) {
        guard value.isFinite else { return }
        // Buckets are stored non-cumulatively and summed at render time.
        var lo = 0, hi = bounds.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if value <= bounds[mid] { hi = mid } else { lo = mid + 1 }
        }
        if lo < bounds.count { series[i].buckets[lo] += 1 }
        series[i].sum += value
        series[i].count += 1
    }

    mutating func observe(_ labels: [String], _ value: Double) { observe(slot: slot(labels), value) }

    func render(into out: inout String) {
        guard !series.isEmpty else { return }
        PrometheusText.header(&out, name: name, help: help, type: "histogram")
        for s in series {
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
    public static func gauge(_ out: inout String, name: String, help: String, labelNames: [String] = [], values: [([String], Double)]) {
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
