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
        /// Used as `df` counts it: total minus free blocks (reserved blocks are not "used").
        public var diskUsedBytes: Double?
        /// Free to unprivileged users (`df`'s Avail).
        public var diskAvailableBytes: Double?
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
        /// `df`'s Use%: used over used plus available.
        public var diskPercent: Double? {
            guard let u = diskUsedBytes, let a = diskAvailableBytes, u + a > 0 else { return nil }
            return u / (u + a) * 100
        }
    }

    private let state = NIOLockedValueBox<(snapshot: Snapshot, host: HostSnapshot, probe: HostProbe)>((Snapshot(), HostSnapshot(), HostProbe()))
    private let gpuState = NIOLockedValueBox(GPUSnapshot.unavailable)
    /// The filesystem whose usage is reported (the data directory's).
    public let diskPath: String
    let gpuProbe: GPUProbe

    public init(diskPath: String = "/", gpu: GPUProbe = GPUProbe()) {
        self.diskPath = diskPath
        self.gpuProbe = gpu
    }

    public var snapshot: Snapshot { state.withLockedValue { $0.snapshot } }
    /// The detailed host view (per core, filesystems, interfaces, TCP states) from the last sample.
    public var host: HostSnapshot { state.withLockedValue { $0.host } }
    /// GPUs from the last GPU sample; `available == false` where there is none.
    public var gpu: GPUSnapshot { gpuState.withLockedValue { $0 } }

    /// Reads everything once; call about every second.
    public func sample() {
        var s = Snapshot()
        var fs = statvfs()
        if statvfs(diskPath, &fs) == 0 {
            s.diskTotalBytes = Double(fs.f_blocks) * Double(fs.f_frsize)
            s.diskUsedBytes = Double(fs.f_blocks - fs.f_bfree) * Double(fs.f_frsize)
            s.diskAvailableBytes = Double(fs.f_bavail) * Double(fs.f_frsize)
        }
        Self.readProcess(into: &s)
        state.withLockedValue { st in
            let host = st.probe.sample()
            s.cpuPercent = host.cpuPercent ?? st.snapshot.cpuPercent
            s.memoryTotalBytes = host.memoryTotal
            s.memoryAvailableBytes = host.memoryAvailable
            s.loadAverage = host.loadAverage
            st.snapshot = s
            st.host = host
        }
    }

    /// Queries the GPUs (NVML or nvidia-smi); slower than `sample`, so on its own timer.
    public func sampleGPU() {
        let g = gpuProbe.sample()
        gpuState.withLockedValue { $0 = g }
    }

    static func readProcess(into s: inout Snapshot) {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
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
