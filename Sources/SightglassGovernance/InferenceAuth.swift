import SightglassConfig

/// Whether an inference request may go on, decided from its credential, the key table, the
/// route's scope and the model: a pure function of its inputs, so every case is a unit test.
public enum InferenceAuth {
    public enum Decision: Equatable, Sendable {
        /// No key and none needed (`off`, or `optional` without a credential).
        case anonymous
        case granted(KeyGrant)
        case refused(Refusal)
    }

    /// Why a request is refused; each maps to one status and one message per dialect.
    public enum Refusal: Equatable, Sendable {
        /// 401: no credential where one is required.
        case missingKey
        /// 401: malformed, unknown, revoked, or of an archived project (indistinguishable on purpose).
        case invalidKey
        /// 401: past its `expires_at`.
        case expiredKey
        /// 403: the key's scopes do not include this route group.
        case routeNotAllowed(RouteScope)
        /// Answered exactly as an unknown model (404), so a key cannot probe which models exist.
        case modelHidden
        /// 400: `max_tokens` above the key's cap.
        case maxTokensAbove(Int)

        public var status: Int {
            switch self {
            case .missingKey, .invalidKey, .expiredKey: 401
            case .routeNotAllowed: 403
            case .modelHidden: 404
            case .maxTokensAbove: 400
            }
        }
    }

    /// The credential a request carries: `Authorization: Bearer …` (OpenAI and Ollama clients),
    /// else `api-key` (Azure-style clients) or `x-api-key`. Nil when none is present; an empty
    /// string when one is present but unusable (not Bearer, too long, not visible ASCII).
    /// Runs once per request: it reads the header's bytes in place and copies only the key.
    public static func credential(_ value: (String) -> String?) -> String? {
        if let auth = value("authorization") {
            let utf8 = auth.utf8
            var i = utf8.startIndex
            for expected in "bearer ".utf8 {
                guard i != utf8.endIndex, utf8[i] | 0x20 == expected else { return "" }
                i = utf8.index(after: i)
            }
            return usable(Substring(auth)[i...])
        }
        if let key = value("api-key") ?? value("x-api-key") { return usable(Substring(key)) }
        return nil
    }

    /// The key without surrounding blanks, or "" when it is too long or not visible ASCII.
    static func usable(_ raw: Substring) -> String {
        let blank: (UInt8) -> Bool = { $0 == 32 || $0 == 9 }
        var u = raw.utf8[...]
        while let f = u.first, blank(f) { u = u.dropFirst() }
        while let l = u.last, blank(l) { u = u.dropLast() }
        guard u.count <= APIKeySecret.maxLength, u.allSatisfy({ $0 > 32 && $0 < 127 }) else { return "" }
        return String(Substring(u))
    }

    public static func decide(
        mode: GatewayAuthSettings.Mode, credential: String?, keys: KeyTable, scope: RouteScope?, model: String?,
        maxTokens: Int?, now: Double
    ) -> Decision {
        if mode == .off { return .anonymous }
        guard let credential else { return mode == .optional ? .anonymous : .refused(.missingKey) }
        guard !credential.isEmpty, let grant = keys.grant(for: KeyDigest(of: credential)) else { return .refused(.invalidKey) }
        if let e = grant.expiresAt, now >= e { return .refused(.expiredKey) }
        // No scope (the model catalogs): any live key may ask; its models filter the answer.
        if let scope, !grant.scopes.routes.contains(scope) { return .refused(.routeNotAllowed(scope)) }
        if let model, !grant.scopes.allows(model: model) { return .refused(.modelHidden) }
        if let cap = grant.scopes.maxTokens, let asked = maxTokens, asked > cap { return .refused(.maxTokensAbove(cap)) }
        return .granted(grant)
    }
}
