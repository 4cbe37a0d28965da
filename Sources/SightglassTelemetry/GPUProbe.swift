import Foundation
import NIOConcurrencyHelpers

/// NVIDIA GPUs as the driver reports them. Where there is no GPU (or no driver), `available`
/// is false and there are no devices: never an estimate.
public struct GPUSnapshot: Sendable, Equatable {
    public struct Device: Sendable, Equatable {
        public var index: Int
        public var name: String
        public var utilizationPercent: Double?
        public var memoryUsedMB: Double?
        public var memoryTotalMB: Double?
        public var temperatureCelsius: Double?
        public var powerWatts: Double?
        public var fanPercent: Double?
        public var memoryFreeMB: Double? { memoryTotalMB.flatMap { t in memoryUsedMB.map { t - $0 } } }
    }

    public var available: Bool
    /// `nvml` or `nvidia-smi`; nil when unavailable.
    public var source: String?
    public var devices: [Device]
    /// Why there is nothing, when there is nothing (no library, no command, a driver error).
    public var reason: String?

    public static let unavailable = GPUSnapshot(available: false, source: nil, devices: [], reason: "not sampled yet")
}

/// Reads GPUs through NVML (`libnvidia-ml.so.1`, loaded at run time so the binary has no link
/// dependency on the driver) or, failing that, `nvidia-smi --query-gpu … --format=csv`.
public final class GPUProbe: Sendable {
    private let nvml: NVML?
    private let smiPath: String?

    public init(libraryPath: String = "libnvidia-ml.so.1", smiCandidates: [String] = ["/usr/bin/nvidia-smi", "/usr/local/bin/nvidia-smi"]) {
        nvml = NVML(path: libraryPath)
        smiPath = smiCandidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    public func sample() -> GPUSnapshot {
        if let nvml {
            switch nvml.devices() {
            case .success(let devices):
                return GPUSnapshot(available: !devices.isEmpty, source: "nvml", devices: devices, reason: devices.isEmpty ? "NVML reports no devices" : nil)
            case .failure(let error) where smiPath == nil: return GPUSnapshot(available: false, source: nil, devices: [], reason: error.message)
            case .failure: break
            }
        }
        guard let smiPath else {
            return GPUSnapshot(available: false, source: nil, devices: [], reason: "no NVIDIA driver (libnvidia-ml.so.1 not found, no nvidia-smi)")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: smiPath)
        p.arguments = [
            "--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw,fan.speed",
            "--format=csv,noheader,nounits",
        ]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch {
            return GPUSnapshot(available: false, source: nil, devices: [], reason: "nvidia-smi failed to start: \(error)")
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            return GPUSnapshot(available: false, source: nil, devices: [], reason: "nvidia-smi exited with status \(p.terminationStatus)")
        }
        let devices = Self.parseSMI(String(decoding: data, as: UTF8.self))
        return GPUSnapshot(available: !devices.isEmpty, source: "nvidia-smi", devices: devices, reason: devices.isEmpty ? "nvidia-smi lists no devices" : nil)
    }

    /// One device per line; `[N/A]` and `[Not Supported]` become nil.
    public static func parseSMI(_ text: String) -> [GPUSnapshot.Device] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count >= 8, let index = Int(f[0]) else { return nil }
            func num(_ s: String) -> Double? { Double(s) }
            return .init(
                index: index, name: f[1], utilizationPercent: num(f[2]), memoryUsedMB: num(f[3]), memoryTotalMB: num(f[4]),
                temperatureCelsius: num(f[5]), powerWatts: num(f[6]), fanPercent: num(f[7]))
        }
    }
}

/// The few NVML entry points we need, resolved with `dlsym`.
final class NVML: Sendable {
    struct Failure: Error { var message: String }
    typealias Fn0 = @convention(c) () -> Int32
    typealias FnCount = @convention(c) (UnsafeMutablePointer<UInt32>) -> Int32
    typealias FnHandle = @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    typealias FnName = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>, UInt32) -> Int32
    typealias FnU32 = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>) -> Int32
    typealias FnTemp = @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<UInt32>) -> Int32
    typealias FnMem = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt64>) -> Int32
    typealias FnUtil = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>) -> Int32

    let count: FnCount
    let handle: FnHandle
    let name: FnName
    let utilization: FnUtil
    let memory: FnMem
    let temperature: FnTemp
    let power: FnU32
    let fan: FnU32
    /// NVML is thread-safe, but one query at a time keeps the sampling simple to reason about.
    let lock = NIOLock()

    init?(path: String) {
        guard let lib = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { return nil }
        func sym<T>(_ n: String, _: T.Type) -> T? { dlsym(lib, n).map { unsafeBitCast($0, to: T.self) } }
        guard let initFn = sym("nvmlInit_v2", Fn0.self), initFn() == 0,
            let count = sym("nvmlDeviceGetCount_v2", FnCount.self), let handle = sym("nvmlDeviceGetHandleByIndex_v2", FnHandle.self),
            let name = sym("nvmlDeviceGetName", FnName.self), let util = sym("nvmlDeviceGetUtilizationRates", FnUtil.self),
            let memory = sym("nvmlDeviceGetMemoryInfo", FnMem.self), let temp = sym("nvmlDeviceGetTemperature", FnTemp.self),
            let power = sym("nvmlDeviceGetPowerUsage", FnU32.self), let fan = sym("nvmlDeviceGetFanSpeed", FnU32.self)
        else { return nil }
        self.count = count; self.handle = handle; self.name = name; self.utilization = util
        self.memory = memory; self.temperature = temp; self.power = power; self.fan = fan
    }

    func devices() -> Result<[GPUSnapshot.Device], Failure> {
        lock.withLock {
            var n: UInt32 = 0
            guard count(&n) == 0 else { return .failure(Failure(message: "nvmlDeviceGetCount failed")) }
            var out: [GPUSnapshot.Device] = []
            for i in 0..<n {
                var h: OpaquePointer?
                guard handle(i, &h) == 0 else { continue }
                var buf = [CChar](repeating: 0, count: 96)
                let devName = name(h, &buf, 96) == 0 ? String(cString: buf) : "GPU \(i)"
                var d = GPUSnapshot.Device(index: Int(i), name: devName)
                var util: (UInt32, UInt32) = (0, 0)
                if withUnsafeMutableBytes(of: &util, { utilization(h, $0.baseAddress!.assumingMemoryBound(to: UInt32.self)) }) == 0 {
                    d.utilizationPercent = Double(util.0)
                }
                var mem: (UInt64, UInt64, UInt64) = (0, 0, 0)  // total, free, used
                if withUnsafeMutableBytes(of: &mem, { memory(h, $0.baseAddress!.assumingMemoryBound(to: UInt64.self)) }) == 0 {
                    d.memoryTotalMB = Double(mem.0) / 1_048_576
                    d.memoryUsedMB = Double(mem.2) / 1_048_576
                }
                var v: UInt32 = 0
                if temperature(h, 0, &v) == 0 { d.temperatureCelsius = Double(v) }
                if power(h, &v) == 0 { d.powerWatts = Double(v) / 1000 }
                if fan(h, &v) == 0 { d.fanPercent = Double(v) }
                out.append(d)
            }
            return .success(out)
        }
    }
}
