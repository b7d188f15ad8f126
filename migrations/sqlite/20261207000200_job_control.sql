-- Job control: a run can be cancelled (a queued one at once, a running one by a request its
-- worker sees), carries a priority (higher first among due runs) and the progress its job last
-- reported. SQLite cannot change a CHECK constraint in place, so the table is rebuilt.
CREATE TABLE job_runs_next (
    id                TEXT    PRIMARY KEY,
    name              TEXT    NOT NULL,
    payload           TEXT    NOT NULL,
    status            TEXT    NOT NULL
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_after         INTEGER NOT NULL,
    lease_until       INTEGER,
    result            TEXT,
    error             TEXT,
    last_execution_id TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    priority          INTEGER NOT NULL DEFAULT 0,
    progress_percent  INTEGER CHECK (progress_percent BETWEEN 0 AND 100),
    progress_message  TEXT,
    cancel_requested  INTEGER NOT NULL DEFAULT 0
);

INSERT INTO job_runs_next (id, name, payload, status, attempts, max_attempts, run_after,
                           lease_until, result, error, last_execution_id, created_at, updated_at)
SELECT id, name, payload, status, attempts, max_attempts, run_after, lease_until, result, error,
       last_execution_id, created_at, updated_at
FROM job_runs;

DROP TABLE job_runs;
ALTER TABLE job_runs_next RENAME TO job_runs;
CREATE INDEX job_runs_ready ON job_runs (status, priority, run_after);
