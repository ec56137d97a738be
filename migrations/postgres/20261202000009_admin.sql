-- Administration (issue #15).
--
-- The audit log: every action of the admin pages and routes, who did it, when, on whom, from which address. Append-only:
-- no route changes or removes a row, and the database refuses UPDATE and DELETE on it. Actor and target are kept by
-- id and by name, without foreign keys, so the log outlives the accounts it names.
CREATE TABLE audit_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor_id    BIGINT NOT NULL,
    actor       TEXT   NOT NULL,
    action      TEXT   NOT NULL,
    target_id   BIGINT,
    target      TEXT   NOT NULL DEFAULT '',
    details     TEXT   NOT NULL DEFAULT '{}',
    client_addr TEXT   NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
-- TRUNCATE is not a row operation: refuse it as well.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Whose login a session record is (NULL for a visitor's), so that deactivating an account ends its sessions at once.
ALTER TABLE sessions ADD COLUMN user_id BIGINT;
CREATE INDEX sessions_user_id_idx ON sessions (user_id);
-- Sessions from before this migration: their user, from the login axum-login keeps in the record (records that are
-- not JSON are left alone).
CREATE FUNCTION thicode_session_user(text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN ($1::jsonb -> 'axum-login.data' ->> 'user_id')::bigint;
EXCEPTION WHEN others THEN
    RETURN NULL;
END;
$$;
UPDATE sessions SET user_id = thicode_session_user(data);
DROP FUNCTION thicode_session_user(text);
