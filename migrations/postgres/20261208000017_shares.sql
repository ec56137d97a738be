-- Conversations that travel (issue #29).

-- Settings staff change at runtime (sharing on or off, temporary chats …): a JSON value per key. A key that has no
-- row has its default.
CREATE TABLE instance_settings (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);

-- Share links: a read-only snapshot of a conversation's branch, readable by anyone with the token (32 random bytes,
-- base64url). One link per conversation; updating it takes a new snapshot and keeps the token. Revoking deletes the
-- row, and so does deleting the conversation or the account.
CREATE TABLE shares (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token           TEXT    NOT NULL UNIQUE,
    user_id         BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id BIGINT  NOT NULL UNIQUE REFERENCES conversations (id) ON DELETE CASCADE,
    -- The last message of the branch the snapshot holds.
    leaf_message_id BIGINT,
    -- {title, model, messages: [{role, content, created_at, model, attachments, steps}]}
    snapshot        TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);

CREATE INDEX shares_user_idx ON shares (user_id, updated_at);

-- What the owner did with their links (`share.create`, `share.update`, `share.revoke`), for their data export.
-- Append-only; gone with the account.
CREATE TABLE share_events (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    at              BIGINT  NOT NULL,
    action          TEXT    NOT NULL,
    conversation_id BIGINT,
    -- The link's first characters: enough to tell links apart, not to open one.
    token_prefix    TEXT    NOT NULL,
    client_addr     TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX share_events_user_idx ON share_events (user_id, at);
