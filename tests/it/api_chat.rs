//! The chat REST API (issue #5) as a browser client of the original uses it: CSRF token, session login, then unsafe
//! calls carrying `X-CSRFToken`; plus authorization, conflicts and bad input.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::chat_flow::Chat;
use crate::common::{header, json as body_json};

pub(crate) struct Client<'a> {
    chat: &'a Chat,
    pub(crate) cookies: String,
    pub(crate) csrf: String,
}

impl<'a> Client<'a> {
    /// GET /api/csrf/, then POST login with the token, as the original React client did.
    pub(crate) async fn log_in(chat: &'a Chat, username: &str) -> Self {
        crate::common::with_user(&chat.app, username, "Tr4vel-Lisbon-Blue").await;
        let res = chat
            .app
            .send(
                Request::get("/api/csrf/")
                    .header("host", "127.0.0.1:3000")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        let csrf = body_json(res).await["csrfToken"].as_str().unwrap().to_string();
        let mut client = Self {
            chat,
            cookies: format!("csrftoken={csrf}"),
            csrf,
        };
        let (status, _, cookie) = client
            .raw(
                "POST",
                "/api/accounts/api/login/",
                Some(json!({"username": username, "password": "Tr4vel-Lisbon-Blue"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        client.cookies = format!("{}; csrftoken={}", cookie.unwrap(), client.csrf);
        client
    }

    async fn raw(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value, Option<String>) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1:3000")
            .header("cookie", &self.cookies)
            .header("x-csrftoken", &self.csrf)
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let res = self.chat.app.send(req).await;
        let status = res.status();
        let cookie = crate::common::session_cookie(&res);
        let text = crate::common::text(res).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null), cookie)
    }

    pub(crate) async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (status, value, _) = self.raw(method, path, body).await;
        (status, value)
    }
}

const BASE: &str = "/api/chat/conversations";

pub(crate) async fn poll_completed(client: &Client<'_>, conversation: i64, message: i64) -> Value {
    for _ in 0..200 {
        let (status, body) = client
            .call(
                "GET",
                &format!("{BASE}/{conversation}/messages/{message}/status/"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["status"] == "completed" || body["status"] == "error" {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("never completed");
}

#[tokio::test]
async fn a_client_of_the_original_runs_a_whole_conversation() {
    let chat = Chat::new(&[]).await;
    let client = Client::log_in(&chat, "ada").await;
    let (status, created) = client
        .call(
            "POST",
            &format!("{BASE}/"),
            Some(json!({"initial_message": "Hello API", "title": "Mine"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["status"], "active");
    assert_eq!(created["title"], "Mine");
    assert_eq!(created["messages"][0]["content"], "Hello API");
    let first_user = created["messages"][0]["id"].as_i64().unwrap();
    let done = poll_completed(&client, id, first_user).await;
    assert_eq!(done["ai_message"]["content"], "Fake reply to: Hello API");

    let (status, sent) = client
        .call(
            "POST",
            &format!("{BASE}/{id}/messages/"),
            Some(json!({"content": "More"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["status"], "pending");
    let (status, busy) = client
        .call(
            "POST",
            &format!("{BASE}/{id}/messages/"),
            Some(json!({"content": "Again"})),
        )
        .await;
    assert!(
        status == StatusCode::CONFLICT || status == StatusCode::CREATED,
        "{busy}"
    );
    let user_message = sent["user_message"]["id"].as_i64().unwrap();
    let done = poll_completed(&client, id, user_message).await;
    assert_eq!(done["status"], "completed");
    tokio::time::sleep(Duration::from_millis(100)).await;

    let (_, list) = client.call("GET", &format!("{BASE}/"), None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "a bare array without ?page");
    assert_eq!(
        list[0]["title"], "Mine",
        "a given title is never replaced by the automatic one"
    );
    let (_, paged) = client.call("GET", &format!("{BASE}/?page=1&page_size=10"), None).await;
    assert_eq!(paged["count"], 1);
    assert!(paged["next"].is_null());

    let (status, archived) = client.call("POST", &format!("{BASE}/{id}/archive/"), None).await;
    assert_eq!(
        (status, archived["status"].as_str()),
        (StatusCode::OK, Some("archived"))
    );
    let (_, active) = client.call("GET", &format!("{BASE}/"), None).await;
    assert_eq!(active, json!([]));
    let (status, fetched) = client.call("GET", &format!("{BASE}/{id}/"), None).await;
    assert_eq!(
        (status, fetched["status"].as_str()),
        (StatusCode::OK, Some("archived")),
        "archived is still readable"
    );
    let (status, restored) = client.call("POST", &format!("{BASE}/{id}/restore/"), None).await;
    assert_eq!((status, restored["status"].as_str()), (StatusCode::OK, Some("active")));
    for spelling in ["update_metadata", "update-metadata"] {
        let (status, updated) = client
            .call(
                "POST",
                &format!("{BASE}/{id}/{spelling}/"),
                Some(json!({"category": "work", "tags": ["a"], "is_pinned": true})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(
            (updated["category"].as_str(), updated["is_pinned"].as_bool()),
            (Some("work"), Some(true))
        );
    }
    let (status, _) = client.call("DELETE", &format!("{BASE}/{id}/"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, gone) = client.call("GET", &format!("{BASE}/{id}/"), None).await;
    assert_eq!((status, gone), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})));
}

#[tokio::test]
async fn other_users_anonymous_callers_and_bad_input_get_clean_errors() {
    let chat = Chat::new(&[]).await;
    let ada = Client::log_in(&chat, "ada").await;
    let bob = Client::log_in(&chat, "bob").await;
    let (_, created) = ada
        .call("POST", &format!("{BASE}/"), Some(json!({"initial_message": "secret"})))
        .await;
    let id = created["id"].as_i64().unwrap();
    let message = created["messages"][0]["id"].as_i64().unwrap();
    poll_completed(&ada, id, message).await;
    for (method, path, body) in [
        ("GET", format!("{BASE}/{id}/"), None),
        ("PATCH", format!("{BASE}/{id}/"), Some(json!({"title": "x"}))),
        ("DELETE", format!("{BASE}/{id}/"), None),
        ("GET", format!("{BASE}/{id}/messages/"), None),
        ("POST", format!("{BASE}/{id}/messages/"), Some(json!({"content": "hi"}))),
        ("GET", format!("{BASE}/{id}/messages/{message}/status/"), None),
        ("POST", format!("{BASE}/{id}/archive/"), None),
    ] {
        let (status, body) = bob.call(method, &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
    }
    let req = Request::get(format!("{BASE}/"))
        .header("host", "127.0.0.1:3000")
        .body(Body::empty())
        .unwrap();
    let res = chat.app.send(req).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(!header(&res, "www-authenticate").is_empty());

    for (method, path, body, expected) in [
        ("POST", format!("{BASE}/"), json!({}), StatusCode::BAD_REQUEST),
        (
            "POST",
            format!("{BASE}/"),
            json!({"initial_message": "   "}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PATCH",
            format!("{BASE}/{id}/"),
            json!({"title": "t".repeat(256)}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PATCH",
            format!("{BASE}/{id}/"),
            // A text is read as comma-separated tags, as the original's JSON field took it (issue #11).
            json!({"tags": {"not": "a list"}}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST",
            format!("{BASE}/{id}/messages/"),
            json!({"content": 5}),
            StatusCode::BAD_REQUEST,
        ),
        ("GET", format!("{BASE}/abc/"), json!(null), StatusCode::NOT_FOUND),
        (
            "GET",
            format!("{BASE}/?ordering=nope"),
            json!(null),
            StatusCode::BAD_REQUEST,
        ),
        ("GET", format!("{BASE}/?page=0"), json!(null), StatusCode::BAD_REQUEST),
    ] {
        let body = (!body.is_null()).then_some(body);
        let (status, answer) = ada.call(method, &path, body).await;
        assert_eq!(status, expected, "{method} {path}: {answer}");
        assert!(answer.is_object(), "a JSON error body: {answer}");
    }
    let (_, missing) = ada.call("POST", &format!("{BASE}/"), Some(json!({}))).await;
    assert_eq!(missing, json!({"error": "initial_message is required"}));
}

#[tokio::test]
async fn ask_mistral_answers_whole_and_maps_provider_failures() {
    let chat = Chat::new(&[]).await;
    let client = Client::log_in(&chat, "ada").await;
    let path = "/api/chat/ask-mistral/";
    let (status, body) = client.call("POST", path, Some(json!({"message": "Hi there"}))).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"response": "Fake reply to: Hi there"}))
    );
    let (status, body) = client.call("POST", path, Some(json!({}))).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"error": "message is required"}))
    );
    let (status, body) = client.call("POST", path, Some(json!({"message": "[fake:401]"}))).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body["error"].as_str().unwrap().contains("API key"), "{body}");
    let (status, _) = client.call("POST", path, Some(json!({"message": "[fake:503]"}))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let req = Request::post(path)
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/json");
    let res = chat
        .app
        .send(req.body(Body::from(r#"{"message": "x"}"#)).unwrap())
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// The events of a Server-Sent Events body: (event name, JSON data).
fn sse_events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    name = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            (!name.is_empty()).then(|| (name, serde_json::from_str(&data).unwrap_or(Value::Null)))
        })
        .collect()
}

impl Client<'_> {
    /// A request whose whole (streamed) body is read as text.
    async fn stream(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        accept: &str,
    ) -> (StatusCode, String, String) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1:3000")
            .header("cookie", &self.cookies)
            .header("x-csrftoken", &self.csrf)
            .header("accept", accept)
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        let res = self.chat.app.send(req).await;
        let status = res.status();
        let kind = header(&res, "content-type").to_string();
        (status, kind, crate::common::text(res).await)
    }
}

#[tokio::test]
async fn api_clients_can_stream_a_reply_and_reattach_to_it() {
    let chat = Chat::new(&[]).await;
    let client = Client::log_in(&chat, "ada").await;
    let (_, created) = client
        .call("POST", &format!("{BASE}/"), Some(json!({"initial_message": "Hi"})))
        .await;
    let id = created["id"].as_i64().unwrap();
    poll_completed(&client, id, created["messages"][0]["id"].as_i64().unwrap()).await;

    // POST with Accept: text/event-stream: the user message, deltas, then the saved reply with its usage.
    let (status, kind, text) = client
        .stream(
            "POST",
            &format!("{BASE}/{id}/messages/"),
            Some(json!({"content": "Stream please", "content_type": "text"})),
            "text/event-stream",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.starts_with("text/event-stream"), "{kind}");
    let events = sse_events(&text);
    assert_eq!(events[0].0, "user_message", "{text}");
    assert_eq!(events[0].1["content"], "Stream please");
    assert_eq!(events[0].1["content_type"], "text/plain");
    let (last, done) = events.last().unwrap();
    assert_eq!(last, "done");
    let streamed: String = events
        .iter()
        .filter_map(|(name, data)| match name.as_str() {
            "snapshot" => data["content"].as_str(),
            "delta" => data["text"].as_str(),
            _ => None,
        })
        .collect();
    assert!(events.iter().any(|(n, _)| n == "delta"), "{text}");
    assert_eq!(streamed, "Fake reply to: Stream please");
    assert_eq!(done["message"]["content"], "Fake reply to: Stream please");
    assert_eq!(done["message"]["status"], "delivered");
    assert!(
        done["message"]["metadata"]["completion_tokens"].as_i64().unwrap() > 0,
        "{done}"
    );

    // ?stream=true does the same; a slow reply sent without streaming can be re-attached to midway.
    let (status, _, text) = client
        .stream(
            "POST",
            &format!("{BASE}/{id}/messages/?stream=true"),
            Some(json!({"content": "Q"})),
            "*/*",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sse_events(&text).last().unwrap().0, "done");
    let (status, sent) = client
        .call(
            "POST",
            &format!("{BASE}/{id}/messages/"),
            Some(json!({"content": "[fake:tps=40] [fake:tokens=40] slow"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let reply = sent["assistant_message_id"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _, text) = client
        .stream(
            "GET",
            &format!("{BASE}/{id}/messages/{reply}/stream/"),
            None,
            "text/event-stream",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let events = sse_events(&text);
    assert_eq!(events[0].0, "snapshot", "{text}");
    assert!(
        !events[0].1["content"].as_str().unwrap().is_empty(),
        "text so far first"
    );
    assert!(events.iter().any(|(n, _)| n == "delta"), "then live deltas");
    let streamed: String = events
        .iter()
        .filter_map(|(name, data)| match name.as_str() {
            "snapshot" => data["content"].as_str(),
            "delta" => data["text"].as_str(),
            _ => None,
        })
        .collect();
    let (name, done) = events.last().unwrap();
    assert_eq!(name, "done");
    assert_eq!(done["message"]["content"].as_str().unwrap(), streamed);
    assert_eq!(streamed.split_whitespace().count(), 40);

    // Another user's reply, or nonsense ids: 404 in DRF's shape.
    let other = Client::log_in(&chat, "bob").await;
    let (status, body) = other
        .call("GET", &format!("{BASE}/{id}/messages/{reply}/stream/"), None)
        .await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})));
    let (status, _) = client
        .call("GET", &format!("{BASE}/{id}/messages/x/stream/"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn messages_take_a_content_type_a_model_and_a_parent() {
    let chat = Chat::new(&[]).await;
    let client = Client::log_in(&chat, "ada").await;
    let (_, created) = client
        .call("POST", &format!("{BASE}/"), Some(json!({"initial_message": "First"})))
        .await;
    let id = created["id"].as_i64().unwrap();
    let first = created["messages"][0]["id"].as_i64().unwrap();
    let done = poll_completed(&client, id, first).await;
    let first_reply = done["ai_message"]["id"].as_i64().unwrap();
    let (_, sent) = client
        .call(
            "POST",
            &format!("{BASE}/{id}/messages/"),
            Some(json!({"content": "Second"})),
        )
        .await;
    poll_completed(&client, id, sent["user_message"]["id"].as_i64().unwrap()).await;

    let path = format!("{BASE}/{id}/messages/");
    let post = |body: Value| client.call("POST", &path, Some(body));
    // Any content type of at most 50 characters is accepted, as the original did (issue #11); longer ones are not.
    let (status, body) = post(json!({"content": "x", "content_type": "v".repeat(51)})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["content_type"][0].as_str().unwrap().contains("50 characters"));
    let (status, body) = post(json!({"content": "x", "model": "no-such-model"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["model"].is_array());
    let (status, body) = post(json!({"content": "x", "parent_id": 999_999})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["parent_id"].is_array());
    let (status, _) = post(json!({"content": "x", "parent_id": "abc"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Branch from the first reply with another model: the new message's parent is that reply; the provider was
    // asked with that model and without the second exchange.
    let model = "mistral-large-latest".to_string();
    let (status, sent) =
        post(json!({"content": "Alternative", "parent_id": first_reply, "model": model, "content_type": "code"})).await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["user_message"]["parent"], first_reply);
    assert_eq!(sent["user_message"]["content_type"], "text/x-code");
    let done = poll_completed(&client, id, sent["user_message"]["id"].as_i64().unwrap()).await;
    assert_eq!(done["ai_message"]["metadata"]["model"], model.as_str());
    let requests = chat.fake.requests();
    let last = &requests.last().unwrap().body;
    assert_eq!(last["model"], model.as_str());
    let contents: Vec<&str> = last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect();
    assert_eq!(contents, ["First", "Fake reply to: First", "Alternative"]);
}

#[tokio::test]
async fn the_list_writes_conversations_exactly_as_the_detail_route() {
    let chat = Chat::new(&[]).await;
    let client = Client::log_in(&chat, "ada").await;
    let (_, created) = client
        .call(
            "POST",
            &format!("{BASE}/"),
            Some(json!({"initial_message": "Compare \"me\" <b>ünïcode</b> ✓"})),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    poll_completed(&client, id, created["messages"][0]["id"].as_i64().unwrap()).await;
    let (_, sent) = client
        .call(
            "POST",
            &format!("{BASE}/{id}/messages/"),
            Some(json!({"content": "line\nbreak\ttab", "content_type": "code"})),
        )
        .await;
    poll_completed(&client, id, sent["user_message"]["id"].as_i64().unwrap()).await;
    // Times on a whole second and just after it; odd stored JSON that must still come out as objects.
    let pool = &chat.app.pool().pool;
    let first = created["messages"][0]["id"].as_i64().unwrap();
    sqlx::query("UPDATE messages SET created_at = 1764000000000, additional_data = '{\"k\": [1, 2]}' WHERE id = $1")
        .bind(first)
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE messages SET created_at = 1764000000007 WHERE id = $1")
        .bind(first + 1)
        .execute(pool)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_, list) = client.call("GET", &format!("{BASE}/"), None).await;
    let (_, detail) = client.call("GET", &format!("{BASE}/{id}/"), None).await;
    assert_eq!(
        list[0], detail,
        "list (written by the database) and detail (built in Rust) agree"
    );
    assert_eq!(detail["messages"][0]["created_at"], "2025-11-24T16:00:00Z");
    assert_eq!(detail["messages"][1]["created_at"], "2025-11-24T16:00:00.007Z");
    assert_eq!(detail["messages"][0]["additional_data"], json!({"k": [1, 2]}));
    assert_eq!(detail["messages"].as_array().unwrap().len(), 4);
    let (_, page) = client.call("GET", &format!("{BASE}/?page=1"), None).await;
    assert_eq!(page["results"][0], detail);
}

#[tokio::test]
async fn the_cached_list_follows_every_change() {
    let chat = Chat::new(&[("RATE_LIMIT_MESSAGES_PER_MINUTE", "0")]).await;
    let client = Client::log_in(&chat, "ada").await;
    let state = &chat.app.state;
    let user: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'ada'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let list_path = format!("{BASE}/");
    let list = || client.call("GET", &list_path, None);
    let (_, created) = client
        .call("POST", &format!("{BASE}/"), Some(json!({"initial_message": "Hello"})))
        .await;
    let id = created["id"].as_i64().unwrap();
    poll_completed(&client, id, created["messages"][0]["id"].as_i64().unwrap()).await;
    tokio::time::sleep(Duration::from_millis(200)).await; // the automatic title lands after the reply
    let (_, first) = list().await;
    let version = thicode::chat::store::list_version(&state.db.pool, user).await.unwrap();
    assert!(
        state.list_cache.get(user, "", version).is_some(),
        "an unchanged list is kept"
    );
    assert_eq!(list().await.1, first);

    // Each kind of change shows at once.
    client
        .call("PATCH", &format!("{BASE}/{id}/"), Some(json!({"title": "Renamed"})))
        .await;
    assert_eq!(list().await.1[0]["title"], "Renamed");
    client
        .call(
            "POST",
            &format!("{BASE}/{id}/update_metadata/"),
            Some(json!({"is_pinned": true, "tags": ["x"]})),
        )
        .await;
    let (_, now) = list().await;
    assert_eq!(
        (now[0]["is_pinned"].as_bool(), now[0]["tags"].clone()),
        (Some(true), json!(["x"]))
    );
    let (_, sent) = client
        .call(
            "POST",
            &format!("{BASE}/{id}/messages/"),
            Some(json!({"content": "[fake:tps=30] [fake:tokens=30] slow"})),
        )
        .await;
    // While the reply streams, the list is read afresh and shows the text growing.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let early = list().await.1[0]["messages"][3]["content"].as_str().unwrap().len();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let later = list().await.1[0]["messages"][3]["content"].as_str().unwrap().len();
    assert!(later > early && early > 0, "{early} then {later}");
    poll_completed(&client, id, sent["user_message"]["id"].as_i64().unwrap()).await;
    let (_, done) = list().await;
    let (_, detail) = client.call("GET", &format!("{BASE}/{id}/"), None).await;
    assert_eq!(done[0], detail, "the finished reply, not a frozen partial one");
    assert_eq!(done[0]["messages"][3]["status"], "delivered");
    // A write from elsewhere (another instance, the CLI) is seen too: the version lives in the database.
    sqlx::query("UPDATE conversations SET summary = 'from elsewhere' WHERE id = $1")
        .bind(id)
        .execute(&state.db.pool)
        .await
        .unwrap();
    assert_eq!(list().await.1[0]["summary"], "from elsewhere");
    sqlx::query("UPDATE messages SET content = 'edited elsewhere' WHERE conversation_id = $1 AND role = 'user'")
        .bind(id)
        .execute(&state.db.pool)
        .await
        .unwrap();
    assert_eq!(list().await.1[0]["messages"][0]["content"], "edited elsewhere");
    client.call("POST", &format!("{BASE}/{id}/archive/"), None).await;
    assert_eq!(list().await.1, json!([]));
    client.call("POST", &format!("{BASE}/{id}/restore/"), None).await;
    assert_eq!(list().await.1.as_array().unwrap().len(), 1);
    client.call("DELETE", &format!("{BASE}/{id}/"), None).await;
    assert_eq!(list().await.1, json!([]));
    // Deleting the user with everything they own still works with the version rows in place.
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(user)
        .execute(&state.db.pool)
        .await
        .unwrap();
}

/// The list is written by the database as one JSON array (`store::api_list`); every conversation in it must be
/// exactly what the conversation's own route answers (read another way: the row, then its messages), in the order,
/// page and filter asked for — with text that needs escaping, a conversation without messages, null dates, tags,
/// categories and an archived one.
#[tokio::test]
async fn the_list_written_by_the_database_is_each_conversation_as_its_own_route_answers() {
    let chat = Chat::new(&[]).await;
    let client = Client::log_in(&chat, "ada").await;
    let pool = &chat.app.state.db.pool;
    let user: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'ada'")
        .fetch_one(pool)
        .await
        .unwrap();
    let base = 1_780_000_000_000_i64;
    let tricky = "quote \" backslash \\ tab\t newline\n é 漢字 🦀 </script> \u{1} end";
    // (title, category, status, last message offset, tags, message count); dates chosen so every ordering differs.
    type Seed<'a> = (&'a str, &'a str, &'a str, Option<i64>, &'a str, i64);
    let rows: [Seed; 6] = [
        ("Alpha", "work", "active", Some(50), r#"["a","b"]"#, 3),
        (tricky, "", "active", None, "[]", 0),
        ("Gamma", "work", "active", Some(10), r#"["é \"x\""]"#, 2),
        ("Delta", "home", "active", Some(70), "[]", 1),
        ("Epsilon", "", "archived", Some(5), "[]", 2),
        ("Zeta", "", "active", Some(30), "[]", 4),
    ];
    for (i, (title, category, status, last, tags, count)) in rows.iter().enumerate() {
        let i = i as i64;
        let created = base + (i * 7 % 5) * 1000 + i;
        let updated = base + 100_000 - i * 3_001;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO conversations (user_id, title, category, status, tags, created_at, updated_at, \
             message_count, last_message_at, archived_at, additional_data, model, system_prompt) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(user)
        .bind(*title)
        .bind(*category)
        .bind(*status)
        .bind(*tags)
        .bind(created)
        .bind(updated)
        .bind(*count)
        .bind(last.map(|l| base + l * 1000 + 123))
        .bind((*status == "archived").then_some(base + 999))
        .bind(if i == 0 {
            r#"{"pinned by": "ada", "n": [1, 2.5]}"#
        } else {
            "{}"
        })
        .bind(if i == 2 { "mistral-large-latest" } else { "" })
        .bind(if i == 0 { tricky } else { "" })
        .fetch_one(pool)
        .await
        .unwrap();
        let mut parent: Option<i64> = None;
        for m in 0..*count {
            let role = if m % 2 == 0 { "user" } else { "assistant" };
            let at = created + m * 10;
            parent = Some(
                sqlx::query_scalar(
                    "INSERT INTO messages (conversation_id, parent_id, role, content, status, created_at, \
                     updated_at, delivered_at, metadata, is_edited) \
                     VALUES ($1, $2, $3, $4, 'delivered', $5, $5, $6, $7, $8) RETURNING id",
                )
                .bind(id)
                .bind(parent)
                .bind(role)
                .bind(format!("{m}. {tricky}"))
                .bind(at)
                .bind((m % 3 != 0).then_some(at + 1))
                .bind(if role == "assistant" {
                    r#"{"model": "mistral-small-latest", "t": 0.7}"#
                } else {
                    "{}"
                })
                .bind(i64::from(m == 1))
                .fetch_one(pool)
                .await
                .unwrap(),
            );
        }
    }

    // Every conversation as its own route answers it.
    let (_, all) = client.call("GET", &format!("{BASE}/?status=active"), None).await;
    let (_, archived) = client.call("GET", &format!("{BASE}/?status=archived"), None).await;
    let mut own = std::collections::HashMap::new();
    for c in all.as_array().unwrap().iter().chain(archived.as_array().unwrap()) {
        let id = c["id"].as_i64().unwrap();
        let (status, detail) = client.call("GET", &format!("{BASE}/{id}/"), None).await;
        assert_eq!(status, StatusCode::OK);
        own.insert(id, detail);
    }
    assert_eq!(own.len(), 6);
    assert_eq!(archived.as_array().unwrap().len(), 1);
    let tricky_one = own.values().find(|c| c["title"] == tricky).unwrap();
    assert_eq!(tricky_one["messages"], json!([]));
    assert!(tricky_one["last_message_at"].is_null());

    for ordering in [
        "updated_at",
        "-updated_at",
        "created_at",
        "-created_at",
        "last_message_at",
        "-last_message_at",
    ] {
        for (filter, expect_status, expect_category) in [
            ("", "active", None),
            ("&category=work", "active", Some("work")),
            ("&status=archived", "archived", None),
        ] {
            // The expected order, from the conversations' own answers.
            let key = ordering.trim_start_matches('-');
            let mut expected: Vec<&Value> = own
                .values()
                .filter(|c| c["status"] == expect_status && expect_category.is_none_or(|k| c["category"] == k))
                .collect();
            let sort_key = |c: &Value| -> (String, i64) {
                let at = match key {
                    "last_message_at" if c["last_message_at"].is_null() => c["created_at"].clone(),
                    _ => c[key].clone(),
                };
                // RFC 3339 with the fraction written out to milliseconds, so the text sorts as the time does.
                let at = at.as_str().unwrap().trim_end_matches('Z');
                let (seconds, fraction) = at.split_once('.').unwrap_or((at, ""));
                (format!("{seconds}.{fraction:0<3}"), c["id"].as_i64().unwrap())
            };
            expected.sort_by_key(|c| sort_key(c));
            if ordering.starts_with('-') {
                expected.reverse();
            }
            let (status, list) = client
                .call("GET", &format!("{BASE}/?ordering={ordering}{filter}"), None)
                .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(list, json!(expected), "ordering={ordering}{filter}");
            // Pages of two: the same conversations, page by page, with the count of all.
            for page in 1..=3 {
                let (_, paged) = client
                    .call(
                        "GET",
                        &format!("{BASE}/?ordering={ordering}{filter}&page={page}&page_size=2"),
                        None,
                    )
                    .await;
                let slice: Vec<&Value> = expected.iter().skip((page - 1) * 2).take(2).copied().collect();
                if slice.is_empty() && page > 1 {
                    continue;
                }
                assert_eq!(
                    paged["results"],
                    json!(slice),
                    "ordering={ordering}{filter} page {page}"
                );
                assert_eq!(paged["count"], expected.len());
            }
        }
    }
}
