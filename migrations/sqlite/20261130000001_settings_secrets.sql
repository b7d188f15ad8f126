-- Settings secrets: application configuration and per-user API keys, beside the function
-- secrets. One row per secret, no version history: a new value replaces the old one.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE settings_secrets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    scope       TEXT    NOT NULL CHECK (scope IN ('system', 'user')),
    -- '' for system secrets: a NULL would make every system row distinct to the UNIQUE below.
    user_id     TEXT    NOT NULL DEFAULT '',
    name        TEXT    NOT NULL,
    description TEXT,
    -- Id of the master key the value's wrapping key comes from: the master key itself for system
    -- secrets, the user's HKDF-derived key for user secrets (the envelope names that one).
    key_id      TEXT    NOT NULL,
    envelope    BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL,
    CHECK ((scope = 'system' AND user_id = '') OR (scope = 'user' AND user_id <> '')),
    UNIQUE (scope, user_id, name)
);

CREATE INDEX settings_secrets_by_key ON settings_secrets (key_id);
