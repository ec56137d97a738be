-- Documents cut into chunks for retrieval (issue #26): when a conversation's documents do not fit the model's
-- context, the parts relevant to each question are found by full-text search (FTS5, BM25) and, when an embeddings
-- model is configured, by the cosine of the chunks' embeddings (little-endian f32s, ranked in Rust), fused by rank.
CREATE TABLE file_chunks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id         INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    -- The page of a PDF the chunk is on (NULL for other documents).
    page            INTEGER,
    text            TEXT    NOT NULL,
    embedding       BLOB,
    embedding_model TEXT
);

CREATE INDEX file_chunks_file_idx ON file_chunks (file_id, position);

CREATE VIRTUAL TABLE file_chunks_fts USING fts5(text, content = 'file_chunks', content_rowid = 'id');

CREATE TRIGGER file_chunks_fts_insert AFTER INSERT ON file_chunks BEGIN
    INSERT INTO file_chunks_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER file_chunks_fts_delete AFTER DELETE ON file_chunks BEGIN
    INSERT INTO file_chunks_fts (file_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
