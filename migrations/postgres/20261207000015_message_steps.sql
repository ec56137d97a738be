-- The tool calls of a reply (issue #27): each call the model made, in order, with its arguments and its outcome.
-- A row is written when the call starts and again when it ends, so a reload, a restart or another instance shows
-- every step as it shows the text; a call still running when its process died is marked interrupted on recovery.
CREATE TABLE message_steps (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  BIGINT  NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    -- Order within the reply, and the round of calls it belongs to.
    position    BIGINT  NOT NULL,
    round       BIGINT  NOT NULL,
    -- The call's id as the model's history carries it (9 letters or digits).
    call_id     TEXT    NOT NULL,
    tool        TEXT    NOT NULL,
    -- The arguments as the model wrote them (JSON text, not trusted).
    arguments   TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('running', 'done', 'error', 'awaiting_approval', 'denied',
                                                   'expired', 'interrupted')),
    -- The result as JSON (text parts, images, resources), or why it failed.
    result      TEXT,
    error       TEXT,
    started_at  BIGINT  NOT NULL,
    duration_ms BIGINT,
    -- When a call waiting for the user's approval stops waiting.
    expires_at  BIGINT,
    UNIQUE (message_id, position)
);

-- The recovery that runs every few seconds looks only at calls still open: a small index, not the whole table.
CREATE INDEX message_steps_open_idx ON message_steps (message_id) WHERE status IN ('running', 'awaiting_approval');
