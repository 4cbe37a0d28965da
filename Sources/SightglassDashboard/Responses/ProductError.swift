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
