import Foundation
import NIOCore
import Testing

@testable import SightglassProxy

func scan(_ json: String, keys: [String] = ["model"]) throws -> RequestFields {
    try Array(json.utf8).withUnsafeBytes { try RequestFields.scan($0, modelKeys: keys) }
}

@Suite struct RequestFieldsTests {
    @Test func findsModelStreamAndOptions() throws {
        let f = try scan(
            #" { "messages": [{"role":"user","content":"a \"quoted\" {brace}"}], "model" : "llama3:8b", "stream": true, "stream_options": {"include_usage": false} } "#
        )
        #expect(f.model == "llama3:8b")
        #expect(f.stream == true)
        #expect(f.includeUsage == false)
        #expect(f.streamOptionsRange != nil)
    }

    @Test(
        arguments: [
            (#"{"model":"m"}"#, nil), (#"{"model":"m","max_tokens":64}"#, 64), (#"{"max_completion_tokens":32,"max_tokens":64}"#, 32),
            (#"{"max_tokens":64,"max_completion_tokens":32}"#, 32), (#"{"max_tokens":null}"#, nil),
            (#"{"options":"x"}"#, nil),
        ] as [(String, Int?)])
    func findsTheOutputCap(json: String, expected: Int?) throws {
        #expect(try scan(json).maxTokens == expected)
    }

    @Test(
        arguments: [
            (#"{"model":"m","options":{"temperature":0.1,"num_predict":128}}"#, 128), (#"{"options":{"num_predict":-1}}"#, nil),
            (#"{"max_tokens":5,"options":{"num_predict":99}}"#, 99), (#"{"max_tokens":5}"#, nil),
            (#"{"options":{"num_predict":99999999999}}"#, 2_147_483_647),
        ] as [(String, Int?)])
    func ollamasCapIsNumPredictAlone(json: String, expected: Int?) throws {
        #expect(try scan(json).outputCap(ollama: true) == expected)
    }

    @Test(arguments: [#"{"max_tokens":-1}"#, #"{"max_tokens":9223372036854775807}"#, #"{"max_completion_tokens":2147483648}"#])
    func anOutputCapOutsideZeroTo2To31IsRefused(json: String) {
        #expect(throws: RequestFields.ScanError.self) { try scan(json) }
    }

    @Test(arguments: ["model", "stream", "max_tokens", "options", "stream_options"])
    func aFieldTheGatewayActsOnMayNotBeGivenTwice(field: String) {
        let value = field == "model" ? "\"m\"" : field == "stream" ? "true" : field == "max_tokens" ? "5" : "{}"
        #expect(throws: RequestFields.ScanError.duplicate(field: field)) { try scan(#"{"\#(field)":\#(value),"\#(field)":\#(value)}"#) }
    }

    @Test func otherModelKeysAreCollected() throws {
        let f = try Array(#"{"source":"a","destination":"b"}"#.utf8).withUnsafeBytes {
            try RequestFields.scan($0, modelKeys: ["source"], otherModelKeys: ["destination"])
        }
        #expect(f.model == "a" && f.otherModels == ["b"])
    }

    @Test func aNonIntegerCapIsAWrongType() {
        #expect(throws: RequestFields.ScanError.wrongType(field: "max_tokens", expected: "an integer")) { try scan(#"{"max_tokens":"many"}"#) }
    }

    @Test func decodesEscapesInModel() throws {
        #expect(try scan(#"{"model":"a\u0062\/c"}"#).model == "ab/c")
    }

    @Test func ollamaShowAcceptsName() throws {
        #expect(try scan(#"{"name":"x"}"#, keys: ["model", "name"]).model == "x")
        #expect(try scan(#"{"name":"x","model":"y"}"#, keys: ["model", "name"]).model == "y")
    }

    @Test(arguments: [
        (#"{"model": 5}"#, "model"),
        (#"{"model":"m","stream":"yes"}"#, "stream"),
        (#"{"model":"m","stream_options":true}"#, "stream_options"),
        (#"{"model":"m","stream_options":{"include_usage":1}}"#, "stream_options.include_usage"),
    ])
    func rejectsWrongTypes(json: String, field: String) {
        #expect(
            throws: RequestFields.ScanError.wrongType(
                field: field, expected: field == "model" ? "a string" : (field == "stream_options" ? "an object" : "a boolean"))
        ) {
            try scan(json)
        }
    }

    @Test(arguments: ["", "[]", "{", #"{"model":"m""#, #"{"model":"m",}"#, #"{"model":"m"} x"#, #"{"a":tru}"#, #"{"a":[1,2}"#, "{\"a\":\"\u{01}\"}"])
    func rejectsMalformed(json: String) {
        #expect(throws: RequestFields.ScanError.self) { try scan(json) }
    }

    @Test(arguments: [
        #"{"model":"m","stream":true}"#,
        #"{"model":"m","stream":true,"stream_options":{}}"#,
        #"{"model":"m","stream":true,"stream_options":{ "other": 1 }}"#,
        #"{"model":"m","stream":true,"stream_options":{"include_usage":false}}"#,
        #"{"model":"m","stream":true,"stream_options":{"include_usage" : false, "x": [1]}}"#,
    ])
    func injectsIncludeUsageKeepingTheRest(json: String) throws {
        let fields = try scan(json)
        let out = Array(json.utf8).withUnsafeBytes { ClientConnectionHandler.injectIncludeUsage($0, fields: fields) }
        let data = Data(out.readableBytesView)
        let original = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let object = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let options = object["stream_options"] as! [String: Any]
        #expect(options["include_usage"] as? Bool == true)
        #expect(object["model"] as? String == "m")
        if let before = original["stream_options"] as? [String: Any] {
            for (k, _) in before where k != "include_usage" { #expect(options[k] != nil) }
        }
    }
}
