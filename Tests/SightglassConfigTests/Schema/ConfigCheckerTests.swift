import Testing
import Yams

@testable import SightglassConfig

@Suite struct ConfigCheckerTests {
    func issues(_ yaml: String) throws -> [ConfigIssue] {
        var checker = ConfigChecker(root: GatewayConfig.shape)
        checker.check(try #require(try Yams.compose(yaml: yaml)), GatewayConfig.shape, path: "")
        return checker.issues
    }

    @Test func validFileHasNoIssues() throws {
        #expect(
            try issues("server:\n  port: 1\nbackends:\n  - name: a\n    url: http://x\n    models: [m]\npricing:\n  qwen2.5:7b: {input: 1, output: 2}\n")
                .isEmpty)
    }

    @Test func everyProblemIsReportedNotOnlyTheFirst() throws {
        let found = try issues("server:\n  prot: 1\n  port: eighty\nledger:\n  enabled: maybe\n")
        #expect(found.map(\.path) == ["server.prot", "server.port", "ledger.enabled"])
        #expect(found.map(\.line) == [2, 3, 5])
        #expect(found[0].suggestion == "port")
    }

    @Test func keyInTheWrongSectionPointsToWhereItBelongs() throws {
        let found = try issues("server:\n  max_queue_size: 3\n")
        #expect(found.first?.suggestion == "limits.max_queue_size")
    }

    @Test func farOffKeyGetsNoSuggestion() throws {
        #expect(try issues("server:\n  completely_unrelated: 1\n").first?.suggestion == nil)
    }

    @Test func kindsAreChecked() throws {
        #expect(try issues("backends: {name: a}\n").first?.message.contains("expected a list") == true)
        #expect(try issues("server:\n  host: [a, b]\n").first?.message == "expected a string")
        #expect(try issues("timeouts:\n  connect_seconds: 2.5\n").isEmpty)
        #expect(try issues("limits:\n  max_queue_size: 2.5\n").count == 1)
    }

    @Test func choicesAndTheirCase() throws {
        #expect(try issues("dashboard:\n  auth:\n    mode: API_KEY\n").count == 1)
        #expect(try issues("logging:\n  level: WARNING\n").isEmpty)
        #expect(try issues("dashboard:\n  alerts:\n    rules:\n      - name: r\n        metric: error_rat\n").first?.suggestion == "error_rate")
    }

    @Test func keyGivenTwiceIsRefusedByTheParser() {
        #expect {
            try ConfigLoader.decode(yaml: "server:\n  port: 1\n  port: 2\n")
        } throws: { error in
            "\(error)".contains("duplicated key") && "\(error)".contains("'port'")
        }
    }

    @Test func lineOfAPath() throws {
        let node = try #require(try Yams.compose(yaml: "server:\n  port: 1\nbackends:\n  - name: a\n    url: x\npricing:\n  qwen2.5:7b:\n    input: 1\n"))
        #expect(ConfigChecker.line(of: "server.port", in: node) == 2)
        #expect(ConfigChecker.line(of: "backends[0].url", in: node) == 5)
        #expect(ConfigChecker.line(of: "pricing.qwen2.5:7b", in: node) == 7)
        #expect(ConfigChecker.line(of: "pricing.qwen2.5:7b.input", in: node) == 8)
        #expect(ConfigChecker.line(of: "limits.max_queue_size", in: node) == nil)
    }

    @Test func editDistance() {
        #expect(ConfigChecker.editDistance("port", "prot") == 2)
        #expect(ConfigChecker.editDistance("", "abc") == 3)
        #expect(ConfigChecker.nearest("max_concurent_requests", in: ["max_concurrent_requests", "max_queue_size"]) == "max_concurrent_requests")
    }
}
