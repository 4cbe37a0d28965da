import Testing

@testable import SightglassGovernance

@Suite struct KeyDigestTests {
    @Test func hexIsTheSHA256OfTheKeyAndRoundTrips() {
        // sha256("abc"), the FIPS 180-2 example.
        let d = KeyDigest(of: "abc")
        #expect(d.hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(KeyDigest(hex: d.hex) == d)
        #expect(KeyDigest(hex: d.hex.uppercased()) == d)
    }

    @Test(arguments: ["", "abc", String(repeating: "0", count: 63), String(repeating: "g", count: 64)])
    func malformedHexIsRefused(_ hex: String) {
        #expect(KeyDigest(hex: hex) == nil)
    }

    @Test func digestsDifferingInAnyWordAreUnequal() {
        let a = KeyDigest(of: "sk-sg-one"), b = KeyDigest(of: "sk-sg-two")
        #expect(a != b)
        #expect(a == KeyDigest(of: Array("sk-sg-one".utf8)))
        var table: [KeyDigest: Int] = [a: 1]
        table[b] = 2
        #expect(table[KeyDigest(of: "sk-sg-one")] == 1 && table.count == 2)
    }
}

@Suite struct APIKeySecretTests {
    @Test func keysCarry256RandomBitsBehindTheirPrefix() {
        let keys = (0..<200).map { _ in APIKeySecret.generate() }
        #expect(Set(keys).count == 200)
        for k in keys {
            #expect(k.hasPrefix("sk-sg-") && k.utf8.count == 6 + 43)
            #expect(k.dropFirst(6).allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        }
        #expect(APIKeySecret.generate(admin: true).hasPrefix("sk-sg-admin-"))
    }

    @Test func theHintShowsThePrefixAndLastFourCharacters() {
        #expect(APIKeySecret.hint("sk-sg-AAAAwxyz") == "sk-sg-…wxyz")
        #expect(APIKeySecret.hint("sk-sg-admin-AAAAwxyz") == "sk-sg-admin-…wxyz")
    }

    @Test func base64urlMatchesRFC4648Vectors() {
        #expect(APIKeySecret.base64url(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(APIKeySecret.base64url(Array("fooba".utf8)) == "Zm9vYmE")
        #expect(APIKeySecret.base64url(Array("foob".utf8)) == "Zm9vYg")
        #expect(APIKeySecret.base64url([0xfb, 0xff]) == "-_8")
    }
}

@Suite struct GlobTests {
    @Test(arguments: [
        ("*", "anything", true), ("qwen2.5:*", "qwen2.5:7b", true), ("qwen2.5:*", "qwen2:7b", false),
        ("llama3.?:1b", "llama3.2:1b", true), ("llama3.?:1b", "llama3.22:1b", false), ("gpt-4o", "gpt-4o", true),
        ("gpt-4o", "gpt-4o-mini", false), ("*mini", "gpt-4o-mini", true), ("a*b*c", "axxbyyc", true), ("a*b*c", "axxbyy", false),
        ("", "", true), ("", "x", false),
    ])
    func matching(_ pattern: String, _ name: String, _ expected: Bool) {
        #expect(Glob(pattern).matches(name) == expected)
    }
}
