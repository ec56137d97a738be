-- Usage and quotas (issue #15).
--
-- The usage ledger: one row per reply asked of the model (a send, a regenerate, an edit), written in the same
-- transaction that starts the reply and completed when it ends. It outlives the conversation (deleting one does not
-- give its tokens back) and is what quotas, the admin lists and the usage reports count. Existing replies are copied
-- in from the metadata stored with each of them.
CREATE TABLE usage_events (
    id                     INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id                BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id        BIGINT,
    message_id             BIGINT,
    model                  TEXT    NOT NULL DEFAULT '',
    created_at             BIGINT  NOT NULL,
    status                 TEXT    NOT NULL DEFAULT 'pending',
    prompt_tokens          BIGINT  NOT NULL DEFAULT 0,
    completion_tokens      BIGINT  NOT NULL DEFAULT 0,
    time_to_first_token_ms BIGINT
);

CREATE INDEX usage_events_user_idx ON usage_events (user_id, created_at);
CREATE INDEX usage_events_created_idx ON usage_events (created_at);
CREATE UNIQUE INDEX usage_events_message_idx ON usage_events (message_id);
CREATE INDEX usage_events_open_idx ON usage_events (user_id) WHERE status IN ('pending', 'streaming');

INSERT INTO usage_events (user_id, conversation_id, message_id, model, created_at, status, prompt_tokens,
                          completion_tokens, time_to_first_token_ms)
SELECT c.user_id, m.conversation_id, m.id, COALESCE(json_extract(m.metadata, '$.model'), ''), m.created_at, m.status,
       COALESCE(CAST(json_extract(m.metadata, '$.prompt_tokens') AS BIGINT), 0),
       COALESCE(CAST(json_extract(m.metadata, '$.completion_tokens') AS BIGINT), 0),
       CAST(json_extract(m.metadata, '$.time_to_first_token_ms') AS BIGINT)
FROM messages m JOIN conversations c ON c.id = m.conversation_id
WHERE m.role = 'assistant' AND json_valid(m.metadata);

-- Quotas: the instance's defaults (one row) and per-account overrides (NULL: the default; 0: unlimited).
CREATE TABLE quota_defaults (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    messages_per_day BIGINT NOT NULL DEFAULT 0 CHECK (messages_per_day >= 0),
    tokens_per_day   BIGINT NOT NULL DEFAULT 0 CHECK (tokens_per_day >= 0),
    tokens_per_month BIGINT NOT NULL DEFAULT 0 CHECK (tokens_per_month >= 0)
);
INSERT INTO quota_defaults (id) VALUES (1);

CREATE TABLE user_quotas (
    user_id          BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    messages_per_day BIGINT CHECK (messages_per_day >= 0),
    tokens_per_day   BIGINT CHECK (tokens_per_day >= 0),
    tokens_per_month BIGINT CHECK (tokens_per_month >= 0)
);
