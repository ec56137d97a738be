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

#[tokio::test]
async fn a_session_deleted_while_a_request_holds_it_stays_deleted() {
    let test_db = TestDb::new().await;
    let db = db::connect(&test_db.url).await.unwrap();
    db::migrate(&db).await.unwrap();
    let store = DbSessionStore::new(db.pool.clone());
    let mut held = record(Duration::hours(1));
    store.create(&mut held).await.unwrap();
    // A request loaded it; meanwhile the row is deleted (logged out elsewhere, account deactivated).
    sqlx::query("DELETE FROM sessions").execute(&db.pool).await.unwrap();
    // The request ends and saves what it changed.
    held.data.insert("more".into(), serde_json::json!(1));
    store.save(&held).await.unwrap();
    assert!(
        store.load(&held.id).await.unwrap().is_none(),
        "the deleted session came back"
    );
}

#[tokio::test]
async fn a_session_saved_after_its_account_was_deactivated_is_not_alive_on_reactivation() {
    use crate::common::{TestApp, api_session, json_request, with_staff, with_user};
    let app = TestApp::new(&[]).await;
    let id = with_user(&app, "ada", crate::common::PASSWORD).await;
    let staff_id = with_staff(&app, "root").await;
    let cookie = api_session(&app, "ada").await;
    let session_id = cookie
        .split("; ")
        .find_map(|c| c.strip_prefix("sessionid="))
        .unwrap()
        .to_string();
    let store = DbSessionStore::new(app.pool().pool.clone());
    // A request of Ada's is under way with her session loaded…
    let mut held = store.load(&session_id.parse().unwrap()).await.unwrap().unwrap();
    // …when staff deactivate her account, which deletes her sessions…
    let actor = thicode::admin::service::Actor {
        user: thicode::accounts::users::by_id(&app.pool().pool, staff_id)
            .await
            .unwrap()
            .unwrap(),
        addr: "127.0.0.1".into(),
    };
    let flags = |active| thicode::admin::service::FlagChange {
        is_active: Some(active),
        is_staff: None,
    };
    thicode::admin::service::change_flags(&app.state.db, &actor, id, flags(false))
        .await
        .unwrap();
    // …and then her request ends and saves the session it changed.
    held.data.insert("seen".into(), serde_json::json!(true));
    store.save(&held).await.unwrap();
    thicode::admin::service::change_flags(&app.state.db, &actor, id, flags(true))
        .await
        .unwrap();
    let res = app
        .send(json_request(
            "GET",
            "/api/accounts/current-user/",
            None,
            Some(&cookie),
            &[],
        ))
        .await;
    assert!(
        res.status().is_client_error(),
        "the old session works again: {}",
        res.status()
    );
}
