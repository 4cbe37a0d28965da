import Foundation

/// The type checks real inference servers make before they generate anything, so demos and tests
/// meet the errors clients really get: OpenAI answers 400 `invalid_type` naming the parameter,
/// Ollama answers 400 with Go's JSON unmarshalling message.
struct RequestTypeCheck: Sendable {
    /// One field: what it must be, in OpenAI's words and as Ollama's Go type.
    struct Field: Sendable {
        let name: String
        let expected: String
        let goType: String
        let accepts: @Sendable (Any) -> Bool
    }

    let fields: [Field]
    /// The Go struct Ollama decodes into (`ChatRequest`, `GenerateRequest`).
    let goStruct: String

    /// The first wrongly typed field's message, or nil when the body is well typed. Absent and
    /// null fields are fine here: required fields are checked where they are used.
    func problem(in body: [String: Any], dialect: Handlers.Dialect) -> (field: String, message: String)? {
        for f in fields {
            guard let value = Self.lookup(f.name, in: body), !(value is NSNull), !f.accepts(value) else { continue }
            switch dialect {
            case .openAI:
                return (f.name, "Invalid type for '\(f.name)': expected \(f.expected), but got \(Self.describe(value)) instead.")
            case .ollama:
                let leaf = f.name.split(separator: ".").last.map(String.init) ?? f.name
                return (f.name, "json: cannot unmarshal \(Self.goKind(value)) into Go struct field \(goStruct).\(leaf) of type \(f.goType)")
            }
        }
        return nil
    }

    static func lookup(_ path: String, in body: [String: Any]) -> Any? {
        var current: Any? = body
        for key in path.split(separator: ".") { current = (current as? [String: Any])?[String(key)] }
        return current
    }

    // MARK: - JSON kinds (JSONSerialization gives NSNumber for numbers and booleans alike)

    static func isBool(_ v: Any) -> Bool { (v as? NSNumber).map { String(cString: $0.objCType) == "c" } ?? false }
    static func isNumber(_ v: Any) -> Bool { v is NSNumber && !isBool(v) }
    static func isInteger(_ v: Any) -> Bool { isNumber(v) && (v as! NSNumber).doubleValue.rounded() == (v as! NSNumber).doubleValue }
    static func isString(_ v: Any) -> Bool { v is String }
    static func isObject(_ v: Any) -> Bool { v is [String: Any] }
    static func isArray(of element: @escaping @Sendable (Any) -> Bool) -> @Sendable (Any) -> Bool { { ($0 as? [Any])?.allSatisfy(element) ?? false } }

    static func describe(_ v: Any) -> String {
        if isBool(v) { return "a boolean" }
        if isInteger(v) { return "an integer" }
        if isNumber(v) { return "a decimal" }
        if v is String { return "a string" }
        if v is [Any] { return "an array" }
        return "an object"
    }

    static func goKind(_ v: Any) -> String {
        if isBool(v) { return "bool" }
        if isNumber(v) { return "number" }
        if v is String { return "string" }
        if v is [Any] { return "array" }
        return "object"
    }

    // MARK: - The routes' fields

    static let model = Field(name: "model", expected: "a string", goType: "string", accepts: isString)
    /// A prompt or an embedding input: text, or a list of texts or token ids.
    static let textOrList: @Sendable (Any) -> Bool = { isString($0) || isArray(of: { isString($0) || isInteger($0) })($0) }

    static let sampling: [Field] = [
        Field(name: "max_tokens", expected: "an integer", goType: "int", accepts: isInteger),
        Field(name: "max_completion_tokens", expected: "an integer", goType: "int", accepts: isInteger),
        Field(name: "n", expected: "an integer", goType: "int", accepts: isInteger),
        Field(name: "temperature", expected: "a decimal", goType: "float32", accepts: isNumber),
        Field(name: "top_p", expected: "a decimal", goType: "float32", accepts: isNumber),
        Field(name: "stream", expected: "a boolean", goType: "bool", accepts: isBool),
    ]

    static let openAIChat = RequestTypeCheck(
        fields: [
            model,
            Field(name: "messages", expected: "an array of objects", goType: "[]api.Message", accepts: isArray(of: isObject)),
        ] + sampling, goStruct: "ChatRequest")

    static let openAICompletion = RequestTypeCheck(
        fields: [
            model,
            Field(name: "prompt", expected: "a string or an array of strings", goType: "string", accepts: textOrList),
        ] + sampling, goStruct: "GenerateRequest")

    static let openAIEmbedding = RequestTypeCheck(
        fields: [
            model,
            Field(name: "input", expected: "a string or an array of strings", goType: "[]string", accepts: textOrList),
        ], goStruct: "EmbedRequest")

    static let ollamaOptions: [Field] = [
        Field(name: "stream", expected: "a boolean", goType: "bool", accepts: isBool),
        Field(name: "options", expected: "an object", goType: "map[string]interface {}", accepts: isObject),
        Field(name: "options.num_predict", expected: "an integer", goType: "int", accepts: isInteger),
        Field(name: "options.temperature", expected: "a decimal", goType: "float32", accepts: isNumber),
    ]

    static let ollamaChat = RequestTypeCheck(
        fields: [
            model,
            Field(name: "messages", expected: "an array of objects", goType: "[]api.Message", accepts: isArray(of: isObject)),
        ] + ollamaOptions, goStruct: "ChatRequest")

    static let ollamaGenerate = RequestTypeCheck(
        fields: [
            model,
            Field(name: "prompt", expected: "a string", goType: "string", accepts: isString),
        ] + ollamaOptions, goStruct: "GenerateRequest")
}
