-- Password reset links. Only a SHA-256 of the token is stored; `password_fingerprint` is a SHA-256 of the password
-- hash when the link was made, so any password change kills the link.
CREATE TABLE password_resets (
    token_hash           TEXT   PRIMARY KEY,
    user_id              BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    password_fingerprint TEXT   NOT NULL,
    created_at           BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL,
    used_at              BIGINT
);

CREATE INDEX password_resets_user_id_idx ON password_resets (user_id);
