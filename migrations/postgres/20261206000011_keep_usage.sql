-- Usage and limits outlive a deleted account (issue #25).
--
-- The ledger keeps a deleted account's rows, with `user_id` NULL and the account's username and email as they were
-- (reports keep the history; the email, lower case, is the key below). An account's own limits are kept the same way.
-- An account registered later with the same email takes both back, so deleting an account and making it again
-- resets neither a stricter limit nor the day's or month's count. Triggers on `users` do it, whoever deletes or
-- creates the account (the settings page, staff, the command line).
--
-- `kind` tells replies (what "messages" and the messages-per-day limit count) from title generation, whose tokens
-- count too.

ALTER TABLE usage_events ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE usage_events DROP CONSTRAINT usage_events_user_id_fkey;
ALTER TABLE usage_events ADD CONSTRAINT usage_events_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE usage_events ADD COLUMN kind TEXT NOT NULL DEFAULT 'reply' CHECK (kind IN ('reply', 'title'));
ALTER TABLE usage_events ADD COLUMN username TEXT NOT NULL DEFAULT '';
ALTER TABLE usage_events ADD COLUMN email TEXT NOT NULL DEFAULT '';
CREATE INDEX usage_events_orphan_idx ON usage_events (email) WHERE user_id IS NULL;

ALTER TABLE user_quotas DROP CONSTRAINT user_quotas_pkey;
ALTER TABLE user_quotas ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE user_quotas ADD CONSTRAINT user_quotas_user_id_key UNIQUE (user_id);
ALTER TABLE user_quotas DROP CONSTRAINT user_quotas_user_id_fkey;
ALTER TABLE user_quotas ADD CONSTRAINT user_quotas_user_id_fkey
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE user_quotas ADD COLUMN email TEXT NOT NULL DEFAULT '';
CREATE INDEX user_quotas_orphan_idx ON user_quotas (email) WHERE user_id IS NULL;

CREATE FUNCTION users_keep_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM user_quotas WHERE user_id IS NULL AND email = lower(OLD.email);
    UPDATE user_quotas SET user_id = NULL, email = lower(OLD.email) WHERE user_id = OLD.id;
    UPDATE usage_events SET user_id = NULL, username = OLD.username, email = lower(OLD.email) WHERE user_id = OLD.id;
    RETURN OLD;
END;
$$;
CREATE TRIGGER users_keep_usage BEFORE DELETE ON users FOR EACH ROW EXECUTE FUNCTION users_keep_usage();

CREATE FUNCTION users_take_back_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE user_quotas SET user_id = NEW.id WHERE user_id IS NULL AND email = lower(NEW.email);
    UPDATE usage_events SET user_id = NEW.id WHERE user_id IS NULL AND email = lower(NEW.email);
    RETURN NULL;
END;
$$;
CREATE TRIGGER users_take_back_usage AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION users_take_back_usage();
