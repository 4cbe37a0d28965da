import GRDB

/// Versioned schema of the ledger. Each migration runs once, in order, inside a transaction;
/// GRDB records which ran in `grdb_migrations`.
enum SQLiteSchema {
    static func migrator() -> DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: requests, dimensions, rollups") { db in
            // Low-cardinality strings (routes, backends, models, error types, users) are stored
            // once here and referenced by number: rows stay small at tens of millions.
            try db.execute(
                sql: """
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
            try db.execute(
                sql: """
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
            try db.execute(
                sql: """
                    CREATE TABLE request_timing (
                        seq INTEGER PRIMARY KEY,
                        queue_us INTEGER,
                        connect_us INTEGER
                    );
                    """)
        }
        m.registerMigration("v4: request and response bodies") { db in
            // Only with ledger.bodies.enabled: capped, redacted text, one row per request that has them.
            try db.execute(
                sql: """
                    CREATE TABLE request_bodies (
                        seq INTEGER PRIMARY KEY,
                        request TEXT NOT NULL,
                        request_truncated INTEGER NOT NULL,
                        response TEXT NOT NULL,
                        response_truncated INTEGER NOT NULL
                    );
                    """)
        }
        m.registerMigration("v5: compact request rows") { db in
            // Rows written by v1–v4 cost about 156 bytes a request at ten million (over the
            // 150-byte budget), and more with the gateway's 24-character ids. The rebuilt table
            // keeps the gateway's ids as 10 raw bytes (and indexes them directly, no hash
            // column), the method as a dimension, and the cost as an integer of nano-dollars.
            db.add(function: SQLiteRequestId.function)
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO dims (kind, name) SELECT DISTINCT \(DimensionKind.method.rawValue), method FROM requests;
                    CREATE TABLE requests_v5 (
                        seq INTEGER PRIMARY KEY,
                        id BLOB NOT NULL,
                        ts INTEGER NOT NULL,
                        route INTEGER NOT NULL,
                        backend INTEGER NOT NULL,
                        model INTEGER NOT NULL,
                        method INTEGER NOT NULL,
                        stream INTEGER NOT NULL,
                        status INTEGER NOT NULL,
                        error_type INTEGER,
                        error_message TEXT,
                        tokens_in INTEGER NOT NULL,
                        tokens_out INTEGER NOT NULL,
                        tokens_cached INTEGER NOT NULL,
                        estimated INTEGER NOT NULL,
                        cost_nano_usd INTEGER NOT NULL,
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
                    INSERT INTO requests_v5
                        SELECT r.seq, compact_request_id(r.id), r.ts, r.route, r.backend, r.model, d.id, r.stream, r.status,
                            r.error_type, r.error_message, r.tokens_in, r.tokens_out, r.tokens_cached, r.estimated,
                            CAST(round(r.cost * 1e9) AS INTEGER), r.latency_us, r.first_byte_us, r.first_token_us,
                            r.bytes_in, r.bytes_out, r.client, r.user, r.api_key, r.synthetic
                        FROM requests r JOIN dims d ON d.kind = \(DimensionKind.method.rawValue) AND d.name = r.method
                        ORDER BY r.seq;
                    DROP TABLE requests;
                    ALTER TABLE requests_v5 RENAME TO requests;
                    CREATE INDEX requests_ts ON requests (ts);
                    CREATE INDEX requests_id ON requests (id);
                    CREATE INDEX requests_error ON requests (error_type, ts) WHERE error_type IS NOT NULL;
                    CREATE INDEX requests_user ON requests (user, ts) WHERE user IS NOT NULL;
                    """)
        }
        // The part of a cell's cost priced from estimated tokens, so aggregates can mark it;
        // rows written before this version count as measured (0), which is what they showed.
        m.registerMigration("v6: estimated cost in rollups") { db in
            try db.execute(sql: "ALTER TABLE rollups ADD COLUMN cost_estimated REAL NOT NULL DEFAULT 0")
            try db.execute(sql: "ALTER TABLE user_rollups ADD COLUMN cost_estimated REAL NOT NULL DEFAULT 0")
        }
        m.registerMigration("v7: organization, projects, keys; requests carry their project") { db in
            for sql in IdentitySchema.statements { try db.execute(sql: sql) }
            try db.execute(sql: IdentitySchema.keyRollups(real: "REAL", bytes: "BLOB"))
        }
        m.registerMigration("v8: limits and budgets of keys and projects") { db in
            for sql in Organization.limitSchema { try db.execute(sql: sql) }
        }
        return m
    }
}
