-- Chat: conversations and their messages (a tree: `parent_id` links a message to the one it answers or follows,
-- so regenerated replies and edited prompts are siblings and every branch stays reachable).
-- Flags are INTEGER 0/1, timestamps epoch milliseconds, JSON stored as text (see 000001).
CREATE TABLE conversations (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id            BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title              TEXT    NOT NULL DEFAULT '' CHECK (char_length(title) <= 255),
    slug               TEXT    NOT NULL DEFAULT '',
    summary            TEXT    NOT NULL DEFAULT '',
    tags               TEXT    NOT NULL DEFAULT '[]',
    category           TEXT    NOT NULL DEFAULT '' CHECK (char_length(category) <= 50),
    status             TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived', 'deleted')),
    is_pinned          INTEGER NOT NULL DEFAULT 0 CHECK (is_pinned IN (0, 1)),
    message_count      BIGINT  NOT NULL DEFAULT 0,
    last_message_at    BIGINT,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL,
    archived_at        BIGINT,
    additional_data    TEXT    NOT NULL DEFAULT '{}',
    model              TEXT    NOT NULL DEFAULT '',
    system_prompt      TEXT    NOT NULL DEFAULT '',
    -- The last message of the branch on screen; NULL before the first message.
    current_leaf_id    BIGINT,
    -- The assistant message being generated, if any, and when its writer last showed it is alive: the lock that
    -- allows one generation per conversation across server instances (taken by a conditional UPDATE).
    generating_id      BIGINT,
    generating_beat_at BIGINT
);

CREATE INDEX conversations_user_idx ON conversations (user_id, status, is_pinned, last_message_at);

CREATE TABLE messages (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id BIGINT  NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    parent_id       BIGINT  REFERENCES messages (id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
    content         TEXT    NOT NULL DEFAULT '',
    content_type    TEXT    NOT NULL DEFAULT 'text/markdown',
    status          TEXT    NOT NULL DEFAULT 'delivered'
                    CHECK (status IN ('pending', 'streaming', 'delivered', 'stopped', 'interrupted', 'error')),
    is_edited       INTEGER NOT NULL DEFAULT 0 CHECK (is_edited IN (0, 1)),
    edit_count      BIGINT  NOT NULL DEFAULT 0,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    delivered_at    BIGINT,
    additional_data TEXT    NOT NULL DEFAULT '{}',
    metadata        TEXT    NOT NULL DEFAULT '{}'
);

CREATE INDEX messages_conversation_idx ON messages (conversation_id, id);
CREATE INDEX messages_parent_idx ON messages (parent_id);
CREATE INDEX messages_status_idx ON messages (status) WHERE status IN ('pending', 'streaming');
