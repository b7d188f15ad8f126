-- One row per scheduled job (a job file with a `// @fluxbase:schedule` line): the tick it runs
-- at next. A host takes a due tick by moving next_run_at forward with a compare-and-set on its
-- old value, in the transaction that enqueues the run, so each tick runs once across every host
-- sharing the store; a host that was down moves it past every missed tick at once (one run).
CREATE TABLE job_schedules (
    name        TEXT    PRIMARY KEY,
    expression  TEXT    NOT NULL,
    timezone    TEXT    NOT NULL,
    next_run_at INTEGER  NOT NULL,
    last_run_id TEXT,
    last_run_at INTEGER
);
