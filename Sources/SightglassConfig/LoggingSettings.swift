import Foundation

/// How much the process logs. `LOG_LEVEL` in the environment overrides `logging.level`; both
/// accept any case (`DEBUG`, `debug`), and `warn` for `warning`.
public struct LoggingSettings: Codable, Sendable, Equatable {
    public static let levels = ["trace", "debug", "info", "notice", "warning", "warn", "error", "critical"]

    public var level = "info"

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case level }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        level = try c.value(.level, "info")
    }

    /// The level's canonical name (`trace` … `critical`), or nil when it names none.
    public static func canonical(_ text: String) -> String? {
        let lower = text.trimmingCharacters(in: .whitespaces).lowercased()
        if lower == "warn" { return "warning" }
        return levels.contains(lower) ? lower : nil
    }

    func validate() throws {
        guard Self.canonical(level) != nil else {
            throw ConfigError.field("logging.level", "'\(level)' is not a log level (one of trace, debug, info, notice, warning, error, critical)")
        }
    }
}
