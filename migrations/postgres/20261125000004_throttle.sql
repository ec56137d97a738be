-- Recent failed logins and reset requests, counted per account and per client address to slow down guessing.
-- Kept in the database so every server instance sees the same counts; rows older than a day are purged.
CREATE TABLE throttle_events (
    scope TEXT   NOT NULL,
    key   TEXT   NOT NULL,
    at    BIGINT NOT NULL
);

CREATE INDEX throttle_events_lookup_idx ON throttle_events (scope, key, at);
