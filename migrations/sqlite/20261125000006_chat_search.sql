-- Full-text search over message text (FTS5 over `messages`, kept in step by triggers). Titles are searched with LIKE.
-- Only finished messages are indexed: a reply being streamed is rewritten every 500 ms, and indexing each version
-- would make a thousand concurrent replies a thousand re-indexings per half second.
CREATE VIRTUAL TABLE messages_fts USING fts5(content, content = 'messages', content_rowid = 'id');

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.status NOT IN ('pending', 'streaming') BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.status NOT IN ('pending', 'streaming') BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content, status ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content)
        SELECT 'delete', old.id, old.content WHERE old.status NOT IN ('pending', 'streaming');
    INSERT INTO messages_fts (rowid, content)
        SELECT new.id, new.content WHERE new.status NOT IN ('pending', 'streaming');
END;
