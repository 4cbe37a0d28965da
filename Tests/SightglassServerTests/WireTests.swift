import Foundation
import Testing

@testable import SightglassServer

/// HTTP/1.1 as a proxy must speak it: smuggling shapes refused, pipelining, HTTP/1.0, 100-continue, chunked bodies.
@Suite(.serialized) struct WireTests {
    @Test func wireLevelBehaviour() async throws {
        try await withTestStack { stack in
            let port = stack.gateway.port
            let body = #"{"model":"llama3.2:1b","messages":[{"role":"user","content":"hi"}]}"#

            // Content-Length with Transfer-Encoding: refused and closed before anything reaches a backend.
            let s = try await RawSocket.exchange(
                port: port, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            #expect(s.hasPrefix("HTTP/1.1 400"))
            #expect(s.contains("Connection: close"))

            // Two Host lines (RFC 9112 §3.2): refused and closed, never forwarded.
            let h = try await RawSocket.exchange(
                port: port, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nHost: y\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            #expect(h.hasPrefix("HTTP/1.1 400") && h.contains("Connection: close") && h.contains("Host"))

            // HTTP/1.0 with Transfer-Encoding: faulty framing, 400 and close (RFC 9112 §6.1).
            let t = try await RawSocket.exchange(port: port, "POST /v1/chat/completions HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            #expect(t.hasPrefix("HTTP/1.1 400") && t.contains("Connection: close"))

            // An absolute-form target is routed by its path.
            let absolute = try RawSocket(port: port)
            absolute.send(
                "POST http://127.0.0.1:\(port)/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            )
            let abs = await absolute.readAll()
            #expect(abs.hasPrefix("HTTP/1.1 200") && abs.contains("chat.completion"), "\(abs.prefix(300))")

            // Oversized head.
            let huge = try RawSocket(port: port)
            huge.send("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 40_000))\r\n\r\n")
            #expect(await huge.readAll().hasPrefix("HTTP/1.1 400"))

            // Two pipelined requests on one connection: two responses, in order.
            let pipe = try RawSocket(port: port)
            pipe.send(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)GET /api/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            let both = await pipe.readAll()
            #expect(both.components(separatedBy: "HTTP/1.1 200").count == 3, "\(both.prefix(2000))")
            if let chat = both.range(of: "chat.completion"), let version = both.range(of: "\"version\"") {
                #expect(chat.lowerBound < version.lowerBound)
            } else {
                Issue.record("a response is missing: \(both.prefix(2000))")
            }

            // HTTP/1.0 client asking for a stream: no chunked framing, the close ends the body.
            let old = try RawSocket(port: port)
            let streamBody = #"{"model":"llama3.2:1b","messages":[],"stream":true}"#
            old.send("POST /v1/chat/completions HTTP/1.0\r\nContent-Length: \(streamBody.utf8.count)\r\n\r\n\(streamBody)")
            let r10 = await old.readAll()
            #expect(r10.hasPrefix("HTTP/1.1 200"))
            #expect(!r10.lowercased().contains("transfer-encoding"))
            #expect(r10.hasSuffix("data: [DONE]\n\n"))

            // Expect: 100-continue, then a chunked request body.
            let cont = try RawSocket(port: port)
            cont.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            let interim = await cont.read(until: "\r\n\r\n")
            #expect(interim.hasPrefix("HTTP/1.1 100 Continue"))
            let half = body.utf8.count / 2
            let a = String(body.prefix(half)), b = String(body.dropFirst(half))
            cont.send("\(String(a.utf8.count, radix: 16))\r\n\(a)\r\n\(String(b.utf8.count, radix: 16))\r\n\(b)\r\n0\r\n\r\n")
            let final = await cont.readAll()
            #expect(final.hasPrefix("HTTP/1.1 200"))
            #expect(final.contains("chat.completion"))

            // Bad chunk sizes.
            let badChunk = try await RawSocket.exchange(port: port, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
            #expect(badChunk.hasPrefix("HTTP/1.1 400"))

            let health = try await stack.get("/health")
            #expect(health.status == 200)
        }
    }

    @Test func slowClientsAreDisconnected() async throws {
        try await withTestStack(configure: { config, _ in
            config.server.requestReadTimeoutSeconds = 0.3
            config.server.keepAliveTimeoutSeconds = 0.3
        }) { stack in
            // Stalls inside the head.
            let partialHead = try RawSocket(port: stack.gateway.port)
            partialHead.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Le")
            let r1 = await partialHead.readAll()
            #expect(r1.hasPrefix("HTTP/1.1 408"))
            // Stalls inside the body.
            let partialBody = try RawSocket(port: stack.gateway.port)
            partialBody.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"model\":")
            #expect(await partialBody.readAll().hasPrefix("HTTP/1.1 408"))
            // An idle keep-alive connection is closed quietly.
            let idle = try RawSocket(port: stack.gateway.port)
            idle.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            let r3 = await idle.readAll()
            #expect(r3.hasPrefix("HTTP/1.1 200") && !r3.contains("HTTP/1.1 408"))  // a bare "408" can be in a timestamp
        }
    }

    @Test func controlPlaneOnItsOwnPort() async throws {
        try await withTestStack(configure: { config, _ in config.server.controlPort = 0 }) { stack in
            #expect(stack.gateway.controlPort != nil)
            let onProxy = try await stack.get("/metrics")
            #expect(onProxy.status == 404)
            let sock = try RawSocket(port: stack.gateway.controlPort!)
            sock.send("GET /metrics/prometheus HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(await sock.readAll().contains("sightglass_build_info"))
        }
    }
}
