-- An account's own limit on the files it keeps, in megabytes (issue #26): NULL takes the instance's setting
-- (MAX_FILE_STORAGE_PER_USER), 0 is unlimited.
ALTER TABLE user_quotas ADD COLUMN storage_mb BIGINT CHECK (storage_mb >= 0);
