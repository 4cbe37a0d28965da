import SightglassConfig

/// The product routes' error shape (seed 002): `{"error":{"code","message","details","timestamp"}}`.
public struct ProductError: Codable, Sendable, Equatable {
    public struct Body: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
        /// A sentence, or structured details (the problems of a refused configuration).
        public var details: JSONValue
        public var timestamp: String
    }

    public var error: Body
}

/// One problem of a refused configuration, in the error's `details` of `POST /admin/reload`.
public struct ConfigProblem: Codable, Sendable, Equatable {
    /// The setting as written in the file.
    public var path: String
    /// Absent when the setting is not in the file.
    public var line: Int?
    public var message: String
    public var suggestion: String?

    init(_ issue: ConfigIssue) {
        path = issue.path
        line = issue.line
        message = issue.message
        suggestion = issue.suggestion
    }
}
