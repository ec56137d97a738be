//! Regression tests for the defects found by trying ThiCode from outside (issue #11): as an attacker (CSRF through
//! an `Authorization` header, a planted session, a forged `Referer` or `X-Forwarded-For`), as a client of the
//! original backend (loose field types, other encodings), and under a browser's parallel requests (a page losing its
//! policy to an asset loaded at the same time). Each test names the point of the issue it proves.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use leptos::server_fn::ServerFn;
use serde_json::{Value, json};
use thicode::accounts::server_fns::{
    ChangePassword, CreateApiToken, DeleteAccount, Login, Register, RequestPasswordReset, ResetPassword,
    RevokeApiToken, UpdateProfile,
};
use thicode::chat::server_fns::UpdateConversation;
use tower::ServiceExt;

use crate::chat_flow::{Chat, urlencode};
use crate::common::{
    ORIGIN, PASSWORD, TestApp, form_post, get, header, json as body_json, json_request as api, logged_in,
    session_cookie, text, with_user,
};

/// HTTP Basic credentials, as a browser attaches them by itself behind HTTP authentication.
const BASIC: &str = "Basic dXNlcjpodHRwLXBhc3N3b3Jk";

/// A form post from a hostile page: the browser attaches the victim's cookie and saved Basic credentials.
fn cross_site_post(path: &str, body: &str, cookie: &str) -> Request<Body> {
    let mut req = form_post(path, "/", body, Some(cookie), "https://evil.example");
    let headers = req.headers_mut();
    headers.insert("sec-fetch-site", "cross-site".parse().unwrap());
    headers.insert("referer", "https://evil.example/attack".parse().unwrap());
    headers.insert("authorization", BASIC.parse().unwrap());
    req
}

async fn current_user(app: &TestApp, cookie: &str) -> (StatusCode, Value) {
    let res = app
        .send(api("GET", "/api/accounts/current-user/", None, Some(cookie), &[]))
        .await;
    let status = res.status();
    (status, serde_json::from_str(&text(res).await).unwrap_or(Value::Null))
}

