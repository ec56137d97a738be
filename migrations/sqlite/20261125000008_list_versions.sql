-- A counter per user that changes whenever anything the REST API's conversation list shows changes, kept by
-- triggers so that no write path can forget it (and several instances sharing the database agree). The list answer
-- is cached per user and served again while the counter is unchanged. The text of a reply being streamed is
-- rewritten every 500 ms without touching the counter: lists with a reply in progress are never cached. (Rows are
-- only written for users that still exist: deleting a user deletes their conversations too.)
CREATE TABLE list_versions (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    version BIGINT NOT NULL DEFAULT 0
);

CREATE TRIGGER list_version_conversation_insert AFTER INSERT ON conversations BEGIN
    INSERT INTO list_versions (user_id, version) SELECT id, 1 FROM users WHERE id = new.user_id
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER list_version_conversation_update AFTER UPDATE OF title, slug, summary, tags, category, status,
    is_pinned, message_count, last_message_at, created_at, updated_at, archived_at, additional_data, model,
    system_prompt, generating_id ON conversations BEGIN
    INSERT INTO list_versions (user_id, version) SELECT id, 1 FROM users WHERE id = new.user_id
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER list_version_conversation_delete AFTER DELETE ON conversations BEGIN
    INSERT INTO list_versions (user_id, version) SELECT id, 1 FROM users WHERE id = old.user_id
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER list_version_message_insert AFTER INSERT ON messages BEGIN
    INSERT INTO list_versions (user_id, version) SELECT u.id, 1 FROM conversations c JOIN users u ON u.id = c.user_id
        WHERE c.id = new.conversation_id
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER list_version_message_update AFTER UPDATE ON messages
    WHEN new.status IS NOT old.status OR new.status NOT IN ('pending', 'streaming') BEGIN
    INSERT INTO list_versions (user_id, version) SELECT u.id, 1 FROM conversations c JOIN users u ON u.id = c.user_id
        WHERE c.id = new.conversation_id
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
CREATE TRIGGER list_version_message_delete AFTER DELETE ON messages BEGIN
    INSERT INTO list_versions (user_id, version) SELECT u.id, 1 FROM conversations c JOIN users u ON u.id = c.user_id
        WHERE c.id = old.conversation_id
        ON CONFLICT (user_id) DO UPDATE SET version = version + 1;
END;
