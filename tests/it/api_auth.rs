//! The API's other ways in and the account routes around them (issue #5): settings, password reset, personal tokens,
//! JWT with rotation and reuse detection, CORS, 405 with `Allow`, and per-address limits with `Retry-After`.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::common::{ORIGIN, TestApp, header, json, json_request as call, sent_emails, session_cookie, with_user};

use crate::common::PASSWORD;

/// Logs `username` in through the API and returns the session cookie plus a CSRF cookie and header value.
async fn session(app: &TestApp, username: &str) -> (String, String) {
    let res = app
        .send(call(
            "POST",
            "/api/accounts/api/login/",
            Some(json!({"username": username, "password": PASSWORD})),
            None,
            &[],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = "0123456789abcdef0123456789abcdef".to_string();
    (format!("{}; csrftoken={token}", session_cookie(&res).unwrap()), token)
}

#[tokio::test]
async fn settings_read_and_merge_arbitrary_preference_keys() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", PASSWORD).await;
    let (cookie, csrf) = session(&app, "ada").await;
    let res = app
        .send(call("GET", "/api/accounts/settings/", None, Some(&cookie), &[]))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = json(res).await;
    assert_eq!(body["username"], "ada");
    assert!(body["preferences"].is_object());

    let patch = |body: Value| {
        call(
            "PATCH",
            "/api/accounts/settings/",
            Some(body),
            Some(&cookie),
            &[("x-csrftoken", &csrf)],
        )
    };
    let res = app
        .send(patch(
            json!({"preferences": {"display_mode": "dark", "editor": {"font": "mono"}, "beta": true}, "bio": "Hi"}),
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = json(res).await;
    assert_eq!(body["bio"], "Hi");
    assert_eq!(body["preferences"]["display_mode"], "dark");
    assert_eq!(body["preferences"]["editor"], json!({"font": "mono"}));
    assert_eq!(body["preferences"]["beta"], true);

    // A later patch merges: other keys stay; null removes one.
    let res = app
        .send(patch(json!({"preferences": {"beta": null, "language": "fr"}})))
        .await;
    let body = json(res).await;
    assert_eq!(body["preferences"]["editor"], json!({"font": "mono"}));
    assert!(body["preferences"].get("beta").is_none());
    assert_eq!(body["preferences"]["language"], "fr");
    assert_eq!(body["bio"], "Hi");

    // Field errors in DRF's shape; nothing is saved.
    let res = app.send(patch(json!({"preferences": {"display_mode": "neon"}}))).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(json(res).await["display_mode"][0].as_str().unwrap().contains("neon"));
    let res = app.send(patch(json!({"preferences": ["dark"]}))).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json(res).await,
        json!({"preferences": ["Expected a dictionary of items but got type \"list\"."]})
    );
    let res = app.send(patch(json!({"preferences": {"language": 3}}))).await;
    assert_eq!(json(res).await, json!({"language": ["Not a valid string."]}));
    let res = app
        .send(patch(json!({"preferences": {"blob": "x".repeat(20_000)}})))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(json(res).await["preferences"][0].as_str().unwrap().contains("at most"));
    let res = app.send(patch(json!({"email": "not-an-email"}))).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(json(res).await["email"].is_array());
    // Fields the route does not know are ignored, as DRF does (issue #11: clients send the whole User back).
    let res = app.send(patch(json!({"nickname": "x"}))).await;
    assert_eq!(res.status(), StatusCode::OK, "unknown fields are ignored");
    let res = app
        .send(call("GET", "/api/accounts/settings/", None, Some(&cookie), &[]))
        .await;
    assert_eq!(json(res).await["preferences"]["display_mode"], "dark");

    // Without the CSRF header, a session PATCH is refused.
    let res = app
        .send(call(
            "PATCH",
            "/api/accounts/settings/",
            Some(json!({"bio": "x"})),
            Some(&cookie),
            &[],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn password_reset_through_the_api() {
    let app = TestApp::new(&[("FRONTEND_URL", "http://localhost:5173")]).await;
    with_user(&app, "ada", PASSWORD).await;
    let ask = |email: Value| call("POST", "/api/accounts/api/reset-password/", Some(email), None, &[]);
    let res = app.send(ask(json!({}))).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(res).await, json!({"error": "Email is required"}));
    let res = app.send(ask(json!({"email": "nobody@example.com"}))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let unknown = json(res).await;
    assert!(sent_emails(&app).await.is_empty());
    let res = app.send(ask(json!({"email": "ada@example.com"}))).await;
    assert_eq!(
        json(res).await,
        unknown,
        "same answer whether the account exists or not"
    );
    let mail = sent_emails(&app).await.pop().unwrap().replace("=\r\n", "");
    let start =
        mail.find("http://localhost:5173/reset-password/").unwrap() + "http://localhost:5173/reset-password/".len();
    let token = &mail[start..start + 64];

    let verify = |t: &str| {
        call(
            "GET",
            &format!("/api/accounts/api/verify-reset-token/{t}/"),
            None,
            None,
            &[],
        )
    };
    assert_eq!(json(app.send(verify(token)).await).await, json!({"valid": true}));
    assert_eq!(json(app.send(verify("nope")).await).await, json!({"valid": false}));

    let confirm = |t: &str, p: &str| {
        call(
            "POST",
            "/api/accounts/api/reset-password/confirm/",
            Some(json!({"token": t, "password": p})),
            None,
            &[],
        )
    };
    let res = app.send(confirm(token, "12345678")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = json(res).await;
    assert!(body["error"].as_str().unwrap().contains("too common"), "{body}");
    assert!(body["errors"]["password"].is_array());
    let res = app.send(confirm(token, "Fresh-Harbour-Lights-9")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(app.send(verify(token)).await).await, json!({"valid": false}));
    let res = app.send(confirm(token, "Another-Harbour-Light-7")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(json(res).await["error"].as_str().unwrap().contains("invalid"));
    let res = app
        .send(call(
            "POST",
            "/api/accounts/api/login/",
            Some(json!({"username": "ada", "password": "Fresh-Harbour-Lights-9"})),
            None,
            &[],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn personal_tokens_are_shown_once_stored_hashed_and_revocable() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", PASSWORD).await;
    with_user(&app, "bob", PASSWORD).await;
    let (cookie, csrf) = session(&app, "ada").await;
    let create = |body: Value| {
        call(
            "POST",
            "/api/accounts/tokens/",
            Some(body),
            Some(&cookie),
            &[("x-csrftoken", &csrf)],
        )
    };
    let res = app.send(create(json!({"name": ""}))).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(res).await, json!({"name": ["This field may not be blank."]}));
    let res = app.send(create(json!({"name": "ci", "expires_in_days": 0}))).await;
    assert!(json(res).await["expires_in_days"].is_array());

    let res = app
        .send(create(json!({"name": "laptop script", "expires_in_days": 30})))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = json(res).await;
    let key = token["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("thc_") && key.len() == 68, "{key}");
    assert!(token["expires_at"].is_string());
    let stored: Vec<(String,)> = sqlx::query_as("SELECT key_hash FROM api_tokens")
        .fetch_all(&app.pool().pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].0.contains(&key[4..]), "only a hash is stored");

    // Both schemes; no CSRF needed; last use recorded.
    for scheme in ["Token", "Bearer"] {
        let auth = format!("{scheme} {key}");
        let res = app
            .send(call(
                "GET",
                "/api/accounts/current-user/",
                None,
                None,
                &[("authorization", &auth)],
            ))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{scheme}");
        assert_eq!(json(res).await["username"], "ada");
    }
    let auth = format!("Token {key}");
    let res = app
        .send(call(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "Hello"})),
            None,
            &[("authorization", &auth)],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "token requests are CSRF-exempt");

    let res = app
        .send(call(
            "GET",
            "/api/accounts/tokens/",
            None,
            None,
            &[("authorization", &auth)],
        ))
        .await;
    let list = json(res).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("key").is_none(), "the key is never shown again");
    assert_eq!(list[0]["prefix"], key[..12]);
    assert!(list[0]["last_used_at"].is_string());
    let id = list[0]["id"].as_i64().unwrap();

    // Bob cannot see or revoke it.
    let (bob, bob_csrf) = session(&app, "bob").await;
    let res = app
        .send(call(
            "DELETE",
            &format!("/api/accounts/tokens/{id}/"),
            None,
            Some(&bob),
            &[("x-csrftoken", &bob_csrf)],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .send(call("GET", "/api/accounts/tokens/", None, Some(&bob), &[]))
        .await;
    assert_eq!(json(res).await, json!([]));

    // Revoked: the key stops working at once.
    let res = app
        .send(call(
            "DELETE",
            &format!("/api/accounts/tokens/{id}/"),
            None,
            Some(&cookie),
            &[("x-csrftoken", &csrf)],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .send(call(
            "GET",
            "/api/accounts/current-user/",
            None,
            None,
            &[("authorization", &auth)],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(res).await, json!({"detail": "Invalid token."}));

    // An expired key is refused with its own message.
    let res = app.send(create(json!({"name": "short"}))).await;
    let key = json(res).await["key"].as_str().unwrap().to_string();
    sqlx::query("UPDATE api_tokens SET expires_at = 1")
        .execute(&app.pool().pool)
        .await
        .unwrap();
    let auth = format!("Token {key}");
    let res = app
        .send(call(
            "GET",
            "/api/accounts/current-user/",
            None,
            None,
            &[("authorization", &auth)],
        ))
        .await;
    assert_eq!(json(res).await, json!({"detail": "Token has expired."}));

    // Malformed credentials of our schemes never fall back to the session. (Other schemes, such as the Basic
    // credentials a browser attaches behind HTTP authentication, are not ours: the session answers — issue #11.)
    for bad in ["Token", "Token a b", "Bearer not-a-jwt"] {
        let res = app
            .send(call(
                "GET",
                "/api/accounts/current-user/",
                None,
                Some(&cookie),
                &[("authorization", bad)],
            ))
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{bad}");
        assert!(header(&res, "www-authenticate").contains("realm"));
    }
}

#[tokio::test]
async fn jwt_pairs_rotate_and_a_reused_refresh_token_revokes_its_family() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", PASSWORD).await;
    let post = |path: &str, body: Value| call("POST", path, Some(body), None, &[]);
    let res = app
        .send(post("/api/token/", json!({"username": "ada", "password": "wrong"})))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        json(res).await,
        json!({"detail": "No active account found with the given credentials"})
    );
    let res = app
        .send(post("/api/token/", json!({"username": "ada", "password": PASSWORD})))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let pair = json(res).await;
    let (access, refresh) = (pair["access"].as_str().unwrap(), pair["refresh"].as_str().unwrap());
    let me = |token: &str| {
        let auth = format!("Bearer {token}");
        call(
            "GET",
            "/api/accounts/current-user/",
            None,
            None,
            &[("authorization", &auth)],
        )
    };
    assert_eq!(app.send(me(access)).await.status(), StatusCode::OK);
    let res = app.send(me(refresh)).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "a refresh token is not an access token"
    );
    assert_eq!(json(res).await["code"], "token_not_valid");

    // Rotation: a new pair; the old refresh token is spent.
    let res = app.send(post("/api/token/refresh/", json!({"refresh": refresh}))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let second = json(res).await;
    let refresh2 = second["refresh"].as_str().unwrap();
    assert_ne!(refresh2, refresh);
    assert_eq!(
        app.send(me(second["access"].as_str().unwrap())).await.status(),
        StatusCode::OK
    );

    // Reuse of the spent token: refused, and the whole family dies (the thief's and the owner's next token).
    let res = app.send(post("/api/token/refresh/", json!({"refresh": refresh}))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(res).await["code"], "token_not_valid");
    let res = app
        .send(post("/api/token/refresh/", json!({"refresh": refresh2})))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // Revoke ends a fresh family too.
    let pair = json(
        app.send(post("/api/token/", json!({"username": "ada", "password": PASSWORD})))
            .await,
    )
    .await;
    let refresh = pair["refresh"].as_str().unwrap();
    let res = app.send(post("/api/token/revoke/", json!({"refresh": refresh}))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.send(post("/api/token/refresh/", json!({"refresh": refresh}))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .send(post("/api/token/refresh/", json!({"refresh": "garbage"})))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app.send(post("/api/token/refresh/", json!({}))).await;
    assert_eq!(json(res).await, json!({"refresh": ["This field is required."]}));
}

#[tokio::test]
async fn cors_preflight_for_configured_origins_only() {
    let app = TestApp::new(&[]).await;
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/api/chat/conversations/")
            .header("host", "127.0.0.1:3000")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,x-csrftoken")
            .body(Body::empty())
            .unwrap()
    };
    // Development default: Vite's dev servers.
    let res = app.send(preflight("http://localhost:5173")).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(header(&res, "access-control-allow-origin"), "http://localhost:5173");
    assert_eq!(header(&res, "access-control-allow-credentials"), "true");
    assert!(header(&res, "access-control-allow-headers").contains("x-csrftoken"));
    assert_eq!(header(&res, "access-control-max-age"), "86400");
    let res = app.send(preflight("https://evil.example")).await;
    assert_eq!(header(&res, "access-control-allow-origin"), "");

    let app = TestApp::new(&[("CORS_ALLOWED_ORIGINS", "https://app.example.com")]).await;
    let res = app.send(preflight("https://app.example.com")).await;
    assert_eq!(header(&res, "access-control-allow-origin"), "https://app.example.com");
    let res = app.send(preflight("http://localhost:5173")).await;
    assert_eq!(
        header(&res, "access-control-allow-origin"),
        "",
        "the list replaces the defaults"
    );
    let res = app
        .send(call(
            "GET",
            "/api/csrf/",
            None,
            None,
            &[("origin", "https://app.example.com")],
        ))
        .await;
    assert_eq!(header(&res, "access-control-allow-origin"), "https://app.example.com");
}

#[tokio::test]
async fn wrong_methods_get_405_with_allow() {
    let app = TestApp::new(&[]).await;
    let res = app
        .send(call(
            "PUT",
            "/api/chat/conversations/",
            Some(json!({})),
            None,
            &[("origin", ORIGIN)],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allow = header(&res, "allow").to_string();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    assert_eq!(json(res).await, json!({"detail": "Method \"PUT\" not allowed."}));
    let res = app.send(call("GET", "/api/accounts/api/login/", None, None, &[])).await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(header(&res, "allow").contains("POST"));
}

#[tokio::test]
async fn anonymous_routes_are_limited_per_address_with_retry_after() {
    let app = TestApp::new(&[("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "3")]).await;
    for _ in 0..3 {
        assert_eq!(
            app.send(call("GET", "/api/csrf/", None, None, &[])).await.status(),
            StatusCode::OK
        );
    }
    let res = app
        .send(call(
            "POST",
            "/api/token/",
            Some(json!({"username": "x", "password": "y"})),
            None,
            &[],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = header(&res, "retry-after").parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(
        json(res).await["detail"]
            .as_str()
            .unwrap()
            .starts_with("Request was throttled.")
    );
    // Authenticated routes are not counted against the address.
    let res = app
        .send(call("GET", "/api/accounts/current-user/", None, None, &[]))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_tokens_page_creates_shows_once_and_revokes_without_javascript() {
    use crate::common::{form_post, page};
    use leptos::server_fn::ServerFn;
    use thicode::accounts::server_fns::{CreateApiToken, RevokeApiToken};
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", PASSWORD).await;
    let cookie = crate::common::logged_in(&app, "ada").await;

    let res = app
        .send(form_post(
            CreateApiToken::PATH,
            "/settings/tokens",
            "name=&expires_in_days=30",
            Some(&cookie),
            ORIGIN,
        ))
        .await;
    let back = header(&res, "location").trim_start_matches(ORIGIN).to_string();
    assert!(
        page(&app, &back, Some(&cookie))
            .await
            .contains("This field may not be blank.")
    );

    let res = app
        .send(form_post(
            CreateApiToken::PATH,
            "/settings/tokens",
            "name=backup+script&expires_in_days=30",
            Some(&cookie),
            ORIGIN,
        ))
        .await;
    assert_eq!(header(&res, "location"), "/settings/tokens?created=1");
    let html = page(&app, "/settings/tokens?created=1", Some(&cookie)).await;
    let start = html.find("thc_").expect("the new key is shown");
    let key = html[start..start + 68].to_string();
    assert!(html.contains("backup script"));
    let again = page(&app, "/settings/tokens", Some(&cookie)).await;
    assert!(!again.contains(&key), "shown once only");
    assert!(again.contains(&key[..12]), "the prefix stays listed");

    let auth = format!("Token {key}");
    let me = call(
        "GET",
        "/api/accounts/current-user/",
        None,
        None,
        &[("authorization", &auth)],
    );
    assert_eq!(app.send(me).await.status(), StatusCode::OK);
    let id: (i64,) = sqlx::query_as("SELECT id FROM api_tokens")
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    let res = app
        .send(form_post(
            RevokeApiToken::PATH,
            "/settings/tokens",
            &format!("id={}", id.0),
            Some(&cookie),
            ORIGIN,
        ))
        .await;
    assert_eq!(header(&res, "location"), "/settings/tokens?revoked=1");
    let me = call(
        "GET",
        "/api/accounts/current-user/",
        None,
        None,
        &[("authorization", &auth)],
    );
    assert_eq!(app.send(me).await.status(), StatusCode::UNAUTHORIZED);
    assert!(
        page(&app, "/settings/tokens", Some(&cookie))
            .await
            .contains("No tokens yet.")
    );

    // Logged out: a browser (asking for HTML) goes to the login page.
    let res = app
        .send(call("GET", "/settings/tokens", None, None, &[("accept", "text/html")]))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(header(&res, "location").starts_with("/login?next="));
}

#[tokio::test]
async fn a_password_change_or_reset_ends_every_jwt_session() {
    let app = TestApp::new(&[]).await;
    let id = with_user(&app, "ada", PASSWORD).await;
    let obtain = |password: &str| {
        call(
            "POST",
            "/api/token/",
            Some(json!({"username": "ada", "password": password})),
            None,
            &[],
        )
    };
    let refresh = |token: &str| {
        call(
            "POST",
            "/api/token/refresh/",
            Some(json!({"refresh": token})),
            None,
            &[],
        )
    };
    let pair = json(app.send(obtain(PASSWORD)).await).await;
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
    let res = app.send(refresh(pair["refresh"].as_str().unwrap())).await;
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "refresh tokens die with the old password"
    );
    let pair = json(app.send(obtain(new)).await).await;
    assert!(pair["refresh"].is_string());

    // The same through a reset link.
    app.send(call(
        "POST",
        "/api/accounts/api/reset-password/",
        Some(json!({"email": "ada@example.com"})),
        None,
        &[],
    ))
    .await;
    let mail = sent_emails(&app).await.pop().unwrap().replace("=\r\n", "");
    let at = mail.find("/reset-password/").unwrap() + "/reset-password/".len();
    let token = &mail[at..at + 64];
    let res = app
        .send(call(
            "POST",
            "/api/accounts/api/reset-password/confirm/",
            Some(json!({"token": token, "password": "Other-Harbour-Lights-8"})),
            None,
            &[],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.send(refresh(pair["refresh"].as_str().unwrap())).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
