import Testing

@testable import SightglassProxy

@Suite struct ProxyRouteTests {
    /// The key check reads paths as the control plane's router does, so `//v1/models` or
    /// `/api/tags/` cannot slip past it.
    @Test(arguments: [
        ("/v1/models", "/v1/models"), ("//v1/models", "/v1/models"), ("/api/tags/", "/api/tags"), ("/api//ps//", "/api/ps"), ("/", "/"),
        ("/v1/chat/completions", "/v1/chat/completions"),
    ])
    func pathsAreNormalizedBeforeRoutingAndKeyChecks(_ raw: String, _ expected: String) {
        #expect(ProxyRoute.normalized(Substring(raw)) == expected)
    }

    @Test func managementRoutesHaveTheirOwnScopeAndMethods() {
        #expect(ProxyRoute.all["/api/pull"]?.scope == .modelManagement)
        #expect(ProxyRoute.all["/api/delete"]?.method == "DELETE")
        #expect(ProxyRoute.all["/api/copy"]?.otherModelKeys == ["destination"])
        #expect(ProxyRoute.all["/v1/embeddings"]?.scope == .embeddings && ProxyRoute.all["/api/chat"]?.scope == .completions)
    }

    @Test func appendingAMemberKeepsEveryOtherByte() {
        func append(_ json: String) -> String {
            Array(json.utf8).withUnsafeBytes { String(buffer: ClientConnectionHandler.appendMember("\"max_tokens\":16", to: $0)) }
        }
        #expect(append(#"{"model":"m"}"#) == #"{"model":"m","max_tokens":16}"#)
        #expect(append("{ }\n") == "{ \"max_tokens\":16}\n")
        #expect(append(#"{"a":{"b":1}}  "#) == #"{"a":{"b":1},"max_tokens":16}  "#)
    }
}
