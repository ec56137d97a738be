//! The OpenAI-compatible API under `/v1/` (issue #30), called as an OpenAI client does: a personal token as the
//! bearer key, OpenAI's field names, whole and streamed answers; against the strict fake Mistral, which refuses any
//! field Mistral refuses (so a translation that lets one through fails these tests). Also how a hostile page, a
//! token of the narrow scope and staff settings meet it.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::chat_flow::Chat;
use crate::common::{header, text};
use thicode::accounts::api_tokens::{self, Scope};

/// A personal token of `username` (made if needed) with `scope`.
async fn token(chat: &Chat, username: &str, scope: Scope) -> String {
    let pool = &chat.app.pool().pool;
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(pool)
        .await
        .unwrap();
    let id = match id {
        Some(id) => id,
        None => crate::common::with_user(&chat.app, username, "Tr4vel-Lisbon-Blue").await,
    };
    let user = thicode::accounts::users::by_id(pool, id).await.unwrap().unwrap();
    api_tokens::create(pool, &user, "sdk", None, scope).await.unwrap().key
}

async fn v1(chat: &Chat, method: &str, path: &str, key: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
    let (status, _, out) = v1_raw(chat, method, path, key, body, &[]).await;
    (status, serde_json::from_str(&out).unwrap_or(Value::Null))
}

async fn v1_raw(
    chat: &Chat,
    method: &str,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
    extra: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/json");
    if let Some(key) = key {
        req = req.header("authorization", format!("Bearer {key}"));
    }
    for (name, value) in extra {
        req = req.header(*name, *value);
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let res = chat.app.send(req).await;
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, text(res).await)
}

/// The data of each event of a Server-Sent Events body.
fn events(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(str::to_string)
        .collect()
}

fn error_of(out: &Value) -> (&str, Option<&str>, Option<&str>) {
    let e = &out["error"];
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{out}");
    (e["type"].as_str().unwrap(), e["code"].as_str(), e["param"].as_str())
}

