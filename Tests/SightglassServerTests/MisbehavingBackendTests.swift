import Foundation
import Testing

@testable import SightglassServer

/// A backend that misbehaves on purpose, one connection at a time, on a loopback port.
final class MisbehavingBackend: @unchecked Sendable {
    let fd: Int32
    let port: Int
    let thread: Thread

    /// `respond` gets each request's bytes and returns what to send before closing.
    init(respond: @escaping @Sendable (String) -> String) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        listen(listener, 16)
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        fd = listener
        port = Int(UInt16(bigEndian: bound.sin_port))
        thread = Thread {
            while true {
                let c = accept(listener, nil, nil)
                if c < 0 { return }
                var buf = [UInt8](repeating: 0, count: 65536)
                let n = buf.withUnsafeMutableBytes { recv(c, $0.baseAddress, $0.count, 0) }
                let request = n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : ""
                let reply = Array(respond(request).utf8)
                _ = reply.withUnsafeBytes { Glibc.send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                close(c)
            }
        }
        thread.start()
    }

    func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}

@Suite(.serialized) struct MisbehavingBackendTests {
    @Test func upstreamClosingEarlyOrSpeakingNonsense() async throws {
        let backend = try MisbehavingBackend { request in
            if request.contains("close-before") { return "" }
            if request.contains("nonsense") { return "HTTP/9 banana\r\n\r\n" }
            // Promises 1000 bytes, sends a few, closes.
            return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"partial\":"
        }
        defer { backend.stop() }
        try await withTestStack(configure: { config, _ in
            config.backends = [.init(name: "bad", url: "http://127.0.0.1:\(backend.port)", models: ["m"])]
        }) { stack in

            let before = try await stack.post("/v1/chat/completions", #"{"model":"m","messages":[],"user":"close-before"}"#)
            #expect(before.status == 502, "closed before any byte: nothing was sent to the client yet")

            let nonsense = try await stack.post("/v1/chat/completions", #"{"model":"m","messages":[],"user":"nonsense"}"#)
            #expect(nonsense.status == 502)

            // Mid-body: the head was already relayed, so the client's connection is cut rather than completed.
            let socket = try RawSocket(port: stack.gateway.port)
            let body = #"{"model":"m","messages":[]}"#
            socket.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let cut = await socket.readAll()
            #expect(cut.hasPrefix("HTTP/1.1 200 OK"))
            #expect(cut.hasSuffix("{\"partial\":"), "forwarded what arrived, then closed")

            let m = try await stack.eventually { m in (m.path("errors", "/v1/chat/completions", "total") as? Int) == 3 }
            let byType = m.path("errors", "/v1/chat/completions", "by_type") as? [String: Int]
            #expect(byType?["connection_error"] == 2 && byType?["invalid_response"] == 1)
            #expect(try await stack.get("/health/detailed").status == 200, "the gateway is still up")
        }
    }
}
