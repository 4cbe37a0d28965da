import Foundation
import NIOConcurrencyHelpers

/// Host and process figures from Linux `/proc` and `statvfs`, sampled on a timer (never on the
/// request path). On systems without `/proc` the values stay nil and exports omit them.
public final class SystemSampler: Sendable {
    public struct Snapshot: Sendable {
        /// Whole-machine CPU busy percentage since the previous sample.
        public var cpuPercent: Double?
        public var memoryTotalBytes: Double?
        public var memoryAvailableBytes: Double?
        public var diskTotalBytes: Double?
        public var diskFreeBytes: Double?
        public var loadAverage: [Double] = []
        public var processResidentBytes: Double?
        public var processCPUSeconds: Double?
        public var processOpenFDs: Int?
        public var processMaxFDs: Int?
        public var processStartTime: Double?
        public var processThreads: Int?
        public var processVirtualBytes: Double?

        public var memoryUsedBytes: Double? {
            guard let t = memoryTotalBytes, let a = memoryAvailableBytes else { return nil }
            return t - a
        }
        public var memoryPercent: Double? {
            guard let t = memoryTotalBytes, t > 0, let u = memoryUsedBytes else { return nil }
            return u / t * 100
        }
        public var diskPercent: Double? {
            guard let t = diskTotalBytes, t > 0, let f = diskFreeBytes else { return nil }
            return (t - f) / t * 100
        }
    }

    struct CPUTimes { var busy: UInt64; var total: UInt64 }

    private let state = NIOLockedValueBox<(snapshot: Snapshot, lastCPU: CPUTimes?)>((Snapshot(), nil))
    /// The filesystem whose usage is reported (the data directory's).
    public let diskPath: String

    public init(diskPath: String = "/") {
        self.diskPath = diskPath
    }

    public var snapshot: Snapshot { state.withLockedValue { $0.snapshot } }

    /// Reads everything once; call about every second.
    public func sample() {
        var s = Snapshot()
        let cpu = Self.readCPUTimes()
        if let mem = Self.readMeminfo() {
            s.memoryTotalBytes = mem["MemTotal"].map { $0 * 1024 }
            s.memoryAvailableBytes = mem["MemAvailable"].map { $0 * 1024 }
        }
        var fs = statvfs()
        if statvfs(diskPath, &fs) == 0 {
            s.diskTotalBytes = Double(fs.f_blocks) * Double(fs.f_frsize)
            s.diskFreeBytes = Double(fs.f_bavail) * Double(fs.f_frsize)
        }
        if let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) {
            s.loadAverage = text.split(separator: " ").prefix(3).compactMap { Double($0) }
        }
        Self.readProcess(into: &s)
        state.withLockedValue { st in
            if let cpu, let last = st.lastCPU, cpu.total > last.total {
                s.cpuPercent = Double(cpu.busy - min(cpu.busy, last.busy)) / Double(cpu.total - last.total) * 100
            } else {
                s.cpuPercent = st.snapshot.cpuPercent
            }
            st.snapshot = s
            st.lastCPU = cpu ?? st.lastCPU
        }
    }

    static func readCPUTimes() -> CPUTimes? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
        guard fields.count >= 4 else { return nil }
        let idle = fields[3] + (fields.count > 4 ? fields[4] : 0)  // idle + iowait
        let total = fields.prefix(8).reduce(0, +)
        return CPUTimes(busy: total - idle, total: total)
    }

    /// /proc/meminfo values in kB.
    static func readMeminfo() -> [String: Double]? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let value = parts[1].split(separator: " ").first.flatMap { Double($0) }
            if let value { out[String(parts[0])] = value }
        }
        return out
    }

    static func readProcess(into s: inout Snapshot) {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            // Fields after the command name; index 0 here is field 3 (state).
            let f = stat[stat.index(after: close)...].split(separator: " ")
            if f.count > 22, ticks > 0 {
                let utime = Double(f[11]) ?? 0, stime = Double(f[12]) ?? 0
                s.processCPUSeconds = (utime + stime) / ticks
                s.processThreads = Int(f[17])
                if let start = Double(f[19]), let boot = bootTime() { s.processStartTime = boot + start / ticks }
                s.processVirtualBytes = Double(f[20])
                if let rss = Double(f[21]) { s.processResidentBytes = rss * pageSize }
            }
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            s.processOpenFDs = entries.count
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { s.processMaxFDs = Int(limit.rlim_cur) }
    }

    static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
