import Crypto
import Foundation
import JWTKit
import NIOConcurrencyHelpers
import SightglassConfig
import SightglassGovernance

/// Checks the credentials of dashboard, live-feed and admin requests: none (`off`), admin API
/// keys (kept as SHA-256, compared in constant time) or JWTs (HS256 / RS256 via jwt-kit) whose
/// claims carry permissions such as `dashboard:read` and `dashboard:admin`.
public final class DashboardAuth: Sendable {
    public enum Failure: Error, Equatable {
        case missing
        case invalid(String)
        case expired
    }

    struct Key: Sendable {
        var id: String
        var digest: KeyDigest
        var permissions: Set<String>
    }

    /// A security event for `/dashboard/security`.
    public struct Event: Sendable {
        public var timestamp: Double
        public var type: String
        public var sourceIP: String
        public var details: String
        public var severity: String
    }

    public let mode: AuthSettings.Mode
    public let settings: AuthSettings
    let keys: [Key]
    let jwtKeys: JWTKeyCollection?
    private let events = NIOLockedValueBox<[Event]>([])

    public init(settings: AuthSettings, host: String) async throws {
        self.settings = settings
        mode = settings.effectiveMode(host: host)
        keys = settings.apiKeys.map { k in
            // `validate()` has checked that `sha256` is 64 hex digits.
            let digest = k.sha256.flatMap(KeyDigest.init(hex:)) ?? KeyDigest(of: k.key ?? "")
            return Key(id: k.id, digest: digest, permissions: Set(k.permissions))
        }
        if let jwt = settings.jwt {
            let collection = JWTKeyCollection()
            if let secret = jwt.hs256Secret { await collection.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256) }
            if let file = jwt.rs256PublicKeyFile {
                let pem = try String(contentsOfFile: file, encoding: .utf8)
                await collection.add(rsa: try Insecure.RSA.PublicKey(pem: pem), digestAlgorithm: .sha256)
            }
            jwtKeys = collection
        } else {
            jwtKeys = nil
        }
    }

    public var methods: [String] {
        switch mode {
        case .off: return []
        case .apiKey: return ["api_key"]
        case .jwt: return keys.isEmpty ? ["jwt"] : ["jwt", "api_key"]
        }
    }

    /// Who presents `token` (the bearer credential; nil when none was sent).
    public func authenticate(token: String?) async -> Result<Principal, Failure> {
        if mode == .off { return .success(.anonymous) }
        guard let token, !token.isEmpty else { return .failure(.missing) }
        // API keys are accepted in both modes that use them; JWTs look like three dot-separated parts.
        if let key = match(apiKey: token) {
            return .success(Principal(user: key.id, permissions: key.permissions, method: "api_key"))
        }
        guard mode == .jwt, let jwtKeys, token.split(separator: ".").count == 3 else {
            return .failure(.invalid(mode == .jwt ? "not a valid JWT" : "unknown API key"))
        }
        do {
            let claims = try await jwtKeys.verify(token, as: DashboardClaims.self)
            let jwt = settings.jwt ?? .init()
            if let iss = jwt.issuer, claims.issuer != iss { return .failure(.invalid("issuer is not '\(iss)'")) }
            if let aud = jwt.audience, !claims.audience.contains(aud) { return .failure(.invalid("audience does not include '\(aud)'")) }
            return .success(Principal(user: claims.subject ?? "jwt", permissions: Set(claims.strings[jwt.permissionsClaim] ?? []), method: "jwt"))
        } catch let e as JWTError where e.errorType == .claimVerificationFailure && e.failedClaim is ExpirationClaim {
            return .failure(.expired)
        } catch let e as JWTError {
            return .failure(.invalid(e.reason ?? "\(e.errorType)"))
        } catch {
            return .failure(.invalid("\(error)"))
        }
    }

    /// The key's digest compared with every configured one, each comparison in constant time
    /// and none skipped, so the time taken says nothing about which (if any) matched.
    func match(apiKey: String) -> Key? {
        let digest = KeyDigest(of: apiKey)
        var found: Key?
        for k in keys where k.digest == digest { found = k }
        return found
    }

    public static func sha256Hex(_ key: String) -> String { KeyDigest(of: key).hex }

    // MARK: - Security events

    public func recordFailure(type: String, sourceIP: String, details: String, severity: String = "medium") {
        events.withLockedValue { e in
            e.append(Event(timestamp: Date().timeIntervalSince1970, type: type, sourceIP: sourceIP, details: details, severity: severity))
            if e.count > 500 { e.removeFirst(e.count - 500) }
        }
    }

    public func recentEvents(limit: Int = 50) -> [Event] {
        events.withLockedValue { Array($0.suffix(limit).reversed()) }
    }

    /// Failures of the given types since `since` (default: the dashboard's failed logins).
    public func failures(since: Double, types: Set<String> = ["failed_login"]) -> Int {
        events.withLockedValue { $0.filter { $0.timestamp >= since && types.contains($0.type) }.count }
    }
}

/// The claims we read: standard ones, plus every string or list-of-strings claim so the
/// configured permissions claim can be found whatever it is called.
struct DashboardClaims: JWTPayload {
    var subject: String?
    var issuer: String?
    var audience: [String] = []
    var expiration: ExpirationClaim?
    var notBefore: NotBeforeClaim?
    var strings: [String: [String]] = [:]

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        for key in c.allKeys {
            switch key.stringValue {
            case "sub": subject = try? c.decode(String.self, forKey: key)
            case "iss": issuer = try? c.decode(String.self, forKey: key)
            case "aud": audience = (try? c.decode([String].self, forKey: key)) ?? (try? c.decode(String.self, forKey: key)).map { [$0] } ?? []
            case "exp": expiration = try c.decode(ExpirationClaim.self, forKey: key)
            case "nbf": notBefore = try c.decode(NotBeforeClaim.self, forKey: key)
            default:
                if let list = try? c.decode([String].self, forKey: key) {
                    strings[key.stringValue] = list
                } else if let s = try? c.decode(String.self, forKey: key) {
                    // OAuth's `scope` is one space-separated string.
                    strings[key.stringValue] = s.split(separator: " ").map(String.init)
                }
            }
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        if let subject { try c.encode(subject, forKey: AnyKey(stringValue: "sub")) }
        if let expiration { try c.encode(expiration, forKey: AnyKey(stringValue: "exp")) }
        for (k, v) in strings { try c.encode(v, forKey: AnyKey(stringValue: k)) }
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try expiration?.verifyNotExpired()
        try notBefore?.verifyNotBefore()
    }
}
