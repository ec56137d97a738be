//! Backups (#25): `thicode backup` copies a live SQLite database under write load into a consistent, checked file,
//! and `thicode restore` brings it back into an empty data folder, upgraded; PostgreSQL is told to use pg_dump.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use thicode::core::backup::{self, BackupError};

use crate::common::{PASSWORD, TestApp, with_user};

/// Writes conversations of two messages each, one transaction each, until `stop`.
async fn write_load(pool: sqlx::AnyPool, stop: Arc<AtomicBool>) -> i64 {
    let mut written = 0;
    while !stop.load(Ordering::SeqCst) {
        let now = thicode::core::db::now_millis();
        let mut tx = pool.begin().await.unwrap();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO conversations (user_id, title, created_at, updated_at) VALUES (1, 'load', $1, $1) RETURNING id",
        )
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        for role in ["user", "assistant"] {
            sqlx::query(
                "INSERT INTO messages (conversation_id, role, content, created_at, updated_at) VALUES ($1, $2, 'x', $3, $3)",
            )
            .bind(id)
            .bind(role)
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        written += 1;
    }
    written
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_database_under_writes_is_backed_up_consistently_and_restored_into_an_empty_folder() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", PASSWORD).await;
    let file = app.db.dir.path().join("backup.db");
    if app.db.is_postgres() {
        let refused = backup::backup(app.pool(), &file).await.unwrap_err();
        assert!(matches!(refused, BackupError::Postgres));
        assert!(refused.to_string().contains("pg_dump"), "{refused}");
        return;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write_load(app.pool().pool.clone(), stop.clone()));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let bytes = backup::backup(app.pool(), &file).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    stop.store(true, Ordering::SeqCst);
    let written = writer.await.unwrap();
    assert!(bytes > 0 && written > 0);
    // A backup never overwrites a file.
    assert!(matches!(
        backup::backup(app.pool(), &file).await,
        Err(BackupError::Exists(_))
    ));

    // Restored into an empty data folder: whole transactions only, and the app works on it.
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/data/thicode.db", folder.path().display());
    let restored = backup::restore(&file, &url).await.unwrap();
    assert_eq!(restored.accounts, 1);
    assert!(
        restored.conversations > 0 && restored.conversations < written,
        "taken while the writes went on: {} of {written}",
        restored.conversations
    );
    let db = thicode::core::db::connect(&url).await.unwrap();
    let torn: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM conversations c WHERE (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) <> 2",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(torn, 0, "no conversation without both of its messages");
    let user = thicode::accounts::users::by_login(&db.pool, "ada")
        .await
        .unwrap()
        .unwrap();
    assert!(
        thicode::accounts::password::Hashing::default()
            .verify(PASSWORD.into(), Some(user.password))
            .await
            .unwrap()
    );
    db.pool.close().await;
    // Never over a database that has data.
    let again = backup::restore(&file, &url).await.unwrap_err();
    assert!(matches!(again, BackupError::NotEmpty(_)), "{again}");
    // A file that is no backup is refused with the reason.
    let junk = folder.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all, not even close").unwrap();
    let empty = tempfile::tempdir().unwrap();
    let other = format!("sqlite://{}/thicode.db", empty.path().display());
    let refused = backup::restore(&junk, &other).await.unwrap_err();
    assert!(refused.to_string().contains("is not a ThiCode backup"), "{refused}");
}
