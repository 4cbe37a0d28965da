import Foundation

/// Making and recognising the gateway's API keys: `sk-sg-` and 43 characters of base64url
/// (256 bits from the system's CSPRNG). Admin keys are `sk-sg-admin-…`. The secret exists only
/// in the answer that creates it; the store keeps its digest and a hint.
public enum APIKeySecret {
    public static let prefix = "sk-sg-"
    public static let adminPrefix = "sk-sg-admin-"
    /// Longer presented credentials are refused before hashing (no legitimate key is near it).
    public static let maxLength = 256

    /// A new key. `SystemRandomNumberGenerator` reads the kernel's CSPRNG (getrandom on Linux).
    public static func generate(admin: Bool = false) -> String {
        var rng = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in stride(from: 0, to: 32, by: 8) {
            let r = rng.next()
            for j in 0..<8 { bytes[i + j] = UInt8(truncatingIfNeeded: r >> UInt64(j * 8)) }
        }
        return (admin ? adminPrefix : prefix) + base64url(bytes)
    }

    /// What lists show instead of the key: its prefix and last four characters (`sk-sg-…abcd`).
    public static func hint(_ key: String) -> String {
        (key.hasPrefix(adminPrefix) ? adminPrefix : prefix) + "…" + String(key.suffix(4))
    }

    /// RFC 4648 §5 without padding: Foundation's base64 with the URL-safe alphabet.
    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
