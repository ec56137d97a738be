//! The OpenAI-compatible API (issue #30) driven by the official OpenAI SDKs, Python (PyPI `openai`) and Node (npm
//! `openai`), both installed by `scripts/test` (`TEST_OPENAI_PYTHON`, `TEST_OPENAI_NODE`), against a ThiCode served on
//! a local port with the strict fake Mistral behind it: models, a completion, a stream with usage, a tool round trip,
//! an image, embeddings, and the SDKs' own exceptions for a bad key, a bad request and an exhausted quota.

use std::process::Command;

use thicode::accounts::api_tokens::{self, Scope};

use crate::chat_flow::Chat;

/// The SDKs, or `None` (skipped) outside `scripts/test` unless `THICODE_REQUIRE_SDKS` says they must be there.
fn sdks() -> Option<(String, String)> {
    match (std::env::var("TEST_OPENAI_PYTHON"), std::env::var("TEST_OPENAI_NODE")) {
        (Ok(python), Ok(node)) => Some((python, node)),
        _ => {
            assert!(
                std::env::var_os("THICODE_REQUIRE_SDKS").is_none(),
                "TEST_OPENAI_PYTHON and TEST_OPENAI_NODE are required (scripts/test installs the OpenAI SDKs)"
            );
            eprintln!("skipped: no OpenAI SDKs (scripts/test installs them)");
            None
        }
    }
}

/// A 1×1 PNG.
const PNG: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

async fn key(chat: &Chat, username: &str, scope: Scope) -> (i64, String) {
    let id = crate::common::with_user(&chat.app, username, "Tr4vel-Lisbon-Blue").await;
    let pool = &chat.app.pool().pool;
    let user = thicode::accounts::users::by_id(pool, id).await.unwrap().unwrap();
    (
        id,
        api_tokens::create(pool, &user, "sdk", None, scope).await.unwrap().key,
    )
}

#[tokio::test]
async fn the_official_python_and_node_sdks_work_against_thicode() {
    let Some((python, node)) = sdks() else { return };
    let chat = Chat::new(&[
        ("EMBEDDING_MODEL", "mistral-embed"),
        ("RATE_LIMIT_MESSAGES_PER_MINUTE", "0"),
    ])
    .await;
    let (_, ada) = key(&chat, "ada", Scope::V1).await;
    // Bob has used his one message of the day.
    let (bob_id, bob) = key(&chat, "bob", Scope::All).await;
    let pool = &chat.app.pool().pool;
    sqlx::query("INSERT INTO user_quotas (user_id, messages_per_day) VALUES ($1, 1)")
        .bind(bob_id)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO usage_events (user_id, model, created_at, status) VALUES ($1, 'm', $2, 'delivered')")
        .bind(bob_id)
        .bind(thicode::core::db::now_millis())
        .execute(pool)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = chat.app.router();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap()
    });
    let base = format!("http://{addr}/v1");
    let sdk_dir = crate::common::repo_path("tests/sdk");
    let runs = [
        ("python", python.clone(), sdk_dir.join("openai_client.py")),
        ("node", "node".to_string(), sdk_dir.join("openai_client.mjs")),
    ];
    let expected = [
        "models",
        "completion",
        "stream",
        "tools",
        "image",
        "embeddings",
        "authentication-error",
        "bad-request-error",
        "rate-limit-error",
    ];
    for (name, program, script) in runs {
        let mut command = Command::new(&program);
        command
            .arg(&script)
            .env("THICODE_BASE_URL", &base)
            .env("THICODE_KEY", &ada)
            .env("THICODE_EXHAUSTED_KEY", &bob)
            .env("THICODE_IMAGE", PNG)
            .env("TEST_OPENAI_NODE", &node);
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .unwrap()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{name} SDK failed:\n{stdout}\n{stderr}");
        for check in expected {
            assert!(
                stdout.lines().any(|l| l == format!("ok {check}")),
                "{name}: no `ok {check}`:\n{stdout}"
            );
        }
    }
    // Every call went into the ledger from the v1 API; the Node completion asked to be saved, and was.
    let v1: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usage_events WHERE source = 'v1' AND status = 'delivered'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(v1 >= 14, "{v1}");
    let saved: Vec<String> = sqlx::query_scalar("SELECT title FROM conversations")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(saved, ["Hello from Node"]);
    // Nothing Mistral refuses reached the fake (it would have answered 422, and the SDKs would have failed).
    for request in chat.fake.requests() {
        for key in [
            "stream_options",
            "max_completion_tokens",
            "store",
            "user",
            "seed",
            "metadata",
        ] {
            assert!(request.body.get(key).is_none(), "{key}: {}", request.body);
        }
    }
}