/// A personal API token of `cookie`'s user, created through the API.
async fn api_token(app: &TestApp, cookie: &str) -> String {
    let res = app
        .send(api(
            "POST",
            "/api/accounts/tokens/",
            Some(json!({"name": "script"})),
            Some(cookie),
            &[("origin", ORIGIN)],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body_json(res).await["key"].as_str().unwrap().to_string()
}

// 1. CSRF is never skipped because of an `Authorization` header the browser attached by itself.

#[tokio::test]
async fn cross_site_posts_with_basic_credentials_are_refused() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let (_, sent) = chat.send(&cookie, None, "Keep my title").await;
    let id = sent["conversation_id"].as_i64().unwrap();
    chat.settled(sent["assistant_message_id"].as_i64().unwrap()).await;
    let title = |chat: &Chat| {
        let pool = chat.app.pool().pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT title FROM conversations WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let before = title(&chat).await;

    for (path, body) in [
        (UpdateConversation::PATH, format!("id={id}&title=pwned")),
        (
            ChangePassword::PATH,
            format!("old_password={PASSWORD}&new_password1=Evil-Pass-2024x&new_password2=Evil-Pass-2024x"),
        ),
        (
            Register::PATH,
            "username=mallory&email=m%40evil.example&password1=Evil-Pass-2024x&password2=Evil-Pass-2024x".into(),
        ),
        ("/theme", "theme=dark&next=/".into()),
        ("/language", "lang=fr&next=/".into()),
        ("/api/accounts/api/logout/", String::new()),
    ] {
        let res = chat.app.send(cross_site_post(path, &body, &cookie)).await;
        assert_eq!(
            res.status(),
            StatusCode::FORBIDDEN,
            "{path} must refuse a cross-site post"
        );
    }
    assert_eq!(title(&chat).await, before);
    let (status, me) = current_user(&chat.app, &cookie).await;
    assert_eq!(status, StatusCode::OK, "the session was not logged out");
    assert_eq!(me["username"], "ada");
    let registered: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = 'mallory'")
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap();
    assert_eq!(registered, 0);
    let login = chat
        .app
        .send(form_post(
            Login::PATH,
            "/login",
            &format!("login=ada&password={PASSWORD}"),
            None,
            ORIGIN,
        ))
        .await;
    assert!(session_cookie(&login).is_some(), "the password did not change");
}

#[tokio::test]
async fn basic_credentials_are_ignored_by_the_api_which_uses_the_session_with_csrf() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", PASSWORD).await;
    let cookie = logged_in(&app, "ada").await;
    // A safe request: the Basic header is not ours, so the session answers (DRF's token authentication does the same).
    let res = app
        .send(api(
            "GET",
            "/api/accounts/current-user/",
            None,
            Some(&cookie),
            &[("authorization", BASIC)],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // An unsafe one without a CSRF token or an Origin: refused, as any session request would be.
    let res = app
        .send(api(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "hi"})),
            Some(&cookie),
            &[("authorization", BASIC)],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(body_json(res).await["detail"], "CSRF Failed: CSRF token missing.");
}

#[tokio::test]
async fn a_valid_token_is_the_only_exemption_and_then_the_session_plays_no_part() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", PASSWORD).await;
    with_user(&app, "bob", PASSWORD).await;
    let ada = logged_in(&app, "ada").await;
    let bob = logged_in(&app, "bob").await;
    let key = api_token(&app, &ada).await;
    let bearer = format!("Bearer {key}");

    // The token names ada; bob's session cookie on the same request is ignored.
    let res = app
        .send(api(
            "GET",
            "/api/accounts/current-user/",
            None,
            Some(&bob),
            &[("authorization", &bearer)],
        ))
        .await;
    assert_eq!(body_json(res).await["username"], "ada");
    // A token-authenticated logout does not end the session whose cookie came along.
    let res = app
        .send(api(
            "POST",
            "/api/accounts/api/logout/",
            Some(json!({})),
            Some(&bob),
            &[("authorization", &bearer), ("origin", "https://tool.example")],
        ))
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "a valid token is exempt from the origin check"
    );
    assert_eq!(current_user(&app, &bob).await.0, StatusCode::OK);

    // An invalid token never falls back to the session, and is not exempt.
    let res = app
        .send(api(
            "GET",
            "/api/accounts/current-user/",
            None,
            Some(&ada),
            &[("authorization", "Bearer not-a-token")],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .send(api(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "hi"})),
            Some(&ada),
            &[
                ("authorization", "Token thc_forged"),
                ("origin", "https://evil.example"),
            ],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Server functions and page routes never take the exemption, even with a valid token.
    let mut req = cross_site_post(UpdateProfile::PATH, "email=a%40evil.example", &ada);
    req.headers_mut().insert("authorization", bearer.parse().unwrap());
    assert_eq!(app.send(req).await.status(), StatusCode::FORBIDDEN);
    let mut req = cross_site_post("/theme", "theme=dark", &ada);
    req.headers_mut().insert("authorization", bearer.parse().unwrap());
    assert_eq!(app.send(req).await.status(), StatusCode::FORBIDDEN);
}

// 2. Session fixation: every successful login gets a new session id and a new CSRF token.

/// The `csrftoken` a response sets, if any.
fn csrf_cookie(res: &axum::http::Response<Body>) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("csrftoken="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

#[tokio::test]
async fn logging_in_on_a_planted_session_gives_a_new_session_and_csrf_token() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "mallory", PASSWORD).await;
    with_user(&app, "ada", PASSWORD).await;
    const OLD_CSRF: &str = "0123456789abcdef0123456789abcdef";
    for (surface, path) in [("page", Login::PATH), ("api", "/api/accounts/api/login/")] {
        // The attacker logs in and plants the session id in the victim's browser.
        let planted = logged_in(&app, "mallory").await;
        let cookie = format!("{planted}; csrftoken={OLD_CSRF}");
        let res = if surface == "page" {
            let body = format!("login=ada&password={PASSWORD}");
            app.send(form_post(path, "/login", &body, Some(&cookie), ORIGIN)).await
        } else {
            let body = json!({"username": "ada", "password": PASSWORD});
            app.send(api("POST", path, Some(body), Some(&cookie), &[("origin", ORIGIN)]))
                .await
        };
        assert!(res.status().is_success() || res.status().is_redirection(), "{surface}");
        let fresh = session_cookie(&res).unwrap_or_else(|| panic!("{surface}: a new session cookie"));
        assert_ne!(fresh, planted, "{surface}: the session id changes at login");
        let csrf = csrf_cookie(&res).unwrap_or_else(|| panic!("{surface}: a new CSRF token"));
        assert_ne!(csrf, OLD_CSRF, "{surface}: the CSRF token is rotated");
        assert_eq!(csrf.len(), 32);
        // The planted id is worth nothing now: it is neither the victim's session nor the attacker's any more.
        assert_eq!(
            current_user(&app, &planted).await.0,
            StatusCode::UNAUTHORIZED,
            "{surface}"
        );
        assert_eq!(current_user(&app, &fresh).await.1["username"], "ada", "{surface}");
    }

    // Registering on a planted session too.
    let planted = logged_in(&app, "mallory").await;
    let body = format!("username=carol&email=carol%40example.com&password1={PASSWORD}&password2={PASSWORD}");
    let res = app
        .send(form_post(Register::PATH, "/register", &body, Some(&planted), ORIGIN))
        .await;
    let fresh = session_cookie(&res).unwrap();
    assert_ne!(fresh, planted);
    assert_eq!(current_user(&app, &planted).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(current_user(&app, &fresh).await.1["username"], "carol");
}

// 3. A failing no-JavaScript form post goes back to a page of this site only.

#[tokio::test]
async fn failed_form_posts_never_redirect_to_another_site() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", PASSWORD).await;
    let post = |referer: &str| {
        // No Origin (an old browser): the form's CSRF token stands in for it.
        Request::post(Login::PATH)
            .header("host", "127.0.0.1:3000")
            .header("referer", referer)
            .header("cookie", format!("csrftoken={}", crate::common::CSRF))
            .header("accept", "text/html")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "csrfmiddlewaretoken={}&login=ada&password=wrong",
                crate::common::CSRF
            )))
            .unwrap()
    };
    for hostile in [
        "https://evil.example/x",
        "//evil.example/x",
        "http://127.0.0.1:3000.evil.example/login",
        "javascript:alert(1)",
        "/\\evil.example",
    ] {
        let res = app.send(post(hostile)).await;
        assert_eq!(res.status(), StatusCode::FOUND, "{hostile}");
        let location = header(&res, "location");
        // SITE_URL: this request has no Origin.
        assert!(
            location.starts_with("http://127.0.0.1:3000/login?__path="),
            "{hostile} → {location}"
        );
    }
    // Our own page stays the target, with its query.
    let res = app.send(post(&format!("{ORIGIN}/login?next=%2Fchat"))).await;
    assert!(header(&res, "location").starts_with(&format!("{ORIGIN}/login?next=%2Fchat&")));
    // No Referer at all: the form's page too (Leptos would otherwise pick the home page), at the Origin it came from.
    let mut req = post("x");
    req.headers_mut().remove("referer");
    req.headers_mut().insert("origin", ORIGIN.parse().unwrap());
    assert!(header(&app.send(req).await, "location").starts_with(&format!("{ORIGIN}/login?__path=")));
}

