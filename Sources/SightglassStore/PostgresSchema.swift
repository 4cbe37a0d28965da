import Logging
import PostgresNIO

/// Versioned schema of the ledger in PostgreSQL: the same tables as SQLite's (`SQLiteSchema`
/// v1–v3) in PostgreSQL's types. Versions applied are kept in `sightglass_migrations`; several
/// gateways starting at once take turns through an advisory lock, so each version runs once.
enum PostgresSchema {
    /// Lock ids (arbitrary, fixed): one for migrations, one for merging rollups.
    static let migrationLock: Int64 = 0x5347_0001
    static let rollupLock: Int64 = 0x5347_0002

    /// (version, name, statements): the extended query protocol takes one statement at a time.
    static let migrations: [(version: Int64, name: String, statements: [String])] = [
        (
            1, "requests, dimensions, rollups, audit, timing",
            [
                """
                CREATE TABLE dims (
                    id BIGSERIAL PRIMARY KEY,
                    kind BIGINT NOT NULL,
                    name TEXT NOT NULL,
                    UNIQUE (kind, name)
                )
                """,
                """
                CREATE TABLE requests (
                    seq BIGSERIAL PRIMARY KEY,
                    id TEXT NOT NULL,
                    id_hash BIGINT NOT NULL,
                    ts BIGINT NOT NULL,
                    route BIGINT NOT NULL,
                    backend BIGINT NOT NULL,
                    model BIGINT NOT NULL,
                    method TEXT NOT NULL,
                    stream BOOLEAN NOT NULL,
                    status BIGINT NOT NULL,
                    error_type BIGINT,
                    error_message TEXT,
                    tokens_in BIGINT NOT NULL,
                    tokens_out BIGINT NOT NULL,
                    tokens_cached BIGINT NOT NULL,
                    estimated BOOLEAN NOT NULL,
                    cost DOUBLE PRECISION NOT NULL,
                    latency_us BIGINT NOT NULL,
                    first_byte_us BIGINT,
                    first_token_us BIGINT,
                    bytes_in BIGINT NOT NULL,
                    bytes_out BIGINT NOT NULL,
                    client BIGINT,
                    "user" BIGINT,
                    api_key TEXT,
                    synthetic BOOLEAN NOT NULL DEFAULT false
                )
                """,
                "CREATE INDEX requests_ts ON requests (ts)",
                "CREATE INDEX requests_id ON requests (id_hash)",
                "CREATE INDEX requests_error ON requests (error_type, ts) WHERE error_type IS NOT NULL",
                "CREATE INDEX requests_user ON requests (\"user\", ts) WHERE \"user\" IS NOT NULL",
                """
                CREATE TABLE rollups (
                    level BIGINT NOT NULL,
                    bucket BIGINT NOT NULL,
                    route BIGINT NOT NULL,
                    backend BIGINT NOT NULL,
                    model BIGINT NOT NULL,
                    status_class BIGINT NOT NULL,
                    count BIGINT NOT NULL,
                    errors BIGINT NOT NULL,
                    tokens_in BIGINT NOT NULL,
                    tokens_out BIGINT NOT NULL,
                    tokens_cached BIGINT NOT NULL,
                    cost DOUBLE PRECISION NOT NULL,
                    gen_tokens BIGINT NOT NULL,
                    gen_seconds DOUBLE PRECISION NOT NULL,
                    latency BYTEA NOT NULL,
                    ttft BYTEA NOT NULL,
                    PRIMARY KEY (level, bucket, route, backend, model, status_class)
                )
                """,
                """
                CREATE TABLE user_rollups (
                    bucket BIGINT NOT NULL,
                    "user" BIGINT NOT NULL,
                    count BIGINT NOT NULL,
                    errors BIGINT NOT NULL,
                    tokens_in BIGINT NOT NULL,
                    tokens_out BIGINT NOT NULL,
                    tokens_cached BIGINT NOT NULL,
                    cost DOUBLE PRECISION NOT NULL,
                    gen_tokens BIGINT NOT NULL,
                    gen_seconds DOUBLE PRECISION NOT NULL,
                    latency BYTEA NOT NULL,
                    ttft BYTEA NOT NULL,
                    PRIMARY KEY (bucket, "user")
                )
                """,
                """
                CREATE TABLE audit (
                    seq BIGSERIAL PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    ts BIGINT NOT NULL,
                    "user" TEXT,
                    action TEXT NOT NULL,
                    resource TEXT,
                    level TEXT NOT NULL,
                    source_ip TEXT,
                    user_agent TEXT,
                    details TEXT NOT NULL,
                    result TEXT NOT NULL
                )
                """,
                "CREATE INDEX audit_ts ON audit (ts)",
                """
                CREATE TABLE request_timing (
                    seq BIGINT PRIMARY KEY,
                    queue_us BIGINT,
                    connect_us BIGINT
                )
                """,
            ]
        ),
        (
            2, "request and response bodies",
            [
                """
                CREATE TABLE request_bodies (
                    seq BIGINT PRIMARY KEY,
                    request TEXT NOT NULL,
                    request_truncated BOOLEAN NOT NULL,
                    response TEXT NOT NULL,
                    response_truncated BOOLEAN NOT NULL
                )
                """
            ]
        ),
        (
            3, "estimated cost in rollups",
            [
                "ALTER TABLE rollups ADD COLUMN cost_estimated DOUBLE PRECISION NOT NULL DEFAULT 0",
                "ALTER TABLE user_rollups ADD COLUMN cost_estimated DOUBLE PRECISION NOT NULL DEFAULT 0",
            ]
        ),
        (
            4, "organization, projects, keys; requests carry their project",
            IdentitySchema.statements + [IdentitySchema.keyRollups(real: "DOUBLE PRECISION", bytes: "BYTEA")]
        ),
        (5, "limits and budgets of keys and projects", Organization.limitSchema),
        (6, "limit windows shared by instances", PostgresLedger.leaseSchema),
    ]

    /// Applies the versions not yet applied, each in the one transaction with its record.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { conn in
            try await conn.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await conn.query(
                """
                CREATE TABLE IF NOT EXISTS sightglass_migrations (
                    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
                """, logger: logger)
            var applied = Set<Int64>()
            for try await version in try await conn.query("SELECT version FROM sightglass_migrations", logger: logger).decode(Int64.self) {
                applied.insert(version)
            }
            for m in migrations where !applied.contains(m.version) {
                for statement in m.statements { try await conn.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try await conn.query("INSERT INTO sightglass_migrations (version, name) VALUES (\(m.version), \(m.name))", logger: logger)
            }
        }
    }
}
