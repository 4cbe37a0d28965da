import Foundation
import Testing

@testable import SightglassServer

/// HTTP/1.1 as a proxy must speak it: smuggling shapes refused, pipelining, HTTP/1.0, 100-continue, chunked bodies, one behaviour per test.
@Suite(.serialized) struct WireTests {
    static let chat = #"{"model":"llama3.2:1b","messages":[{"role":"user","content":"hi"}]}"#

    /// Requests whose framing is wrong or ambiguous: each answered 400 with the connection closed,
    /// before anything reaches a backend.
    static let refused: [(String, String)] = [
        (
            "Content-Length with Transfer-Encoding",
            "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        ),
        ("two Host lines (RFC 9112 §3.2)", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nHost: y\r\nContent-Length: \(chat.utf8.count)\r\n\r\n\(chat)"),
        ("Transfer-Encoding in HTTP/1.0 (RFC 9112 §6.1)", "POST /v1/chat/completions HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ("a bad chunk size", "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        ("an oversized head", "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 40_000))\r\n\r\n"),
    ]

    @Test(arguments: refused)
    func badFramingIsRefusedAndClosed(_ what: String, _ request: String) async throws {
        try await withTestStack { stack in
            let answer = try await RawSocket.exchange(port: stack.gateway.port, request)
            #expect(answer.hasPrefix("HTTP/1.1 400") && answer.contains("Connection: close"), "\(what): \(answer.prefix(200))")
            #expect(try await stack.get("/health").status == 200, "the gateway is still up after \(what)")
        }
    }

    @Test func absoluteFormTargetIsRoutedByItsPath() async throws {
        try await withTestStack { stack in
            let port = stack.gateway.port
            let answer = try await RawSocket.exchange(
                port: port,
                "POST http://127.0.0.1:\(port)/v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(Self.chat.utf8.count)\r\n\r\n\(Self.chat)"
            )
            #expect(answer.hasPrefix("HTTP/1.1 200") && answer.contains("chat.completion"), "\(answer.prefix(300))")
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withTestStack { stack in
            let both = try await RawSocket.exchange(
                port: stack.gateway.port,
                "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: \(Self.chat.utf8.count)\r\n\r\n\(Self.chat)GET /api/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            #expect(both.components(separatedBy: "HTTP/1.1 200").count == 3, "\(both.prefix(2000))")
            if let chat = both.range(of: "chat.completion"), let version = both.range(of: "\"version\"") {
                #expect(chat.lowerBound < version.lowerBound)
            } else {
                Issue.record("a response is missing: \(both.prefix(2000))")
            }
        }
    }

    /// An HTTP/1.0 client asking for a stream: no chunked framing, the close ends the body.
    @Test func http10StreamEndsWithTheClose() async throws {
        try await withTestStack { stack in
            let streamBody = #"{"model":"llama3.2:1b","messages":[],"stream":true}"#
            let answer = try await RawSocket.exchange(
                port: stack.gateway.port, "POST /v1/chat/completions HTTP/1.0\r\nContent-Length: \(streamBody.utf8.count)\r\n\r\n\(streamBody)")
            #expect(answer.hasPrefix("HTTP/1.1 200"))
            #expect(!answer.lowercased().contains("transfer-encoding"))
            #expect(answer.hasSuffix("data: [DONE]\n\n"))
        }
    }

    @Test func expectContinueThenAChunkedBody() async throws {
        try await withTestStack { stack in
            let cont = try RawSocket(port: stack.gateway.port)
            cont.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            let interim = await cont.read(until: "\r\n\r\n")
            #expect(interim.hasPrefix("HTTP/1.1 100 Continue"))
            let body = Self.chat
            let half = body.utf8.count / 2
            let a = String(body.prefix(half)), b = String(body.dropFirst(half))
            cont.send("\(String(a.utf8.count, radix: 16))\r\n\(a)\r\n\(String(b.utf8.count, radix: 16))\r\n\(b)\r\n0\r\n\r\n")
            let final = await cont.readAll()
            #expect(final.hasPrefix("HTTP/1.1 200"))
            #expect(final.contains("chat.completion"))
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
