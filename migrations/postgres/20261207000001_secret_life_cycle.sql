-- The life cycle of a function secret beyond its versions: soft delete with a retention period,
-- and a cap on how many versions are kept; and where an audited change came from. Times are
-- milliseconds since the Unix epoch (UTC).

-- When the secret was deleted; NULL while it is live. A deleted secret keeps its versions, is
-- never injected and is listed only on request, until `undelete` or its destruction.
ALTER TABLE secrets ADD COLUMN deleted_at BIGINT;
-- When a deleted secret is destroyed for good (its versions wiped); NULL while it is live.
ALTER TABLE secrets ADD COLUMN purge_at BIGINT;
-- How many versions to keep (older ones are destroyed at the next write); NULL keeps them all.
ALTER TABLE secrets ADD COLUMN max_versions BIGINT CHECK (max_versions IS NULL OR max_versions >= 1);
-- Versions 1 to this one were destroyed because of max_versions (0: none).
ALTER TABLE secrets ADD COLUMN pruned_through BIGINT NOT NULL DEFAULT 0;

CREATE INDEX secrets_by_purge ON secrets (purge_at);

-- The network address of the client whose API request made the change (NULL for the CLI and
-- for the host's own changes).
ALTER TABLE audit_log ADD COLUMN address TEXT;
