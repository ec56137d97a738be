//! The database session store on the backend selected by `TEST_DATABASE_URL` (SQLite when unset).

use crate::common::TestDb;
use thicode::accounts::sessions::DbSessionStore;
use thicode::core::db;
use time::{Duration, OffsetDateTime};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{ExpiredDeletion, SessionStore};

fn record(expires_in: Duration) -> Record {
    let mut data = std::collections::HashMap::new();
    data.insert("user".to_string(), serde_json::json!({"id": 7, "hash": "abc"}));
    Record {
        id: Id::default(),
        data,
        expiry_date: OffsetDateTime::now_utc() + expires_in,
    }
}

#[tokio::test]
async fn sessions_round_trip_and_expire() {
    let test_db = TestDb::new().await;
    let db = db::connect(&test_db.url).await.unwrap();
    db::migrate(&db).await.unwrap();
    let store = DbSessionStore::new(db.pool.clone());

    let mut live = record(Duration::hours(1));
    store.create(&mut live).await.unwrap();
    let loaded = store.load(&live.id).await.unwrap().expect("stored");
    assert_eq!(loaded.data, live.data);
    assert_eq!(loaded.expiry_date.unix_timestamp(), live.expiry_date.unix_timestamp());

    live.data.insert("more".into(), serde_json::json!(1));
    store.save(&live).await.unwrap();
    assert_eq!(store.load(&live.id).await.unwrap().unwrap().data.len(), 2);

    // A colliding id on create gets a new id instead of overwriting the other session.
    let mut clash = record(Duration::hours(1));
    clash.id = live.id;
    store.create(&mut clash).await.unwrap();
    assert_ne!(clash.id, live.id);
    assert_eq!(store.load(&live.id).await.unwrap().unwrap().data.len(), 2);

    let mut expired = record(Duration::seconds(-5));
    store.create(&mut expired).await.unwrap();
    assert!(
        store.load(&expired.id).await.unwrap().is_none(),
        "expired sessions are never loaded"
    );
    store.delete_expired().await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(left, 2);

    store.delete(&live.id).await.unwrap();
    assert!(store.load(&live.id).await.unwrap().is_none());
    db.pool.close().await;
}
