//! Chat through its server functions and routes, against the fake Mistral server: sending, streaming into the
//! database, one generation at a time, stop, errors and retry, regenerate and edit branches, authorization, limits.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use leptos::server_fn::ServerFn;
use serde_json::Value;
use thicode::chat::fake_mistral::{FakeMistral, FakeSettings};
use thicode::chat::server_fns::{
    EditMessage, GetConversation, Regenerate, SelectBranch, SendMessage, StopReply, UpdateConversation,
};
use thicode::chat::store;

use crate::common::{ORIGIN, TestApp, form_post, header, json, page, text, with_user};

use crate::common::PASSWORD;

pub struct Chat {
    pub app: TestApp,
    pub fake: FakeMistral,
}

impl Chat {
    pub async fn new(extra: &[(&str, &str)]) -> Self {
        Self::start(extra, false).await
    }

    /// The chat with web search through the fake's SearXNG (`/_fake/searxng`).
    pub async fn with_web_search(extra: &[(&str, &str)]) -> Self {
        Self::start(extra, true).await
    }

    async fn start(extra: &[(&str, &str)], web_search: bool) -> Self {
        let fake = FakeMistral::start(FakeSettings::default()).await.unwrap();
        let base = fake.base_url();
        let search = format!("{base}/_fake/searxng");
        let mut settings = vec![
            ("MISTRAL_API_KEY", "fake-key"),
            ("MISTRAL_BASE_URL", base.as_str()),
            ("MISTRAL_TIMEOUT_SECONDS", "2"),
            ("MISTRAL_MAX_RETRIES", "0"),
        ];
        if web_search {
            settings.extend([("WEB_SEARCH_BACKEND", "searxng"), ("WEB_SEARCH_URL", search.as_str())]);
        }
        settings.extend_from_slice(extra);
        let app = TestApp::new(&settings).await;
        Self { app, fake }
    }

    pub async fn user(&self, name: &str) -> String {
        with_user(&self.app, name, PASSWORD).await;
        crate::common::logged_in(&self.app, name).await
    }

