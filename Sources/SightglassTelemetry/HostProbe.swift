import Foundation

/// What the host looks like right now, read from Linux `/proc`, `/sys` and `statvfs`.
/// Rates (CPU busy share, disk and network per second) are deltas between two samples, so the
/// first sample after start has none. Every value is read; where a file is missing the field
/// stays nil or empty rather than being guessed.
public struct HostSnapshot: Sendable {
    public struct Filesystem: Sendable, Equatable {
        public var mount: String
        public var device: String
        public var type: String
        public var totalBytes: Double
        public var usedBytes: Double
        public var availableBytes: Double
        /// As `df` computes Use%: used over used plus available (blocks reserved for root excluded).
        public var usagePercent: Double { usedBytes + availableBytes > 0 ? usedBytes / (usedBytes + availableBytes) * 100 : 0 }
    }

    public struct Interface: Sendable, Equatable {
        public var name: String
        public var bytesReceived: UInt64
        public var packetsReceived: UInt64
        public var errorsReceived: UInt64
        public var dropsReceived: UInt64
        public var bytesSent: UInt64
        public var packetsSent: UInt64
        public var errorsSent: UInt64
        public var dropsSent: UInt64
        public var receiveBytesPerSecond: Double?
        public var sendBytesPerSecond: Double?
    }

    public struct DiskIO: Sendable, Equatable {
        public var readsPerSecond: Double
        public var writesPerSecond: Double
        public var readBytesPerSecond: Double
        public var writeBytesPerSecond: Double
    }

    public var timestamp: Double = 0
    public var cpuPercent: Double?
    public var perCorePercent: [Double] = []
    public var cores: Int = ProcessInfo.processInfo.activeProcessorCount
    public var frequencyMHz: Double?
    public var loadAverage: [Double] = []
    /// /proc/meminfo, bytes.
    public var memory: [String: Double] = [:]
    public var filesystems: [Filesystem] = []
    public var diskIO: DiskIO?
    public var interfaces: [Interface] = []
    /// TCP sockets by state name (`established`, `time_wait`, `listen`, …), IPv4 and IPv6 together.
    public var tcpStates: [String: Int] = [:]

    public init() {}

    public var memoryTotal: Double? { memory["MemTotal"] }
    public var memoryAvailable: Double? { memory["MemAvailable"] }
    public var memoryUsed: Double? { memoryTotal.flatMap { t in memoryAvailable.map { t - $0 } } }
    public var memoryPercent: Double? {
        guard let t = memoryTotal, t > 0, let u = memoryUsed else { return nil }
        return u / t * 100
    }
    public var swapTotal: Double? { memory["SwapTotal"] }
    public var swapUsed: Double? { swapTotal.flatMap { t in memory["SwapFree"].map { t - $0 } } }
}

/// Samples `HostSnapshot`s; keeps the previous counters to turn them into rates.
/// Not thread-safe on its own: `SystemSampler` calls it from its timer under a lock.
public struct HostProbe: Sendable {
    struct Counters: Sendable {
        var time: Double
        var cpu: [CPUTicks]
        var disk: (reads: UInt64, writes: UInt64, readSectors: UInt64, writeSectors: UInt64)?
        var net: [String: (rx: UInt64, tx: UInt64)]
    }

    public struct CPUTicks: Sendable, Equatable {
        public var busy: UInt64
        public var total: UInt64
    }

    var previous: Counters?
    let root: String

    /// `root` lets tests point the probe at a copy of `/proc`-like files; in production it is "".
    public init(root: String = "") {
        self.root = root
    }

    func read(_ path: String) -> String? {
        try? String(contentsOfFile: root + path, encoding: .utf8)
    }

