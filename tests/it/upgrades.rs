//! Upgrades never lose data (#25): a database is built at every past migration step, filled with what a running
//! ThiCode of that time would hold — accounts, a logged-in session, a password reset, a conversation with two
//! branches whose last reply was cut mid-stream, personal tokens, usage and limits — then upgraded to the current
//! schema, and everything is checked to be there and usable through the app, on SQLite and on PostgreSQL.

use std::borrow::Cow;

use axum::http::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;

use crate::common::{PASSWORD, TestApp, TestDb, json as body_json, json_request};

/// The migrations of the backend the tests run on, oldest first.
fn migrations(db: &TestDb) -> sqlx::migrate::Migrator {
    if db.is_postgres() {
        sqlx::migrate!("migrations/postgres")
    } else {
        sqlx::migrate!("migrations/sqlite")
    }
}

/// A session made by the current ThiCode for the first account (id 1) with this password hash: the session row to
/// copy into an older database, and the cookie that presents it.
struct Session {
    id: String,
    data: String,
    expires_at: i64,
    cookie: String,
}

async fn real_session(hash: &str) -> Session {
    let donor = TestApp::new(&[]).await;
    let new = thicode::accounts::users::NewUser {
        username: "ada".into(),
        email: "ada@example.com".into(),
        password_hash: hash.into(),
        ..Default::default()
    };
    assert_eq!(
        thicode::accounts::users::create(&donor.pool().pool, &new)
            .await
            .unwrap(),
        1
    );
    let cookie = crate::common::api_session(&donor, "ada").await;
    let id = cookie
        .split("; ")
        .find_map(|c| c.strip_prefix("sessionid="))
        .unwrap()
        .to_string();
    let (data, expires_at): (String, i64) = sqlx::query_as("SELECT data, expires_at FROM sessions WHERE id = $1")
        .bind(&id)
        .fetch_one(&donor.pool().pool)
        .await
        .unwrap();
    Session {
        id,
        data,
        expires_at,
        cookie,
    }
}

/// What a ThiCode at `step` (the number of migrations applied) holds. Rows use the columns each table had when it
/// was made; later migrations add theirs with defaults.
struct Seeded {
    conversation: Option<i64>,
    streaming_reply: Option<i64>,
    token: Option<String>,
}

