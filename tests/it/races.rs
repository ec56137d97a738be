//! Races a careful attacker can run against revocation (#25): a stolen refresh token refreshed in a loop while the
//! victim changes their password, and tokens made while staff deactivate the account. Each runs on SQLite and on
//! PostgreSQL; the transactions hold the account's row, so revocation and issuing happen one after the other.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::common::{PASSWORD, TestApp, json, json_request, with_staff, with_user};

/// An app without the anonymous routes' per-address rate (a loop of refreshes would reach it).
async fn app() -> TestApp {
    TestApp::new(&[("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "0")]).await
}

async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let res = app.send(json_request("POST", path, Some(body), None, &[])).await;
    let status = res.status();
    (status, json(res).await)
}

async fn access_works(app: &TestApp, access: &str) -> bool {
    let bearer = format!("Bearer {access}");
    let res = app
        .send(json_request(
            "GET",
            "/api/accounts/current-user/",
            None,
            None,
            &[("authorization", &bearer)],
        ))
        .await;
    res.status() == StatusCode::OK
}

/// Enough loops that some refresh is always between reading its token and issuing the next when the password changes.
const FAMILIES: usize = 24;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refreshes_racing_a_password_change_leave_no_token_alive() {
    let app = Arc::new(app().await);
    let id = with_user(&app, "ada", PASSWORD).await;
    // The thief holds several families and refreshes each in a loop, keeping every pair it is given.
    let mut families = Vec::new();
    for _ in 0..FAMILIES {
        let (status, pair) = post(&app, "/api/token/", json!({"username": "ada", "password": PASSWORD})).await;
        assert_eq!(status, StatusCode::OK);
        families.push(pair);
    }
    let issued: Arc<Mutex<Vec<Value>>> = Arc::new(Mutex::new(families.clone()));
    let changed = Arc::new(AtomicBool::new(false));
    let loops: Vec<_> = families
        .into_iter()
        .map(|pair| {
            let (app, issued, changed) = (app.clone(), issued.clone(), changed.clone());
            tokio::spawn(async move {
                let mut refresh = pair["refresh"].as_str().unwrap().to_string();
                // Go on a little after the change: those refreshes must fail too.
                let mut after = 0;
                while after < 5 {
                    if changed.load(Ordering::SeqCst) {
                        after += 1;
                    }
                    let (status, next) = post(&app, "/api/token/refresh/", json!({"refresh": refresh})).await;
                    if status != StatusCode::OK {
                        assert_eq!(status, StatusCode::UNAUTHORIZED, "{next}");
                        continue;
                    }
                    refresh = next["refresh"].as_str().unwrap().to_string();
                    issued.lock().await.push(next);
                }
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let user = thicode::accounts::users::by_id(&app.pool().pool, id)
        .await
        .unwrap()
        .unwrap();
    let new = "Fresh-Harbour-Lights-9";
    thicode::accounts::service::change_password(
        &app.pool().pool,
        &app.state.hashing,
        &user,
        PASSWORD.into(),
        new.into(),
        new.into(),
    )
    .await
    .unwrap();
    changed.store(true, Ordering::SeqCst);
    for task in loops {
        task.await.unwrap();
    }
    let issued = issued.lock().await.clone();
    assert!(issued.len() > FAMILIES, "the loops refreshed before the change");
    let alive: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jwt_refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(id)
            .fetch_one(&app.pool().pool)
            .await
            .unwrap();
    assert_eq!(alive, 0, "every refresh token of the account is revoked");
    // Newest first: presenting an older, spent token would revoke its family as a reuse and hide an escaped one.
    for pair in issued.iter().rev() {
        let (status, _) = post(&app, "/api/token/refresh/", json!({"refresh": pair["refresh"]})).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "a refresh token outlived the password change"
        );
    }
    // The new password gives a working pair.
    let (status, pair) = post(&app, "/api/token/", json!({"username": "ada", "password": new})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(access_works(&app, pair["access"].as_str().unwrap()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tokens_made_while_the_account_is_deactivated_do_not_outlive_it() {
    let app = Arc::new(app().await);
    let id = with_user(&app, "ada", PASSWORD).await;
    let staff_id = with_staff(&app, "root").await;
    let staff = thicode::accounts::users::by_id(&app.pool().pool, staff_id)
        .await
        .unwrap()
        .unwrap();
    let actor = thicode::admin::service::Actor {
        user: staff,
        addr: "127.0.0.1".into(),
    };
    let (_, pair) = post(&app, "/api/token/", json!({"username": "ada", "password": PASSWORD})).await;
    let access = pair["access"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {access}");
    let stop = Arc::new(AtomicBool::new(false));
    // Ada's client makes personal tokens and new JWT pairs as fast as it can.
    let makers: Vec<_> = (0..4)
        .map(|i| {
            let (app, stop, bearer) = (app.clone(), stop.clone(), bearer.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) && n < 40 {
                    n += 1;
                    let name = format!("script {i}-{n}");
                    let res = app
                        .send(json_request(
                            "POST",
                            "/api/accounts/tokens/",
                            Some(json!({"name": name})),
                            None,
                            &[("authorization", &bearer)],
                        ))
                        .await;
                    assert!(
                        [StatusCode::CREATED, StatusCode::UNAUTHORIZED, StatusCode::BAD_REQUEST]
                            .contains(&res.status()),
                        "{}",
                        res.status()
                    );
                    post(&app, "/api/token/", json!({"username": "ada", "password": PASSWORD})).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let deactivate = thicode::admin::service::FlagChange {
        is_active: Some(false),
        is_staff: None,
    };
    thicode::admin::service::change_flags(&app.state.db, &actor, id, deactivate)
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    stop.store(true, Ordering::SeqCst);
    for task in makers {
        task.await.unwrap();
    }
    // Deleted must stay deleted: reactivating brings back none of them.
    let reactivate = thicode::admin::service::FlagChange {
        is_active: Some(true),
        is_staff: None,
    };
    thicode::admin::service::change_flags(&app.state.db, &actor, id, reactivate)
        .await
        .unwrap();
    let tokens: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE user_id = $1")
        .bind(id)
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    assert_eq!(tokens, 0, "a personal token made during the deactivation survived it");
    let families: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM jwt_refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(id)
            .fetch_one(&app.pool().pool)
            .await
            .unwrap();
    assert_eq!(families, 0, "a JWT family issued during the deactivation survived it");
}

async fn actor(app: &TestApp, username: &str) -> thicode::admin::service::Actor {
    let id = with_staff(app, username).await;
    thicode::admin::service::Actor {
        user: thicode::accounts::users::by_id(&app.pool().pool, id)
            .await
            .unwrap()
            .unwrap(),
        addr: "127.0.0.1".into(),
    }
}

/// The `details` of the audit entries of `action`, oldest first.
async fn audit_details(app: &TestApp, action: &str) -> Vec<Value> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT details FROM audit_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(&app.pool().pool)
        .await
        .unwrap();
    rows.iter().map(|d| serde_json::from_str(d).unwrap()).collect()
}

/// Each entry starts where the one before ended, and the last ends where the setting is now.
fn assert_unbroken(entries: &[Value], first: &Value, now: &Value) {
    let mut at = first.clone();
    for entry in entries {
        assert_eq!(
            entry["from"], at,
            "an entry does not start where the last ended: {entries:#?}"
        );
        at = entry["to"].clone();
    }
    assert_eq!(&at, now, "a change was made and not audited: {entries:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_staff_saving_limits_at_once_leave_an_unbroken_audit_trail() {
    use thicode::admin::service::{set_default_quota, set_user_quota};
    use thicode::chat::quota::{Quota, QuotaOverride, defaults, override_of};
    let app = Arc::new(app().await);
    let ada = with_user(&app, "ada", PASSWORD).await;
    let (one, two) = (actor(&app, "root").await, actor(&app, "admin").await);
    let first_default = serde_json::to_value(defaults(&app.pool().pool).await.unwrap()).unwrap();
    let first_own = serde_json::to_value(override_of(&app.pool().pool, ada).await.unwrap()).unwrap();
    for _ in 0..15 {
        let quota = |n| Quota {
            messages_per_day: n,
            ..Quota::default()
        };
        let own = |n| QuotaOverride {
            messages_per_day: Some(n),
            ..QuotaOverride::default()
        };
        let (a, b, c, d) = tokio::join!(
            set_default_quota(&app.state.db, &one, quota(5)),
            set_default_quota(&app.state.db, &two, quota(7)),
            set_user_quota(&app.state.db, &one, ada, own(3)),
            set_user_quota(&app.state.db, &two, ada, own(4)),
        );
        for result in [a, b, c, d] {
            result.unwrap();
        }
    }
    let now_default = serde_json::to_value(defaults(&app.pool().pool).await.unwrap()).unwrap();
    let now_own = serde_json::to_value(override_of(&app.pool().pool, ada).await.unwrap()).unwrap();
    assert_unbroken(
        &audit_details(&app, "settings.quota").await,
        &first_default,
        &now_default,
    );
    assert_unbroken(&audit_details(&app, "user.set_quota").await, &first_own, &now_own);
}

#[tokio::test]
async fn a_patch_of_flags_and_limits_changes_both_or_neither() {
    use crate::common::api_session;
    let app = app().await;
    let ada = with_user(&app, "ada", PASSWORD).await;
    with_staff(&app, "root").await;
    let cookie = api_session(&app, "root").await;
    // The limits cannot be written (a fault of the database, made here with a trigger on both backends).
    let fault = if app.db.is_postgres() {
        vec![
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse BEFORE INSERT ON user_quotas FOR EACH ROW EXECUTE FUNCTION refuse()",
        ]
    } else {
        vec!["CREATE TRIGGER refuse BEFORE INSERT ON user_quotas BEGIN SELECT RAISE(ABORT, 'refused'); END"]
    };
    for statement in fault {
        sqlx::query(statement).execute(&app.pool().pool).await.unwrap();
    }
    let res = app
        .send(json_request(
            "PATCH",
            &format!("/api/admin/users/{ada}/"),
            Some(json!({"is_staff": true, "quota": {"messages_per_day": 3}})),
            Some(&cookie),
            &[("x-csrftoken", crate::common::CSRF), ("origin", crate::common::ORIGIN)],
        ))
        .await;
    assert!(res.status().is_server_error(), "{}", res.status());
    let user = thicode::accounts::users::by_id(&app.pool().pool, ada)
        .await
        .unwrap()
        .unwrap();
    assert!(!user.is_staff, "the flags were committed without the limits");
    let entries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    assert_eq!(entries, 0);
}
