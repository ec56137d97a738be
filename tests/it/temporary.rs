//! Temporary chats (issue #29): kept in the server's memory only — nothing in the database but the ledger's token
//! counts — readable and continued by their owner only, refused or enforced by staff, on the API and the pages.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api_chat::{Client, poll_completed};
use crate::chat_flow::Chat;
use crate::common::{CSRF, ORIGIN, api_session, form_post, json_request, text, with_staff};

const BASE: &str = "/api/chat/conversations";

async fn count(chat: &Chat, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&chat.app.pool().pool).await.unwrap()
}

/// Rows anywhere that could hold what a user wrote.
async fn stored_rows(chat: &Chat) -> i64 {
    count(chat, "SELECT COUNT(*) FROM conversations").await
        + count(chat, "SELECT COUNT(*) FROM messages").await
        + count(chat, "SELECT COUNT(*) FROM files").await
        + count(chat, "SELECT COUNT(*) FROM shares").await
}

async fn set_mode(chat: &Chat, root: &str, mode: &str) -> (StatusCode, Value) {
    let res = chat
        .app
        .send(json_request(
            "PATCH",
            "/api/admin/settings/",
            Some(json!({"temporary_chats": mode})),
            Some(root),
            &[("x-csrftoken", CSRF)],
        ))
        .await;
    let status = res.status();
    (status, serde_json::from_str(&text(res).await).unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_temporary_chat_streams_and_continues_in_memory_and_leaves_only_token_counts() {
    let chat = Chat::new(&[]).await;
    let ada = Client::log_in(&chat, "ada").await;
    let (status, created) = ada
        .call(
            "POST",
            &format!("{BASE}/"),
            Some(json!({"initial_message": "A secret about Lisbon", "temporary": true,
                        "system_prompt": "Answer in one line."})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert!(id < 0, "a temporary id is negative: {id}");
    assert_eq!(created["temporary"], json!(true));
    assert_eq!(created["title"], "A secret about Lisbon");
    assert_eq!(created["tools"], json!([]));
    let first = created["messages"][0]["id"].as_i64().unwrap();
    let done = poll_completed(&ada, id, first).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert!(!done["ai_message"]["content"].as_str().unwrap().is_empty());

    // A second message: the model reads the first exchange and the system prompt.
    let (status, sent) = ada
        .call(
            "POST",
            &format!("{BASE}/{id}/messages/"),
            Some(json!({"content": "And another"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    poll_completed(&ada, id, sent["user_message"]["id"].as_i64().unwrap()).await;
    let last = chat.fake.requests().last().unwrap().body.clone();
    let roles: Vec<&str> = last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"], "{last}");
    assert!(last.get("tools").is_none(), "no tools in a temporary chat: {last}");

    let (status, detail) = ada.call("GET", &format!("{BASE}/{id}/"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["messages"].as_array().unwrap().len(), 4);
    let (_, streamed) = ada
        .call("GET", &format!("{BASE}/{id}/messages/{first}/status/"), None)
        .await;
    assert_eq!(streamed["status"], "completed");

    // Nothing of it is stored, listed or exported; its tokens are counted.
    assert_eq!(stored_rows(&chat).await, 0);
    let (_, list) = ada.call("GET", &format!("{BASE}/"), None).await;
    assert_eq!(list, json!([]));
    let (_, found) = ada.call("GET", &format!("{BASE}/?search=Lisbon"), None).await;
    assert_eq!(found, json!([]));
    let ledger: Vec<(Option<i64>, Option<i64>, String, i64)> =
        sqlx::query_as("SELECT conversation_id, message_id, status, completion_tokens FROM usage_events ORDER BY id")
            .fetch_all(&chat.app.pool().pool)
            .await
            .unwrap();
    assert_eq!(ledger.len(), 2, "{ledger:?}");
    for (conversation, message, status, completion) in &ledger {
        assert_eq!((*conversation, *message, status.as_str()), (None, None, "delivered"));
        assert!(*completion > 0);
    }
    let texts: Vec<String> = sqlx::query_scalar("SELECT details FROM audit_log")
        .fetch_all(&chat.app.pool().pool)
        .await
        .unwrap();
    assert!(texts.iter().all(|t| !t.contains("Lisbon")));

    // Another account finds nothing there, whatever it tries.
    let bob = Client::log_in(&chat, "bob").await;
    for (method, path, body) in [
        ("GET", format!("{BASE}/{id}/"), None),
        ("GET", format!("{BASE}/{id}/messages/"), None),
        ("GET", format!("{BASE}/{id}/messages/{first}/status/"), None),
        ("GET", format!("{BASE}/{id}/messages/{first}/stream/"), None),
        (
            "POST",
            format!("{BASE}/{id}/messages/"),
            Some(json!({"content": "mine now"})),
        ),
        ("DELETE", format!("{BASE}/{id}/"), None),
        ("PATCH", format!("{BASE}/{id}/"), Some(json!({"title": "x"}))),
        ("POST", format!("{BASE}/{id}/share/"), None),
        ("POST", format!("{BASE}/{id}/fork/"), Some(json!({"message_id": first}))),
    ] {
        let (status, body) = bob.call(method, &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
    }
    // What applies to stored chats only is not found in a temporary one, even for its owner.
    let (status, _) = ada.call("POST", &format!("{BASE}/{id}/share/"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = ada
        .call(
            "POST",
            &format!("{BASE}/{id}/fork/"),
            Some(json!({"message_id": first})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, refused) = ada
        .call(
            "POST",
            &format!("{BASE}/{id}/messages/"),
            Some(json!({"content": "with a file", "attachments": [1]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused["attachments"].is_array(), "{refused}");

    // Discarded: gone at once.
    let (status, _) = ada.call("DELETE", &format!("{BASE}/{id}/"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = ada.call("GET", &format!("{BASE}/{id}/"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(chat.app.state.chat.temporary.is_empty());
    assert_eq!(stored_rows(&chat).await, 0);
}

#[tokio::test]
async fn staff_turn_temporary_chats_off_or_make_every_new_chat_temporary() {
    let chat = Chat::new(&[]).await;
    with_staff(&chat.app, "root").await;
    let root = api_session(&chat.app, "root").await;
    let ada = Client::log_in(&chat, "ada").await;

    let (status, settings) = set_mode(&chat, &root, "sometimes").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{settings}");
    assert!(settings["temporary_chats"].is_array(), "{settings}");
    let (status, _) = ada
        .call("PATCH", "/api/admin/settings/", Some(json!({"temporary_chats": "off"})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a user may not change it");

    let (status, settings) = set_mode(&chat, &root, "off").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["temporary_chats"], "off");
    let (status, refused) = ada
        .call(
            "POST",
            &format!("{BASE}/"),
            Some(json!({"initial_message": "Keep nothing", "temporary": "true"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused,
        json!({"temporary": ["Temporary chats are turned off on this server."]})
    );
    assert_eq!(
        stored_rows(&chat).await,
        0,
        "refused, not stored against the user's wish"
    );

    let (status, settings) = set_mode(&chat, &root, "enforced").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["temporary_chats"], "enforced");
    let (status, created) = ada
        .call(
            "POST",
            &format!("{BASE}/"),
            Some(json!({"initial_message": "Plain start"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["temporary"], json!(true));
    // The page's send, without JavaScript, makes one too.
    let page = crate::common::logged_in(&chat.app, "ada").await;
    use leptos::server_fn::ServerFn;
    let res = chat
        .app
        .send(form_post(
            thicode::chat::server_fns::SendMessage::PATH,
            "/chat",
            "content=From+the+page",
            Some(&page),
            ORIGIN,
        ))
        .await;
    let location = crate::common::header(&res, "location");
    assert!(location.starts_with("/chat/-"), "{location}");
    let html = crate::common::page(&chat.app, location, Some(&page)).await;
    assert!(html.contains(r#"data-testid="temporary-banner""#), "{html}");
    assert!(html.contains("From the page"));
    // Its sidebar lists nothing: the chat is not stored.
    assert!(!html.contains("conversation-link"), "nothing listed");
    assert_eq!(stored_rows(&chat).await, 0);

    let audited: Vec<String> =
        sqlx::query_scalar("SELECT details FROM audit_log WHERE action = 'settings.temporary_chats' ORDER BY id")
            .fetch_all(&chat.app.pool().pool)
            .await
            .unwrap();
    assert_eq!(audited.len(), 2, "{audited:?}");
    assert!(audited[1].contains("enforced"));

    // Another account's page for it: the chat is not found, and said to be gone.
    crate::common::with_user(&chat.app, "bob", crate::common::PASSWORD).await;
    let bob = crate::common::logged_in(&chat.app, "bob").await;
    let html = crate::common::page(&chat.app, location, Some(&bob)).await;
    assert!(html.contains(r#"data-testid="temporary-gone""#), "{html}");
    assert!(!html.contains("From the page"));
}

#[tokio::test]
async fn a_closing_tab_says_goodbye_and_only_its_owner_can_say_it() {
    let chat = Chat::new(&[]).await;
    let ada = Client::log_in(&chat, "ada").await;
    let (_, created) = ada
        .call(
            "POST",
            &format!("{BASE}/"),
            Some(json!({"initial_message": "Short-lived", "temporary": true})),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    poll_completed(&ada, id, created["messages"][0]["id"].as_i64().unwrap()).await;
    crate::common::with_user(&chat.app, "bob", crate::common::PASSWORD).await;
    let bob = crate::common::logged_in(&chat.app, "bob").await;
    let leave =
        |session: &str, origin: &str| form_post(&format!("/chat/{id}/leave"), "/chat", "", Some(session), origin);
    // A hostile page cannot end it, nor can another account.
    let ada_page = crate::common::logged_in(&chat.app, "ada").await;
    let res = chat.app.send(leave(&ada_page, "https://evil.example")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = chat.app.send(leave(&bob, ORIGIN)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let temporary = &chat.app.state.chat.temporary;
    temporary.sweep();
    assert_eq!(temporary.len(), 1);
    // Its own tab: forgotten once the grace for a reload has passed (the sweep is tested with time in the unit tests).
    let res = chat.app.send(leave(&ada_page, ORIGIN)).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (status, _) = ada.call("GET", &format!("{BASE}/{id}/"), None).await;
    assert_eq!(status, StatusCode::OK, "a reload within the grace takes it back");
}