// 4. The reset request answers without waiting for the mail, for known and unknown addresses alike.

#[tokio::test]
async fn a_reset_request_does_not_wait_for_the_mail_relay() {
    // A relay that accepts connections and never says a word: sending would hang until lettre's timeout.
    let relay = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = relay.local_addr().unwrap().port().to_string();
    let (seen_tx, mut seen) = tokio::sync::mpsc::channel::<()>(8);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = relay.accept().await {
            held.push(socket);
            let _ = seen_tx.send(()).await;
        }
    });
    let app = TestApp::new(&[
        ("EMAIL_BACKEND", "smtp"),
        ("EMAIL_HOST", "127.0.0.1"),
        ("EMAIL_PORT", &port),
        ("EMAIL_USE_TLS", "false"),
    ])
    .await;
    with_user(&app, "ada", PASSWORD).await;
    for (email, known) in [("ada%40example.com", true), ("nobody%40example.com", false)] {
        let started = Instant::now();
        let res = app
            .send(form_post(
                RequestPasswordReset::PATH,
                "/forgot-password",
                &format!("email={email}"),
                None,
                ORIGIN,
            ))
            .await;
        assert_eq!(header(&res, "location"), "/forgot-password?sent=1");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "known={known}: answered in {:?} while the relay stalls",
            started.elapsed()
        );
    }
    // The known address's mail is being sent in the background (the relay got its connection).
    tokio::time::timeout(Duration::from_secs(10), seen.recv())
        .await
        .expect("the outbox connects to the relay")
        .unwrap();
}

