/// What the YAML configuration may hold at one place: which keys a section has and what kind of
/// value each takes. The loader checks a file against it before decoding, so a misspelled key or a
/// value of the wrong kind is an error with its line, never silently ignored.
public indirect enum ConfigShape: Sendable {
    case string
    case integer
    case number
    case boolean
    /// A string from a fixed set; `caseInsensitive` accepts `DEBUG` for `debug`.
    case choice([String], caseInsensitive: Bool)
    /// Known keys only.
    case section([(key: String, shape: ConfigShape)])
    case list(ConfigShape)
    /// Keys chosen by the user (model names under `pricing`), each holding the same shape.
    case table(ConfigShape)

    /// The keys a section allows, in declaration order.
    public var keys: [String] {
        if case .section(let fields) = self { return fields.map(\.key) }
        return []
    }

    /// The shape under `key` when this is a section.
    public func field(_ key: String) -> ConfigShape? {
        if case .section(let fields) = self { return fields.first { $0.key == key }?.shape }
        return nil
    }

    /// What a value of this shape is called in an error message.
    var noun: String {
        switch self {
        case .string: return "a string"
        case .integer: return "a whole number"
        case .number: return "a number"
        case .boolean: return "true or false"
        case .choice(let options, _): return "one of " + options.map { "'\($0)'" }.joined(separator: ", ")
        case .section: return "a mapping of keys"
        case .list: return "a list"
        case .table: return "a mapping of names"
        }
    }
}
