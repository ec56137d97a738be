-- A counter per user that changes whenever anything the REST API's conversation list shows changes, kept by
-- triggers so that no write path can forget it (and several instances sharing the database agree). The list answer
-- is cached per user and served again while the counter is unchanged. The text of a reply being streamed is
-- rewritten every 500 ms without touching the counter: lists with a reply in progress are never cached.
CREATE TABLE list_versions (
    user_id BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    version BIGINT NOT NULL DEFAULT 0
);

CREATE FUNCTION bump_list_version(owner BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO list_versions (user_id, version) SELECT id, 1 FROM users WHERE id = owner
        ON CONFLICT (user_id) DO UPDATE SET version = list_versions.version + 1;
$$;

CREATE FUNCTION list_version_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM bump_list_version(OLD.user_id);
    ELSE
        PERFORM bump_list_version(NEW.user_id);
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION list_version_message() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM bump_list_version(c.user_id) FROM conversations c WHERE c.id = OLD.conversation_id;
    ELSIF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status OR NEW.status NOT IN ('pending', 'streaming') THEN
        PERFORM bump_list_version(c.user_id) FROM conversations c WHERE c.id = NEW.conversation_id;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER list_version_conversation_insert AFTER INSERT OR DELETE ON conversations
    FOR EACH ROW EXECUTE FUNCTION list_version_conversation();
CREATE TRIGGER list_version_conversation_update AFTER UPDATE OF title, slug, summary, tags, category, status,
    is_pinned, message_count, last_message_at, created_at, updated_at, archived_at, additional_data, model,
    system_prompt, generating_id ON conversations
    FOR EACH ROW EXECUTE FUNCTION list_version_conversation();
CREATE TRIGGER list_version_message AFTER INSERT OR UPDATE OR DELETE ON messages
    FOR EACH ROW EXECUTE FUNCTION list_version_message();