// 5. Client addresses behind a reverse proxy.

/// An anonymous API call from `peer`, with an optional `X-Forwarded-For`.
fn from_peer(peer: &str, forwarded_for: Option<&str>) -> Request<Body> {
    let mut req = api("GET", "/api/csrf/", None, None, &[]);
    req.extensions_mut()
        .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    if let Some(hops) = forwarded_for {
        req.headers_mut().insert("x-forwarded-for", hops.parse().unwrap());
    }
    req
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    // Untrusted: the header is ignored, so a client cannot escape its limit by inventing addresses.
    let app = TestApp::new(&[("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "2")]).await;
    let router = app.router();
    for hop in ["1.1.1.1", "2.2.2.2"] {
        let res = router
            .clone()
            .oneshot(from_peer("198.51.100.7:5000", Some(hop)))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = router
        .clone()
        .oneshot(from_peer("198.51.100.7:5000", Some("3.3.3.3")))
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the peer's own limit applies"
    );

    // Behind a trusted proxy every client has its own limit, and a forged first hop changes nothing.
    let app = TestApp::new(&[
        ("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "2"),
        ("TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8"),
    ])
    .await;
    let router = app.router();
    for forged in ["6.6.6.1", "6.6.6.2"] {
        let hops = format!("{forged}, 203.0.113.5, 10.0.0.2");
        let res = router
            .clone()
            .oneshot(from_peer("127.0.0.1:4000", Some(&hops)))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = router
        .clone()
        .oneshot(from_peer("127.0.0.1:4000", Some("6.6.6.3, 203.0.113.5")))
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "203.0.113.5 used its two requests"
    );
    let res = router
        .clone()
        .oneshot(from_peer("127.0.0.1:4000", Some("203.0.113.99")))
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "another client behind the same proxy is not locked out"
    );
}

#[tokio::test]
async fn a_malformed_trusted_proxies_list_names_the_key() {
    let db = crate::common::TestDb::new().await;
    let pairs = [
        ("DATABASE_URL", db.url.as_str()),
        ("TRUSTED_PROXIES", "10.0.0.0/8, nginx"),
    ];
    let sources = thicode::core::config::Sources::from_pairs(db.dir.path(), pairs);
    let err = thicode::core::config::Config::from_sources(&sources).unwrap_err();
    assert_eq!(err.key, "TRUSTED_PROXIES");
    assert!(err.to_string().contains("\"nginx\""), "{err}");
}

// 6. The development secret is generated once and kept.

#[test]
fn the_development_secret_survives_a_restart_and_is_private() {
    use thicode::core::config::{Config, Sources};
    let dir = tempfile::tempdir().unwrap();
    // From these sources alone (not the process environment), as `Config::load` does after reading them.
    let start = || {
        Config::from_sources(&Sources::from_pairs(dir.path(), [("RUST_LOG", "warn")]))
            .unwrap()
            .with_kept_secret()
            .unwrap()
    };
    let first = start();
    let second = start();
    assert_eq!(first.security.secret_key.expose(), second.security.secret_key.expose());
    assert!(first.security.secret_key.expose().len() >= 32);
    let file = dir.path().join("data").join("secret_key");
    assert_eq!(first.security.secret_key_file.as_deref(), Some(file.as_path()));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        first.security.secret_key.expose()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = || std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(), 0o600, "only the owner may read the secret");
        // A file someone made readable to others is made private again, and keeps its secret.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(start().security.secret_key.expose(), first.security.secret_key.expose());
        assert_eq!(mode(), 0o600);
    }
    // A file too short to be a secret is replaced.
    std::fs::write(&file, "short").unwrap();
    let replaced = start();
    assert_ne!(
        replaced.security.secret_key.expose(),
        first.security.secret_key.expose()
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        replaced.security.secret_key.expose()
    );
    // With SECRET_KEY set, no file is involved.
    let given = Config::from_sources(&Sources::from_pairs(
        dir.path(),
        [("SECRET_KEY", "k".repeat(40).as_str())],
    ))
    .unwrap()
    .with_kept_secret()
    .unwrap();
    assert!(given.security.secret_key_file.is_none());
    assert_eq!(given.security.secret_key.expose(), "k".repeat(40));
}

// 9. Arguments a server function cannot decode answer 400 with the field named, in every encoding.

#[tokio::test]
async fn undecodable_server_function_arguments_are_400_with_the_field() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", PASSWORD).await;
    let cookie = logged_in(&app, "ada").await;
    let call = |path: &'static str, content_type: &str, body: String| {
        Request::post(path)
            .header("host", "127.0.0.1:3000")
            .header("origin", ORIGIN)
            .header("accept", "application/json")
            .header("content-type", content_type.to_string())
            .header("cookie", cookie.clone())
            .body(Body::from(body))
            .unwrap()
    };
    let form = "application/x-www-form-urlencoded";
    for (path, body, field) in [
        (Login::PATH, "login=ada", "password"),
        (
            Register::PATH,
            "username=x&email=x%40example.com&password1=a",
            "password2",
        ),
        (UpdateProfile::PATH, "email=ada%40example.com", "first_name"),
        (ChangePassword::PATH, "old_password=x", "new_password1"),
        (DeleteAccount::PATH, "", "password"),
        (CreateApiToken::PATH, "name=x", "expires_in_days"),
        (RevokeApiToken::PATH, "", "id"),
        (RequestPasswordReset::PATH, "", "email"),
        (ResetPassword::PATH, "token=x&new_password1=a", "new_password2"),
    ] {
        let res = app.send(call(path, form, body.to_string())).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path} ({body})");
        let answer = text(res).await;
        assert!(answer.contains(&format!("\"{field}\"")), "{path}: {answer}");
        assert!(answer.contains("This field is required."), "{path}: {answer}");
    }
    // Other encodings than the form one: JSON and multipart bodies are not what these functions read.
    let json_body = json!({"login": "ada", "password": PASSWORD}).to_string();
    let res = app.send(call(Login::PATH, "application/json", json_body)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(text(res).await.contains("This field is required."));
    let multipart = "--b\r\nContent-Disposition: form-data; name=\"login\"\r\n\r\nada\r\n--b--\r\n".to_string();
    let res = app
        .send(call(Login::PATH, "multipart/form-data; boundary=b", multipart))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // A chat argument of the wrong type is a 400 too (the decoder does not say which field a number was).
    let res = app.send(call(UpdateConversation::PATH, form, "id=abc".into())).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(text(res).await.contains("wrong type"));
    let res = app.send(call(UpdateConversation::PATH, form, "title=x".into())).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(text(res).await.contains("\"id\""));
    // Without JavaScript the form comes back with the error, as any other form error.
    let res = app
        .send(form_post(Login::PATH, "/login", "login=ada", None, ORIGIN))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert!(header(&res, "location").contains("__err="));
}

