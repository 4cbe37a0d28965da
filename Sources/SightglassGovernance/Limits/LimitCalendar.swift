import SightglassConfig

/// Window arithmetic on Unix seconds (UTC): minute and day windows, and budget periods
/// (day, ISO week from Monday, calendar month). Pure functions, so every edge is a unit test.
public enum LimitCalendar {
    public static func minute(_ unix: Int64) -> Int64 { floorDiv(unix, 60) }
    public static func day(_ unix: Int64) -> Int64 { floorDiv(unix, 86_400) }

    /// The index of the period containing `unix` (days, weeks or months since the epoch).
    public static func period(_ p: Budget.Period, _ unix: Int64) -> Int64 {
        let d = day(unix)
        switch p {
        case .day: return d
        case .week: return floorDiv(d + 3, 7)  // 1970-01-01 was a Thursday: +3 starts weeks on Monday
        case .month:
            let (y, m, _) = civil(fromDays: d)
            return y * 12 + (m - 1)
        }
    }

    /// Unix seconds at which period `index` ends (the next one starts).
    public static func periodEnd(_ p: Budget.Period, _ index: Int64) -> Int64 {
        switch p {
        case .day: return (index + 1) * 86_400
        case .week: return ((index + 1) * 7 - 3) * 86_400
        case .month:
            let next = index + 1
            return days(fromCivil: floorDiv(next, 12), next - floorDiv(next, 12) * 12 + 1, 1) * 86_400
        }
    }

    /// Unix seconds at which period `index` starts.
    public static func periodStart(_ p: Budget.Period, _ index: Int64) -> Int64 { periodEnd(p, index - 1) }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// Howard Hinnant's civil-from-days: (year, month 1–12, day 1–31) of a day since 1970-01-01.
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Days since 1970-01-01 of a civil date.
    static func days(fromCivil y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// A duration the way OpenAI's `x-ratelimit-reset-*` headers write it (Go's format):
    /// `20ms`, `1s`, `6m0s`, `1h2m3s`.
    public static func goDuration(_ seconds: Double) -> String {
        switch GoDuration(seconds) {
        case .milliseconds(let ms): return "\(ms)ms"
        case .clock(let h, let m, let s): return h > 0 ? "\(h)h\(m)m\(s)s" : m > 0 ? "\(m)m\(s)s" : "\(s)s"
        }
    }

    /// What Go's format writes for a duration, rounded up: milliseconds under a second, else hours
    /// (when any), minutes (when any hours or minutes) and seconds. The one place of the rule,
    /// for the string above and the proxy's writer into a response head.
    public enum GoDuration: Equatable {
        case milliseconds(Int)
        case clock(hours: Int, minutes: Int, seconds: Int)

        public init(_ seconds: Double) {
            let s = seconds.isFinite ? min(max(0, seconds), 1e12) : 0
            let ms = Int((s * 1000).rounded(.up))
            if ms < 1000 {
                self = .milliseconds(ms)
                return
            }
            let whole = Int(s.rounded(.up))
            self = .clock(hours: whole / 3600, minutes: whole / 60 % 60, seconds: whole % 60)
        }
    }
}
