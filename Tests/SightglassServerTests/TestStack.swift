import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SightglassConfig
import SightglassServer
import SightglassSimulator

/// Runs `body` against a fresh stack, and stops the stack afterwards, awaited, whether `body`
/// passed or threw: no test leaves a gateway running for the next one.
func withTestStack(
    simulator options: SimulatorOptions = SimulatorOptions(ttftMs: 5, tokensPerSecond: 2000),
    configure: (inout GatewayConfig, Int) -> Void = { _, _ in }, _ body: (TestStack) async throws -> Void
) async throws {
    let stack = try await TestStack.start(simulator: options, configure: configure)
    do {
        try await body(stack)
    } catch {
        await stack.stop()
        throw error
    }
    await stack.stop()
}

/// A simulator and a gateway in front of it, on ephemeral loopback ports.
struct TestStack {
    let simulator: SimulatorRuntime
    let gateway: GatewayRuntime
    var base: String { "http://127.0.0.1:\(gateway.port)" }

    static func start(
        simulator options: SimulatorOptions = SimulatorOptions(ttftMs: 5, tokensPerSecond: 2000),
        configure: (inout GatewayConfig, Int) -> Void = { _, _ in }
    ) async throws -> TestStack {
        var logger = Logger(label: "test")
        logger.logLevel = .error
        let sim = try await SimulatorRuntime.start(options: options, host: "127.0.0.1", port: 0, logger: logger)
        var config = GatewayConfig()
        config.server.port = 0
        config.server.eventLoops = 2
        config.backends = [BackendConfig(name: "sim", url: "http://127.0.0.1:\(sim.port)")]
        config.ledger.path = NSTemporaryDirectory() + "sightglass-test-\(UUID().uuidString).sqlite"
        configure(&config, sim.port)
        do {
            let gw = try await GatewayRuntime.start(config: config, logger: logger)
            return TestStack(simulator: sim, gateway: gw)
        } catch {
            await sim.stop()
            throw error
        }
    }

    /// Stops the gateway (drained and flushed) and the simulator, and removes a temporary ledger.
    func stop() async {
        await gateway.shutdown()
        await simulator.stop()
        if let path = gateway.config.ledger.path, path.hasPrefix(NSTemporaryDirectory()) {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
    }

    /// POSTs JSON and returns status, headers and the whole body.
    func post(_ path: String, _ body: String, headers: [(String, String)] = []) async throws -> (status: Int, headers: [(String, String)], body: String) {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let data = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), response.headers.map { ($0.name, $0.value) }, String(buffer: data))
    }

    func get(_ path: String, accept: String? = nil) async throws -> (status: Int, contentType: String, body: String) {
        var request = HTTPClientRequest(url: base + path)
        if let accept { request.headers.add(name: "Accept", value: accept) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let data = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), response.headers.first(name: "content-type") ?? "", String(buffer: data))
    }

    /// Any method, any headers; the whole answer.
    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = []) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let data = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), response.headers, String(buffer: data))
    }

    func json(_ path: String) async throws -> [String: Any] {
        let r = try await get(path)
        return try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as! [String: Any]
    }

    /// Polls until `condition` holds on the JSON at `path` (events reach telemetry microseconds after the last byte).
    func eventually(_ path: String = "/metrics/json", _ condition: ([String: Any]) -> Bool) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        for _ in 0..<100 {
            last = try await json(path)
            if condition(last) { return last }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return last
    }

    /// Value of one Prometheus sample line (exact label text), or nil.
    func promSample(_ series: String) async throws -> Double? {
        let text = try await get("/metrics/prometheus").body
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}

extension Dictionary where Key == String, Value == Any {
    func path(_ keys: String...) -> Any? {
        var current: Any? = self
        for k in keys { current = (current as? [String: Any])?[k] }
        return current
    }
}

/// A blocking loopback socket for wire-level tests the HTTP clients would not send.
final class RawSocket: @unchecked Sendable {
    let fd: Int32

    /// Sends `request` on a new connection and returns everything the gateway answers until it closes.
    static func exchange(port: Int, _ request: String) async throws -> String {
        let socket = try RawSocket(port: port)
        socket.send(request)
        return await socket.readAll()
    }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Reads until the peer closes (or the 10 s receive timeout). The blocking `recv` runs on a
    /// thread of its own: on the cooperative pool it would starve the control plane's handlers
    /// (2 threads on this machine) while waiting for their answer.
    func readAll() async -> String {
        await Self.offThePool { self.blockingReadAll() }
    }

    /// Reads until `marker` has been seen `count` times (off the cooperative pool).
    func read(until marker: String, count: Int = 1) async -> String {
        await Self.offThePool { self.blockingRead(until: marker, count: count) }
    }

    /// Whether the peer ends the connection (recv returns 0) before the receive timeout.
    func seesEOF() async -> Bool {
        await Self.offThePool {
            var buf = [UInt8](repeating: 0, count: 65536)
            for _ in 0..<100 {
                let n = buf.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
                if n == 0 { return true }
                if n < 0 { return false }
            }
            return false
        }
    }

    static func offThePool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (done: CheckedContinuation<T, Never>) in
            Thread.detachNewThread { done.resume(returning: body()) }
        }
    }

    func blockingReadAll() -> String {
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    func blockingRead(until marker: String, count: Int = 1) -> String {
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 65536)
        while String(decoding: out, as: UTF8.self).components(separatedBy: marker).count - 1 < count {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