// 10. A conversation that is not the user's answers 404.

#[tokio::test]
async fn missing_and_foreign_conversations_are_404_pages() {
    let chat = Chat::new(&[]).await;
    let ada = chat.user("ada").await;
    let bob = chat.user("bob").await;
    let (_, sent) = chat.send(&ada, None, "mine").await;
    let id = sent["conversation_id"].as_i64().unwrap();
    chat.settled(sent["assistant_message_id"].as_i64().unwrap()).await;
    let page = |path: String, cookie: String| {
        Request::get(path)
            .header("host", "127.0.0.1:3000")
            .header("cookie", cookie)
            .body(Body::empty())
            .unwrap()
    };
    let res = chat.app.send(page(format!("/chat/{id}"), ada.clone())).await;
    assert_eq!(res.status(), StatusCode::OK);
    for (path, cookie) in [
        (format!("/chat/{id}"), bob.clone()),
        ("/chat/999999".to_string(), ada.clone()),
        ("/chat/abc".to_string(), ada.clone()),
    ] {
        let res = chat.app.send(page(path.clone(), cookie.clone())).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let body = text(res).await;
        assert!(body.contains("Conversation not found"), "{path}");
        if cookie == bob {
            assert!(
                !body.contains("mine"),
                "{path}: nothing of the conversation is revealed"
            );
        }
    }
}

