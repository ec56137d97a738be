-- Usage and quotas (issue #15).
--
-- The usage ledger: one row per reply asked of the model (a send, a regenerate, an edit), written in the same
-- transaction that starts the reply and completed when it ends. It outlives the conversation (deleting one does not
-- give its tokens back) and is what quotas, the admin lists and the usage reports count. Existing replies are copied
-- in from the metadata stored with each of them.
CREATE TABLE usage_events (
    id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id                BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id        BIGINT,
    message_id             BIGINT,
    model                  TEXT   NOT NULL DEFAULT '',
    created_at             BIGINT NOT NULL,
    status                 TEXT   NOT NULL DEFAULT 'pending',
    prompt_tokens          BIGINT NOT NULL DEFAULT 0,
    completion_tokens      BIGINT NOT NULL DEFAULT 0,
    time_to_first_token_ms BIGINT
);

CREATE INDEX usage_events_user_idx ON usage_events (user_id, created_at);
CREATE INDEX usage_events_created_idx ON usage_events (created_at);
CREATE UNIQUE INDEX usage_events_message_idx ON usage_events (message_id);
CREATE INDEX usage_events_open_idx ON usage_events (user_id) WHERE status IN ('pending', 'streaming');

-- The metadata is JSON text written by ThiCode; text that is not JSON is skipped rather than failing the migration,
-- and numbers are read only where they are numbers.
CREATE FUNCTION thicode_try_jsonb(text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN $1::jsonb;
EXCEPTION WHEN others THEN
    RETURN NULL;
END;
$$;

INSERT INTO usage_events (user_id, conversation_id, message_id, model, created_at, status, prompt_tokens,
                          completion_tokens, time_to_first_token_ms)
SELECT c.user_id, m.conversation_id, m.id, COALESCE(j ->> 'model', ''), m.created_at, m.status,
       CASE WHEN jsonb_typeof(j -> 'prompt_tokens') = 'number' THEN (j ->> 'prompt_tokens')::numeric::bigint ELSE 0 END,
       CASE WHEN jsonb_typeof(j -> 'completion_tokens') = 'number' THEN (j ->> 'completion_tokens')::numeric::bigint ELSE 0 END,
       CASE WHEN jsonb_typeof(j -> 'time_to_first_token_ms') = 'number'
            THEN (j ->> 'time_to_first_token_ms')::numeric::bigint END
FROM messages m
JOIN conversations c ON c.id = m.conversation_id
CROSS JOIN LATERAL (SELECT thicode_try_jsonb(m.metadata) AS j) meta
WHERE m.role = 'assistant' AND meta.j IS NOT NULL;

DROP FUNCTION thicode_try_jsonb(text);

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
