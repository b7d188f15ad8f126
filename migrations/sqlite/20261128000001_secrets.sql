-- Function secrets: one row per secret, one row per version of its value, and the audit trail.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE secrets (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    scope           TEXT    NOT NULL CHECK (scope IN ('global', 'namespace')),
    -- '' for global secrets: a NULL would make every global row distinct to the UNIQUE below.
    namespace       TEXT    NOT NULL DEFAULT '',
    name            TEXT    NOT NULL,
    description     TEXT,
    expires_at      INTEGER,
    current_version INTEGER NOT NULL CHECK (current_version >= 1),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK ((scope = 'global' AND namespace = '') OR (scope = 'namespace' AND namespace <> '')),
    UNIQUE (scope, namespace, name)
);

CREATE TABLE secret_versions (
    secret_id      INTEGER NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    version        INTEGER NOT NULL CHECK (version >= 1),
    -- Id of the master key that wrapped this version's data key (also inside the envelope).
    key_id         TEXT    NOT NULL,
    envelope       BLOB    NOT NULL,
    created_at     INTEGER NOT NULL,
    created_by     TEXT    NOT NULL,
    -- For a rollback: the version whose value this one restores.
    restored_from  INTEGER,
    PRIMARY KEY (secret_id, version)
);

CREATE INDEX secret_versions_by_key ON secret_versions (key_id);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    scope      TEXT,
    namespace  TEXT,
    name       TEXT,
    version    INTEGER,
    detail     TEXT
);

CREATE INDEX audit_log_by_time ON audit_log (at);
