-- The durable job queue: one row per enqueued job run. A run is claimed by setting it to
-- 'running' with a lease; a run whose lease has passed (its host died) is claimed again.

CREATE TABLE job_runs (
    id                TEXT    PRIMARY KEY,
    name              TEXT    NOT NULL,
    payload           TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_after         INTEGER NOT NULL,
    lease_until       INTEGER,
    result            TEXT,
    error             TEXT,
    last_execution_id TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE INDEX job_runs_ready ON job_runs (status, run_after);
