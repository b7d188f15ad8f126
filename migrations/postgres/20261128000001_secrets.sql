-- Function secrets: one row per secret, one row per version of its value, and the audit trail.
-- Times are milliseconds since the Unix epoch (UTC), as in the SQLite schema.

CREATE TABLE secrets (
    id              BIGSERIAL PRIMARY KEY,
    scope           TEXT   NOT NULL CHECK (scope IN ('global', 'namespace')),
    -- '' for global secrets: a NULL would make every global row distinct to the UNIQUE below.
    namespace       TEXT   NOT NULL DEFAULT '',
    name            TEXT   NOT NULL,
    description     TEXT,
    expires_at      BIGINT,
    current_version BIGINT NOT NULL CHECK (current_version >= 1),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    CHECK ((scope = 'global' AND namespace = '') OR (scope = 'namespace' AND namespace <> '')),
    UNIQUE (scope, namespace, name)
);

CREATE TABLE secret_versions (
    secret_id      BIGINT NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
    version        BIGINT NOT NULL CHECK (version >= 1),
    -- Id of the master key that wrapped this version's data key (also inside the envelope).
    key_id         TEXT   NOT NULL,
    envelope       BYTEA  NOT NULL,
    created_at     BIGINT NOT NULL,
    created_by     TEXT   NOT NULL,
    -- For a rollback: the version whose value this one restores.
    restored_from  BIGINT,
    PRIMARY KEY (secret_id, version)
);

CREATE INDEX secret_versions_by_key ON secret_versions (key_id);

CREATE TABLE audit_log (
    id         BIGSERIAL PRIMARY KEY,
    at         BIGINT NOT NULL,
    actor      TEXT   NOT NULL,
    action     TEXT   NOT NULL,
    scope      TEXT,
    namespace  TEXT,
    name       TEXT,
    version    BIGINT,
    detail     TEXT
);

CREATE INDEX audit_log_by_time ON audit_log (at);
