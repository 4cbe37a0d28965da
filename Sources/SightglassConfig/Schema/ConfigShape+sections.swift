/// The whole configuration file's shape, section by section, under the file's own key names.
/// `ConfigShapeTests` checks every section against its type's `CodingKeys`, so the two cannot drift.
extension GatewayConfig {
    public static let shape: ConfigShape = .section([
        ("server", ServerSettings.shape),
        ("limits", LimitSettings.shape),
        ("timeouts", TimeoutSettings.shape),
        ("backends", .list(BackendConfig.shape)),
        ("pricing", .table(ModelPrice.shape)),
        ("metrics", MetricsSettings.shape),
        ("ledger", LedgerSettings.shape),
        ("dashboard", DashboardSettings.shape),
        ("logging", LoggingSettings.shape),
        (
            "auth",
            .section([
                ("inference", .choice(["off", "optional", "required"], caseInsensitive: false)), ("ban_after_failures", .integer),
                ("ban_seconds", .number),
            ])
        ),
    ])
}

extension ServerSettings {
    static let shape: ConfigShape = .section([
        ("host", .string), ("port", .integer), ("event_loops", .integer),
        ("control_host", .string), ("control_port", .integer),
        ("drain_timeout_seconds", .number), ("max_request_body_bytes", .integer), ("max_header_bytes", .integer),
        ("request_read_timeout_seconds", .number), ("keep_alive_timeout_seconds", .number),
    ])
}

extension LimitSettings {
    static let shape: ConfigShape = .section([
        ("max_concurrent_requests", .integer), ("max_queue_size", .integer), ("queue_timeout_seconds", .number),
        ("tiers", .table(RateLimits.shape)), ("models", .table(RateLimits.shape)), ("backends", .table(RateLimits.shape)),
        ("per_user", RateLimits.shape), ("default_max_tokens", .integer),
        (
            "per_user_budget",
            .section([
                ("amount_usd", .number), ("period", .choice(["day", "week", "month"], caseInsensitive: false)),
                ("mode", .choice(["soft", "hard"], caseInsensitive: false)),
            ])
        ),
    ])
}

extension RateLimits {
    static let shape: ConfigShape = .section(RateLimits.names.map { ($0, ConfigShape.integer) })
}

extension TimeoutSettings {
    static let shape: ConfigShape = .section([
        ("connect_seconds", .number), ("first_byte_seconds", .number), ("idle_seconds", .number), ("total_seconds", .number),
    ])
}

extension BackendConfig {
    static let shape: ConfigShape = .section([
        ("name", .string), ("url", .string), ("models", .list(.string)), ("api_key", .string),
        ("health_check_interval_seconds", .number), ("health_check_timeout_seconds", .number),
        ("ca_file", .string), ("tls_verify", .boolean),
    ])
}

extension ModelPrice {
    static let shape: ConfigShape = .section([("input", .number), ("cached_input", .number), ("output", .number)])
}

extension MetricsSettings {
    static let shape: ConfigShape = .section([("window_seconds", .integer)])
}

extension LedgerSettings {
    static let shape: ConfigShape = .section([
        ("enabled", .boolean), ("path", .string), ("user_header", .string), ("flush_interval_seconds", .number),
        ("batch_size", .integer), ("buffer_capacity", .integer),
        ("retention", .section([("raw_days", .number), ("minute_days", .number), ("hour_days", .number), ("day_days", .number)])),
        (
            "bodies",
            .section([
                ("enabled", .boolean), ("max_bytes", .integer), ("redact_keys", .list(.string)), ("redact_patterns", .list(.string)),
            ])
        ),
    ])
}

extension DashboardSettings {
    static let shape: ConfigShape = .section([
        ("auth", AuthSettings.shape),
        (
            "rate_limit",
            .section([
                ("enabled", .boolean), ("requests_per_minute", .integer), ("burst", .integer), ("burst_window_seconds", .number),
            ])
        ),
        ("live", .section([("metrics_interval_seconds", .number), ("stats_interval_seconds", .number), ("queue_limit", .integer)])),
        ("alerts", AlertSettings.shape),
        ("log_entries", .integer),
    ])
}

extension AuthSettings {
    static let shape: ConfigShape = .section([
        ("mode", .choice(["off", "api_key", "jwt"], caseInsensitive: false)),
        ("api_keys", .list(.section([("id", .string), ("sha256", .string), ("key", .string), ("permissions", .list(.string))]))),
        (
            "jwt",
            .section([
                ("hs256_secret", .string), ("rs256_public_key_file", .string), ("issuer", .string), ("audience", .string),
                ("permissions_claim", .string),
            ])
        ),
        ("websockets_per_user", .integer),
    ])
}

extension AlertSettings {
    static let shape: ConfigShape = .section([
        ("interval_seconds", .number),
        (
            "rules",
            .list(
                .section([
                    ("name", .string),
                    ("metric", .choice(AlertRule.Metric.allCases.map(\.rawValue), caseInsensitive: false)),
                    ("operator", .choice([">", "<"], caseInsensitive: false)),
                    ("threshold", .number), ("window_seconds", .number),
                    ("severity", .choice(AlertRule.severities, caseInsensitive: false)),
                    ("enabled", .boolean),
                ]))
        ),
        ("webhook", .section([("url", .string), ("max_attempts", .integer), ("timeout_seconds", .number)])),
    ])
}

extension LoggingSettings {
    static let shape: ConfigShape = .section([("level", .choice(LoggingSettings.levels, caseInsensitive: true))])
}