    /// Calls a server function as a script does (form-encoded body, JSON answer).
    pub async fn call(&self, path: &str, body: &str, cookie: &str) -> (StatusCode, Value) {
        let req = Request::post(path)
            .header("host", "127.0.0.1:3000")
            .header("origin", ORIGIN)
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", cookie)
            .body(Body::from(body.to_string()))
            .unwrap();
        let res = self.app.send(req).await;
        let status = res.status();
        let body = text(res).await;
        (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
    }

    pub async fn send(&self, cookie: &str, conversation: Option<i64>, content: &str) -> (StatusCode, Value) {
        let mut body = format!("content={}", urlencode(content));
        if let Some(id) = conversation {
            body.push_str(&format!("&conversation_id={id}"));
        }
        self.call(SendMessage::PATH, &body, cookie).await
    }

    pub async fn message(&self, id: i64) -> store::Message {
        store::message_by_id(&self.app.pool().pool, id).await.unwrap().unwrap()
    }

    /// Waits until the reply is no longer being generated.
    pub async fn settled(&self, id: i64) -> store::Message {
        for _ in 0..200 {
            let m = self.message(id).await;
            if m.status != "pending" && m.status != "streaming" {
                // The lock is released in the same transaction as the final write.
                return m;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("reply {id} never finished");
    }
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn id(v: &Value, key: &str) -> i64 {
    v[key].as_i64().unwrap_or_else(|| panic!("{key} in {v}"))
}

#[tokio::test]
async fn a_message_is_saved_first_and_the_reply_streams_into_the_database() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let (status, sent) = chat
        .send(&cookie, None, "[fake:tps=40] [fake:tokens=60] Tell me a story")
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let conversation = id(&sent, "conversation_id");
    let user_message = chat.message(id(&sent, "user_message_id")).await;
    assert_eq!(user_message.status, "delivered");
    assert_eq!(user_message.role, "user");
    let reply_id = id(&sent, "assistant_message_id");
    assert!(["pending", "streaming"].contains(&chat.message(reply_id).await.status.as_str()));

    // Mid-stream, the text so far is already in the database (saved at least every 500 ms).
    tokio::time::sleep(Duration::from_millis(900)).await;
    let partial = chat.message(reply_id).await;
    assert_eq!(partial.status, "streaming");
    assert!(!partial.content.is_empty(), "partial text saved while streaming");

    let done = chat.settled(reply_id).await;
    assert_eq!(done.status, "delivered");
    assert_eq!(done.content.split(' ').count(), 60);
    assert!(done.delivered_at.is_some());
    let meta: Value = serde_json::from_str(&done.metadata).unwrap();
    assert_eq!(meta["model"], "mistral-small-latest");
    assert_eq!(meta["completion_tokens"], 60);
    assert_eq!(meta["finish_reason"], "stop");
    assert!(meta["time_to_first_token_ms"].as_u64().is_some());

    // The first exchange names the conversation through the model.
    let mut title = String::new();
    for _ in 0..100 {
        let c = store::conversation(
            &chat.app.pool().pool,
            done_owner(&chat, conversation).await,
            conversation,
        )
        .await
        .unwrap()
        .unwrap();
        title = c.title.clone();
        assert_eq!(c.message_count, 2);
        // The fake answers the title request with filler words (the markers travel in the prompt).
        if title.starts_with("lorem ipsum") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        title.starts_with("lorem ipsum") && title.chars().count() <= 80,
        "{title}"
    );
    let requests = chat.fake.requests();
    assert_eq!(requests.len(), 2, "reply and title");
    assert_eq!(requests[1].body["max_tokens"], 24);
}

async fn done_owner(chat: &Chat, conversation: i64) -> i64 {
    sqlx::query_scalar("SELECT user_id FROM conversations WHERE id = $1")
        .bind(conversation)
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_whole_branch_and_the_system_prompt_are_sent_to_the_model() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let (_, sent) = chat.send(&cookie, None, "first question").await;
    let conversation = id(&sent, "conversation_id");
    chat.settled(id(&sent, "assistant_message_id")).await;
    let (status, _) = chat
        .call(
            UpdateConversation::PATH,
            &format!("id={conversation}&system_prompt=Answer+in+French.&model=mistral-large-latest"),
            &cookie,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, sent) = chat.send(&cookie, Some(conversation), "second question").await;
    chat.settled(id(&sent, "assistant_message_id")).await;
    let last = chat
        .fake
        .requests()
        .into_iter()
        .rfind(|r| r.body["max_tokens"].is_null())
        .unwrap();
    assert_eq!(last.body["model"], "mistral-large-latest");
    let sent: Vec<(String, String)> = last.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_string(),
                m["content"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        sent,
        vec![
            ("system".into(), "Answer in French.".into()),
            ("user".into(), "first question".into()),
            ("assistant".into(), "Fake reply to: first question".into()),
            ("user".into(), "second question".into()),
        ]
    );
}

#[tokio::test]
async fn one_generation_at_a_time_and_stop_keeps_the_text() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let (_, sent) = chat.send(&cookie, None, "[fake:tps=20] [fake:tokens=200] long").await;
    let conversation = id(&sent, "conversation_id");
    let reply = id(&sent, "assistant_message_id");

    let (status, body) = chat.send(&cookie, Some(conversation), "again").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body, "Busy", "the page shows: A reply is already being generated…");

    tokio::time::sleep(Duration::from_millis(700)).await;
    let (status, _) = chat
        .call(
            StopReply::PATH,
            &format!("conversation_id={conversation}&message_id={reply}"),
            &cookie,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let stopped = chat.settled(reply).await;
    assert_eq!(stopped.status, "stopped");
    assert!(!stopped.content.is_empty() && stopped.content.split(' ').count() < 200);
    let meta: Value = serde_json::from_str(&stopped.metadata).unwrap();
    assert_eq!(meta["finish_reason"], "stopped");

    // The lock is released: the next message goes through.
    let (status, body) = chat.send(&cookie, Some(conversation), "next").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn concurrent_sends_start_exactly_one_generation() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let (_, sent) = chat.send(&cookie, None, "hi").await;
    let conversation = id(&sent, "conversation_id");
    chat.settled(id(&sent, "assistant_message_id")).await;
    let sends = (0..8).map(|i| {
        chat.send(
            &cookie,
            Some(conversation),
            Box::leak(format!("[fake:tps=50] race {i}").into_boxed_str()),
        )
    });
    let results = futures::future::join_all(sends).await;
    let ok = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let busy = results.iter().filter(|(s, _)| *s == StatusCode::CONFLICT).count();
    assert_eq!((ok, busy), (1, 7), "{results:?}");
}

#[tokio::test]
async fn a_provider_error_keeps_the_message_and_retry_answers_it() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let (_, sent) = chat.send(&cookie, None, "[fake:fail-once:422] please").await;
    let conversation = id(&sent, "conversation_id");
    let failed = chat.settled(id(&sent, "assistant_message_id")).await;
    assert_eq!(failed.status, "error");
    let meta: Value = serde_json::from_str(&failed.metadata).unwrap();
    assert_eq!(meta["error"]["code"], "rejected");
    assert_eq!(
        meta["error"]["message"],
        "The AI provider refused the request: Prompt is not valid"
    );
    assert_eq!(chat.message(id(&sent, "user_message_id")).await.status, "delivered");

    // The page shows the error with a Retry button.
    let html = page(&chat.app, &format!("/chat/{conversation}"), Some(&cookie)).await;
    assert!(html.contains("Prompt is not valid"), "{html}");
    assert!(html.contains(">Retry<"));

    let (status, retried) = chat
        .call(Regenerate::PATH, &format!("message_id={}", failed.id), &cookie)
        .await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    let reply = chat.settled(id(&retried, "assistant_message_id")).await;
    assert_eq!(reply.status, "delivered");
    assert_eq!(
        reply.parent_id,
        Some(id(&sent, "user_message_id")),
        "the retry answers the same message"
    );
}

#[tokio::test]
async fn regenerate_and_edit_make_branches_that_stay_reachable() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let (_, sent) = chat.send(&cookie, None, "question one").await;
    let conversation = id(&sent, "conversation_id");
    let first_reply = id(&sent, "assistant_message_id");
    chat.settled(first_reply).await;

