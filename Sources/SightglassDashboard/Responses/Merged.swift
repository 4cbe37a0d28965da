/// A value and more keys beside it in one JSON object: both encode into the same encoder (the
/// JSON encoder merges their keys; on a clash `extra` wins), and both decode from the whole object.
public struct Merged<Base: Codable & Sendable, Extra: Codable & Sendable>: Codable, Sendable {
    public var base: Base
    public var extra: Extra

    public init(_ base: Base, _ extra: Extra) {
        self.base = base
        self.extra = extra
    }

    public init(from decoder: any Decoder) throws {
        base = try Base(from: decoder)
        extra = try Extra(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        try base.encode(to: encoder)
        try extra.encode(to: encoder)
    }
}
