-- Personal API tokens (`Authorization: Token …` or `Bearer …`). Only a SHA-256 of the key is stored; `prefix` is its
-- first characters, shown in lists so the owner can tell keys apart.
CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT   NOT NULL,
    prefix       TEXT   NOT NULL,
    key_hash     TEXT   NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT
);

CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

-- JWT refresh tokens, one row per token issued. A refresh spends its row and issues the next one of the same family;
-- presenting a spent token again revokes the whole family (reuse detection).
CREATE TABLE jwt_refresh_tokens (
    jti        TEXT   PRIMARY KEY,
    family     TEXT   NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    revoked_at BIGINT
);

CREATE INDEX jwt_refresh_tokens_family_idx ON jwt_refresh_tokens (family);
CREATE INDEX jwt_refresh_tokens_user_id_idx ON jwt_refresh_tokens (user_id);
