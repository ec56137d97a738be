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

CREATE TABLE usage_events_new (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id                BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    conversation_id        BIGINT,
    message_id             BIGINT,
    model                  TEXT    NOT NULL DEFAULT '',
    created_at             BIGINT  NOT NULL,
    status                 TEXT    NOT NULL DEFAULT 'pending',
    prompt_tokens          BIGINT  NOT NULL DEFAULT 0,
    completion_tokens      BIGINT  NOT NULL DEFAULT 0,
    time_to_first_token_ms BIGINT,
    kind                   TEXT    NOT NULL DEFAULT 'reply' CHECK (kind IN ('reply', 'title')),
    username               TEXT    NOT NULL DEFAULT '',
    email                  TEXT    NOT NULL DEFAULT ''
);
INSERT INTO usage_events_new (id, user_id, conversation_id, message_id, model, created_at, status, prompt_tokens,
                              completion_tokens, time_to_first_token_ms)
SELECT id, user_id, conversation_id, message_id, model, created_at, status, prompt_tokens, completion_tokens,
       time_to_first_token_ms
FROM usage_events;
DROP TABLE usage_events;
ALTER TABLE usage_events_new RENAME TO usage_events;

CREATE INDEX usage_events_user_idx ON usage_events (user_id, created_at);
CREATE INDEX usage_events_created_idx ON usage_events (created_at);
CREATE UNIQUE INDEX usage_events_message_idx ON usage_events (message_id);
CREATE INDEX usage_events_open_idx ON usage_events (user_id) WHERE status IN ('pending', 'streaming');
CREATE INDEX usage_events_orphan_idx ON usage_events (email) WHERE user_id IS NULL;

CREATE TABLE user_quotas_new (
    user_id          BIGINT UNIQUE REFERENCES users (id) ON DELETE SET NULL,
    email            TEXT   NOT NULL DEFAULT '',
    messages_per_day BIGINT CHECK (messages_per_day >= 0),
    tokens_per_day   BIGINT CHECK (tokens_per_day >= 0),
    tokens_per_month BIGINT CHECK (tokens_per_month >= 0)
);
INSERT INTO user_quotas_new (user_id, messages_per_day, tokens_per_day, tokens_per_month)
SELECT user_id, messages_per_day, tokens_per_day, tokens_per_month FROM user_quotas;
DROP TABLE user_quotas;
ALTER TABLE user_quotas_new RENAME TO user_quotas;
CREATE INDEX user_quotas_orphan_idx ON user_quotas (email) WHERE user_id IS NULL;

CREATE TRIGGER users_keep_usage BEFORE DELETE ON users BEGIN
    DELETE FROM user_quotas WHERE user_id IS NULL AND email = lower(OLD.email);
    UPDATE user_quotas SET user_id = NULL, email = lower(OLD.email) WHERE user_id = OLD.id;
    UPDATE usage_events SET user_id = NULL, username = OLD.username, email = lower(OLD.email) WHERE user_id = OLD.id;
END;

CREATE TRIGGER users_take_back_usage AFTER INSERT ON users BEGIN
    UPDATE user_quotas SET user_id = NEW.id WHERE user_id IS NULL AND email = lower(NEW.email);
    UPDATE usage_events SET user_id = NEW.id WHERE user_id IS NULL AND email = lower(NEW.email);
END;
