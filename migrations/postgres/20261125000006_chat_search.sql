-- Full-text search over message text: a generated tsvector ('simple' configuration: no stemming, any language)
-- with a GIN index. Titles are searched with ILIKE.
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED;
CREATE INDEX messages_search_idx ON messages USING GIN (search);
