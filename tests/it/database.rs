//! The database layer on the backend selected by `TEST_DATABASE_URL` (SQLite when unset).

use crate::common::TestDb;
use thicode::core::db::{self, Backend};

#[tokio::test]
async fn migrations_apply_once_and_create_the_schema() {
    let test_db = TestDb::new().await;
    let db = db::connect(&test_db.url).await.unwrap();
    assert_eq!(
        db.backend,
        if test_db.is_postgres() {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    );
    let applied = db::migrate(&db).await.unwrap();
    assert!(applied >= 1, "the first run applies every migration");
    assert_eq!(db::migrate(&db).await.unwrap(), 0, "a second run has nothing to do");
    assert!(db::ping(&db).await);

    // The users table exists and enforces case-insensitive uniqueness of usernames and emails on both backends.
    let insert = "INSERT INTO users (username, email, password, date_joined, date_modified) VALUES ($1, $2, 'x', 0, 0)";
    sqlx::query(insert)
        .bind("alice")
        .bind("alice@example.com")
        .execute(&db.pool)
        .await
        .unwrap();
    let dup_name = sqlx::query(insert)
        .bind("ALICE")
        .bind("other@example.com")
        .execute(&db.pool)
        .await;
    assert!(dup_name.is_err(), "username unique whatever the case");
    let dup_email = sqlx::query(insert)
        .bind("bob")
        .bind("Alice@Example.COM")
        .execute(&db.pool)
        .await;
    assert!(dup_email.is_err(), "email unique whatever the case");
    let (active, staff): (i64, i64) = sqlx::query_as("SELECT is_active, is_staff FROM users WHERE username = $1")
        .bind("alice")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!((active, staff), (1, 0), "flags default to active, not staff");
    db.pool.close().await;
}

#[tokio::test]
async fn sqlite_file_and_folder_are_created_with_wal_and_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/nested/deeper/app.db", dir.path().display());
    let db = db::connect(&url).await.unwrap();
    db::migrate(&db).await.unwrap();
    assert!(dir.path().join("nested/deeper/app.db").is_file());
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(timeout, 5000);
    db.pool.close().await;
}

#[tokio::test]
async fn unusable_databases_are_reported_clearly() {
    let err = db::connect("sqlite:///proc/thicode-cannot-write-here/app.db")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("DATABASE_URL: cannot use folder /proc/thicode-cannot-write-here"),
        "{err}"
    );
    let err = db::connect("postgres://nobody@127.0.0.1:1/none").await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("DATABASE_URL: cannot connect to the database"),
        "{err}"
    );
    let err = db::connect("mysql://x/y").await.unwrap_err();
    assert!(
        err.to_string().contains("expected sqlite://PATH or postgres://"),
        "{err}"
    );
}

#[tokio::test]
async fn the_admin_migrations_carry_existing_sessions_and_replies_over() {
    use std::borrow::Cow;
    let db = crate::common::TestDb::new().await;
    let pool = thicode::core::db::connect(&db.url).await.unwrap();
    let mut migrator = if db.is_postgres() {
        sqlx::migrate!("migrations/postgres")
    } else {
        sqlx::migrate!("migrations/sqlite")
    };
    // The schema as it was before the admin area (migrations 1 to 8), with data in it.
    let all = migrator.migrations.clone();
    let before: Vec<_> = all.iter().filter(|m| m.version < 20261202000000).cloned().collect();
    migrator.migrations = Cow::Owned(before);
    migrator.run(&pool.pool).await.unwrap();
    for sql in [
        "INSERT INTO users (username, email, password, date_joined, date_modified) VALUES ('a', 'a@x', 'p', 1, 1)",
        r#"INSERT INTO sessions (id, data, expires_at) VALUES ('s1', '{"axum-login.data":{"user_id":1,"auth_hash":[1]}}', 9), ('s2', '{}', 9), ('s3', 'not json', 9)"#,
        "INSERT INTO conversations (user_id, created_at, updated_at) VALUES (1, 1, 1)",
        r#"INSERT INTO messages (conversation_id, role, content, created_at, updated_at, metadata, status) VALUES
           (1, 'assistant', 'x', 5, 5, '{"model":"m","prompt_tokens":3,"completion_tokens":4,"time_to_first_token_ms":12}', 'delivered'),
           (1, 'assistant', 'y', 6, 6, 'not json', 'error'), (1, 'user', 'q', 4, 4, '{}', 'delivered')"#,
    ] {
        sqlx::query(sql).execute(&pool.pool).await.unwrap();
    }
    migrator.migrations = all;
    migrator.run(&pool.pool).await.unwrap();
    let sessions: Vec<(String, Option<i64>)> = sqlx::query_as("SELECT id, user_id FROM sessions ORDER BY id")
        .fetch_all(&pool.pool)
        .await
        .unwrap();
    assert_eq!(
        sessions,
        [("s1".into(), Some(1)), ("s2".into(), None), ("s3".into(), None)]
    );
    let ledger: Vec<(i64, String, String, i64, i64, Option<i64>)> = sqlx::query_as(
        "SELECT message_id, model, status, prompt_tokens, completion_tokens, time_to_first_token_ms FROM usage_events",
    )
    .fetch_all(&pool.pool)
    .await
    .unwrap();
    assert_eq!(
        ledger,
        [(1, "m".into(), "delivered".into(), 3, 4, Some(12))],
        "text that is not JSON is skipped"
    );
    pool.pool.close().await;
}
