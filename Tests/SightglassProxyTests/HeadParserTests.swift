import Testing

@testable import SightglassProxy

func parseRequest(_ text: String) throws -> HTTPHead {
    let bytes = Array(text.utf8)
    return try bytes.withUnsafeBytes { try HeadParser.parseRequest($0) }
}

func parseResponse(_ text: String) throws -> HTTPHead {
    let bytes = Array(text.utf8)
    return try bytes.withUnsafeBytes { try HeadParser.parseResponse($0) }
}

@Suite struct HeadParserTests {
    @Test func parsesRequestLineAndHeaders() throws {
        let head = try parseRequest("POST /v1/chat/completions?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nX-Thing:   padded  \r\n\r\n")
        #expect(head.method == "POST")
        #expect(head.target == "/v1/chat/completions?x=1")
        #expect(head.path == "/v1/chat/completions")
        #expect(head.versionMinor == 1)
        #expect(head.value("x-thing") == "padded")
        #expect(try HeadParser.requestFraming(head) == .contentLength(2))
        #expect(head.keepAlive)
    }

    @Test func findsHeadEndAnywhere() {
        let text = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\nBODY".utf8)
        #expect(text.withUnsafeBytes { HeadParser.headEnd($0) } == text.count - 4)
        for cut in 0..<(text.count - 4) {
            #expect(text.withUnsafeBytes { HeadParser.headEnd(UnsafeRawBufferPointer(rebasing: $0[0..<cut])) } == nil)
        }
    }

    @Test func twoHostHeadersAreRefused() {
        #expect(throws: HTTPParseError.duplicateHost) { try parseRequest("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") }
        #expect(throws: HTTPParseError.duplicateHost) { try parseRequest("GET / HTTP/1.0\r\nhost: a\r\nHOST: a\r\n\r\n") }
    }

    @Test func absoluteFormTargetIsRoutedByItsPath() throws {
        #expect(try parseRequest("POST http://gw:8080/v1/chat/completions?x=1 HTTP/1.1\r\nHost: gw\r\n\r\n").target == "/v1/chat/completions?x=1")
        #expect(try parseRequest("GET HTTPS://gw HTTP/1.1\r\nHost: gw\r\n\r\n").target == "/")
        #expect(try parseRequest("GET http://gw?q=1 HTTP/1.1\r\nHost: gw\r\n\r\n").target == "/?q=1")
        #expect(try parseRequest("GET /a://b HTTP/1.1\r\nHost: gw\r\n\r\n").target == "/a://b")
        #expect(throws: HTTPParseError.badRequestLine) { try parseRequest("GET ftp://gw/x HTTP/1.1\r\nHost: gw\r\n\r\n") }
    }

    @Test func transferEncodingInHTTP10IsFaultyFraming() throws {
        let head = try parseRequest("POST /v1/chat/completions HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(throws: HTTPParseError.transferEncodingInHTTP10) { try HeadParser.requestFraming(head) }
    }

    @Test func http10NeedsNoHostAndClosesByDefault() throws {
        let head = try parseRequest("GET /health HTTP/1.0\r\n\r\n")
        #expect(head.versionMinor == 0)
        #expect(!head.keepAlive)
        let ka = try parseRequest("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(ka.keepAlive)
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\n\r\n", HTTPParseError.missingHost),
        ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", .unsupportedVersion),
        ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequestLine),
        ("GET / HTTP/1.1\r\nHost : a\r\n\r\n", .badHeader),
        ("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", .badHeader),
        ("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", .badHeader),
        ("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", .badRequestLine),
    ])
    func rejectsMalformedHeads(text: String, error: HTTPParseError) {
        #expect(throws: error) { try parseRequest(text) }
    }

    @Test(arguments: [
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", HTTPParseError.conflictingFraming),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", .badContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", .badContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", .badContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", .badContentLength),
        ("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferEncoding),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .transferEncodingInHTTP10),
    ])
    func rejectsSmugglingShapes(text: String, error: HTTPParseError) throws {
        let head = try parseRequest(text)
        #expect(throws: error) { try HeadParser.requestFraming(head) }
    }

    @Test func chunkedRequestFraming() throws {
        let head = try parseRequest("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n")
        #expect(try HeadParser.requestFraming(head) == .chunked)
    }

    func raw(_ text: String, method: String = "POST") throws -> (RawResponseHead, BodyFraming, Bool) {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { b in
            let h = try RawResponseHead.parse(b)
            return (h, try h.framing(b, requestMethod: method), h.keepAlive(b))
        }
    }

    @Test func responseFraming() throws {
        let (r, f, ka) = try raw("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")
        #expect(r.status == 200 && r.reason.count == 2 && f == .contentLength(10) && ka)
        #expect(try raw("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", method: "HEAD").1 == BodyFraming.none)
        #expect(try raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").1 == .chunked)
        #expect(try raw("HTTP/1.0 200 OK\r\n\r\n", method: "GET").1 == .untilClose)
        #expect(try raw("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n").2 == false, "HTTP/1.0 closes unless asked")
        #expect(try raw("HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 1\r\n\r\n").2 == false)
        #expect(try raw("HTTP/1.1 204 No Content\r\n\r\n", method: "GET").1 == BodyFraming.none)
        #expect(try raw("HTTP/1.1 404\r\n\r\n").0.status == 404)
        #expect(try raw("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n").1 == .contentLength(5))
        #expect(throws: HTTPParseError.badContentLength) { try raw("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n") }
        #expect(throws: HTTPParseError.badContentLength) { try raw("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n") }
    }

    @Test(arguments: ["HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n", "ICY 200 OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n"])
    func rejectsInvalidStatusLines(text: String) {
        #expect(throws: HTTPParseError.self) { try parseResponse(text) }
        #expect(throws: HTTPParseError.self) { try Array(text.utf8).withUnsafeBytes { try RawResponseHead.parse($0) } }
    }

    @Test func hopByHopTokens() throws {
        let head = try parseRequest("GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Secret\r\n\r\n")
        #expect(head.connectionTokens == ["close", "x-secret"])
        #expect(!head.keepAlive)
    }
}
