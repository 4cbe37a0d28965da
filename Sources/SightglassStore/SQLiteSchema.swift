import GRDB

/// Versioned schema of the ledger. Each migration runs once, in order, inside a transaction;
/// GRDB records which ran in `grdb_migrations`.
enum SQLiteSchema {
    static func migrator() -> DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: requests, dimensions, rollups") { db in
            // Low-cardinality strings (routes, backends, models, error types, users) are stored
            // once here and referenced by number: rows stay small at tens of millions.
            try db.execute(sql: """
                CREATE TABLE dims (
                    id INTEGER PRIMARY KEY,
                    kind INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    UNIQUE (kind, name)
                );
                CREATE TABLE requests (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL,
                    id_hash INTEGER NOT NULL,
                    ts INTEGER NOT NULL,
                    route INTEGER NOT NULL,
                    backend INTEGER NOT NULL,
                    model INTEGER NOT NULL,
                    method TEXT NOT NULL,
                    stream INTEGER NOT NULL,
                    status INTEGER NOT NULL,
                    error_type INTEGER,
                    error_message TEXT,
                    tokens_in INTEGER NOT NULL,
                    tokens_out INTEGER NOT NULL,
                    tokens_cached INTEGER NOT NULL,
                    estimated INTEGER NOT NULL,
                    cost REAL NOT NULL,
                    latency_us INTEGER NOT NULL,
                    first_byte_us INTEGER,
                    first_token_us INTEGER,
                    bytes_in INTEGER NOT NULL,
                    bytes_out INTEGER NOT NULL,
                    client INTEGER,
                    user INTEGER,
                    api_key TEXT,
                    synthetic INTEGER NOT NULL DEFAULT 0
                );
                -- Few indexes, chosen for size (≤ 150 bytes a request): newest-first pages walk the
                -- time index and test other filters as they go, which stays fast for any value
                -- seen in more than ~0.1 % of requests; rare ones (errors, a user) get their own.
                -- Ids are found by a 64-bit hash, half the size of indexing the text.
                CREATE INDEX requests_ts ON requests (ts);
                CREATE INDEX requests_id ON requests (id_hash);
                CREATE INDEX requests_error ON requests (error_type, ts) WHERE error_type IS NOT NULL;
                CREATE INDEX requests_user ON requests (user, ts) WHERE user IS NOT NULL;
                CREATE TABLE rollups (
                    level INTEGER NOT NULL,
                    bucket INTEGER NOT NULL,
                    route INTEGER NOT NULL,
                    backend INTEGER NOT NULL,
                    model INTEGER NOT NULL,
                    status_class INTEGER NOT NULL,
                    count INTEGER NOT NULL,
                    errors INTEGER NOT NULL,
                    tokens_in INTEGER NOT NULL,
                    tokens_out INTEGER NOT NULL,
                    tokens_cached INTEGER NOT NULL,
                    cost REAL NOT NULL,
                    gen_tokens INTEGER NOT NULL,
                    gen_seconds REAL NOT NULL,
                    latency BLOB NOT NULL,
                    ttft BLOB NOT NULL,
                    PRIMARY KEY (level, bucket, route, backend, model, status_class)
                ) WITHOUT ROWID;
                -- Hourly per user: users are unbounded, so they get one coarse level of their own.
                CREATE TABLE user_rollups (
                    bucket INTEGER NOT NULL,
                    user INTEGER NOT NULL,
                    count INTEGER NOT NULL,
                    errors INTEGER NOT NULL,
                    tokens_in INTEGER NOT NULL,
                    tokens_out INTEGER NOT NULL,
                    tokens_cached INTEGER NOT NULL,
                    cost REAL NOT NULL,
                    gen_tokens INTEGER NOT NULL,
                    gen_seconds REAL NOT NULL,
                    latency BLOB NOT NULL,
                    ttft BLOB NOT NULL,
                    PRIMARY KEY (bucket, user)
                ) WITHOUT ROWID;
                """)
        }
        m.registerMigration("v2: audit") { db in
            // Configuration changes, auth failures and admin actions: rare, kept as they happened.
            try db.execute(sql: """
                CREATE TABLE audit (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    ts INTEGER NOT NULL,
                    user TEXT,
                    action TEXT NOT NULL,
                    resource TEXT,
                    level TEXT NOT NULL,
                    source_ip TEXT,
                    user_agent TEXT,
                    details TEXT NOT NULL,
                    result TEXT NOT NULL
                );
                CREATE INDEX audit_ts ON audit (ts);
                """)
        }
        m.registerMigration("v3: queue and connect times") { db in
            // Only for the requests that waited in the queue or opened a connection: most reuse a
            // pooled connection without waiting, so a side table keeps the common row as small as it was.
            try db.execute(sql: """
                CREATE TABLE request_timing (
                    seq INTEGER PRIMARY KEY,
                    queue_us INTEGER,
                    connect_us INTEGER
                );
                """)
        }
        m.registerMigration("v4: request and response bodies") { db in
            // Only with ledger.bodies.enabled: capped, redacted text, one row per request that has them.
            try db.execute(sql: """
                CREATE TABLE request_bodies (
                    seq INTEGER PRIMARY KEY,
                    request TEXT NOT NULL,
                    request_truncated INTEGER NOT NULL,
                    response TEXT NOT NULL,
                    response_truncated INTEGER NOT NULL
                );
                """)
        }
        return m
    }
}
