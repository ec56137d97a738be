-- Attachments (issue #26). A file belongs to one user; its bytes live outside the database (a local folder or an
-- S3-compatible store) under a content-addressed key, `blobs` listing each key once: a blob is removed (by the
-- sweeper, under this row's lock) when no file refers to it any more.
--
-- A file is attached to messages through `message_files`; `messages.attachments` keeps the JSON list the pages and
-- the API show ({id, name, type, size, kind}), so reading a conversation needs no join. A file that was attached
-- is deleted with the last message that refers to it (trigger below); one never attached expires (the sweeper).
CREATE TABLE blobs (
    storage_key TEXT   PRIMARY KEY,
    created_at  BIGINT NOT NULL
);

CREATE TABLE files (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL CHECK (char_length(name) <= 255),
    content_type TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('image', 'document')),
    size         BIGINT  NOT NULL,
    sha256       TEXT    NOT NULL,
    storage_key  TEXT    NOT NULL REFERENCES blobs (storage_key),
    width        BIGINT,
    height       BIGINT,
    pages        BIGINT,
    -- The text extracted from a document (NULL for images).
    text         TEXT,
    attached     INTEGER NOT NULL DEFAULT 0 CHECK (attached IN (0, 1)),
    created_at   BIGINT  NOT NULL
);

CREATE INDEX files_user_idx ON files (user_id, created_at);
CREATE INDEX files_key_idx ON files (storage_key);
CREATE INDEX files_unattached_idx ON files (created_at) WHERE attached = 0;

CREATE TABLE message_files (
    message_id BIGINT  NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    file_id    BIGINT  NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    PRIMARY KEY (message_id, file_id)
);

CREATE INDEX message_files_file_idx ON message_files (file_id);

ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';

-- The last message referring to a file is gone (deleted itself, or with its conversation or account): so is the file.
CREATE FUNCTION message_files_release() RETURNS trigger AS $$
BEGIN
    DELETE FROM files WHERE id = OLD.file_id
        AND NOT EXISTS (SELECT 1 FROM message_files WHERE file_id = OLD.file_id);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER message_files_release AFTER DELETE ON message_files
    FOR EACH ROW EXECUTE FUNCTION message_files_release();
