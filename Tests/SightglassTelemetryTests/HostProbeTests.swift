import Foundation
import Logging
import Testing

@testable import SightglassTelemetry

@Suite struct HostProbeTests {
    @Test func parsesProcStatPerCore() {
        let text = """
            cpu  100 0 100 700 100 0 0 0 0 0
            cpu0 50 0 50 350 50 0 0 0 0 0
            cpu1 50 0 50 350 50 0 0 0 0 0
            intr 12345
            """
        let cpu = HostProbe.parseCPU(text)
        #expect(cpu.count == 3)
        #expect(cpu[0] == .init(busy: 200, total: 1000))  // idle + iowait are not busy
    }

    @Test func parsesMeminfoInBytes() {
        let m = HostProbe.parseMeminfo("MemTotal:       16384 kB\nMemAvailable:    8192 kB\nHugePages_Total:       0\n")
        let expected: Double = 16_777_216
        #expect(m["MemTotal"] == expected)
        #expect(m["HugePages_Total"] == 0)
    }

    @Test func keepsRealFilesystemsOnce() {
        let mounts = """
            /dev/vda / ext4 rw,relatime 0 0
            proc /proc proc rw 0 0
            tmpfs /run tmpfs rw 0 0
            /dev/vda /etc/hosts ext4 rw 0 0
            /dev/sdb1 /mnt/my\\040models xfs rw 0 0
            overlay /var/lib/docker/x overlay rw 0 0
            """
        let fs = HostProbe.parseMounts(mounts)
        #expect(fs.map(\.mount) == ["/", "/mnt/my models", "/var/lib/docker/x"])
    }

    @Test func diskstatsCountWholeDisksOnly() {
        let text = """
             253       0 vda 100 0 800 0 50 0 400 0 0 0 0
             253       1 vda1 100 0 800 0 50 0 400 0 0 0 0
             259       0 nvme0n1 10 0 80 0 5 0 40 0 0 0 0
             259       1 nvme0n1p1 10 0 80 0 5 0 40 0 0 0 0
               7       0 loop0 999 0 999 0 999 0 999 0 0 0 0
            """
        let d = HostProbe.parseDiskstats(text)
        #expect(d.reads == 110 && d.writes == 55 && d.readSectors == 880 && d.writeSectors == 440)
    }

    @Test func netDevAndTCPStates() {
        let net = HostProbe.parseNetDev(
            """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo: 1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
              eth0: 2000      20    1    2    0     0          0         0     3000      30    3    4    0     0       0          0
            """)
        #expect(net.count == 2)
        #expect(net[1].name == "eth0" && net[1].bytesSent == 3000 && net[1].errorsReceived == 1 && net[1].dropsSent == 4)
        var tcp: [String: Int] = [:]
        HostProbe.countTCPStates(
            """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1
               1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2
               2: 0100007F:1F90 0100007F:C351 06 00000000:00000000 00:00000000 00000000     0        0 3
            """, into: &tcp)
        #expect(tcp == ["listen": 1, "established": 1, "time_wait": 1])
    }

    @Test func ratesComeFromTwoSamplesOfThisMachine() throws {
        var probe = HostProbe()
        let first = probe.sample(now: 1000)
        #expect(first.cpuPercent == nil, "no rate before a second sample")
        usleep(300_000)  // let the kernel's tick counters move
        let second = probe.sample(now: 1001)
        guard FileManager.default.fileExists(atPath: "/proc/stat") else { return }
        let cpu = try #require(second.cpuPercent)
        #expect(cpu >= 0 && cpu <= 100)
        #expect(second.perCorePercent.count == ProcessInfo.processInfo.activeProcessorCount || second.cores == second.perCorePercent.count)
        let meminfo = try String(contentsOfFile: "/proc/meminfo", encoding: .utf8)
        let total = meminfo.split(separator: "\n").first { $0.hasPrefix("MemTotal:") }!.split(separator: " ")[1]
        #expect(second.memoryTotal == Double(total)! * 1024)
        #expect(second.filesystems.contains { $0.mount == "/" })
    }

    @Test func nvidiaSMIOutputWithUnsupportedFields() {
        let d = GPUProbe.parseSMI("0, NVIDIA GeForce RTX 4090, 78, 8192, 24564, 72, 350.12, 30\n1, Tesla T4, 0, 0, 15360, 40, [N/A], [Not Supported]\n")
        #expect(d.count == 2)
        #expect(d[0].name == "NVIDIA GeForce RTX 4090" && d[0].memoryTotalMB == 24564 && d[0].powerWatts == 350.12)
        #expect(d[1].powerWatts == nil && d[1].fanPercent == nil)
        #expect(d[1].memoryFreeMB == 15360)
    }

    @Test func noGPUMeansUnavailableAndNothingElse() {
        let g = GPUProbe(libraryPath: "/nonexistent/libnvidia-ml.so.1", smiCandidates: ["/nonexistent/nvidia-smi"]).sample()
        #expect(g.available == false && g.devices.isEmpty && g.source == nil)
    }

    @Test func logRingKeepsTheNewestAndCountsAll() {
        let ring = LogRing(capacity: 3)
        for i in 0..<5 { ring.append(level: .info, component: "t", message: "m\(i)", metadata: [:]) }
        let (entries, total) = ring.snapshot()
        #expect(total == 5)
        #expect(entries.map(\.message) == ["m4", "m3", "m2"])
    }
}
