-- Accounts: the custom user of the original (Django AbstractUser + bio + JSON preferences).
-- Flags are INTEGER 0/1 (the sqlx Any driver cannot read SQLite BOOLEAN columns; one type on both backends).
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
    is_active     INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    is_staff      INTEGER NOT NULL DEFAULT 0 CHECK (is_staff IN (0, 1)),
    is_superuser  INTEGER NOT NULL DEFAULT 0 CHECK (is_superuser IN (0, 1)),
    date_joined   BIGINT  NOT NULL,
    date_modified BIGINT  NOT NULL,
    last_login    BIGINT
);

-- Usernames and emails are unique whatever their case.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
