//! The tool steps of a reply in the database (SQLite, or PostgreSQL with `TEST_DATABASE_URL`): written when a call
//! starts and when it ends, read back in order, marked interrupted when their process died, expired when an
//! approval ran out, and deleted with their reply.

use thicode::chat::store::{end_step, recover_steps, start_step, steps_of};
use thicode::core::db::now_millis;

use crate::common::{TestApp, with_user};

/// A conversation of `user_id` with one reply in `status`; the reply's id.
async fn reply(app: &TestApp, user_id: i64, status: &str) -> i64 {
    let pool = &app.pool().pool;
    let now = now_millis();
    let conversation: i64 = sqlx::query_scalar(
        "INSERT INTO conversations (user_id, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id",
    )
    .bind(user_id)
    .bind(now)
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query_scalar(
        "INSERT INTO messages (conversation_id, role, content, status, created_at, updated_at) \
         VALUES ($1, 'assistant', '', $2, $3, $3) RETURNING id",
    )
    .bind(conversation)
    .bind(status)
    .bind(now)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn steps_are_written_as_they_start_and_end_and_read_in_order() {
    let app = TestApp::new(&[]).await;
    let user = with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    let pool = &app.pool().pool;
    let message = reply(&app, user, "streaming").await;
    let args = r#"{"query": "rust \"wasm\" é"}"#;
    let second = start_step(pool, message, 1, 0, "B23456789", "read_page", "{}", "running", None)
        .await
        .unwrap();
    let first = start_step(pool, message, 0, 0, "A23456789", "web_search", args, "running", None)
        .await
        .unwrap();
    let steps = steps_of(pool, &[message]).await.unwrap();
    assert_eq!(
        steps.iter().map(|s| s.position).collect::<Vec<_>>(),
        [0, 1],
        "in order, whatever the writes' order"
    );
    assert_eq!(
        (steps[0].status.as_str(), steps[0].arguments.as_str()),
        ("running", args)
    );
    assert!(steps[0].duration_ms.is_none() && steps[0].result.is_none());

    end_step(
        pool,
        first,
        "done",
        Some(r#"[{"type": "text", "text": "ok"}]"#),
        None,
        120,
    )
    .await
    .unwrap();
    end_step(pool, second, "error", None, Some("example.org answered 404"), 35)
        .await
        .unwrap();
    let steps = steps_of(pool, &[message]).await.unwrap();
    assert_eq!(steps[0].status, "done");
    assert_eq!(steps[0].duration_ms, Some(120));
    assert_eq!(steps[0].result.as_deref(), Some(r#"[{"type": "text", "text": "ok"}]"#));
    assert_eq!(
        (steps[1].status.as_str(), steps[1].error.as_deref()),
        ("error", Some("example.org answered 404"))
    );

    // One position per reply.
    assert!(
        start_step(pool, message, 0, 1, "C23456789", "web_search", "{}", "running", None)
            .await
            .is_err()
    );
    // An unknown status is refused by the database.
    assert!(
        start_step(pool, message, 5, 1, "D23456789", "web_search", "{}", "sleeping", None)
            .await
            .is_err()
    );
    assert!(steps_of(pool, &[]).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_dead_processs_steps_are_interrupted_expired_approvals_expire_and_steps_go_with_their_reply() {
    let app = TestApp::new(&[]).await;
    let user = with_user(&app, "bob", "Tr4vel-Lisbon-Blue").await;
    let pool = &app.pool().pool;
    // The reply of a process that died mid-call: already marked interrupted.
    let dead = reply(&app, user, "interrupted").await;
    start_step(pool, dead, 0, 0, "A23456789", "web_search", "{}", "running", None)
        .await
        .unwrap();
    // A reply still generating, waiting for approvals: one expired, one still open.
    let live = reply(&app, user, "streaming").await;
    start_step(
        pool,
        live,
        0,
        0,
        "B23456789",
        "delete_files",
        "{}",
        "awaiting_approval",
        Some(now_millis() - 1),
    )
    .await
    .unwrap();
    start_step(
        pool,
        live,
        1,
        0,
        "C23456789",
        "delete_files",
        "{}",
        "awaiting_approval",
        Some(now_millis() + 600_000),
    )
    .await
    .unwrap();
    start_step(pool, live, 2, 0, "D23456789", "web_search", "{}", "running", None)
        .await
        .unwrap();

    assert_eq!(recover_steps(pool).await.unwrap(), 2);
    let statuses = |steps: Vec<thicode::chat::store::Step>| steps.into_iter().map(|s| s.status).collect::<Vec<_>>();
    assert_eq!(statuses(steps_of(pool, &[dead]).await.unwrap()), ["interrupted"]);
    assert_eq!(
        statuses(steps_of(pool, &[live]).await.unwrap()),
        ["expired", "awaiting_approval", "running"]
    );
    assert_eq!(recover_steps(pool).await.unwrap(), 0, "nothing left to change");

    sqlx::query("DELETE FROM messages WHERE id = $1")
        .bind(live)
        .execute(pool)
        .await
        .unwrap();
    assert!(steps_of(pool, &[live]).await.unwrap().is_empty());
    assert_eq!(steps_of(pool, &[dead, live]).await.unwrap().len(), 1);
}
