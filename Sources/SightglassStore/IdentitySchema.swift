/// The organization's tables (OpenAI's model: one organization → users, invites, projects →
/// project users, service accounts, API keys), in SQL both engines accept, so SQLite's v7 and
/// PostgreSQL's v4 migrations run the same statements. Keys are stored as digests only.
enum IdentitySchema {
    static let statements: [String] = [
        // One row; every identity change bumps it in the same transaction, so an instance learns
        // that keys changed (here or on another instance sharing the database) by reading one number.
        "CREATE TABLE identity_meta (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)",
        "INSERT INTO identity_meta (id, version) VALUES (1, 0)",
        """
        CREATE TABLE org_users (
            id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL, added_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE org_invites (
            id TEXT PRIMARY KEY, email TEXT NOT NULL, role TEXT NOT NULL, status TEXT NOT NULL, invited_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL, accepted_at BIGINT
        )
        """,
        """
        CREATE TABLE projects (
            id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, status TEXT NOT NULL, created_at BIGINT NOT NULL, archived_at BIGINT
        )
        """,
        """
        CREATE TABLE project_users (
            project_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL, added_at BIGINT NOT NULL,
            PRIMARY KEY (project_id, user_id)
        )
        """,
        """
        CREATE TABLE service_accounts (
            id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL, created_at BIGINT NOT NULL
        )
        """,
        """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, project_id TEXT, owner_kind TEXT NOT NULL, owner_id TEXT NOT NULL,
            name TEXT NOT NULL, digest TEXT NOT NULL UNIQUE, hint TEXT NOT NULL, scopes TEXT NOT NULL, created_at BIGINT NOT NULL,
            expires_at BIGINT, last_used_at BIGINT, revoked_at BIGINT
        )
        """,
        "CREATE INDEX api_keys_project ON api_keys (project_id)",
        // Which key and project each request was made with.
        "ALTER TABLE requests ADD COLUMN project_id TEXT",
    ]

    /// The key rollups, in each engine's types for reals and bytes.
    static func keyRollups(real: String, bytes: String) -> String {
        """
        CREATE TABLE key_rollups (
            level BIGINT NOT NULL, bucket BIGINT NOT NULL, project BIGINT NOT NULL, api_key BIGINT NOT NULL, "user" BIGINT NOT NULL,
            model BIGINT NOT NULL, route BIGINT NOT NULL,
            count BIGINT NOT NULL, errors BIGINT NOT NULL, tokens_in BIGINT NOT NULL, tokens_out BIGINT NOT NULL,
            tokens_cached BIGINT NOT NULL, cost \(real) NOT NULL, gen_tokens BIGINT NOT NULL, gen_seconds \(real) NOT NULL,
            latency \(bytes) NOT NULL, ttft \(bytes) NOT NULL, cost_estimated \(real) NOT NULL DEFAULT 0,
            PRIMARY KEY (level, bucket, project, api_key, "user", model, route)
        )
        """
    }
}
