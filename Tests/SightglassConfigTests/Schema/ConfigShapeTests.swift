import Testing

@testable import SightglassConfig

/// The shape the loader checks files against must list exactly the keys each type decodes.
@Suite struct ConfigShapeTests {
    func keys<K: CodingKey & CaseIterable>(_: K.Type) -> Set<String> { Set(K.allCases.map(\.stringValue)) }

    func shape(_ path: String...) throws -> ConfigShape {
        var s = GatewayConfig.shape
        for key in path {
            s = try #require(s.field(key))
            while case .list(let element) = s { s = element }
            if case .table(let value) = s { s = value }
        }
        return s
    }

    @Test func everySectionMatchesItsCodingKeys() throws {
        #expect(Set(try shape().keys) == keys(GatewayConfig.CodingKeys.self))
        #expect(Set(try shape("server").keys) == keys(ServerSettings.CodingKeys.self))
        #expect(Set(try shape("limits").keys) == keys(LimitSettings.CodingKeys.self))
        #expect(Set(try shape("timeouts").keys) == keys(TimeoutSettings.CodingKeys.self))
        #expect(Set(try shape("backends").keys) == keys(BackendConfig.CodingKeys.self))
        #expect(Set(try shape("pricing").keys) == keys(ModelPrice.CodingKeys.self))
        #expect(Set(try shape("metrics").keys) == keys(MetricsSettings.CodingKeys.self))
        #expect(Set(try shape("ledger").keys) == keys(LedgerSettings.CodingKeys.self))
        #expect(Set(try shape("ledger", "retention").keys) == keys(LedgerSettings.Retention.CodingKeys.self))
        #expect(Set(try shape("ledger", "bodies").keys) == keys(LedgerSettings.Bodies.CodingKeys.self))
        #expect(Set(try shape("dashboard").keys) == keys(DashboardSettings.CodingKeys.self))
        #expect(Set(try shape("dashboard", "auth").keys) == keys(AuthSettings.CodingKeys.self))
        #expect(Set(try shape("dashboard", "auth", "api_keys").keys) == keys(AuthSettings.APIKey.CodingKeys.self))
        #expect(Set(try shape("dashboard", "auth", "jwt").keys) == keys(AuthSettings.JWTSettings.CodingKeys.self))
        #expect(Set(try shape("dashboard", "rate_limit").keys) == keys(RateLimitSettings.CodingKeys.self))
        #expect(Set(try shape("dashboard", "live").keys) == keys(LiveSettings.CodingKeys.self))
        #expect(Set(try shape("dashboard", "alerts").keys) == keys(AlertSettings.CodingKeys.self))
        #expect(Set(try shape("dashboard", "alerts", "rules").keys) == keys(AlertRule.CodingKeys.self))
        #expect(Set(try shape("dashboard", "alerts", "webhook").keys) == keys(WebhookSettings.CodingKeys.self))
        #expect(Set(try shape("logging").keys) == keys(LoggingSettings.CodingKeys.self))
    }
}
