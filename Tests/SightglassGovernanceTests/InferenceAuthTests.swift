import SightglassConfig
import Testing

@testable import SightglassGovernance

@Suite struct InferenceAuthTests {
    static let key = "sk-sg-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    static let grant = KeyGrant(
        keyId: "key_1", projectId: "proj_1", ownerId: "user_1",
        scopes: KeyScopes(models: [Glob("llama*")], routes: [.completions], maxTokens: 100), expiresAt: 2_000)
    static let table = KeyTable([KeyDigest(of: key): grant], version: 1)

    func decide(
        _ mode: GatewayAuthSettings.Mode = .required, _ credential: String?, scope: RouteScope = .completions, model: String? = "llama3.2:1b",
        maxTokens: Int? = nil, now: Double = 1_000
    ) -> InferenceAuth.Decision {
        InferenceAuth.decide(mode: mode, credential: credential, keys: Self.table, scope: scope, model: model, maxTokens: maxTokens, now: now)
    }

    @Test func offLetsEverythingThroughEvenABadKey() {
        #expect(decide(.off, nil) == .anonymous)
        #expect(decide(.off, "sk-sg-wrong") == .anonymous)
    }

    @Test func optionalLetsNoKeyThroughButRefusesABadOne() {
        #expect(decide(.optional, nil) == .anonymous)
        #expect(decide(.optional, "sk-sg-wrong") == .refused(.invalidKey))
        #expect(decide(.optional, Self.key) == .granted(Self.grant))
    }

    @Test func requiredNeedsALiveKey() {
        #expect(decide(.required, nil) == .refused(.missingKey))
        #expect(decide(.required, "") == .refused(.invalidKey))
        #expect(decide(.required, Self.key) == .granted(Self.grant))
        #expect(decide(.required, Self.key, now: 2_000) == .refused(.expiredKey))
    }

    @Test func scopesDecideRouteModelAndTokenCap() {
        #expect(decide(.required, Self.key, scope: .embeddings) == .refused(.routeNotAllowed(.embeddings)))
        #expect(decide(.required, Self.key, model: "qwen2.5:7b") == .refused(.modelHidden))
        #expect(decide(.required, Self.key, maxTokens: 101) == .refused(.maxTokensAbove(100)))
        #expect(decide(.required, Self.key, maxTokens: 100) == .granted(Self.grant))
        #expect(decide(.required, Self.key, model: nil) == .granted(Self.grant), "a route without a model (Ollama show) checks the route only")
    }

    @Test func refusalsMapToTheirStatus() {
        #expect([InferenceAuth.Refusal.missingKey, .invalidKey, .expiredKey].allSatisfy { $0.status == 401 })
        #expect(InferenceAuth.Refusal.routeNotAllowed(.batch).status == 403)
        #expect(InferenceAuth.Refusal.modelHidden.status == 404)
    }

    @Test(
        arguments: [
            (["authorization": "Bearer sk-sg-x"], "sk-sg-x"), (["authorization": "bearer   sk-sg-x  "], "sk-sg-x"),
            (["authorization": "Basic dXNlcjpwYXNz"], ""), (["authorization": "Bearer sk-sg-é"], ""),
            (["authorization": "Bearer " + String(repeating: "a", count: 300)], ""), (["api-key": "sk-sg-y"], "sk-sg-y"),
            (["x-api-key": "sk-sg-z"], "sk-sg-z"), ([:], nil),
        ] as [([String: String], String?)])
    func credentialsComeFromTheHeadersClientsSend(_ headers: [String: String], _ expected: String?) {
        #expect(InferenceAuth.credential { headers[$0] } == expected)
    }
}
