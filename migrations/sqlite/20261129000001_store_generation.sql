-- A counter that every change to the function secrets bumps in its own transaction (it rides
-- along with the audit row). Hosts keep decrypted secrets per namespace in memory and reuse them
-- only while this counter is unchanged, so a change made through any host or process is seen by
-- the very next invocation everywhere.
CREATE TABLE store_generation (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT  NOT NULL
);

INSERT INTO store_generation (id, value) VALUES (1, 0);
