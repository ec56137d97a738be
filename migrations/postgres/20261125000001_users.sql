-- Accounts: the custom user of the original (Django AbstractUser + bio + JSON preferences).
-- Timestamps are epoch milliseconds; preferences is a JSON object stored as text (one code path with SQLite).
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT    NOT NULL CHECK (char_length(username) BETWEEN 1 AND 150),
    email         TEXT    NOT NULL CHECK (char_length(email) <= 254),
    first_name    TEXT    NOT NULL DEFAULT '' CHECK (char_length(first_name) <= 150),
    last_name     TEXT    NOT NULL DEFAULT '' CHECK (char_length(last_name) <= 150),
    password      TEXT    NOT NULL,
    bio           TEXT    NOT NULL DEFAULT '' CHECK (char_length(bio) <= 500),
    preferences   TEXT    NOT NULL DEFAULT '{}',
    is_active     BOOLEAN NOT NULL DEFAULT TRUE,
    is_staff      BOOLEAN NOT NULL DEFAULT FALSE,
    is_superuser  BOOLEAN NOT NULL DEFAULT FALSE,
    date_joined   BIGINT  NOT NULL,
    date_modified BIGINT  NOT NULL,
    last_login    BIGINT
);

-- Usernames and emails are unique whatever their case.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