#[tokio::test]
async fn only_a_personal_token_opens_the_api_and_a_v1_token_opens_nothing_else() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let narrow = token(&chat, "ada", Scope::V1).await;
    let wide = token(&chat, "ada", Scope::All).await;
    // No key; a session cookie alone (a browser's); saved Basic credentials; a wrong key; a JWT-looking key.
    let (status, out) = v1(&chat, "GET", "/v1/models", None, None).await;
    assert_eq!(
        (status, error_of(&out).1),
        (StatusCode::UNAUTHORIZED, Some("invalid_api_key"))
    );
    let (status, _, _) = v1_raw(&chat, "GET", "/v1/models", None, None, &[("cookie", &cookie)]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let basic = [("authorization", "Basic YWRhOnB3"), ("cookie", cookie.as_str())];
    let (status, _, _) = v1_raw(&chat, "GET", "/v1/models", None, None, &basic).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = v1(&chat, "GET", "/v1/models", Some("thc_nope"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A cross-site form post with the session cookie: refused for want of a key, and nothing reaches the provider.
    let form = Request::post("/v1/chat/completions")
        .header("host", "127.0.0.1:3000")
        .header("origin", "https://evil.example")
        .header("cookie", &cookie)
        .header("content-type", "text/plain")
        .body(Body::from(
            r#"{"model":"mistral-small-latest","messages":[{"role":"user","content":"hi"}]}"#,
        ))
        .unwrap();
    let res = chat.app.send(form).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        res.headers()
            .get("set-cookie")
            .is_none_or(|c| !c.to_str().unwrap().contains("id="))
    );
    assert!(chat.fake.requests().is_empty());
    // Both scopes list the models (OpenAI's shape plus capability flags).
    for key in [&narrow, &wide] {
        let (status, out) = v1(&chat, "GET", "/v1/models", Some(key), None).await;
        assert_eq!(status, StatusCode::OK, "{out}");
        assert_eq!(out["object"], "list");
        let small = out["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == "mistral-small-latest")
            .unwrap();
        assert_eq!(
            (&small["object"], &small["owned_by"], &small["vision"], &small["kind"]),
            (&json!("model"), &json!("thicode"), &json!(true), &json!("chat"))
        );
        assert!(small["created"].as_i64().unwrap() > 1_700_000_000);
    }
    let (status, out) = v1(&chat, "GET", "/v1/models/codestral-latest", Some(&narrow), None).await;
    assert_eq!((status, &out["vision"]), (StatusCode::OK, &json!(false)));
    // The narrow token cannot read the account through the REST API; the wide one can.
    let rest = |key: &str| {
        Request::get("/api/chat/conversations/")
            .header("host", "127.0.0.1:3000")
            .header("authorization", format!("Bearer {key}"))
            .body(Body::empty())
            .unwrap()
    };
    let res = chat.app.send(rest(&narrow)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(text(res).await.contains("/v1/"));
    assert_eq!(chat.app.send(rest(&wide)).await.status(), StatusCode::OK);
    // Unknown paths and wrong methods answer in OpenAI's shape, not with a web page.
    let (status, out) = v1(&chat, "GET", "/v1/assistants", Some(&narrow), None).await;
    assert_eq!((status, error_of(&out).1), (StatusCode::NOT_FOUND, Some("unknown_url")));
    let (status, out) = v1(&chat, "GET", "/v1/chat/completions", Some(&narrow), None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{out}");
    error_of(&out);
    // A browser page elsewhere may call it with a key (CORS without credentials).
    let preflight = Request::builder()
        .method("OPTIONS")
        .uri("/v1/chat/completions")
        .header("host", "127.0.0.1:3000")
        .header("origin", "https://tool.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type,x-stainless-os",
        )
        .body(Body::empty())
        .unwrap();
    let res = chat.app.send(preflight).await;
    assert_eq!(header(&res, "access-control-allow-origin"), "*");
    assert!(res.headers().get("access-control-allow-credentials").is_none());
}

#[tokio::test]
async fn completions_whole_and_streamed_reach_mistral_without_what_it_refuses() {
    let chat = Chat::new(&[]).await;
    let key = token(&chat, "ada", Scope::V1).await;
    let body = json!({
        "model": "mistral-small-latest",
        "messages": [
            {"role": "developer", "content": "Answer briefly."},
            {"role": "user", "name": "ada", "content": [{"type": "text", "text": "Hello there"}]},
        ],
        "max_completion_tokens": 64, "seed": 3, "temperature": 0.2, "stop": ["\n\n\n"], "store": false,
        "user": "someone", "logprobs": false, "n": 1,
        "response_format": {"type": "text"},
    });
    let (status, out) = v1(&chat, "POST", "/v1/chat/completions", Some(&key), Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["object"], "chat.completion");
    assert!(out["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(out["model"], "mistral-small-latest");
    assert_eq!(out["choices"][0]["message"]["role"], "assistant");
    assert_eq!(out["choices"][0]["finish_reason"], "stop");
    let content = out["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(!content.is_empty());
    let usage = &out["usage"];
    assert!(usage["completion_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
    // What went upstream: Mistral's names only.
    let sent = chat.fake.requests().pop().unwrap().body;
    assert_eq!(sent["max_tokens"], 64);
    assert_eq!(sent["random_seed"], 3);
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": "Answer briefly."})
    );
    assert_eq!(sent["messages"][1], json!({"role": "user", "content": "Hello there"}));
    for gone in [
        "max_completion_tokens",
        "seed",
        "store",
        "user",
        "logprobs",
        "n",
        "stream_options",
    ] {
        assert!(sent.get(gone).is_none(), "{gone} reached the provider: {sent}");
    }
    // Streamed, with the usage asked for.
    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    streamed["stream_options"] = json!({"include_usage": true});
    let (status, headers, out) = v1_raw(&chat, "POST", "/v1/chat/completions", Some(&key), Some(streamed), &[]).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let data = events(&out);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"), "{out}");
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk" && c["id"] == chunks[0]["id"])
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, content, "the same fake reply, streamed");
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert!(last["usage"]["total_tokens"].as_u64().unwrap() > 0);
    // Both calls are in the ledger, from the v1 API, with the provider's counts; nothing was stored as a chat.
    let pool = &chat.app.pool().pool;
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT status, source, completion_tokens FROM usage_events ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter().all(|(s, src, t)| s == "delivered" && src == "v1" && *t > 0),
        "{rows:?}"
    );
    let conversations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(conversations, 0);
}

#[tokio::test]
async fn a_tool_round_trip_and_an_image_work_through_the_translation() {
    let chat = Chat::new(&[]).await;
    let key = token(&chat, "ada", Scope::All).await;
    let tools = json!([{"type": "function", "function": {"name": "weather", "description": "Weather of a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}, "strict": true}}]);
    let ask = json!({"role": "user", "content": "Weather? [fake:call=weather {\"city\":\"Paris\"}]"});
    let (status, out) = v1(
        &chat,
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(
            json!({"model": "mistral-small-latest", "messages": [ask], "tools": tools, "tool_choice": "auto",
                    "parallel_tool_calls": true}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["choices"][0]["finish_reason"], "tool_calls");
    let message = out["choices"][0]["message"].clone();
    let call = &message["tool_calls"][0];
    assert_eq!(call["function"]["name"], "weather");
    assert_eq!(call["type"], "function");
    let id = call["id"].as_str().unwrap();
    // The result goes back as OpenAI clients send it (no `name` on the tool message); the fake checks Mistral's rules.
    let result = json!({"role": "tool", "tool_call_id": id, "content": "{\"celsius\": 21}"});
    let (status, out) = v1(
        &chat,
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(json!({"model": "mistral-small-latest", "messages": [ask, message, result], "tools": tools})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert!(
        out["choices"][0]["message"]["content"].as_str().unwrap().contains("21"),
        "{out}"
    );
    let sent = chat.fake.requests().pop().unwrap().body;
    assert_eq!(sent["messages"][2]["name"], "weather");
    // Streamed calls come as OpenAI's tool-call deltas, the first naming the call.
    let (status, _, out) = v1_raw(
        &chat,
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(json!({"model": "mistral-small-latest", "messages": [ask], "tools": tools, "stream": true})),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let calls: Vec<Value> = events(&out)
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0).cloned())
        .collect();
    assert_eq!(calls[0]["function"]["name"], "weather");
    assert_eq!(calls[0]["id"].as_str().unwrap().len(), 9);
    // An image part reaches a vision model; a model that does not read images says so.
    let image = json!([{"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "detail": "auto"}}]);
    let (status, out) = v1(
        &chat,
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(json!({"model": "mistral-small-latest", "messages": [{"role": "user", "content": image}]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert!(
        out["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("[saw 1 image(s)]"),
        "{out}"
    );
    let (status, out) = v1(
        &chat,
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(json!({"model": "codestral-latest", "messages": [{"role": "user", "content": image}]})),
    )
    .await;
    assert_eq!((status, error_of(&out).2), (StatusCode::BAD_REQUEST, Some("messages")));
}

#[tokio::test]
async fn bad_input_and_provider_failures_get_openai_errors_never_a_500() {
    let chat = Chat::new(&[]).await;
    let key = token(&chat, "ada", Scope::V1).await;
    let user = |text: &str| json!([{"role": "user", "content": text}]);
    let cases = [
        (json!("not an object"), StatusCode::BAD_REQUEST, None),
        (json!({"messages": user("hi")}), StatusCode::BAD_REQUEST, Some("model")),
        (
            json!({"model": "mistral-small-latest"}),
            StatusCode::BAD_REQUEST,
            Some("messages"),
        ),
        (
            json!({"model": "mistral-small-latest", "messages": user("hi"), "temperature": 9}),
            StatusCode::BAD_REQUEST,
            Some("temperature"),
        ),
        (
            json!({"model": "mistral-small-latest", "messages": user("hi"), "n": 3}),
            StatusCode::BAD_REQUEST,
            Some("n"),
        ),
        (
            json!({"model": "gpt-4o", "messages": user("hi")}),
            StatusCode::NOT_FOUND,
            Some("model"),
        ),
        (
            json!({"model": "mistral-embed", "messages": user("hi")}),
            StatusCode::NOT_FOUND,
            Some("model"),
        ),
    ];
    for (body, expected, param) in cases {
        let (status, out) = v1(&chat, "POST", "/v1/chat/completions", Some(&key), Some(body.clone())).await;
        assert_eq!(status, expected, "{body} → {out}");
        assert_eq!(error_of(&out).2, param, "{out}");
    }
    let (status, _, out) = v1_raw(&chat, "POST", "/v1/chat/completions", Some(&key), None, &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    // The provider's failures: its rate limit is ours to report (with its wait), its refusal a 400.
    let (status, headers, out) = v1_raw(
        &chat,
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(json!({"model": "mistral-small-latest", "messages": user("hi [fake:429]")})),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{out}");
    assert!(headers.get("retry-after").is_some());
    let (status, out) = v1(
        &chat,
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(json!({"model": "mistral-small-latest", "messages": user("hi [fake:422]")})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    let (status, out) = v1(
        &chat,
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(json!({"model": "mistral-small-latest", "messages": user("hi [fake:503]")})),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{out}");
    // A stream cut after the first tokens ends with an error event, and no [DONE].
    let (status, _, out) = v1_raw(
        &chat,
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(json!({"model": "mistral-small-latest", "messages": user("hi [fake:cut]"), "stream": true})),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let data = events(&out);
    let last: Value = serde_json::from_str(data.last().unwrap()).unwrap();
    assert!(last["error"]["message"].as_str().is_some(), "{out}");
    assert!(!data.contains(&"[DONE]".to_string()));
    // Every failed call is in the ledger as failed.
    let failed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usage_events WHERE status = 'error' AND source = 'v1'")
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap();
    assert_eq!(failed, 4);
}

#[tokio::test]
async fn quotas_rates_and_staff_settings_hold() {
    let chat = Chat::new(&[("RATE_LIMIT_MESSAGES_PER_MINUTE", "0")]).await;
    let key = token(&chat, "ada", Scope::V1).await;
    let pool = &chat.app.pool().pool;
    let ask = json!({"model": "mistral-small-latest", "messages": [{"role": "user", "content": "hi"}]});
    sqlx::query("UPDATE quota_defaults SET messages_per_day = 1")
        .execute(pool)
        .await
        .unwrap();
    let (status, out) = v1(&chat, "POST", "/v1/chat/completions", Some(&key), Some(ask.clone())).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, headers, out) = v1_raw(
        &chat,
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(ask.clone()),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{out}");
    let out: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(error_of(&out).1, Some("insufficient_quota"));
    assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() > 10);
    assert_eq!(headers["x-should-retry"], "false");
    sqlx::query("UPDATE quota_defaults SET messages_per_day = 0")
        .execute(pool)
        .await
        .unwrap();
    // Staff offer one model only: the list shows it, others are 403, unknown ones stay 404.
    let root = crate::common::with_staff(&chat.app, "root").await;
    let _ = root;
    let staff = crate::common::api_session(&chat.app, "root").await;
    let patch = |body: Value| {
        Request::patch("/api/admin/settings/")
            .header("host", "127.0.0.1:3000")
            .header("origin", crate::common::ORIGIN)
            .header("cookie", &staff)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let res = chat
        .app
        .send(patch(json!({"openai_api": {"models": "codestral-latest"}})))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let settings = crate::common::json(res).await;
    assert_eq!(
        settings["openai_api"],
        json!({"enabled": true, "models": ["codestral-latest"]})
    );
    let (_, out) = v1(&chat, "GET", "/v1/models", Some(&key), None).await;
    let ids: Vec<&str> = out["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["codestral-latest"]);
    let (status, out) = v1(&chat, "POST", "/v1/chat/completions", Some(&key), Some(ask.clone())).await;
    assert_eq!(
        (status, error_of(&out).1),
        (StatusCode::FORBIDDEN, Some("model_not_allowed"))
    );
    // Turned off: every route says so.
    let res = chat.app.send(patch(json!({"openai_api": {"enabled": false}}))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (status, out) = v1(&chat, "GET", "/v1/models", Some(&key), None).await;
    assert_eq!(
        (status, error_of(&out).1),
        (StatusCode::FORBIDDEN, Some("api_disabled"))
    );
    // A bad model list is a field error.
    let res = chat
        .app
        .send(patch(json!({"openai_api": {"models": "bad model!"}})))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'settings.openai_api'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(audit, 2);
}

#[tokio::test]
async fn a_saved_call_becomes_a_conversation_of_its_owner() {
    let chat = Chat::new(&[]).await;
    let key = token(&chat, "ada", Scope::V1).await;
    let body = json!({
        "model": "mistral-small-latest",
        "messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Plan a trip to Lisbon"}],
        "metadata": {"thicode_save": true},
    });
    let (status, out) = v1(&chat, "POST", "/v1/chat/completions", Some(&key), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let reply = out["choices"][0]["message"]["content"].as_str().unwrap().to_string();
    // The header asks too.
    let body =
        json!({"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Second"}], "stream": true});
    let (status, _, _) = v1_raw(
        &chat,
        "POST",
        "/v1/chat/completions",
        Some(&key),
        Some(body),
        &[("x-thicode-save", "true")],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let pool = &chat.app.pool().pool;
    // Saved before the answer ends: a client that has the whole answer finds it in the list.
    let saved = sqlx::query_as::<_, (i64, String, String, i64)>(
        "SELECT c.id, c.title, c.system_prompt, c.user_id FROM conversations c ORDER BY c.id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(saved.len(), 2, "{saved:?}");
    let (id, title, system, owner) = saved[0].clone();
    assert_eq!((title.as_str(), system.as_str()), ("Plan a trip to Lisbon", "Be kind."));
    let ada: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'ada'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(owner, ada);
    let messages: Vec<(String, String, String)> =
        sqlx::query_as("SELECT role, content, status FROM messages WHERE conversation_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(
        messages,
        [
            (
                "user".to_string(),
                "Plan a trip to Lisbon".to_string(),
                "delivered".to_string()
            ),
            ("assistant".to_string(), reply, "delivered".to_string())
        ]
    );
    // It is in the owner's chat list, through the REST API.
    let wide = token(&chat, "ada", Scope::All).await;
    let res = chat
        .app
        .send(
            Request::get("/api/chat/conversations/")
                .header("host", "127.0.0.1:3000")
                .header("authorization", format!("Token {wide}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let list = text(res).await;
    assert!(list.contains("Plan a trip to Lisbon"), "{list}");
}

#[tokio::test]
async fn embeddings_float_and_base64_without_what_mistral_refuses() {
    let chat = Chat::new(&[("EMBEDDING_MODEL", "mistral-embed")]).await;
    let key = token(&chat, "ada", Scope::V1).await;
    let (_, out) = v1(&chat, "GET", "/v1/models", Some(&key), None).await;
    let embed = out["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "mistral-embed")
        .unwrap()
        .clone();
    assert_eq!(embed["kind"], "embeddings");
    let body = json!({"model": "mistral-embed", "input": ["a cat sat", "a dog ran"], "dimensions": 64, "user": "x"});
    let (status, out) = v1(&chat, "POST", "/v1/embeddings", Some(&key), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["object"], "list");
    assert_eq!(out["data"][1]["index"], 1);
    let floats = out["data"][0]["embedding"].as_array().unwrap().clone();
    assert_eq!(floats.len(), thicode::chat::fake_mistral::EMBEDDING_DIMENSIONS);
    let sent = chat.fake.embedding_requests().pop().unwrap();
    assert!(sent.get("dimensions").is_none() && sent.get("user").is_none(), "{sent}");
    // base64: little-endian f32, as the SDKs ask by default.
    let body = json!({"model": "mistral-embed", "input": "a cat sat", "encoding_format": "base64"});
    let (status, out) = v1(&chat, "POST", "/v1/embeddings", Some(&key), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(out["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let decoded: Vec<f64> = bytes
        .chunks(4)
        .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
        .collect();
    for (a, b) in decoded.iter().zip(&floats) {
        assert!((a - b.as_f64().unwrap()).abs() < 1e-6);
    }
    for (body, param) in [
        (json!({"model": "mistral-embed", "input": [1, 2]}), "input"),
        (json!({"model": "mistral-embed", "input": []}), "input"),
        (json!({"input": "x"}), "model"),
        (
            json!({"model": "mistral-embed", "input": "x", "encoding_format": "int8"}),
            "encoding_format",
        ),
    ] {
        let (status, out) = v1(&chat, "POST", "/v1/embeddings", Some(&key), Some(body)).await;
        assert_eq!(
            (status, error_of(&out).2),
            (StatusCode::BAD_REQUEST, Some(param)),
            "{out}"
        );
    }
    let (status, _) = v1(
        &chat,
        "POST",
        "/v1/embeddings",
        Some(&key),
        Some(json!({"model": "mistral-small-latest", "input": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM usage_events WHERE source = 'v1' AND model = 'mistral-embed'")
            .fetch_one(&chat.app.pool().pool)
            .await
            .unwrap();
    assert_eq!(rows, 2);
}

#[tokio::test]
async fn a_photo_inline_goes_through_and_an_oversized_body_gets_openais_413() {
    use base64::Engine;
    let chat = Chat::new(&[]).await;
    let key = token(&chat, "ada", Scope::V1).await;
    // A 3 MB photo as base64 (4 MB of JSON): over axum's default 2 MB, well within what a phone's camera makes.
    let photo = base64::engine::general_purpose::STANDARD.encode(vec![7u8; 3 << 20]);
    let body = json!({"model": "mistral-small-latest", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": format!("data:image/jpeg;base64,{photo}")}}]}]});
    let (status, out) = v1(&chat, "POST", "/v1/chat/completions", Some(&key), Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert!(
        out["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("[saw 1 image(s)]")
    );
    // Over 64 MiB: refused in OpenAI's shape, before the provider or the ledger sees anything.
    let huge = "x".repeat(65 << 20);
    let body = json!({"model": "mistral-small-latest", "messages": [{"role": "user", "content": huge}]});
    let (status, out) = v1(&chat, "POST", "/v1/chat/completions", Some(&key), Some(body)).await;
    assert_eq!(
        (status, error_of(&out).1),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("request_too_large"))
    );
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usage_events")
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn calls_show_in_the_users_usage_and_the_admin_reports() {
    let chat = Chat::new(&[]).await;
    let key = token(&chat, "ada", Scope::V1).await;
    let ask = json!({"model": "codestral-latest", "messages": [{"role": "user", "content": "Count me"}]});
    let (status, out) = v1(&chat, "POST", "/v1/chat/completions", Some(&key), Some(ask)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let tokens = out["usage"]["total_tokens"].as_i64().unwrap();
    let get = |path: &str, key: &str| {
        Request::get(path)
            .header("host", "127.0.0.1:3000")
            .header("authorization", format!("Token {key}"))
            .body(Body::empty())
            .unwrap()
    };
    let wide = token(&chat, "ada", Scope::All).await;
    let mine = crate::common::json(chat.app.send(get("/api/accounts/usage/", &wide)).await).await;
    assert_eq!(mine["usage"]["messages_today"], 1, "{mine}");
    assert_eq!(mine["usage"]["tokens_today"].as_i64(), Some(tokens), "{mine}");
    crate::common::with_staff(&chat.app, "root").await;
    let root = token(&chat, "root", Scope::All).await;
    let report = crate::common::json(chat.app.send(get("/api/admin/usage/?group_by=model", &root)).await).await;
    let row = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "codestral-latest")
        .cloned();
    let row = row.unwrap_or_else(|| panic!("{report}"));
    assert_eq!(row["messages"], 1);
    assert_eq!(
        row["prompt_tokens"].as_i64().unwrap() + row["completion_tokens"].as_i64().unwrap(),
        tokens
    );
}
