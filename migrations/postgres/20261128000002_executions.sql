-- One row per function invocation or job run: what ran, how it ended, what it logged (with
-- secret values redacted) and the names of the secrets it read. Never a value.

CREATE TABLE executions (
    id               TEXT    PRIMARY KEY,
    kind             TEXT    NOT NULL CHECK (kind IN ('function', 'job')),
    name             TEXT    NOT NULL,
    namespace        TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    started_at       BIGINT  NOT NULL,
    duration_ms      BIGINT  NOT NULL,
    -- JSON array of {"level": ..., "message": ...}.
    logs             TEXT    NOT NULL,
    -- JSON array of FLUXBASE_SECRET_<NAME> names.
    secrets_accessed TEXT    NOT NULL,
    error            TEXT
);

CREATE INDEX executions_by_time ON executions (started_at);
