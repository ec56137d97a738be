//! Quotas and usage (issue #15): the defaults and per-account limits staff set, the clear refusal with the time a limit
//! resets (server function, REST API with 429 and `Retry-After`), the user's own usage, the ledger that outlives
//! deleted conversations, and limits that hold under concurrent sends from two server instances.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use thicode::state::AppState;
use tower::ServiceExt;

use crate::chat_flow::Chat;
use crate::common::{CSRF, PASSWORD, api_session, header, json_request as call, text, with_staff};

async fn api(chat: &Chat, method: &str, path: &str, body: Option<Value>, cookie: &str) -> (StatusCode, Value) {
    let res = chat
        .app
        .send(call(method, path, body, Some(cookie), &[("x-csrftoken", CSRF)]))
        .await;
    let status = res.status();
    (status, serde_json::from_str(&text(res).await).unwrap_or(Value::Null))
}

async fn settle_all(chat: &Chat) {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE role = 'assistant'")
        .fetch_all(&chat.app.pool().pool)
        .await
        .unwrap();
    for id in ids {
        chat.settled(id).await;
    }
}

#[tokio::test]
async fn a_user_over_a_quota_is_told_when_it_resets_and_staff_can_lift_it() {
    let chat = Chat::new(&[("RATE_LIMIT_MESSAGES_PER_MINUTE", "0")]).await;
    with_staff(&chat.app, "root").await;
    let ada_page = chat.user("ada").await;
    let root = api_session(&chat.app, "root").await;
    let ada = api_session(&chat.app, "ada").await;
    let ada_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'ada'")
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap();

    let (status, out) = api(&chat, "GET", "/api/admin/settings/", None, &root).await;
    assert_eq!(
        (status, out),
        (
            StatusCode::OK,
            json!({"quota": {"messages_per_day": 0, "tokens_per_day": 0, "tokens_per_month": 0}, "sharing_enabled": true, "temporary_chats": "allowed",
                   "openai_api": {"enabled": true, "models": []}})
        )
    );
    let (status, out) = api(
        &chat,
        "PATCH",
        "/api/admin/settings/",
        Some(json!({"quota": {"messages_per_day": "2"}})),
        &root,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["quota"]["messages_per_day"], json!(2));
    let (status, out) = api(
        &chat,
        "PATCH",
        "/api/admin/settings/",
        Some(json!({"quota": {"tokens_per_day": -5}})),
        &root,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        out,
        json!({"quota": {"tokens_per_day": ["Enter 0 (unlimited) or more."]}})
    );
    // Users may not change the settings.
    let (status, _) = api(
        &chat,
        "PATCH",
        "/api/admin/settings/",
        Some(json!({"quota": {"messages_per_day": 0}})),
        &ada,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Two replies a day: the page's server function, then the API.
    let (status, _) = chat.send(&ada_page, None, "one").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api(
        &chat,
        "POST",
        "/api/chat/conversations/",
        Some(json!({"initial_message": "two"})),
        &ada,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    settle_all(&chat).await;

    let (status, refused) = chat.send(&ada_page, None, "three").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{refused}");
    let tomorrow = {
        let now = thicode::core::db::now_millis();
        thicode::core::time::minute(thicode::chat::quota::day_start(now) + 86_400_000)
    };
    let expected = format!("You have used today’s 2 messages. More from {tomorrow} UTC.");
    assert!(refused.to_string().contains(&expected), "{refused}");
    let res = chat
        .app
        .send(call(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "three"})),
            Some(&ada),
            &[("x-csrftoken", CSRF)],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = header(&res, "retry-after").parse().unwrap();
    assert!((1..=86_400).contains(&retry), "{retry}");
    assert_eq!(
        serde_json::from_str::<Value>(&text(res).await).unwrap(),
        json!({"detail": expected})
    );
    // Nothing of the refused message was stored.
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE content = 'three'")
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // The user sees their usage and limits.
    let (status, usage) = api(&chat, "GET", "/api/accounts/usage/", None, &ada).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(usage["usage"]["messages_today"], json!(2));
    assert!(
        usage["usage"]["tokens_today"].as_i64().unwrap() > 0,
        "the fake reports tokens: {usage}"
    );
    assert_eq!(usage["limits"]["messages_per_day"], json!(2));
    assert!(
        usage["day_resets_at"].as_str().unwrap().ends_with("T00:00:00Z"),
        "{usage}"
    );

    // Deleting conversations gives nothing back.
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM conversations")
        .fetch_all(&chat.app.pool().pool)
        .await
        .unwrap();
    for id in ids {
        let (status, _) = api(&chat, "DELETE", &format!("/api/chat/conversations/{id}/"), None, &ada).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    assert_eq!(
        chat.send(&ada_page, None, "three").await.0,
        StatusCode::TOO_MANY_REQUESTS
    );

    // Her own limit: unlimited messages (0), the rest from the defaults.
    let path = format!("/api/admin/users/{ada_id}/");
    let (status, out) = api(
        &chat,
        "PATCH",
        &path,
        Some(json!({"quota": {"messages_per_day": 0}})),
        &root,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(
        out["quota"],
        json!({"messages_per_day": 0, "tokens_per_day": null, "tokens_per_month": null, "storage_mb": null})
    );
    assert_eq!(out["limits"]["messages_per_day"], json!(0));
    assert_eq!(out["usage"]["messages_today"], json!(2));
    assert_eq!(chat.send(&ada_page, None, "three").await.0, StatusCode::OK);
    let (status, out) = api(
        &chat,
        "PATCH",
        &path,
        Some(json!({"quota": {"messages_per_day": -1}})),
        &root,
    )
    .await;
    assert_eq!(
        (status, out),
        (
            StatusCode::BAD_REQUEST,
            json!({"quota": {"messages_per_day": ["Enter 0 (unlimited) or more."]}})
        )
    );
    // Back to the default (null).
    let (_, out) = api(
        &chat,
        "PATCH",
        &path,
        Some(json!({"quota": {"messages_per_day": null}})),
        &root,
    )
    .await;
    assert_eq!(out["limits"]["messages_per_day"], json!(2));

    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log ORDER BY id")
        .fetch_all(&chat.app.pool().pool)
        .await
        .unwrap();
    assert_eq!(actions, ["settings.quota", "user.set_quota", "user.set_quota"]);
}

#[tokio::test]
async fn concurrent_sends_from_two_instances_never_pass_a_message_limit() {
    let chat = Chat::new(&[("RATE_LIMIT_MESSAGES_PER_MINUTE", "0")]).await;
    let cookie = chat.user("ada").await;
    sqlx::query("UPDATE quota_defaults SET messages_per_day = 3")
        .execute(&chat.app.pool().pool)
        .await
        .unwrap();
    // A second instance: same settings and database, a pool of its own.
    let pool = thicode::core::db::connect(&chat.app.db.url).await.unwrap();
    let other = AppState::new((*chat.app.state.config).clone(), pool).unwrap();
    let send = |state: AppState, i: usize| {
        let cookie = cookie.clone();
        async move {
            let req = Request::post(<thicode::chat::server_fns::SendMessage as leptos::server_fn::ServerFn>::PATH)
                .header("host", "127.0.0.1:3000")
                .header("origin", crate::common::ORIGIN)
                .header("accept", "application/json")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", &cookie)
                .body(Body::from(format!("content=race+{i}")))
                .unwrap();
            thicode::server::router(state).oneshot(req).await.unwrap().status()
        }
    };
    let mut tasks = Vec::new();
    for i in 0..12 {
        let state = if i % 2 == 0 {
            chat.app.state.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(send(state, i)));
    }
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            StatusCode::OK => ok += 1,
            StatusCode::TOO_MANY_REQUESTS => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(ok, 3, "exactly the limit went through");
    // Replies only: a finished first exchange also names its conversation (a `title` event) meanwhile.
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usage_events WHERE kind = 'reply'")
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap();
    assert_eq!(events, 3);
    settle_all(&chat).await;
}

#[tokio::test]
async fn a_token_limit_allows_one_reply_at_a_time_and_stops_once_used() {
    let chat = Chat::new(&[("RATE_LIMIT_MESSAGES_PER_MINUTE", "0")]).await;
    let cookie = chat.user("ada").await;
    sqlx::query("UPDATE quota_defaults SET tokens_per_month = 30")
        .execute(&chat.app.pool().pool)
        .await
        .unwrap();
    // A slow reply is running: a second one, in another conversation, must wait for it.
    let (status, sent) = chat.send(&cookie, None, "[fake:tps=20] [fake:tokens=20] slow").await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let (status, refused) = chat.send(&cookie, None, "meanwhile").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        refused.to_string().contains("one reply is written at a time"),
        "{refused}"
    );
    chat.settled(sent["assistant_message_id"].as_i64().unwrap()).await;
    let used: i64 = sqlx::query_scalar("SELECT prompt_tokens + completion_tokens FROM usage_events")
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap();
    assert!(used >= 20, "the ledger has the reply's tokens: {used}");
    // Over the limit now (the reply that crossed it was the only one allowed to): refused until next month.
    if used < 30 {
        let (status, sent) = chat.send(&cookie, None, "[fake:tokens=20] more").await;
        assert_eq!(status, StatusCode::OK);
        chat.settled(sent["assistant_message_id"].as_i64().unwrap()).await;
    }
    let (status, refused) = chat.send(&cookie, None, "again").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.to_string().contains("this month’s 30 tokens"), "{refused}");
}

#[tokio::test]
async fn the_limit_pages_save_with_plain_forms_and_users_see_their_usage() {
    use crate::common::{ORIGIN, form_post, logged_in, page};
    use leptos::server_fn::ServerFn;
    use thicode::admin::server_fns::{AdminSaveSettings, AdminSaveUserQuota};
    let chat = Chat::new(&[]).await;
    with_staff(&chat.app, "root").await;
    let ada_cookie = chat.user("ada").await;
    let ada: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'ada'")
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap();
    let root = logged_in(&chat.app, "root").await;
    let app = &chat.app;

    // Non-staff: 403 on both pages and both forms, nothing saved.
    for uri in ["/admin/settings".to_string(), format!("/admin/users/{ada}")] {
        let mut req = crate::common::get(&uri);
        req.headers_mut().insert("cookie", ada_cookie.parse().unwrap());
        assert_eq!(app.send(req).await.status(), StatusCode::FORBIDDEN, "{uri}");
    }
    let res = app
        .send(form_post(
            AdminSaveSettings::PATH,
            "/admin/settings",
            "messages_per_day=0&tokens_per_day=&tokens_per_month=",
            Some(&ada_cookie),
            ORIGIN,
        ))
        .await;
    assert!(!res.status().is_success() && header(&res, "location") != "/admin/settings?saved=1");
    assert!(!page(app, "/", None).await.is_empty());

    // The defaults, with a mistake first: the field says what is wrong and keeps what was typed.
    let res = app
        .send(form_post(
            AdminSaveSettings::PATH,
            "/admin/settings",
            "messages_per_day=-3&tokens_per_day=&tokens_per_month=",
            Some(&root),
            ORIGIN,
        ))
        .await;
    let back = header(&res, "location").replace(ORIGIN, "");
    let html = page(app, &back, Some(&root)).await;
    assert!(html.contains("Enter 0 (unlimited) or more."), "{html}");
    let res = app
        .send(form_post(
            AdminSaveSettings::PATH,
            "/admin/settings",
            "messages_per_day=40&tokens_per_day=&tokens_per_month=90000",
            Some(&root),
            ORIGIN,
        ))
        .await;
    assert_eq!(header(&res, "location"), "/admin/settings?saved=1");
    let html = page(app, "/admin/settings?saved=1", Some(&root)).await;
    assert!(html.contains("Saved.") && html.contains(r#"value="90000""#), "{html}");

    // Her own limit, shown on her page with the default beside it.
    let res = app
        .send(form_post(
            AdminSaveUserQuota::PATH,
            &format!("/admin/users/{ada}"),
            &format!("id={ada}&messages_per_day=5&tokens_per_day=&tokens_per_month="),
            Some(&root),
            ORIGIN,
        ))
        .await;
    assert_eq!(header(&res, "location"), format!("/admin/users/{ada}?saved=1"));
    let html = page(app, &format!("/admin/users/{ada}?saved=1"), Some(&root)).await;
    assert!(html.contains("ada@example.com") && html.contains("0 / 5"), "{html}");
    assert!(html.contains("Empty: the default (90000). 0: unlimited."), "{html}");
    let html = page(app, "/admin/audit", Some(&root)).await;
    assert!(html.contains("changed the default limits") && html.contains("changed an account’s limits"));

    // Ada sees her own usage and limits.
    let html = page(app, "/settings/usage", Some(&ada_cookie)).await;
    assert!(
        html.contains("Usage and limits") && html.contains(r#"<td class="number">5</td>"#),
        "{html}"
    );
    assert!(html.contains(r#"<td class="number">90000</td>"#));
    let mut req = crate::common::get("/settings/usage");
    req.headers_mut().insert("accept", "text/html".parse().unwrap());
    let res = app.send(req).await;
    assert_eq!(res.status(), StatusCode::FOUND, "visitors go to log in");
    assert_eq!(header(&res, "location"), "/login?next=/settings/usage");
}

#[tokio::test]
async fn usage_reports_count_a_known_set_by_day_user_and_model_as_json_csv_and_a_page() {
    use crate::common::{logged_in, page};
    let chat = Chat::new(&[]).await;
    with_staff(&chat.app, "root").await;
    crate::common::with_user(&chat.app, "ada", PASSWORD).await;
    crate::common::with_user(&chat.app, "bob", PASSWORD).await;
    let pool = &chat.app.pool().pool;
    let id = |name: &'static str| async move {
        sqlx::query_scalar::<_, i64>("SELECT id FROM users WHERE username = $1")
            .bind(name)
            .fetch_one(pool)
            .await
            .unwrap()
    };
    let (ada, bob) = (id("ada").await, id("bob").await);
    // 2026-11-10 and 2026-11-11 (UTC noon), and one event outside the period (2026-10-01).
    let (d10, d11, out) = (1_794_312_000_000_i64, 1_794_398_400_000_i64, 1_791_892_800_000_i64);
    for (user, at, model, status, prompt, completion, ttft, tools) in [
        (ada, d10, "mistral-small", "delivered", 10, 20, Some(100), 3),
        (ada, d10, "mistral-small", "delivered", 5, 5, Some(300), 0),
        (ada, d11, "mistral-large", "error", 7, 0, None, 1),
        (bob, d11, "mistral-small", "delivered", 1, 2, Some(200), 0),
        (bob, out, "mistral-small", "delivered", 1000, 1000, Some(1), 9),
    ] {
        sqlx::query(
            "INSERT INTO usage_events (user_id, created_at, model, status, prompt_tokens, completion_tokens, \
             time_to_first_token_ms, tool_calls) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(user)
        .bind(at)
        .bind(model)
        .bind(status)
        .bind(prompt)
        .bind(completion)
        .bind(ttft)
        .bind(tools)
        .execute(pool)
        .await
        .unwrap();
    }
    let root = api_session(&chat.app, "root").await;
    let q = "/api/admin/usage/?from=2026-11-10&to=2026-11-12";
    let (status, by_day) = api(&chat, "GET", q, None, &root).await;
    assert_eq!(status, StatusCode::OK, "{by_day}");
    assert_eq!(
        by_day["results"],
        json!([
            {"key": "2026-11-10", "messages": 2, "prompt_tokens": 15, "completion_tokens": 25, "errors": 0, "median_ttft_ms": 100, "tool_calls": 3},
            {"key": "2026-11-11", "messages": 2, "prompt_tokens": 8, "completion_tokens": 2, "errors": 1, "median_ttft_ms": 200, "tool_calls": 1},
            {"key": "2026-11-12", "messages": 0, "prompt_tokens": 0, "completion_tokens": 0, "errors": 0, "median_ttft_ms": null, "tool_calls": 0}
        ])
    );
    let (_, by_user) = api(&chat, "GET", &format!("{q}&group_by=user"), None, &root).await;
    assert_eq!(by_user["results"][0]["key"], json!("ada"));
    assert_eq!(by_user["results"][0]["messages"], json!(3));
    assert_eq!(
        by_user["results"][1],
        json!({"key": "bob", "messages": 1, "prompt_tokens": 1, "completion_tokens": 2, "errors": 0, "median_ttft_ms": 200, "tool_calls": 0, "files_bytes": 0})
    );
    let (_, by_model) = api(&chat, "GET", &format!("{q}&group_by=model"), None, &root).await;
    assert_eq!(by_model["results"][0]["key"], json!("mistral-small"));
    assert_eq!(by_model["results"][0]["messages"], json!(3));
    assert_eq!(by_model["results"][1]["errors"], json!(1));

    // CSV, asked either way.
    for (path, accept) in [
        (format!("{q}&format=csv"), "application/json"),
        (q.to_string(), "text/csv"),
    ] {
        let res = chat
            .app
            .send(call("GET", &path, None, Some(&root), &[("accept", accept)]))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(header(&res, "content-type").starts_with("text/csv"));
        assert!(header(&res, "content-disposition").contains("thicode-usage-2026-11-10-2026-11-12-by-day.csv"));
        let body = text(res).await;
        assert_eq!(
            body,
            "day,messages,prompt_tokens,completion_tokens,errors,median_ttft_ms,tool_calls\r\n2026-11-10,2,15,25,0,100,3\r\n\
             2026-11-11,2,8,2,1,200,1\r\n2026-11-12,0,0,0,0,,0\r\n"
        );
    }
    // Bad input: specific errors, never a 500; other callers: 401 and 403.
    for (query, field) in [
        ("?from=2026-13-01", "from"),
        ("?from=2026-11-12&to=2026-11-01", "from"),
        ("?group_by=week", "group_by"),
        ("?from=2024-01-01&to=2026-01-01", "from"),
    ] {
        let (status, out) = api(&chat, "GET", &format!("/api/admin/usage/{query}"), None, &root).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {out}");
        assert!(out[field].is_array(), "{query}: {out}");
    }
    let ada_cookie = api_session(&chat.app, "ada").await;
    assert_eq!(api(&chat, "GET", q, None, &ada_cookie).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        chat.app.send(call("GET", q, None, None, &[])).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // The page: a chart drawn on the server and the same figures in a table.
    let staff = logged_in(&chat.app, "root").await;
    let html = page(&chat.app, "/admin/usage?from=2026-11-10&to=2026-11-12", Some(&staff)).await;
    assert!(
        html.contains(r#"data-testid="usage-chart""#) && html.contains("<title>2026-11-10: 2</title>"),
        "{html}"
    );
    assert!(
        html.contains(r#"<tr data-key="2026-11-11"><th scope="row">2026-11-11</th><td class="number">2</td>"#),
        "{html}"
    );
    let html = page(
        &chat.app,
        "/admin/usage?from=2026-11-10&to=2026-11-12&group_by=user",
        Some(&staff),
    )
    .await;
    assert!(
        !html.contains("usage-chart\"") && html.contains(r#"data-key="ada""#),
        "{html}"
    );
    let html = page(&chat.app, "/admin/usage?from=nope", Some(&staff)).await;
    assert!(html.contains("Enter a date as YYYY-MM-DD."), "{html}");
}

#[tokio::test]
async fn staff_read_and_delete_a_users_conversations_and_both_are_audited() {
    use crate::common::{ORIGIN, form_post, logged_in, page};
    use leptos::server_fn::ServerFn;
    use thicode::admin::server_fns::{AdminConversation, AdminDeleteConversation};
    let chat = Chat::new(&[]).await;
    with_staff(&chat.app, "root").await;
    let ada_cookie = chat.user("ada").await;
    let bob_cookie = chat.user("bob").await;
    let (_, sent) = chat
        .send(&ada_cookie, None, "My **private** question <script>x</script>")
        .await;
    let conversation = sent["conversation_id"].as_i64().unwrap();
    chat.settled(sent["assistant_message_id"].as_i64().unwrap()).await;
    let pool = &chat.app.pool().pool;
    let ada: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'ada'")
        .fetch_one(pool)
        .await
        .unwrap();
    let bob: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'bob'")
        .fetch_one(pool)
        .await
        .unwrap();
    let root = logged_in(&chat.app, "root").await;
    let app = &chat.app;
    let views = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE action = 'conversation.view'")
            .fetch_one(pool)
            .await
            .unwrap()
    };

    // Bob (not staff) can neither list, read nor delete it, and his attempts leave no trace of reading.
    for uri in [
        format!("/admin/users/{ada}/conversations"),
        format!("/admin/users/{ada}/conversations/{conversation}"),
    ] {
        let mut req = crate::common::get(&uri);
        req.headers_mut().insert("cookie", bob_cookie.parse().unwrap());
        let res = app.send(req).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{uri}");
        assert!(!text(res).await.contains("private"));
    }
    let (status, _) = chat
        .call(
            AdminConversation::PATH,
            &format!("user_id={ada}&id={conversation}"),
            &bob_cookie,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(views().await, 0);

    let html = page(app, &format!("/admin/users/{ada}/conversations"), Some(&root)).await;
    assert!(
        html.contains(&format!(r#"data-conversation="{conversation}""#)),
        "{html}"
    );
    // Another account's id in the path: not found.
    let mut req = crate::common::get(&format!("/admin/users/{bob}/conversations/{conversation}"));
    req.headers_mut().insert("cookie", root.parse().unwrap());
    assert_eq!(app.send(req).await.status(), StatusCode::NOT_FOUND);
    // A link on another site (or a request that does not say where it comes from) reads nothing and records
    // nothing: the page asks the staff member to open it from here.
    let uri = format!("/admin/users/{ada}/conversations/{conversation}");
    let navigate = |headers: &[(&'static str, &str)]| {
        let mut req = crate::common::get(&uri);
        req.headers_mut().insert("cookie", root.parse().unwrap());
        for (name, value) in headers {
            req.headers_mut().insert(*name, value.parse().unwrap());
        }
        req
    };
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("referer", "https://evil.example/page")],
        vec![],
    ] {
        let res = app.send(navigate(&headers)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let html = crate::common::without_markers(&text(res).await);
        assert!(!html.contains("private"), "{headers:?}: {html}");
        assert!(html.contains("Open this conversation?"), "{headers:?}: {html}");
        assert!(html.contains(&format!(r#"href="{uri}?open=1""#)), "{html}");
    }
    assert_eq!(views().await, 0, "nothing read, nothing recorded");
    // Opened from this site: by a page of ours (Sec-Fetch-Site), or by an older browser's Referer.
    for headers in [
        vec![("sec-fetch-site", "same-origin")],
        vec![("sec-fetch-site", "none")],
        vec![("referer", "http://127.0.0.1:3000/admin/users")],
    ] {
        let res = app.send(navigate(&headers)).await;
        let html = crate::common::without_markers(&text(res).await);
        assert!(
            html.contains("<strong>private</strong>") && !html.contains("<script>x"),
            "rendered and sanitised: {html}"
        );
        assert!(html.contains("Read-only: a conversation of ada."));
    }
    assert_eq!(views().await, 3, "each reading is audited");

    let res = app
        .send(form_post(
            AdminDeleteConversation::PATH,
            &format!("/admin/users/{ada}/conversations?confirm_delete={conversation}"),
            &format!("user_id={ada}&id={conversation}"),
            Some(&root),
            ORIGIN,
        ))
        .await;
    assert_eq!(
        header(&res, "location"),
        format!("/admin/users/{ada}/conversations?deleted=1")
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let html = page(app, "/admin/audit", Some(&root)).await;
    assert!(
        html.contains("read a conversation") && html.contains("deleted a conversation"),
        "{html}"
    );
}

#[tokio::test]
async fn ask_mistral_counts_against_the_same_limits() {
    let chat = Chat::new(&[]).await;
    crate::common::with_user(&chat.app, "ada", PASSWORD).await;
    let ada = api_session(&chat.app, "ada").await;
    sqlx::query("UPDATE quota_defaults SET messages_per_day = 1")
        .execute(&chat.app.pool().pool)
        .await
        .unwrap();
    let ask = |cookie: String| {
        let chat = &chat;
        async move {
            api(
                chat,
                "POST",
                "/api/chat/ask-mistral/",
                Some(json!({"message": "Hi"})),
                &cookie,
            )
            .await
        }
    };
    let (status, out) = ask(ada.clone()).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (status, out) = ask(ada.clone()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{out}");
    assert!(out["detail"].as_str().unwrap().contains("today’s 1 messages"), "{out}");
    let (status, tokens): (String, i64) =
        sqlx::query_as("SELECT status, prompt_tokens + completion_tokens FROM usage_events")
            .fetch_one(&chat.app.pool().pool)
            .await
            .unwrap();
    assert_eq!(status, "delivered");
    assert!(tokens > 0, "the provider's token counts are kept");
}

#[tokio::test]
async fn edge_cases_found_in_review_answer_cleanly() {
    use leptos::server_fn::ServerFn;
    let chat = Chat::new(&[("RATE_LIMIT_MESSAGES_PER_MINUTE", "0")]).await;
    let root_id = with_staff(&chat.app, "root").await;
    let pool = &chat.app.pool().pool;
    // 60 newer accounts whose names contain "ann": the first "ann" still has its page.
    let ann = crate::common::with_user(&chat.app, "ann", PASSWORD).await;
    for i in 0..60 {
        sqlx::query(
            "INSERT INTO users (username, email, password, date_joined, date_modified) VALUES ($1, $2, 'x', $3, $3)",
        )
        .bind(format!("ann{i}"))
        .bind(format!("ann{i}@example.com"))
        .bind(thicode::core::db::now_millis() + 1000 + i)
        .execute(pool)
        .await
        .unwrap();
    }
    let root = api_session(&chat.app, "root").await;
    let (status, out) = api(&chat, "GET", &format!("/api/admin/users/{ann}/"), None, &root).await;
    assert_eq!((status, out["username"].clone()), (StatusCode::OK, json!("ann")));
    // A body refused for its limits changes nothing else either.
    let body = json!({"is_active": false, "quota": {"messages_per_day": -1}});
    let (status, _) = api(&chat, "PATCH", &format!("/api/admin/users/{ann}/"), Some(body), &root).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let active: i64 = sqlx::query_scalar("SELECT is_active FROM users WHERE id = $1")
        .bind(ann)
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(active, 1);
    // Absurd page numbers: an empty page, not a 500.
    for path in [
        "/api/admin/users/?page=99999999999999",
        "/api/admin/audit/?page=99999999999999",
    ] {
        let (status, out) = api(&chat, "GET", path, None, &root).await;
        assert_eq!((status, out["results"].clone()), (StatusCode::OK, json!([])), "{path}");
    }
    // The last active staff member cannot delete their own account from the settings page.
    let root_page = crate::common::logged_in(&chat.app, "root").await;
    let (status, out) = chat
        .call(
            thicode::accounts::server_fns::DeleteAccount::PATH,
            &format!("password={PASSWORD}"),
            &root_page,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    assert!(thicode::accounts::users::by_id(pool, root_id).await.unwrap().is_some());

    // A reply stopped before the provider counted it still counts (an estimate) in the ledger.
    let ada = chat.user("ada").await;
    let (_, sent) = chat
        .send(&ada, None, "[fake:tps=10] [fake:tokens=200] a long answer please")
        .await;
    let (conversation, reply) = (
        sent["conversation_id"].as_i64().unwrap(),
        sent["assistant_message_id"].as_i64().unwrap(),
    );
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let (status, _) = chat
        .call(
            thicode::chat::server_fns::StopReply::PATH,
            &format!("conversation_id={conversation}&message_id={reply}"),
            &ada,
        )
        .await;
    assert!(status.is_success(), "{status}");
    chat.settled(reply).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, prompt): (String, i64) =
        sqlx::query_as("SELECT status, prompt_tokens FROM usage_events WHERE message_id = $1")
            .bind(reply)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(status, "stopped");
    assert!(prompt > 0, "the prompt is counted even though the provider never said");
}

#[tokio::test]
async fn a_failed_ask_mistral_call_counts_by_estimate() {
    let chat = Chat::new(&[]).await;
    crate::common::with_user(&chat.app, "ada", PASSWORD).await;
    let ada = api_session(&chat.app, "ada").await;
    let message = format!("[fake:500] {}", "word ".repeat(100));
    let (status, out) = api(
        &chat,
        "POST",
        "/api/chat/ask-mistral/",
        Some(json!({"message": message})),
        &ada,
    )
    .await;
    assert!(status.is_server_error(), "{status} {out}");
    let (status, prompt): (String, i64) = sqlx::query_as("SELECT status, prompt_tokens FROM usage_events")
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap();
    assert_eq!(status, "error");
    assert!(prompt >= 100, "the prompt counts by estimate: {prompt}");
}

#[tokio::test]
async fn naming_a_conversation_counts_its_tokens_but_is_not_a_reply() {
    let chat = Chat::new(&[]).await;
    crate::common::with_user(&chat.app, "ada", PASSWORD).await;
    let cookie = crate::common::logged_in(&chat.app, "ada").await;
    let (_, sent) = chat.send(&cookie, None, "Tell me about soup").await;
    chat.settled(sent["assistant_message_id"].as_i64().unwrap()).await;
    let pool = &chat.app.pool().pool;
    // The title is asked for after the reply ends; wait for its row.
    let mut title = None;
    for _ in 0..100 {
        title = sqlx::query_as::<_, (String, i64, i64)>(
            "SELECT status, prompt_tokens, completion_tokens FROM usage_events WHERE kind = 'title'",
        )
        .fetch_optional(pool)
        .await
        .unwrap();
        if title.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (status, prompt, completion) = title.expect("the title's usage is in the ledger");
    assert_eq!(status, "delivered");
    assert!(prompt > 0 && completion > 0);
    let ada = api_session(&chat.app, "ada").await;
    let (_, usage) = api(&chat, "GET", "/api/accounts/usage/", None, &ada).await;
    assert_eq!(usage["usage"]["messages_today"], 1, "{usage}");
    let all: i64 =
        sqlx::query_scalar("SELECT CAST(SUM(prompt_tokens + completion_tokens) AS BIGINT) FROM usage_events")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(usage["usage"]["tokens_today"], all, "the title's tokens count: {usage}");
}

#[tokio::test]
async fn usage_and_a_stricter_limit_outlive_a_deleted_account_and_come_back_with_its_email() {
    let chat = Chat::new(&[]).await;
    let app = &chat.app;
    let pool = &app.pool().pool;
    let ada_id = crate::common::with_user(app, "ada", PASSWORD).await;
    with_staff(app, "root").await;
    let root = api_session(app, "root").await;
    let cookie = crate::common::logged_in(app, "ada").await;
    let (_, sent) = chat.send(&cookie, None, "hello").await;
    chat.settled(sent["assistant_message_id"].as_i64().unwrap()).await;
    // Staff give Ada a stricter limit: two replies a day.
    let (status, out) = api(
        &chat,
        "PATCH",
        &format!("/api/admin/users/{ada_id}/"),
        Some(json!({"quota": {"messages_per_day": 2}})),
        &root,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    // Ada deletes her account (the settings page's way, through the same accounts code).
    assert!(thicode::accounts::users::delete(pool, ada_id).await.unwrap());
    let kept: (Option<i64>, String, String) =
        sqlx::query_as("SELECT user_id, username, email FROM usage_events WHERE kind = 'reply'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(
        kept,
        (None, "ada".into(), "ada@example.com".into()),
        "the ledger keeps her usage"
    );
    let (_, report) = api(&chat, "GET", "/api/admin/usage/?group_by=user", None, &root).await;
    assert!(
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["key"] == "ada (deleted)" && r["messages"] == 1),
        "{report}"
    );
    // She registers again with the same email (another case): her limit and the day's count are hers again.
    let res = app
        .send(call(
            "POST",
            "/api/accounts/api/register/",
            Some(json!({"username": "ada2", "email": "ADA@example.com", "password1": PASSWORD, "password2": PASSWORD})),
            None,
            &[],
        ))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let again = api_session(app, "ada2").await;
    let (_, usage) = api(&chat, "GET", "/api/accounts/usage/", None, &again).await;
    assert_eq!(usage["limits"]["messages_per_day"], 2, "{usage}");
    assert_eq!(usage["usage"]["messages_today"], 1, "{usage}");
}
