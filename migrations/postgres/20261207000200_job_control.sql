-- Job control: a run can be cancelled (a queued one at once, a running one by a request its
-- worker sees), carries a priority (higher first among due runs) and the progress its job last
-- reported.
ALTER TABLE job_runs DROP CONSTRAINT job_runs_status_check;
ALTER TABLE job_runs ADD CONSTRAINT job_runs_status_check
    CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled'));
ALTER TABLE job_runs
    ADD COLUMN priority         BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN progress_percent BIGINT CHECK (progress_percent BETWEEN 0 AND 100),
    ADD COLUMN progress_message TEXT,
    ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;
DROP INDEX job_runs_ready;
CREATE INDEX job_runs_ready ON job_runs (status, priority, run_after);