// 11. Clients of the original backend: fields it read loosely are read loosely.

#[tokio::test]
async fn fields_the_original_accepted_loosely_are_accepted() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    let headers = [("origin", ORIGIN)];
    let res = chat
        .app
        .send(api(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "First", "client_ref": 7})),
            Some(&cookie),
            &headers,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = body_json(res).await["id"].as_i64().unwrap();
    let path = format!("/api/chat/conversations/{id}/messages/");
    // Any content type of at most 50 characters, even a model name; unknown ones are stored as the default.
    for content_type in ["mistral", "TEXT", "application/octet-stream"] {
        for _ in 0..200 {
            let busy: Option<i64> = sqlx::query_scalar("SELECT generating_id FROM conversations WHERE id = $1")
                .bind(id)
                .fetch_one(&chat.app.pool().pool)
                .await
                .unwrap();
            if busy.is_none() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let body = json!({"content": "Again", "content_type": content_type, "extra": true});
        let res = chat
            .app
            .send(api("POST", &path, Some(body), Some(&cookie), &headers))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "{content_type}");
        let stored = body_json(res).await["user_message"]["content_type"].clone();
        let expected = if content_type == "TEXT" {
            "text/plain"
        } else {
            "text/markdown"
        };
        assert_eq!(stored, expected, "{content_type}");
    }
    let res = chat
        .app
        .send(api(
            "POST",
            &path,
            Some(json!({"content": "x", "content_type": "x".repeat(51)})),
            Some(&cookie),
            &headers,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(body_json(res).await["content_type"].is_array());

    // DRF's booleans, numbers as text and tags as text; unknown fields ignored.
    let res = chat
        .app
        .send(api(
            "PATCH",
            &format!("/api/chat/conversations/{id}/"),
            Some(json!({"is_pinned": "true", "title": 2024, "tags": "work, ideas", "messages": []})),
            Some(&cookie),
            &headers,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = body_json(res).await;
    assert_eq!(body["is_pinned"], true);
    assert_eq!(body["title"], "2024");
    assert_eq!(body["tags"], json!(["work", "ideas"]));

    // The settings route takes the whole User back, as a client that edits it in place sends it.
    let (_, me) = current_user(&chat.app, &cookie).await;
    let mut edited = me.clone();
    edited["bio"] = json!("Hello");
    let res = chat
        .app
        .send(api(
            "PATCH",
            "/api/accounts/settings/",
            Some(edited),
            Some(&cookie),
            &headers,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_json(res).await["bio"], "Hello");

    // Form-encoded and multipart bodies, as DRF's default parsers read them.
    let form = Request::post("/api/accounts/api/login/")
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("username=ada&password={}", urlencode(PASSWORD))))
        .unwrap();
    assert_eq!(chat.app.send(form).await.status(), StatusCode::OK);
    let multipart = format!(
        "--b\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nada\r\n--b\r\nContent-Disposition: \
         form-data; name=\"password\"\r\n\r\n{PASSWORD}\r\n--b--\r\n"
    );
    let form = Request::post("/api/accounts/api/login/")
        .header("host", "127.0.0.1:3000")
        .header("content-type", "multipart/form-data; boundary=b")
        .body(Body::from(multipart))
        .unwrap();
    assert_eq!(chat.app.send(form).await.status(), StatusCode::OK);
}

// 12. A refused create leaves nothing behind.

#[tokio::test]
async fn a_refused_create_leaves_no_conversation() {
    let chat = Chat::new(&[("RATE_LIMIT_MESSAGES_PER_MINUTE", "1")]).await;
    let cookie = chat.user("ada").await;
    let create = |body: Value| {
        api(
            "POST",
            "/api/chat/conversations/",
            Some(body),
            Some(&cookie),
            &[("origin", ORIGIN)],
        )
    };
    let res = chat.app.send(create(json!({"initial_message": "one"}))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = chat.app.send(create(json!({"initial_message": "two"}))).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(!header(&res, "retry-after").is_empty());
    let res = chat
        .app
        .send(create(json!({"initial_message": "three", "model": "no-such-model"})))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "only the accepted conversation exists");
    let empty: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM conversations c WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id)",
    )
    .fetch_one(&chat.app.pool().pool)
    .await
    .unwrap();
    assert_eq!(empty, 0);
}

