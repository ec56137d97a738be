//! Managing users (issue #15): the admin list and its actions in pages, server functions and `/api/admin/`, who may
//! call them, what each action ends, the rules that keep an instance manageable, and the audit trail of every action.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use leptos::server_fn::ServerFn;
use serde_json::{Value, json};
use thicode::accounts::users;
use thicode::admin::server_fns::{AdminAudit, AdminUserAction, AdminUsers};

use crate::common::{
    CSRF, ORIGIN, PASSWORD, TestApp, api_session, form_post, header, json, json_request as call, logged_in, page,
    sent_emails, session_cookie, text, with_staff, with_user,
};

/// An API call with the session and its CSRF header.
async fn api(app: &TestApp, method: &str, path: &str, body: Option<Value>, cookie: &str) -> (StatusCode, Value) {
    let res = app
        .send(call(method, path, body, Some(cookie), &[("x-csrftoken", CSRF)]))
        .await;
    let status = res.status();
    let body = text(res).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// A server function called as a page's script calls it.
fn server_fn(path: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut req = Request::post(path)
        .header("host", "127.0.0.1:3000")
        .header("origin", ORIGIN)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

async fn audit_actions(app: &TestApp) -> Vec<(String, String, String)> {
    sqlx::query_as("SELECT actor, action, target FROM audit_log ORDER BY id")
        .fetch_all(&app.pool().pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn only_active_staff_reach_the_admin_routes_pages_and_server_functions() {
    let app = TestApp::new(&[]).await;
    let root = with_staff(&app, "root").await;
    with_staff(&app, "gone").await;
    let ada = with_user(&app, "ada", PASSWORD).await;
    let root_cookie = api_session(&app, "root").await;
    let user_cookie = api_session(&app, "ada").await;
    let gone_cookie = api_session(&app, "gone").await;
    // `gone` is staff, then deactivated: whatever it held is worthless.
    let gone_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'gone'")
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    let (status, _) = api(
        &app,
        "PATCH",
        &format!("/api/admin/users/{gone_id}/"),
        Some(json!({"is_active": false})),
        &root_cookie,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/admin/users/".into(), None),
        ("GET", format!("/api/admin/users/{ada}/"), None),
        (
            "PATCH",
            format!("/api/admin/users/{ada}/"),
            Some(json!({"is_staff": false})),
        ),
        ("POST", format!("/api/admin/users/{ada}/send-reset/"), None),
        ("GET", "/api/admin/audit/".into(), None),
        ("DELETE", format!("/api/admin/users/{ada}/"), None),
    ];
    for (method, path, body) in &routes {
        let res = app.send(call(method, path, body.clone(), None, &[])).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "visitor {method} {path}");
        let (status, body_out) = api(&app, method, path, body.clone(), &user_cookie).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "user {method} {path}");
        assert_eq!(
            body_out,
            json!({"detail": "You do not have permission to perform this action."})
        );
        let (status, _) = api(&app, method, path, body.clone(), &gone_cookie).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "deactivated staff {method} {path}");
    }
    // Staff: every route answers (DELETE last, it removes ada).
    for (method, path, body) in &routes {
        let (status, out) = api(&app, method, path, body.clone(), &root_cookie).await;
        assert!(status.is_success(), "staff {method} {path}: {status} {out}");
    }
    assert!(users::by_id(&app.pool().pool, ada).await.unwrap().is_none());

    // Pages: visitors go to log in, users get 403 and see nobody, staff see the list.
    let bob = with_user(&app, "bob", PASSWORD).await;
    let bob_cookie = logged_in(&app, "bob").await;
    let staff_cookie = logged_in(&app, "root").await;
    for uri in ["/admin/users", "/admin/audit", "/admin/users?search=root"] {
        let res = app.send(crate::common::get(uri)).await;
        assert!(res.status().is_redirection(), "{uri}");
        let mut req = crate::common::get(uri);
        req.headers_mut().insert("cookie", bob_cookie.parse().unwrap());
        let res = app.send(req).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{uri}");
        assert!(!text(res).await.contains("root@example.com"), "{uri}: nothing leaks");
    }
    let html = page(&app, "/admin/users", Some(&staff_cookie)).await;
    assert!(
        html.contains("bob@example.com") && html.contains("root@example.com"),
        "{html}"
    );
    assert!(
        page(&app, "/admin/audit", Some(&staff_cookie))
            .await
            .contains("deactivated an account")
    );

    // Server functions, as a script calls them: 401, 403, then staff.
    let action = format!("id={bob}&action=deactivate&back=%2Fadmin%2Fusers");
    for (path, body) in [
        (AdminUsers::PATH, "search=&ordering=&page="),
        (AdminAudit::PATH, "page="),
        (AdminUserAction::PATH, action.as_str()),
    ] {
        let res = app.send(server_fn(path, body, None)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        let res = app.send(server_fn(path, body, Some(&bob_cookie))).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert!(
        users::by_id(&app.pool().pool, bob).await.unwrap().unwrap().is_active,
        "bob untouched"
    );
    let res = app
        .send(server_fn(AdminUserAction::PATH, &action, Some(&staff_cookie)))
        .await;
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "{}",
        res.status()
    );
    assert!(!users::by_id(&app.pool().pool, bob).await.unwrap().unwrap().is_active);
    let _ = root;
}

#[tokio::test]
async fn deactivating_ends_sessions_tokens_and_jwt_at_once_and_login_fails_as_for_a_wrong_password() {
    let app = TestApp::new(&[]).await;
    with_staff(&app, "root").await;
    let ada = with_user(&app, "ada", PASSWORD).await;
    let root = api_session(&app, "root").await;
    let ada_session = logged_in(&app, "ada").await;
    let session_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
        .bind(ada)
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    assert_eq!(session_rows, 1, "the session record names its user");
    let ada_api = api_session(&app, "ada").await;
    let (_, token) = api(
        &app,
        "POST",
        "/api/accounts/tokens/",
        Some(json!({"name": "ci"})),
        &ada_api,
    )
    .await;
    let key = token["key"].as_str().unwrap().to_string();
    let res = app
        .send(call(
            "POST",
            "/api/token/",
            Some(json!({"username": "ada", "password": PASSWORD})),
            None,
            &[],
        ))
        .await;
    let pair = json(res).await;
    let refresh = pair["refresh"].as_str().unwrap().to_string();

    let (status, out) = api(
        &app,
        "PATCH",
        &format!("/api/admin/users/{ada}/"),
        Some(json!({"is_active": "false"})),
        &root,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["is_active"], json!(false));

    // The page session, the API session, the token and the refresh token: all ended.
    let res = app
        .send(call(
            "GET",
            "/api/accounts/current-user/",
            None,
            Some(&ada_session),
            &[],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .send(call("GET", "/api/accounts/current-user/", None, Some(&ada_api), &[]))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .send(call(
            "GET",
            "/api/accounts/current-user/",
            None,
            None,
            &[("authorization", &format!("Token {key}"))],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .send(call(
            "POST",
            "/api/token/refresh/",
            Some(json!({"refresh": refresh})),
            None,
            &[],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let left: (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM sessions WHERE user_id = $1), (SELECT COUNT(*) FROM api_tokens WHERE user_id = $1)",
    )
    .bind(ada)
    .fetch_one(&app.pool().pool)
    .await
    .unwrap();
    assert_eq!(left, (0, 0));

    // Logging in answers exactly as a wrong password does.
    let login = |password: &str| {
        call(
            "POST",
            "/api/accounts/api/login/",
            Some(json!({"username": "ada", "password": password})),
            None,
            &[],
        )
    };
    let deactivated = app.send(login(PASSWORD)).await;
    let (status, body) = (deactivated.status(), text(deactivated).await);
    let wrong = app.send(login("not-the-password")).await;
    assert_eq!(status, wrong.status());
    assert_eq!(body, text(wrong).await);

    // Activated again: a fresh login works; the old tokens stay dead.
    let (status, _) = api(
        &app,
        "PATCH",
        &format!("/api/admin/users/{ada}/"),
        Some(json!({"is_active": true})),
        &root,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.send(login(PASSWORD)).await.status(), StatusCode::OK);
    let res = app
        .send(call(
            "GET",
            "/api/accounts/current-user/",
            None,
            None,
            &[("authorization", &format!("Token {key}"))],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let actions: Vec<String> = audit_actions(&app).await.into_iter().map(|(_, a, _)| a).collect();
    assert_eq!(actions, ["user.deactivate", "user.activate"]);
}

#[tokio::test]
async fn nobody_removes_themself_and_the_last_active_staff_account_stays() {
    let app = TestApp::new(&[]).await;
    let root = with_staff(&app, "root").await;
    let second = with_staff(&app, "second").await;
    let cookie = api_session(&app, "root").await;
    let me = format!("/api/admin/users/{root}/");
    for (method, body, field, message) in [
        (
            "PATCH",
            Some(json!({"is_active": false})),
            "is_active",
            "You cannot deactivate your own account.",
        ),
        (
            "PATCH",
            Some(json!({"is_staff": false})),
            "is_staff",
            "You cannot remove your own staff status.",
        ),
        (
            "DELETE",
            None,
            "non_field_errors",
            "You cannot delete your own account.",
        ),
    ] {
        let (status, out) = api(&app, method, &me, body, &cookie).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {out}");
        assert_eq!(out[field], json!([message]), "{out}");
    }
    // Demoting the other staff account works once; then root is the last one and nobody else can act anyway.
    let (status, _) = api(
        &app,
        "PATCH",
        &format!("/api/admin/users/{second}/"),
        Some(json!({"is_staff": false})),
        &cookie,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let row = users::by_id(&app.pool().pool, root).await.unwrap().unwrap();
    assert!(row.is_staff && row.is_active, "root is untouched");
    // A request of someone who lost staff status while it waited is refused inside the lock, whatever it asks.
    let actor = thicode::admin::service::Actor {
        user: users::by_id(&app.pool().pool, second).await.unwrap().unwrap(),
        addr: "203.0.113.9".into(),
    };
    let change = thicode::admin::service::FlagChange {
        is_active: None,
        is_staff: Some(false),
    };
    let refused = thicode::admin::service::change_flags(app.pool(), &actor, root, change).await;
    assert_eq!(refused.unwrap_err().status_code(), 403);
    // And root, the last active staff account, cannot go: demoting or deactivating is the self rule, deleting the
    // account from the settings page is refused too (tests/it/admin_quotas.rs).
    let refused = thicode::admin::service::delete_user(app.pool(), &actor, root).await;
    assert!(refused.is_err());
    assert!(users::by_id(&app.pool().pool, root).await.unwrap().is_some());
    let actions: Vec<String> = audit_actions(&app).await.into_iter().map(|(_, a, _)| a).collect();
    assert_eq!(actions, ["user.revoke_staff"], "refused actions leave no entry");
}

#[tokio::test]
async fn two_staff_demoting_each_other_at_once_leave_one_staff_account() {
    let app = TestApp::new(&[]).await;
    let a = with_staff(&app, "anna").await;
    let b = with_staff(&app, "bert").await;
    let pool = &app.pool().pool;
    let actor = |id: i64| async move {
        thicode::admin::service::Actor {
            user: users::by_id(pool, id).await.unwrap().unwrap(),
            addr: "127.0.0.1".into(),
        }
    };
    let (actor_a, actor_b) = (actor(a).await, actor(b).await);
    let change = thicode::admin::service::FlagChange {
        is_active: Some(false),
        is_staff: None,
    };
    let db = app.pool();
    // Several rounds: a race that is lost only now and then must still show.
    for round in 0..12 {
        sqlx::query("UPDATE users SET is_active = 1, is_staff = 1")
            .execute(pool)
            .await
            .unwrap();
        let (ra, rb) = tokio::join!(
            thicode::admin::service::change_flags(db, &actor_a, b, change),
            thicode::admin::service::change_flags(db, &actor_b, a, change),
        );
        let active: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_staff = 1 AND is_active = 1")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(
            active, 1,
            "round {round}: exactly one of the two deactivations went through: {ra:?} {rb:?}"
        );
        assert!(ra.is_ok() != rb.is_ok());
    }
}

#[tokio::test]
async fn every_action_is_audited_with_who_what_whom_and_address_and_the_log_is_append_only() {
    let app = TestApp::new(&[]).await;
    with_staff(&app, "root").await;
    let ada = with_user(&app, "ada", PASSWORD).await;
    let cookie = api_session(&app, "root").await;
    let path = format!("/api/admin/users/{ada}/");
    for body in [
        json!({"is_staff": true}),
        json!({"is_staff": false}),
        json!({"is_active": false}),
        json!({"is_active": true}),
    ] {
        let (status, out) = api(&app, "PATCH", &path, Some(body), &cookie).await;
        assert_eq!(status, StatusCode::OK, "{out}");
    }
    // Asking for what already is: nothing to record.
    api(&app, "PATCH", &path, Some(json!({"is_active": true})), &cookie).await;
    let (status, out) = api(&app, "POST", &format!("{path}send-reset/"), None, &cookie).await;
    assert_eq!(
        (status, out),
        (StatusCode::ACCEPTED, json!({"detail": "Password reset email sent."}))
    );
    let mails = sent_emails(&app).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: ada@example.com") && mails[0].contains("/reset-password/"));

    // A conversation that goes with the account.
    sqlx::query("INSERT INTO conversations (user_id, title, created_at, updated_at) VALUES ($1, 'x', 1, 1)")
        .bind(ada)
        .execute(&app.pool().pool)
        .await
        .unwrap();
    let (status, _) = api(&app, "DELETE", &path, None, &cookie).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let (status, _) = api(&app, "DELETE", &path, None, &cookie).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, log) = api(&app, "GET", "/api/admin/audit/", None, &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(log["count"], json!(6));
    let actions: Vec<&str> = log["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "user.delete",
            "user.send_reset",
            "user.activate",
            "user.deactivate",
            "user.revoke_staff",
            "user.grant_staff"
        ],
        "newest first"
    );
    let delete = &log["results"][0];
    assert_eq!(delete["actor"], json!("root"));
    assert_eq!(delete["target"], json!("ada"));
    assert_eq!(delete["target_id"], json!(ada));
    assert_eq!(
        delete["details"],
        json!({"email": "ada@example.com", "conversations": 1})
    );
    assert!(delete["client_addr"].is_string() && delete["at"].as_str().unwrap().ends_with('Z'));

    // Nothing edits or removes an entry: not the API, not even SQL.
    for method in ["PUT", "PATCH", "DELETE"] {
        let (status, _) = api(&app, method, "/api/admin/audit/", Some(json!({})), &cookie).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    let pool = &app.pool().pool;
    assert!(
        sqlx::query("UPDATE audit_log SET actor = 'someone'")
            .execute(pool)
            .await
            .is_err()
    );
    assert!(sqlx::query("DELETE FROM audit_log").execute(pool).await.is_err());
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(count, 6);
}

#[tokio::test]
async fn the_list_searches_sorts_pages_and_counts_this_months_messages_and_tokens() {
    let app = TestApp::new(&[]).await;
    with_staff(&app, "root").await;
    let ada = with_user(&app, "ada", PASSWORD).await;
    let bob = with_user(&app, "bob", PASSWORD).await;
    sqlx::query("UPDATE users SET first_name = 'Ada', last_name = 'Lovelace' WHERE id = $1")
        .bind(ada)
        .execute(&app.pool().pool)
        .await
        .unwrap();
    // ada: 2 replies this month (30 + 12 tokens) and one last year; bob: 1 reply, 100 tokens. The ledger is what
    // counts, not the conversations (which may be deleted).
    let now = thicode::core::db::now_millis();
    let old = now - 400 * 86_400_000;
    for (user, at, prompt, completion) in [
        (ada, now, 10, 20),
        (ada, now, 5, 7),
        (ada, old, 500, 499),
        (bob, now, 40, 60),
    ] {
        sqlx::query(
            "INSERT INTO usage_events (user_id, created_at, status, prompt_tokens, completion_tokens) \
             VALUES ($1, $2, 'delivered', $3, $4)",
        )
        .bind(user)
        .bind(at)
        .bind(prompt)
        .bind(completion)
        .execute(&app.pool().pool)
        .await
        .unwrap();
    }
    let cookie = api_session(&app, "root").await;
    let list = |query: &'static str| {
        let cookie = cookie.clone();
        let app = &app;
        async move { api(app, "GET", &format!("/api/admin/users/{query}"), None, &cookie).await }
    };
    let (_, all) = list("").await;
    assert_eq!(all["count"], json!(3));
    let row = |body: &Value, name: &str| {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["username"] == json!(name))
            .cloned()
            .unwrap()
    };
    let ada_row = row(&all, "ada");
    assert_eq!(
        (
            ada_row["messages_this_month"].clone(),
            ada_row["tokens_this_month"].clone()
        ),
        (json!(2), json!(42))
    );
    let bob_row = row(&all, "bob");
    assert_eq!(
        (
            bob_row["messages_this_month"].clone(),
            bob_row["tokens_this_month"].clone()
        ),
        (json!(1), json!(100))
    );
    assert!(ada_row.get("password").is_none() && ada_row.get("preferences").is_none());

    let names = |body: &Value| -> Vec<String> {
        body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["username"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&list("?ordering=-tokens").await.1), ["bob", "ada", "root"]);
    assert_eq!(names(&list("?ordering=-messages").await.1), ["ada", "bob", "root"]);
    assert_eq!(names(&list("?ordering=username").await.1), ["ada", "bob", "root"]);
    assert_eq!(names(&list("?ordering=date_joined").await.1), ["root", "ada", "bob"]);
    assert_eq!(names(&list("?search=LOVELACE").await.1), ["ada"]);
    assert_eq!(names(&list("?search=bob%40example").await.1), ["bob"]);
    assert_eq!(
        list("?search=%25").await.1["count"],
        json!(0),
        "a % is a character, not a wildcard"
    );
    let (status, out) = list("?ordering=password").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(out["ordering"].is_array(), "{out}");
    let (status, out) = list("?page=0").await;
    assert_eq!((status, out["page"].is_array()), (StatusCode::BAD_REQUEST, true));
    let (_, empty) = list("?page=2").await;
    assert_eq!(
        (empty["results"].clone(), empty["previous"].clone()),
        (json!([]), json!("/api/admin/users/?page=1"))
    );

    // The page shows the same figures.
    let staff = logged_in(&app, "root").await;
    let html = page(&app, "/admin/users?ordering=-tokens", Some(&staff)).await;
    assert!(
        html.find("bob@example.com").unwrap() < html.find("ada@example.com").unwrap(),
        "sorted"
    );
    assert!(html.contains(r#"aria-sort="descending""#));
    assert!(html.contains(r#"<td class="number">42</td>"#), "{html}");
}

#[tokio::test]
async fn page_actions_work_as_plain_forms_and_refuse_cross_site_posts() {
    let app = TestApp::new(&[]).await;
    with_staff(&app, "root").await;
    let ada = with_user(&app, "ada", PASSWORD).await;
    let cookie = logged_in(&app, "root").await;
    let from = "/admin/users?search=ada&ordering=-tokens";
    let body = format!("id={ada}&action=deactivate&back=%2Fadmin%2Fusers%3Fsearch%3Dada%26ordering%3D-tokens");
    // From another site (a hostile page's form, the browser attaching the staff member's cookie): refused, nothing
    // changes.
    let mut req = form_post(
        AdminUserAction::PATH,
        from,
        &body,
        Some(&cookie),
        "https://evil.example",
    );
    req.headers_mut()
        .insert("referer", "https://evil.example/page".parse().unwrap());
    req.headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(app.send(req).await.status(), StatusCode::FORBIDDEN);
    assert!(users::by_id(&app.pool().pool, ada).await.unwrap().unwrap().is_active);
    // Without an Origin header (some privacy settings), the browser still says it is cross-site: refused.
    let mut req = form_post(AdminUserAction::PATH, from, &body, Some(&cookie), ORIGIN);
    req.headers_mut().remove("origin");
    req.headers_mut()
        .insert("referer", "https://evil.example/page".parse().unwrap());
    req.headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(app.send(req).await.status(), StatusCode::FORBIDDEN);
    assert!(users::by_id(&app.pool().pool, ada).await.unwrap().unwrap().is_active);

    // From the page itself: done, back to the same list with the outcome.
    let res = app
        .send(form_post(AdminUserAction::PATH, from, &body, Some(&cookie), ORIGIN))
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(
        header(&res, "location"),
        "/admin/users?search=ada&ordering=-tokens&done=deactivate"
    );
    assert!(!users::by_id(&app.pool().pool, ada).await.unwrap().unwrap().is_active);
    let html = page(&app, "/admin/users?search=ada&done=deactivate", Some(&cookie)).await;
    assert!(html.contains("Account deactivated"), "{html}");

    // A delete asks first, then goes with a form post.
    let html = page(&app, &format!("/admin/users?confirm_delete={ada}"), Some(&cookie)).await;
    assert!(
        html.contains(r#"data-testid="delete-user-dialog""#) && html.contains("Delete ada?"),
        "{html}"
    );
    let res = app
        .send(form_post(
            AdminUserAction::PATH,
            &format!("/admin/users?confirm_delete={ada}"),
            &format!("id={ada}&action=delete&back=%2Fadmin%2Fusers"),
            Some(&cookie),
            ORIGIN,
        ))
        .await;
    assert_eq!(header(&res, "location"), "/admin/users?done=delete");
    assert!(users::by_id(&app.pool().pool, ada).await.unwrap().is_none());

    // A refused action comes back to the page with its reason; `back` never leaves the users list.
    let root: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'root'")
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    let res = app
        .send(form_post(
            AdminUserAction::PATH,
            "/admin/users",
            &format!("id={root}&action=deactivate&back=https%3A%2F%2Fevil.example"),
            Some(&cookie),
            ORIGIN,
        ))
        .await;
    let location = header(&res, "location").to_string();
    assert!(
        location.contains("/admin/users") && !location.contains("evil"),
        "{location}"
    );
    let html = page(&app, &location.replace(ORIGIN, ""), Some(&cookie)).await;
    assert!(html.contains("You cannot deactivate your own account."), "{html}");
}

#[tokio::test]
async fn first_user_is_staff_makes_only_the_instances_first_account_staff() {
    let register = |name: &str| {
        call(
            "POST",
            "/api/accounts/api/register/",
            Some(json!({"username": name, "email": format!("{name}@example.com"),
                "password1": "Sea-Glass-Harbour-4", "password2": "Sea-Glass-Harbour-4"})),
            None,
            &[],
        )
    };
    let staff_of = |app: &TestApp, name: &'static str| {
        let pool = app.pool().pool.clone();
        async move { users::by_login(&pool, name).await.unwrap().unwrap().is_staff }
    };
    let app = TestApp::new(&[("FIRST_USER_IS_STAFF", "true")]).await;
    assert_eq!(app.send(register("first")).await.status(), StatusCode::OK);
    assert_eq!(app.send(register("second")).await.status(), StatusCode::OK);
    assert!(staff_of(&app, "first").await && !staff_of(&app, "second").await);
    // The first account can manage the instance at once.
    let cookie = logged_in_as(&app, "first").await;
    assert_eq!(page_status(&app, "/admin/users", &cookie).await, StatusCode::OK);

    // Off by default; and an instance that already has an account (made with createsuperuser) promotes nobody.
    let app = TestApp::new(&[]).await;
    assert_eq!(app.send(register("first")).await.status(), StatusCode::OK);
    assert!(!staff_of(&app, "first").await);
    let app = TestApp::new(&[("FIRST_USER_IS_STAFF", "true")]).await;
    with_staff(&app, "root").await;
    assert_eq!(app.send(register("first")).await.status(), StatusCode::OK);
    assert!(!staff_of(&app, "first").await);
}

async fn logged_in_as(app: &TestApp, name: &str) -> String {
    let res = app
        .send(call(
            "POST",
            "/api/accounts/api/login/",
            Some(json!({"username": name, "password": "Sea-Glass-Harbour-4"})),
            None,
            &[],
        ))
        .await;
    session_cookie(&res).unwrap()
}

async fn page_status(app: &TestApp, uri: &str, cookie: &str) -> StatusCode {
    let mut req = crate::common::get(uri);
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    app.send(req).await.status()
}

#[tokio::test]
async fn every_admin_page_and_server_function_under_every_kind_of_caller() {
    use leptos::server_fn::ServerFn;
    use thicode::admin::server_fns as admin;
    let chat = crate::chat_flow::Chat::new(&[]).await;
    let app = &chat.app;
    with_staff(app, "root").await;
    let gone = with_staff(app, "gone").await;
    let ada_page = chat.user("ada").await;
    let ada: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'ada'")
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    let (_, sent) = chat.send(&ada_page, None, "hello").await;
    let conversation = sent["conversation_id"].as_i64().unwrap();
    chat.settled(sent["assistant_message_id"].as_i64().unwrap()).await;
    let root = logged_in(app, "root").await;
    let gone_cookie = logged_in(app, "gone").await;
    // Deactivated behind its back (the session row is still there): it counts for nothing.
    sqlx::query("UPDATE users SET is_active = 0 WHERE id = $1")
        .bind(gone)
        .execute(&app.pool().pool)
        .await
        .unwrap();

    let pages = [
        "/admin".to_string(),
        "/admin/users".into(),
        format!("/admin/users/{ada}"),
        format!("/admin/users/{ada}/conversations"),
        format!("/admin/users/{ada}/conversations/{conversation}"),
        "/admin/usage".into(),
        "/admin/settings".into(),
        "/admin/audit".into(),
    ];
    for uri in &pages {
        for (who, cookie, expected) in [
            ("visitor", None, StatusCode::SEE_OTHER),
            ("user", Some(ada_page.as_str()), StatusCode::FORBIDDEN),
            ("deactivated staff", Some(gone_cookie.as_str()), StatusCode::SEE_OTHER),
            ("staff", Some(root.as_str()), StatusCode::OK),
        ] {
            let mut req = crate::common::get(uri);
            req.headers_mut().insert("accept", "text/html".parse().unwrap());
            // A browser following a link of the admin pages.
            req.headers_mut()
                .insert("sec-fetch-site", "same-origin".parse().unwrap());
            if let Some(cookie) = cookie {
                req.headers_mut().insert("cookie", cookie.parse().unwrap());
            }
            let res = app.send(req).await;
            let status = res.status();
            if expected == StatusCode::SEE_OTHER {
                assert!(status.is_redirection(), "{uri} as {who}: {status}");
                assert!(header(&res, "location").starts_with("/login?next="), "{uri} as {who}");
            } else {
                assert_eq!(status, expected, "{uri} as {who}");
            }
            if who != "staff" {
                assert!(!text(res).await.contains("hello"), "{uri} as {who}: nothing leaks");
            }
        }
    }

    // Server functions, as a page's script calls them; the staff call last (it may change something).
    let calls = [
        (admin::AdminOverview::PATH, String::new()),
        (admin::AdminUsers::PATH, "search=&ordering=&page=".into()),
        (admin::AdminAudit::PATH, "page=".into()),
        (admin::AdminSettings::PATH, String::new()),
        (admin::AdminUsage::PATH, "from=&to=&group_by=".into()),
        (admin::AdminUser::PATH, format!("id={ada}")),
        (admin::AdminConversations::PATH, format!("user_id={ada}")),
        (
            admin::AdminConversation::PATH,
            format!("user_id={ada}&id={conversation}"),
        ),
        (
            admin::AdminSaveSettings::PATH,
            "messages_per_day=9&tokens_per_day=&tokens_per_month=".into(),
        ),
        (
            admin::AdminSaveUserQuota::PATH,
            format!("id={ada}&messages_per_day=3&tokens_per_day=&tokens_per_month="),
        ),
        (
            admin::AdminUserAction::PATH,
            format!("id={ada}&action=send_reset&back=%2Fadmin%2Fusers"),
        ),
        (
            admin::AdminDeleteConversation::PATH,
            format!("user_id={ada}&id={conversation}"),
        ),
    ];
    let audited_before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    for (path, body) in &calls {
        for (who, cookie, expected) in [
            ("visitor", "sessionid=none", StatusCode::UNAUTHORIZED),
            ("user", ada_page.as_str(), StatusCode::FORBIDDEN),
            ("deactivated staff", gone_cookie.as_str(), StatusCode::UNAUTHORIZED),
        ] {
            let (status, out) = chat.call(path, body, cookie).await;
            assert_eq!(status, expected, "{path} as {who}: {out}");
        }
    }
    let audited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    assert_eq!(audited, audited_before, "refused calls leave no trace");
    for (path, body) in &calls {
        let (status, out) = chat.call(path, body, &root).await;
        assert!(
            status.is_success() || status.is_redirection(),
            "{path} as staff: {status} {out}"
        );
    }
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log ORDER BY id")
        .fetch_all(&app.pool().pool)
        .await
        .unwrap();
    // The page staff opened above, then the server function: each reading is recorded.
    assert_eq!(
        actions,
        [
            "conversation.view",
            "conversation.view",
            "settings.quota",
            "user.set_quota",
            "user.send_reset",
            "conversation.delete"
        ]
    );
}

#[tokio::test]
async fn the_way_back_to_the_list_keeps_a_username_with_query_characters() {
    let app = TestApp::new(&[]).await;
    let id = with_user(&app, "ann+1@home", PASSWORD).await;
    with_staff(&app, "root").await;
    let root = logged_in(&app, "root").await;
    let html = page(&app, &format!("/admin/users/{id}"), Some(&root)).await;
    // A bare `+` would be read back as a space, `@` and `&` would end or change the search.
    assert!(html.contains(r#"href="/admin/users?search=ann%2B1%40home""#), "{html}");
}

#[tokio::test]
async fn a_superuser_answers_only_to_another_superuser() {
    let app = TestApp::new(&[]).await;
    let superuser = |name: &'static str| {
        let app = &app;
        async move {
            let new = thicode::accounts::users::NewUser {
                username: name.into(),
                email: format!("{name}@example.com"),
                password_hash: thicode::accounts::password::Hashing::default()
                    .hash(PASSWORD.into())
                    .await
                    .unwrap(),
                is_staff: true,
                is_superuser: true,
            };
            users::create(&app.pool().pool, &new).await.unwrap()
        }
    };
    let root = superuser("root").await;
    with_staff(&app, "helper").await;
    let helper = api_session(&app, "helper").await;
    let path = format!("/api/admin/users/{root}/");
    for (body, field) in [
        (json!({"is_active": false}), "is_active"),
        (json!({"is_staff": false}), "is_staff"),
    ] {
        let (status, out) = api(&app, "PATCH", &path, Some(body), &helper).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
        assert_eq!(
            out[field][0], "Only a superuser can deactivate, demote or delete a superuser.",
            "{out}"
        );
    }
    let (status, out) = api(&app, "DELETE", &path, None, &helper).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
    let user = users::by_id(&app.pool().pool, root).await.unwrap().unwrap();
    assert!(user.is_active && user.is_staff, "nothing changed");
    assert!(audit_actions(&app).await.is_empty(), "refusals leave no entry");
    // The list says who is what, and offers the helper no button it would be refused.
    let (_, list) = api(&app, "GET", "/api/admin/users/?search=root", None, &helper).await;
    assert_eq!(list["results"][0]["is_superuser"], true, "{list}");
    let cookie = logged_in(&app, "helper").await;
    let html = page(&app, "/admin/users?search=root", Some(&cookie)).await;
    assert!(html.contains(r#"data-testid="superuser""#), "{html}");
    assert!(
        !html.contains(r#"value="deactivate""#) && !html.contains(r#"value="revoke_staff""#),
        "{html}"
    );
    let html = page(&app, &format!("/admin/users/{root}"), Some(&cookie)).await;
    assert!(html.contains("Role: superuser"), "{html}");
    // Another superuser may.
    superuser("chief").await;
    let chief = api_session(&app, "chief").await;
    let (status, out) = api(&app, "PATCH", &path, Some(json!({"is_active": false})), &chief).await;
    assert_eq!(status, StatusCode::OK, "{out}");
}
