import NIOCore
import Testing

@testable import SightglassProxy

let sseWithUsage = """
    data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""}}],"usage":null}

    data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}

    data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" there"}}],"usage":null}

    data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}

    data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":4}}}

    data: [DONE]


    """

@Suite struct StreamTapTests {
    /// Feeds `text` in pieces of `step` bytes; returns (first token found at piece index, tap).
    func observe(_ text: String, format: StreamTap.Format, step: Int) -> (Int?, StreamTap) {
        var tap = StreamTap(format: format)
        let bytes = Array(text.utf8)
        var firstAt: Int?
        var i = 0, piece = 0
        while i < bytes.count {
            let end = min(bytes.count, i + step)
            if Array(bytes[i..<end]).withUnsafeBytes({ tap.observe($0) }) { firstAt = firstAt ?? piece }
            i = end
            piece += 1
        }
        var none: ByteBuffer? = nil
        tap.finish(into: &none)
        return (firstAt, tap)
    }

    @Test func sseUsageAndFirstTokenAtAnySplit() {
        for step in [1, 2, 7, 50, 4096] {
            let (first, tap) = observe(sseWithUsage, format: .sse, step: step)
            #expect(first != nil)
            #expect(tap.usage == Usage(input: 9, output: 2, cached: 4))
            #expect(tap.contentChunks == 2, "the empty first delta is not a token")
        }
    }

    @Test func theEndMarkerIsSeenAtAnySplit() {
        for step in [1, 3, 4096] {
            #expect(observe(sseWithUsage, format: .sse, step: step).1.endSeen == (sseWithUsage.contains("[DONE]")))
            let done = "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\r\n\r\ndata: [DONE]\r\n\r\n"
            #expect(observe(done, format: .sse, step: step).1.endSeen)
            let notYet = "data: {\"choices\":[{\"delta\":{\"content\":\"[DONE]\"}}]}\n\n"
            #expect(!observe(notYet, format: .sse, step: step).1.endSeen, "content that says [DONE] is not the marker")
        }
    }

    @Test func firstTokenIsNotTheRoleChunk() {
        let role = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
        var tap = StreamTap(format: .sse)
        #expect(Array(role.utf8).withUnsafeBytes { tap.observe($0) } == false)
        let content = "data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n"
        #expect(Array(content.utf8).withUnsafeBytes { tap.observe($0) } == true)
    }

    @Test func stripModeRemovesWhatTheClientDidNotAskFor() {
        for step in [1, 3, 64, 10_000] {
            var tap = StreamTap(format: .sse, stripUsage: true)
            var out = ByteBuffer()
            let bytes = Array(sseWithUsage.utf8)
            var i = 0
            while i < bytes.count {
                let end = min(bytes.count, i + step)
                _ = Array(bytes[i..<end]).withUnsafeBytes { tap.filter($0, into: &out) }
                i = end
            }
            var rest: ByteBuffer? = ByteBuffer()
            tap.finish(into: &rest)
            out.writeImmutableBuffer(rest!)
            let text = String(buffer: out)
            let expected =
                sseWithUsage
                .replacingOccurrences(of: ",\"usage\":null", with: "")
                .replacingOccurrences(
                    of:
                        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n",
                    with: "")
            #expect(text == expected)
            #expect(tap.usage == Usage(input: 9, output: 2, cached: 4))
        }
    }

    @Test func ollamaFinalCounts() {
        let ndjson = """
            {"model":"m","message":{"role":"assistant","content":"Hel"},"done":false}
            {"model":"m","message":{"role":"assistant","content":"lo"},"done":false}
            {"model":"m","message":{"role":"assistant","content":""},"done":true,"prompt_eval_count":26,"eval_count":2,"eval_duration":100}

            """
        for step in [1, 5, 1000] {
            let (first, tap) = observe(ndjson, format: .ndjson, step: step)
            #expect(first != nil)
            #expect(tap.usage == Usage(input: 26, output: 2))
        }
    }

    @Test func jsonBodyUsageIncludingPrettyPrinted() {
        let compact = #"{"id":"x","choices":[{"message":{"content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#
        #expect(observe(compact, format: .json, step: 5).1.usage == Usage(input: 3, output: 1))
        let pretty = "{\n  \"usage\": {\n    \"prompt_tokens\": 12,\n    \"completion_tokens\": 30\n  }\n}"
        #expect(observe(pretty, format: .json, step: 4).1.usage == Usage(input: 12, output: 30))
        let nullUsage = #"{"usage":null}"#
        #expect(observe(nullUsage, format: .json, step: 4).1.usage == nil)
    }
}