async fn seed(pool: &sqlx::AnyPool, step: usize, hash: &str, session: &Session) -> Seeded {
    let now = thicode::core::db::now_millis();
    let exec = |sql: &'static str| sqlx::query(sql);
    exec(
        "INSERT INTO users (username, email, password, first_name, bio, preferences, date_joined, date_modified, \
         last_login) VALUES ('ada', 'ada@example.com', $1, 'Ada', 'Counts', '{\"ai_model\":\"mistral-small-latest\"}', \
         $2, $2, $2)",
    )
    .bind(hash)
    .bind(now - 86_400_000)
    .execute(pool)
    .await
    .unwrap();
    exec(
        "INSERT INTO users (username, email, password, is_staff, is_superuser, date_joined, date_modified) \
         VALUES ('root', 'root@example.com', $1, 1, 1, $2, $2)",
    )
    .bind(hash)
    .bind(now)
    .execute(pool)
    .await
    .unwrap();
    let mut seeded = Seeded {
        conversation: None,
        streaming_reply: None,
        token: None,
    };
    if step >= 2 {
        exec("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3)")
            .bind(&session.id)
            .bind(&session.data)
            .bind(session.expires_at)
            .execute(pool)
            .await
            .unwrap();
    }
    if step >= 3 {
        exec(
            "INSERT INTO password_resets (token_hash, user_id, password_fingerprint, created_at, expires_at) \
             VALUES ('somehash', 1, 'fingerprint', $1, $2)",
        )
        .bind(now)
        .bind(now + 3_600_000)
        .execute(pool)
        .await
        .unwrap();
    }
    if step >= 4 {
        exec("INSERT INTO throttle_events (scope, key, at) VALUES ('login-ip', '127.0.0.1', $1)")
            .bind(now)
            .execute(pool)
            .await
            .unwrap();
    }
    if step >= 5 {
        let conversation: i64 = sqlx::query_scalar(
            "INSERT INTO conversations (user_id, title, tags, created_at, updated_at, model, message_count, \
             last_message_at) VALUES (1, 'Soup', '[\"food\"]', $1, $1, 'mistral-small-latest', 4, $1) RETURNING id",
        )
        .bind(now - 60_000)
        .fetch_one(pool)
        .await
        .unwrap();
        let message = |parent: Option<i64>, role: &'static str, content: &'static str, status: &'static str| {
            let metadata = if role == "assistant" && status == "delivered" {
                r#"{"model":"mistral-small-latest","prompt_tokens":12,"completion_tokens":30,"time_to_first_token_ms":150}"#
            } else {
                "{}"
            };
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO messages (conversation_id, parent_id, role, content, status, created_at, updated_at, \
                 metadata) VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING id",
            )
            .bind(conversation)
            .bind(parent)
            .bind(role)
            .bind(content)
            .bind(status)
            .bind(now - 50_000)
            .bind(metadata)
            .fetch_one(pool)
        };
        let first = message(None, "user", "How do I make soup?", "delivered").await.unwrap();
        let answered = message(
            Some(first),
            "assistant",
            "Boil **water**, then vegetables.",
            "delivered",
        )
        .await
        .unwrap();
        let edited = message(None, "user", "How do I make a cold soup?", "delivered")
            .await
            .unwrap();
        // The second branch's reply was being written when that ThiCode stopped.
        let cut = message(Some(edited), "assistant", "Gazpacho: tomatoes, cucum", "streaming")
            .await
            .unwrap();
        exec(
            "UPDATE conversations SET current_leaf_id = $1, generating_id = $1, generating_beat_at = $2 WHERE id = $3",
        )
        .bind(cut)
        .bind(now - 60_000)
        .bind(conversation)
        .execute(pool)
        .await
        .unwrap();
        if step >= 10 {
            // That ThiCode wrote a ledger row with each reply.
            for (reply, status, prompt, completion, ttft) in
                [(answered, "delivered", 12, 30, Some(150)), (cut, "pending", 0, 0, None)]
            {
                exec(
                    "INSERT INTO usage_events (user_id, conversation_id, message_id, model, created_at, status, \
                     prompt_tokens, completion_tokens, time_to_first_token_ms) \
                     VALUES (1, $1, $2, 'mistral-small-latest', $3, $4, $5, $6, $7)",
                )
                .bind(conversation)
                .bind(reply)
                .bind(now - 50_000)
                .bind(status)
                .bind(prompt)
                .bind(completion)
                .bind(ttft)
                .execute(pool)
                .await
                .unwrap();
            }
        }
        seeded.conversation = Some(conversation);
        seeded.streaming_reply = Some(cut);
    }
    if step >= 7 {
        let key = format!("thc_{}", "k".repeat(40));
        let hash = format!("{:x}", sha2::Sha256::digest(key.as_bytes()));
        exec(
            "INSERT INTO api_tokens (user_id, name, prefix, key_hash, created_at) VALUES (1, 'script', 'thc_kkkkkkkk', \
             $1, $2)",
        )
        .bind(hash)
        .bind(now)
        .execute(pool)
        .await
        .unwrap();
        seeded.token = Some(key);
    }
    if step >= 10 {
        exec("INSERT INTO user_quotas (user_id, messages_per_day) VALUES (1, 50)")
            .execute(pool)
            .await
            .unwrap();
        exec("UPDATE quota_defaults SET tokens_per_month = 100000")
            .execute(pool)
            .await
            .unwrap();
    }
    seeded
}

async fn call(app: &TestApp, method: &str, path: &str, body: Option<Value>, auth: (&str, &str)) -> (StatusCode, Value) {
    let res = app
        .send(json_request(
            method,
            path,
            body,
            None,
            &[auth, ("x-csrftoken", crate::common::CSRF)],
        ))
        .await;
    let status = res.status();
    (status, body_json(res).await)
}