    let (_, regenerated) = chat
        .call(Regenerate::PATH, &format!("message_id={first_reply}"), &cookie)
        .await;
    let second_reply = id(&regenerated, "assistant_message_id");
    chat.settled(second_reply).await;
    let (_, view) = chat
        .call(GetConversation::PATH, &format!("id={conversation}"), &cookie)
        .await;
    let messages = view["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(id(&messages[1], "id"), second_reply);
    assert_eq!(messages[1]["branch"], serde_json::json!([2, 2]));
    assert_eq!(messages[1]["prev_sibling"], first_reply);

    // Edit the question: a new branch; the old question and its replies stay reachable.
    let user_message = id(&sent, "user_message_id");
    let (status, edited) = chat
        .call(
            EditMessage::PATH,
            &format!("message_id={user_message}&content=question+two"),
            &cookie,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    chat.settled(id(&edited, "assistant_message_id")).await;
    let (_, view) = chat
        .call(GetConversation::PATH, &format!("id={conversation}"), &cookie)
        .await;
    assert_eq!(view["messages"][0]["content"], "question two");
    assert_eq!(view["messages"][0]["branch"], serde_json::json!([2, 2]));
    assert_eq!(view["messages"][1]["content"], "Fake reply to: question two");

    let (status, _) = chat
        .call(SelectBranch::PATH, &format!("message_id={user_message}"), &cookie)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, view) = chat
        .call(GetConversation::PATH, &format!("id={conversation}"), &cookie)
        .await;
    assert_eq!(view["messages"][0]["content"], "question one");
    assert_eq!(
        id(&view["messages"][1], "id"),
        second_reply,
        "the newest reply of that branch"
    );
}

#[tokio::test]
async fn other_users_objects_answer_not_found_everywhere() {
    let chat = Chat::new(&[]).await;
    let ada = chat.user("ada").await;
    let bob = chat.user("bob").await;
    let (_, sent) = chat.send(&ada, None, "private").await;
    let conversation = id(&sent, "conversation_id");
    let reply = id(&sent, "assistant_message_id");
    chat.settled(reply).await;

    let calls = [
        (GetConversation::PATH, format!("id={conversation}")),
        (SendMessage::PATH, format!("conversation_id={conversation}&content=hi")),
        (Regenerate::PATH, format!("message_id={reply}")),
        (
            EditMessage::PATH,
            format!("message_id={}&content=x", id(&sent, "user_message_id")),
        ),
        (
            StopReply::PATH,
            format!("conversation_id={conversation}&message_id={reply}"),
        ),
        (SelectBranch::PATH, format!("message_id={reply}")),
        (UpdateConversation::PATH, format!("id={conversation}&title=mine")),
        (
            thicode::chat::server_fns::DeleteConversation::PATH,
            format!("id={conversation}"),
        ),
    ];
    for (path, body) in &calls {
        let (status, answer) = chat.call(path, body, &bob).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
    }
    for uri in [
        format!("/chat/{conversation}/messages/{reply}/events"),
        format!("/chat/{conversation}/export/md"),
    ] {
        let req = Request::get(&uri)
            .header("host", "127.0.0.1:3000")
            .header("cookie", &bob);
        let res = chat.app.send(req.body(Body::empty()).unwrap()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
    }
    let html = page(&chat.app, &format!("/chat/{conversation}"), Some(&bob)).await;
    assert!(html.contains("Conversation not found") && !html.contains("private"));
    // Nothing changed for its owner.
    let (status, view) = chat
        .call(GetConversation::PATH, &format!("id={conversation}"), &ada)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["messages"].as_array().unwrap().len(), 2);
    // Anonymous: 401 for scripts, login redirect for pages.
    let (status, _) = chat
        .call(GetConversation::PATH, &format!("id={conversation}"), "sessionid=nope")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let req = Request::get("/chat")
        .header("host", "127.0.0.1:3000")
        .header("accept", "text/html");
    let res = chat.app.send(req.body(Body::empty()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(header(&res, "location"), "/login?next=/chat");
}

#[tokio::test]
async fn bad_input_gets_specific_errors() {
    let chat = Chat::new(&[("MAX_MESSAGE_CHARS", "100"), ("RATE_LIMIT_MESSAGES_PER_MINUTE", "3")]).await;
    let cookie = chat.user("ada").await;
    let (status, body) = chat.send(&cookie, None, "   ").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.to_string().contains("Write a message first."), "{body}");
    let (status, body) = chat.send(&cookie, None, &"x".repeat(101)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.to_string().contains("at most 100 characters (this one has 101)"),
        "{body}"
    );
    let (status, _) = chat.send(&cookie, Some(999_999), "hi").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, sent) = chat.send(&cookie, None, "hi").await;
    let conversation = id(&sent, "conversation_id");
    chat.settled(id(&sent, "assistant_message_id")).await;
    let long_title = "t".repeat(256);
    let tags = (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>().join(",");
    for (body, expected) in [
        (
            format!("id={conversation}&title={long_title}"),
            "at most 255 characters",
        ),
        (format!("id={conversation}&title=+"), "may not be blank"),
        (format!("id={conversation}&tags={tags}"), "at most 20 tags"),
        (
            format!("id={conversation}&tags={}", "x".repeat(51)),
            "A tag can have at most 50",
        ),
        (format!("id={conversation}&model=gpt-17"), "Unknown model"),
    ] {
        let (status, answer) = chat.call(UpdateConversation::PATH, &body, &cookie).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(answer.to_string().contains(expected), "{answer}");
    }
    let (status, _) = chat.call(GetConversation::PATH, "id=abc", &cookie).await;
    assert!(status.is_client_error(), "{status}");

    // The per-minute limit: 1 sent above, 2 more pass, the next is refused with a wait.
    for i in 0..2 {
        let (_, sent) = chat.send(&cookie, Some(conversation), &format!("m{i}")).await;
        chat.settled(id(&sent, "assistant_message_id")).await;
    }
    let (status, body) = chat.send(&cookie, Some(conversation), "one too many").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let wait = body["Throttled"].as_i64().unwrap_or_else(|| panic!("{body}"));
    assert!((1..=60).contains(&wait), "{wait}");
}

#[tokio::test]
async fn without_javascript_a_send_shows_the_whole_reply() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let res = chat
        .app
        .send(form_post(
            SendMessage::PATH,
            "/chat",
            "content=Hello+there",
            Some(&cookie),
            ORIGIN,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = header(&res, "location").to_string();
    assert!(location.starts_with("/chat/"), "{location}");
    let html = page(&chat.app, &location, Some(&cookie)).await;
    assert!(html.contains("Fake reply to: Hello there"), "{html}");
    assert!(html.contains("data-status=\"delivered\""));
}

#[tokio::test]
async fn the_event_stream_replays_the_text_so_far_then_live_tokens() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let (_, sent) = chat.send(&cookie, None, "[fake:tps=50] [fake:tokens=40] go").await;
    let conversation = id(&sent, "conversation_id");
    let reply = id(&sent, "assistant_message_id");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let req = Request::get(format!("/chat/{conversation}/messages/{reply}/events"))
        .header("host", "127.0.0.1:3000")
        .header("cookie", &cookie);
    let res = chat.app.send(req.body(Body::empty()).unwrap()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(header(&res, "content-type").starts_with("text/event-stream"));
    let body = text(res).await;
    let mut rebuilt = String::new();
    let mut done = None;
    for block in body.split("\n\n") {
        let event = block.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("");
        let data = block.lines().find_map(|l| l.strip_prefix("data: ")).unwrap_or("");
        match event {
            "snapshot" => {
                rebuilt = serde_json::from_str::<Value>(data).unwrap()["content"]
                    .as_str()
                    .unwrap()
                    .into()
            }
            "delta" => rebuilt.push_str(serde_json::from_str::<Value>(data).unwrap()["text"].as_str().unwrap()),
            "done" => done = Some(serde_json::from_str::<Value>(data).unwrap()),
            _ => {}
        }
    }
    let done = done.expect("a done event");
    assert_eq!(done["status"], "delivered");
    assert_eq!(rebuilt, done["content"].as_str().unwrap());
    assert_eq!(rebuilt.split(' ').count(), 40);
}

#[tokio::test]
async fn markup_in_messages_is_inert_on_the_page() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let (_, sent) = chat
        .send(
            &cookie,
            None,
            "<img src=x onerror=alert(1)> [click](javascript:alert(2)) <script>alert(3)</script> </textarea><form action=https://evil.example>",
        )
        .await;
    let conversation = id(&sent, "conversation_id");
    chat.settled(id(&sent, "assistant_message_id")).await;
    let html = page(&chat.app, &format!("/chat/{conversation}"), Some(&cookie)).await;
    assert!(!html.contains("<img src=\"x\""), "no image element");
    // The text may appear escaped (the edit box, the page data), never as markup: no tag carries a handler.
    let tags_with_handlers: Vec<&str> = html
        .split('<')
        .skip(1)
        .map(|rest| rest.split('>').next().unwrap_or_default())
        .filter(|tag| tag.starts_with(|c: char| c.is_ascii_alphabetic()))
        // Outside quoted attribute values (where the text is escaped and inert).
        .filter(|tag| tag.split('"').step_by(2).any(|outside| outside.contains("onerror")))
        .collect();
    assert!(tags_with_handlers.is_empty(), "{tags_with_handlers:?}");
    assert!(!html.contains("href=\"javascript:"), "no javascript: link");
    assert!(!html.contains("<script>alert(3)"), "no script element");
    assert!(
        !html.contains("<form action=https://evil"),
        "nothing escapes a text box or the title"
    );
}

#[tokio::test]
async fn replies_of_a_dead_process_are_marked_interrupted() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let (_, sent) = chat.send(&cookie, None, "hi").await;
    let conversation = id(&sent, "conversation_id");
    chat.settled(id(&sent, "assistant_message_id")).await;
    let pool = &chat.app.pool().pool;
    // A reply left half-written by a process that died 20 s ago.
    let old = thicode::core::db::now_millis() - 20_000;
    let orphan: i64 = sqlx::query_scalar(
        "INSERT INTO messages (conversation_id, role, content, status, created_at, updated_at) \
         VALUES ($1, 'assistant', 'half a rep', 'streaming', $2, $2) RETURNING id",
    )
    .bind(conversation)
    .bind(old)
    .fetch_one(pool)
    .await
    .unwrap();
    sqlx::query("UPDATE conversations SET generating_id = $1, generating_beat_at = $2 WHERE id = $3")
        .bind(orphan)
        .bind(old)
        .bind(conversation)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(store::recover_interrupted(pool).await.unwrap(), 1);
    let m = chat.message(orphan).await;
    assert_eq!((m.status.as_str(), m.content.as_str()), ("interrupted", "half a rep"));
    let (status, _) = chat.send(&cookie, Some(conversation), "continue").await;
    assert_eq!(status, StatusCode::OK, "the lock was freed");
    let _ = json;
}

#[tokio::test]
async fn the_settings_offer_the_providers_chat_models() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let html = page(&chat.app, "/settings", Some(&cookie)).await;
    assert!(html.contains("<option value=\"mistral-medium-latest\""), "{html}");
    assert!(!html.contains("mistral-embed"), "not a chat model");
    assert!(!html.contains("open-mistral-nemo"), "only in the fallback list");
    let form = |model: &str| {
        format!("email=ada%40example.com&first_name=&last_name=&bio=&ai_model={model}&display_mode=dark&language=en")
    };
    let (status, _) = chat
        .call(
            thicode::accounts::server_fns::UpdateProfile::PATH,
            &form("codestral-latest"),
            &cookie,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = chat
        .call(
            thicode::accounts::server_fns::UpdateProfile::PATH,
            &form("open-mistral-nemo"),
            &cookie,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // New conversations use the preferred model.
    let (_, sent) = chat.send(&cookie, None, "hi").await;
    let reply = chat.settled(id(&sent, "assistant_message_id")).await;
    let meta: Value = serde_json::from_str(&reply.metadata).unwrap();
    assert_eq!(meta["model"], "codestral-latest");
}

#[tokio::test]
async fn the_data_export_holds_every_conversation_and_deleting_the_account_removes_them() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let (_, sent) = chat.send(&cookie, None, "remember this").await;
    let conversation = id(&sent, "conversation_id");
    chat.settled(id(&sent, "assistant_message_id")).await;
    chat.call(
        UpdateConversation::PATH,
        &format!("id={conversation}&archived=true"),
        &cookie,
    )
    .await;
    let req = Request::get("/settings/export")
        .header("host", "127.0.0.1:3000")
        .header("cookie", &cookie);
    let export = json(chat.app.send(req.body(Body::empty()).unwrap()).await).await;
    let conversations = export["conversations"].as_array().unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["status"], "archived");
    assert_eq!(conversations[0]["messages"][0]["content"], "remember this");
    assert_eq!(
        conversations[0]["messages"][1]["content"],
        "Fake reply to: remember this"
    );

