-- Administration (issue #15).
--
-- The audit log: every action of the admin pages and routes, who did it, when, on whom, from which address. Append-only:
-- no route changes or removes a row, and the database refuses UPDATE and DELETE on it. Actor and target are kept by
-- id and by name, without foreign keys, so the log outlives the accounts it names.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          BIGINT  NOT NULL,
    actor_id    BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    target_id   BIGINT,
    target      TEXT    NOT NULL DEFAULT '',
    details     TEXT    NOT NULL DEFAULT '{}',
    client_addr TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Whose login a session record is (NULL for a visitor's), so that deactivating an account ends its sessions at once.
ALTER TABLE sessions ADD COLUMN user_id BIGINT;
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
-- Sessions from before this migration: their user, from the login axum-login keeps in the record.
UPDATE sessions SET user_id = CAST(json_extract(data, '$."axum-login.data".user_id') AS BIGINT)
WHERE json_valid(data) AND json_type(data, '$."axum-login.data".user_id') = 'integer';
