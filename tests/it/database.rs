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