// 13. A page keeps its own policy whatever is served beside it.

/// The nonce a page policy names.
fn nonce_of(csp: &str) -> Option<String> {
    Some(csp.split("'nonce-").nth(1)?.split('\'').next()?.to_string())
}

#[tokio::test(flavor = "current_thread")]
async fn an_asset_served_while_a_page_renders_takes_nothing_from_it() {
    let app = TestApp::new(&[]).await;
    let router = app.router();
    // On one thread: the page starts rendering and parks, then a static file is served in between.
    let page = tokio::spawn(router.clone().oneshot(get("/")));
    tokio::task::yield_now().await;
    let asset = router.clone().oneshot(get("/favicon.ico")).await.unwrap();
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(
        header(&asset, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'",
        "the asset has the strict policy, not the page's"
    );
    let page = page.await.unwrap().unwrap();
    let csp = header(&page, "content-security-policy").to_string();
    let nonce = nonce_of(&csp).expect("the page keeps its nonce policy");
    assert!(text(page).await.contains(&format!("nonce=\"{nonce}\"")));
}

#[tokio::test(flavor = "current_thread")]
async fn a_request_handled_while_a_page_renders_takes_none_of_its_response() {
    // The 404 page sets its status through Leptos' response options, then parks while it renders. Before each
    // request had an owner of its own, an asset served in between took that status (and would have taken any header
    // or cookie the page set) and the page lost it.
    let app = TestApp::new(&[]).await;
    let router = app.router();
    // On one thread the schedule is the same every run: serve the asset after 0, 1, 2 … turns of the page's task, so
    // that one of them lands inside the page's render.
    for turns in 0..12 {
        let page = tokio::spawn(router.clone().oneshot(get("/no/such/page")));
        for _ in 0..turns {
            tokio::task::yield_now().await;
        }
        let asset = router.clone().oneshot(get("/favicon.ico")).await.unwrap();
        assert_eq!(
            asset.status(),
            StatusCode::OK,
            "after {turns} turns: the asset keeps its own status"
        );
        let page = page.await.unwrap().unwrap();
        assert_eq!(
            page.status(),
            StatusCode::NOT_FOUND,
            "after {turns} turns: the page keeps its own status"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_pages_and_assets_each_keep_their_policy() {
    let app = TestApp::new(&[]).await;
    let router = app.router();
    let mut tasks = Vec::new();
    for i in 0..120 {
        let router = router.clone();
        tasks.push(tokio::spawn(async move {
            let path = match i % 4 {
                0 => "/",
                1 => "/favicon.ico",
                2 => "/login",
                _ => "/no/such/page",
            };
            let res = router.oneshot(get(path)).await.unwrap();
            let csp = header(&res, "content-security-policy").to_string();
            let is_page = path != "/favicon.ico";
            let bytes = http_body_util::BodyExt::collect(res.into_body())
                .await
                .unwrap()
                .to_bytes();
            let body = String::from_utf8_lossy(&bytes).into_owned();
            (path, is_page, csp, body)
        }));
    }
    for task in tasks {
        let (path, is_page, csp, body) = task.await.unwrap();
        if is_page {
            let nonce = nonce_of(&csp).unwrap_or_else(|| panic!("{path}: page policy lost: {csp}"));
            assert!(
                body.contains(&format!("nonce=\"{nonce}\"")),
                "{path}: the body carries the header's nonce"
            );
        } else {
            assert!(!csp.contains("nonce"), "{path}: {csp}");
        }
    }
}