#[tokio::test]
async fn a_database_from_every_past_step_upgrades_with_everything_in_it_usable() {
    let hash = thicode::accounts::password::Hashing::default()
        .hash(PASSWORD.into())
        .await
        .unwrap();
    let session = real_session(&hash).await;
    let probe = TestDb::new().await;
    let all: Vec<_> = migrations(&probe)
        .migrations
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .cloned()
        .collect();
    drop(probe);
    assert!(all.len() >= 11);
    // Step n is a database made by the ThiCode whose newest migration was the n-th.
    for step in 1..all.len() {
        let db = TestDb::new().await;
        let pool = thicode::core::db::connect(&db.url).await.unwrap();
        let mut old = migrations(&db);
        old.migrations = Cow::Owned(all[..step].to_vec());
        old.run(&pool.pool).await.unwrap();
        let seeded = seed(&pool.pool, step, &hash, &session).await;
        pool.pool.close().await;

        // The current ThiCode opens it: the pending migrations run, then the app starts (as `thicode serve` does).
        let app = TestApp::on(db, &[]).await;
        let pool = &app.pool().pool;
        let label = format!("from step {step} ({})", all[step - 1].description);
        assert!(
            thicode::core::db::pending(app.pool()).await.unwrap().is_empty(),
            "{label}: fully upgraded"
        );
        // The accounts, with their details and password.
        let user = thicode::accounts::users::by_id(pool, 1).await.unwrap().unwrap();
        assert_eq!(
            (user.first_name.as_str(), user.bio.as_str()),
            ("Ada", "Counts"),
            "{label}"
        );
        assert!(user.preferences.contains("mistral-small-latest"), "{label}");
        let root = thicode::accounts::users::by_id(pool, 2).await.unwrap().unwrap();
        assert!(root.is_staff && root.is_superuser, "{label}");
        let login = json!({"username": "ada", "password": PASSWORD});
        let res = app
            .send(json_request("POST", "/api/accounts/api/login/", Some(login), None, &[]))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{label}: the password still logs in");
        // A session of that time is still logged in.
        if step >= 2 {
            let (status, me) = call(
                &app,
                "GET",
                "/api/accounts/current-user/",
                None,
                ("cookie", &session.cookie),
            )
            .await;
            assert_eq!(
                (status, me["username"].as_str()),
                (StatusCode::OK, Some("ada")),
                "{label}: {me}"
            );
        }
        if let Some(key) = &seeded.token {
            let auth = format!("Token {key}");
            let (status, _) = call(
                &app,
                "GET",
                "/api/accounts/current-user/",
                None,
                ("authorization", &auth),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{label}: the personal token still works");
        }
        let Some(conversation) = seeded.conversation else {
            continue;
        };
        let cut = seeded.streaming_reply.unwrap();
        // The reply cut mid-stream is recovered as interrupted with its text, the conversation freed.
        thicode::chat::store::recover_interrupted(pool).await.unwrap();
        let reply = thicode::chat::store::message_by_id(pool, cut).await.unwrap().unwrap();
        assert_eq!(
            (reply.status.as_str(), reply.content.as_str()),
            ("interrupted", "Gazpacho: tomatoes, cucum"),
            "{label}"
        );
        let texts: Vec<String> =
            sqlx::query_scalar("SELECT content FROM messages WHERE conversation_id = $1 ORDER BY id")
                .bind(conversation)
                .fetch_all(pool)
                .await
                .unwrap();
        assert_eq!(texts.len(), 4, "{label}: both branches are kept");
        // Usage: the delivered reply is in the ledger with its tokens (backfilled when the ledger came).
        let tokens: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT status, prompt_tokens, completion_tokens FROM usage_events WHERE conversation_id = $1 \
             AND status = 'delivered'",
        )
        .bind(conversation)
        .fetch_all(pool)
        .await
        .unwrap();
        assert_eq!(tokens, [("delivered".to_string(), 12, 30)], "{label}");
        let (status, completion): (String, i64) =
            sqlx::query_as("SELECT status, completion_tokens FROM usage_events WHERE message_id = $1")
                .bind(cut)
                .fetch_one(pool)
                .await
                .unwrap();
        assert_eq!(
            (status.as_str(), completion),
            ("interrupted", 7),
            "{label}: the cut reply counts its text by estimate"
        );
        // Read, switched and continued through the API as that session.
        let auth = ("cookie", session.cookie.as_str());
        let path = format!("/api/chat/conversations/{conversation}/");
        let (status, read) = call(&app, "GET", &path, None, auth).await;
        assert_eq!(
            (status, read["title"].as_str()),
            (StatusCode::OK, Some("Soup")),
            "{label}: {read}"
        );
        let (status, sent) = call(
            &app,
            "POST",
            &format!("/api/chat/conversations/{conversation}/messages/"),
            Some(json!({"content": "And a hot one?"})),
            auth,
        )
        .await;
        assert!(
            status.is_success(),
            "{label}: a new message after the upgrade: {status} {sent}"
        );
        if step >= 10 {
            let (_, usage) = call(&app, "GET", "/api/accounts/usage/", None, auth).await;
            assert_eq!(usage["limits"]["messages_per_day"], 50, "{label}: {usage}");
            assert_eq!(usage["limits"]["tokens_per_month"], 100_000, "{label}: {usage}");
        }
    }
}
