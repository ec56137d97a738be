-- Documents cut into chunks for retrieval (issue #26): when a conversation's documents do not fit the model's
-- context, the parts relevant to each question are found by full-text search (a generated tsvector, 'simple'
-- configuration, ranked by ts_rank_cd) and, when an embeddings model is configured, by the cosine of the chunks'
-- embeddings (little-endian f32s, ranked in Rust), fused by rank.
CREATE TABLE file_chunks (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_id         BIGINT  NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    -- The page of a PDF the chunk is on (NULL for other documents).
    page            INTEGER,
    text            TEXT    NOT NULL,
    embedding       BYTEA,
    embedding_model TEXT,
    search          tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
);

CREATE INDEX file_chunks_file_idx ON file_chunks (file_id, position);
CREATE INDEX file_chunks_search_idx ON file_chunks USING GIN (search);