    let (status, _) = chat
        .call(
            thicode::accounts::server_fns::DeleteAccount::PATH,
            "password=Tr4vel-Lisbon-Blue",
            &cookie,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "conversations and messages go with the account");
}

#[tokio::test]
async fn without_a_key_the_demo_provider_answers_and_the_page_says_so() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", PASSWORD).await;
    let cookie = crate::common::logged_in(&app, "ada").await;
    let res = app
        .send(form_post(
            SendMessage::PATH,
            "/chat",
            "content=Is+anyone+there%3F",
            Some(&cookie),
            ORIGIN,
        ))
        .await;
    let location = header(&res, "location").to_string();
    let html = page(&app, &location, Some(&cookie)).await;
    assert!(html.contains("data-testid=\"demo-banner\""), "{html}");
    assert!(html.contains("no AI model is configured"), "{html}");
    assert!(html.contains("Is anyone there?"));
}

#[tokio::test]
async fn search_finds_conversations_by_title_and_message_text_of_the_user_only() {
    let chat = Chat::new(&[]).await;
    let ada = chat.user("ada").await;
    let bob = chat.user("bob").await;
    for (cookie, text) in [
        (&ada, "Lifetimes in Rust"),
        (&ada, "A soup recipe"),
        (&bob, "Rust for bob"),
    ] {
        let (_, sent) = chat.send(cookie, None, text).await;
        chat.settled(id(&sent, "assistant_message_id")).await;
    }
    let titles = |html: &str| -> Vec<String> {
        html.split("data-testid=\"conversation-link\">")
            .skip(1)
            .map(|rest| rest.split("</a>").next().unwrap().to_string())
            // The model renames conversations ("Fake reply to: User: …"); name them by their first message.
            .map(|title| {
                ["Lifetimes in Rust", "A soup recipe", "Rust for bob"]
                    .into_iter()
                    .find(|first| title.contains(first))
                    .unwrap_or_else(|| panic!("{title}"))
                    .to_string()
            })
            .collect()
    };
    // "recip" is a prefix of a word in the first message; "reply" is only in the replies; "rust" in a title.
    for (query, expected) in [
        ("recip", vec!["A soup recipe"]),
        ("rust", vec!["Lifetimes in Rust"]),
        ("fake+reply", vec!["A soup recipe", "Lifetimes in Rust"]),
        ("nothing-like-this", vec![]),
        ("LIFETIMES+rus", vec!["Lifetimes in Rust"]),
        ("%22+OR+*+%25", vec![]),
    ] {
        let html = page(&chat.app, &format!("/chat?q={query}"), Some(&ada)).await;
        assert!(html.contains("data-testid=\"search-results\""), "{query}");
        let mut found = titles(&html);
        found.sort();
        assert_eq!(found, expected, "{query}");
    }
    let (status, _) = chat
        .call(
            thicode::chat::server_fns::GetChatContext::PATH,
            &format!("archived=false&offset=0&q={}", "x".repeat(201)),
            &ada,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_model_picked_on_the_new_chat_screen_is_the_conversations_model() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let (status, sent) = chat
        .call(SendMessage::PATH, "content=hello&model=codestral-latest", &cookie)
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let reply = chat.settled(id(&sent, "assistant_message_id")).await;
    let meta: Value = serde_json::from_str(&reply.metadata).unwrap();
    assert_eq!(meta["model"], "codestral-latest");
    let conversation = id(&sent, "conversation_id");
    let ada = thicode::accounts::users::by_login(&chat.app.pool().pool, "ada")
        .await
        .unwrap()
        .unwrap();
    let c = store::conversation(&chat.app.pool().pool, ada.id, conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.model, "codestral-latest", "the next replies use it too");
    // "default" (the picker's first choice) is the user's preferred model; an unknown one is a field error.
    let (_, sent) = chat.call(SendMessage::PATH, "content=hi&model=default", &cookie).await;
    let reply = chat.settled(id(&sent, "assistant_message_id")).await;
    let meta: Value = serde_json::from_str(&reply.metadata).unwrap();
    assert_eq!(meta["model"], "mistral-small-latest");
    let (status, body) = chat
        .call(SendMessage::PATH, "content=hi&model=no-such-model", &cookie)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["Invalid"]["fields"]["model"][0]
            .as_str()
            .unwrap()
            .contains("no-such-model"),
        "{body}"
    );
}
