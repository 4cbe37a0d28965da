import NIOCore
import SightglassGovernance
import Testing

@testable import SightglassProxy

@Suite struct LimitHeadersTests {
    @Test(arguments: [0.017, 0.9999, 1.0, 29.5, 59.2, 360.0, 3723.0, 86_399.0, -2.0])
    func theResponseHeadGetsTheSameLinesAsTheReference(reset: Double) {
        let status = LimitStatus(
            requests: LimitWindow(limit: 10, remaining: 0, resetSeconds: reset, resetAt: 1_796_324_460),
            tokens: LimitWindow(limit: 1_000_000_000_000, remaining: 123_456_789, resetSeconds: reset / 2, resetAt: 1_796_324_460))
        var out = ByteBuffer()
        LimitHeaders.write(status, into: &out)
        #expect(String(buffer: out) == status.headerLines)
    }

    @Test func aStatusWithOnlyTokensUsesThemForSeed002sHeaders() {
        let status = LimitStatus(tokens: LimitWindow(limit: 500, remaining: 20, resetSeconds: 3, resetAt: 42))
        var out = ByteBuffer()
        LimitHeaders.write(status, into: &out)
        #expect(String(buffer: out) == status.headerLines)
        #expect(String(buffer: out).contains("X-RateLimit-Limit: 500\r\n"))
    }

    @Test func noLimitNoLines() {
        var out = ByteBuffer()
        LimitHeaders.write(LimitStatus(), into: &out)
        #expect(out.readableBytes == 0)
    }
}
