-- Login sessions (tower-sessions records as JSON), shared by every server instance using this database.
CREATE TABLE sessions (
    id         TEXT   PRIMARY KEY,
    data       TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
