/// One problem in a configuration file: where it is (the setting's path and line) and, when a
/// likely fix is known, what was probably meant.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    /// The setting as written in the file: `limits.max_queue_size`, `backends[1].url`.
    public var path: String
    /// 1-based; nil when the setting is not in the file (a value from the environment or a flag).
    public var line: Int?
    public var message: String
    /// What was probably meant, as a key or a path.
    public var suggestion: String?

    public init(path: String, line: Int?, message: String, suggestion: String? = nil) {
        self.path = path
        self.line = line
        self.message = message
        self.suggestion = suggestion
    }

    public var description: String {
        var text = line.map { "line \($0): " } ?? ""
        text += path.isEmpty ? message : "\(path): \(message)"
        if let suggestion { text += " (did you mean '\(suggestion)'?)" }
        return text
    }
}

public enum ConfigError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    /// A setting's value is wrong: its path as written in the file, and why.
    case field(String, String)
    /// Problems found in a configuration file, each with its line.
    case file(String, [ConfigIssue])

    public var description: String {
        switch self {
        case .invalid(let message): return "invalid configuration: \(message)"
        case .field(let path, let message): return "invalid configuration: \(path): \(message)"
        case .file(let name, let issues):
            if issues.count == 1 { return "invalid configuration in \(name), \(issues[0])" }
            return "invalid configuration in \(name):\n" + issues.map { "  \($0)" }.joined(separator: "\n")
        }
    }

    /// The problems as issues (one for the single-message cases).
    public var issues: [ConfigIssue] {
        switch self {
        case .invalid(let message): return [ConfigIssue(path: "", line: nil, message: message)]
        case .field(let path, let message): return [ConfigIssue(path: path, line: nil, message: message)]
        case .file(_, let issues): return issues
        }
    }
}