    public mutating func sample(now: Double = Date().timeIntervalSince1970) -> HostSnapshot {
        var s = HostSnapshot()
        s.timestamp = now
        let cpu = read("/proc/stat").map(Self.parseCPU) ?? []
        if let mem = read("/proc/meminfo") { s.memory = Self.parseMeminfo(mem) }
        if let load = read("/proc/loadavg") { s.loadAverage = load.split(separator: " ").prefix(3).compactMap { Double($0) } }
        s.frequencyMHz =
            read("/proc/cpuinfo").flatMap(Self.parseFrequency)
            ?? read("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq").flatMap {
                Double($0.trimmingCharacters(in: .whitespacesAndNewlines)).map { $0 / 1000 }
            }
        if let mounts = read("/proc/self/mounts") { s.filesystems = Self.filesystems(Self.parseMounts(mounts)) }
        let disk = read("/proc/diskstats").map(Self.parseDiskstats)
        let net = read("/proc/net/dev").map(Self.parseNetDev) ?? []
        s.interfaces = net
        var tcp: [String: Int] = [:]
        for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
            if let text = read(file) { Self.countTCPStates(text, into: &tcp) }
        }
        s.tcpStates = tcp
        if cpu.count > 1 { s.cores = cpu.count - 1 }

        if let prev = previous, now > prev.time {
            let dt = now - prev.time
            func share(_ a: CPUTicks, _ b: CPUTicks) -> Double? {
                guard a.total > b.total else { return nil }
                return Double(a.busy - min(a.busy, b.busy)) / Double(a.total - b.total) * 100
            }
            if let all = cpu.first, let before = prev.cpu.first { s.cpuPercent = share(all, before) }
            if cpu.count == prev.cpu.count {
                s.perCorePercent = zip(cpu.dropFirst(), prev.cpu.dropFirst()).map { share($0, $1) ?? 0 }
            }
            if let d = disk, let p = prev.disk {
                s.diskIO = .init(
                    readsPerSecond: Double(d.reads &- p.reads) / dt, writesPerSecond: Double(d.writes &- p.writes) / dt,
                    readBytesPerSecond: Double(d.readSectors &- p.readSectors) * 512 / dt,
                    writeBytesPerSecond: Double(d.writeSectors &- p.writeSectors) * 512 / dt)
            }
            for i in s.interfaces.indices {
                if let p = prev.net[s.interfaces[i].name] {
                    s.interfaces[i].receiveBytesPerSecond = Double(s.interfaces[i].bytesReceived &- p.rx) / dt
                    s.interfaces[i].sendBytesPerSecond = Double(s.interfaces[i].bytesSent &- p.tx) / dt
                }
            }
        }
        previous = Counters(
            time: now, cpu: cpu, disk: disk,
            net: Dictionary(net.map { ($0.name, (rx: $0.bytesReceived, tx: $0.bytesSent)) }, uniquingKeysWith: { a, _ in a }))
        return s
    }

    // MARK: - Parsers (pure, tested on fixed text)

    /// The aggregate `cpu` line first, then `cpu0`, `cpu1`, …
    public static func parseCPU(_ text: String) -> [CPUTicks] {
        var out: [CPUTicks] = []
        for line in text.split(separator: "\n") where line.hasPrefix("cpu") {
            let f = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
            guard f.count >= 4 else { continue }
            let idle = f[3] + (f.count > 4 ? f[4] : 0)  // idle + iowait
            let total = f.prefix(8).reduce(0, +)  // guest time is already inside user
            out.append(CPUTicks(busy: total - min(total, idle), total: total))
        }
        return out
    }

    /// /proc/meminfo in bytes (the file says kB).
    public static func parseMeminfo(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let v = parts[1].split(separator: " ").first.flatMap({ Double($0) }) else { continue }
            out[String(parts[0])] = parts[1].hasSuffix("kB") ? v * 1024 : v
        }
        return out
    }

    /// Mean of the `cpu MHz` lines, where the kernel reports them.
    public static func parseFrequency(_ text: String) -> Double? {
        let values = text.split(separator: "\n").filter { $0.hasPrefix("cpu MHz") }
            .compactMap { $0.split(separator: ":").last.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) } }
        return values.isEmpty ? nil : values.reduce(0, +) / Double(values.count)
    }

    /// Filesystems that hold data: block devices and the usual network/overlay kinds, not
    /// /proc, /sys, cgroups, tmpfs or other pseudo filesystems. Bind mounts of one device appear once.
    static let realTypes: Set<String> = [
        "ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "vfat", "exfat", "ntfs", "ntfs3",
        "overlay", "nfs", "nfs4", "cifs", "smb3", "fuseblk", "9p", "virtiofs", "reiserfs", "jfs", "hfsplus", "apfs",
    ]

    public static func parseMounts(_ text: String) -> [(device: String, mount: String, type: String)] {
        var seen = Set<String>()
        var out: [(String, String, String)] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 3, realTypes.contains(String(f[2])) else { continue }
            let device = String(f[0])
            // The kernel escapes spaces in paths as \040.
            let mount = String(f[1]).replacingOccurrences(of: "\\040", with: " ")
            if device.hasPrefix("/") && !seen.insert(device).inserted { continue }
            out.append((device, mount, String(f[2])))
        }
        return out
    }

    static func filesystems(_ mounts: [(device: String, mount: String, type: String)]) -> [HostSnapshot.Filesystem] {
        mounts.compactMap { m in
            var st = statvfs()
            guard statvfs(m.mount, &st) == 0, st.f_blocks > 0 else { return nil }
            let frsize = Double(st.f_frsize)
            let total = Double(st.f_blocks) * frsize
            let free = Double(st.f_bfree) * frsize
            return .init(
                mount: m.mount, device: m.device, type: m.type, totalBytes: total, usedBytes: total - free,
                availableBytes: Double(st.f_bavail) * frsize)
        }
    }

    /// Sums reads, writes and sectors over whole disks (partitions and virtual devices skipped,
    /// so nothing is counted twice).
    public static func parseDiskstats(_ text: String) -> (reads: UInt64, writes: UInt64, readSectors: UInt64, writeSectors: UInt64) {
        var r: UInt64 = 0, w: UInt64 = 0, rs: UInt64 = 0, ws: UInt64 = 0
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count >= 10 else { continue }
            let name = String(f[2])
            if name.hasPrefix("loop") || name.hasPrefix("ram") || name.hasPrefix("dm-") || name.hasPrefix("zram") { continue }
            if isPartition(name) { continue }
            r &+= UInt64(f[3]) ?? 0
            rs &+= UInt64(f[5]) ?? 0
            w &+= UInt64(f[7]) ?? 0
            ws &+= UInt64(f[9]) ?? 0
        }
        return (r, w, rs, ws)
    }

    /// sda1, vda2, nvme0n1p1, mmcblk0p1 are partitions; sda, vda, nvme0n1 are disks.
    static func isPartition(_ name: String) -> Bool {
        if name.hasPrefix("nvme") || name.hasPrefix("mmcblk") {
            guard let p = name.lastIndex(of: "p") else { return false }
            return name[name.index(after: p)...].allSatisfy(\.isNumber) && name.index(after: p) != name.endIndex
        }
        if name.hasPrefix("sd") || name.hasPrefix("vd") || name.hasPrefix("hd") || name.hasPrefix("xvd") {
            return name.last?.isNumber == true
        }
        return false
    }

    public static func parseNetDev(_ text: String) -> [HostSnapshot.Interface] {
        text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            let f = parts[1].split(separator: " ").compactMap { UInt64($0) }
            guard f.count >= 16 else { return nil }
            return .init(
                name: parts[0].trimmingCharacters(in: .whitespaces), bytesReceived: f[0], packetsReceived: f[1], errorsReceived: f[2],
                dropsReceived: f[3], bytesSent: f[8], packetsSent: f[9], errorsSent: f[10], dropsSent: f[11])
        }
    }

    static let tcpStateNames = [
        "01": "established", "02": "syn_sent", "03": "syn_recv", "04": "fin_wait1", "05": "fin_wait2",
        "06": "time_wait", "07": "close", "08": "close_wait", "09": "last_ack", "0A": "listen", "0B": "closing",
    ]

    public static func countTCPStates(_ text: String, into counts: inout [String: Int]) {
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: " ")
            guard f.count > 3, let name = tcpStateNames[String(f[3])] else { continue }
            counts[name, default: 0] += 1
        }
    }
}
