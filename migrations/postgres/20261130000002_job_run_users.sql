-- The user a job run was enqueued for (with a user token): the run gets that user's settings
-- secrets. Runs enqueued with the service key have no row here.
CREATE TABLE job_run_users (
    run_id  TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL CHECK (user_id <> '')
);
