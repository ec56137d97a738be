//! The HTTP surface through the full middleware stack: health checks, pages, errors, security headers, limits.

use crate::common::{TestApp, get, header, json, text, without_markers};
use axum::body::Body;
use axum::http::{Request, StatusCode};

#[tokio::test]
async fn healthz_answers_with_a_request_id_and_security_headers() {
    let app = TestApp::new(&[]).await;
    let res = app.send(get("/healthz")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "x-request-id").len(), 36, "a UUID request id is sent back");
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    assert_eq!(header(&res, "x-frame-options"), "DENY");
    assert_eq!(header(&res, "referrer-policy"), "same-origin");
    assert_eq!(
        header(&res, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert_eq!(header(&res, "strict-transport-security"), "", "no HSTS in development");
    assert_eq!(json(res).await, serde_json::json!({"status": "ok"}));
}

#[tokio::test]
async fn readyz_follows_the_database() {
    let app = TestApp::new(&[]).await;
    let res = app.send(get("/readyz")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["database"], "ok");

    app.pool().pool.close().await;
    let res = app.send(get("/readyz")).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(json(res).await["database"], "unreachable");
}

#[tokio::test]
async fn home_page_is_rendered_on_the_server_with_a_nonce_csp() {
    let app = TestApp::new(&[]).await;
    let res = app.send(get("/")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control"), "no-store");
    let csp = header(&res, "content-security-policy").to_string();
    let body = without_markers(&text(res).await);
    assert!(body.contains("<h1>Chat with AI on a server you own</h1>"), "{body}");
    assert!(body.contains("<title>Your own AI chat · ThiCode</title>"), "{body}");
    assert!(body.contains(r#"data-theme="system""#));
    // The inline hydration script carries the nonce the policy names; nothing else may run.
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("nonce in CSP");
    assert!(nonce.len() >= 16);
    assert!(
        body.contains(&format!(r#"nonce="{nonce}""#)),
        "script nonce matches the header"
    );
    assert!(
        csp.contains("'wasm-unsafe-eval'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline")
    );

    let second = app.send(get("/")).await;
    assert!(
        !header(&second, "content-security-policy").contains(nonce),
        "a fresh nonce per response"
    );
}

#[tokio::test]
async fn unknown_pages_get_the_app_404_and_unknown_api_routes_json() {
    let app = TestApp::new(&[]).await;
    let res = app.send(get("/no/such/page")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body = text(res).await;
    assert!(
        body.contains("Page not found") && body.contains("<header class=\"site-header\">"),
        "{body}"
    );

    for uri in ["/api/nope/", "/api", "/api/chat/nothing-here/"] {
        let res = app.send(get(uri)).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
        assert!(header(&res, "content-type").starts_with("application/json"));
        assert_eq!(json(res).await, serde_json::json!({"detail": "Not found."}));
    }
    // A real route asks for credentials first, as DRF does.
    let res = app.send(get("/api/chat/conversations/abc/")).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn oversized_bodies_get_413_not_a_crash() {
    let app = TestApp::new(&[("MAX_REQUEST_BODY_BYTES", "2048")]).await;
    let big = "x".repeat(4096);
    let req = Request::post("/api/anything/")
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/json")
        .header("content-length", big.len())
        .body(Body::from(big.clone()))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        json(res).await["detail"],
        "Request body is too large (limit 2048 bytes)."
    );

    // A streamed body with no declared length is cut at the limit too.
    let stream = futures_util_stream(big);
    let req = Request::post("/theme")
        .header("host", "127.0.0.1:3000")
        .header("cookie", format!("csrftoken={}", crate::common::CSRF))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(stream)
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

fn futures_util_stream(text: String) -> Body {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = text.as_bytes().chunks(512).map(|c| Ok(c.to_vec())).collect();
    Body::from_stream(futures::stream::iter(chunks))
}

#[tokio::test]
async fn theme_switch_works_as_a_plain_form_post_and_refuses_other_sites() {
    let app = TestApp::new(&[]).await;
    let post = |origin: Option<&str>, body: &str| {
        let mut req = Request::post("/theme")
            .header("host", "127.0.0.1:3000")
            .header("content-type", "application/x-www-form-urlencoded");
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        req.body(Body::from(body.to_string())).unwrap()
    };

    let res = app
        .send(post(Some("http://127.0.0.1:3000"), "theme=dark&next=%2Fsomewhere"))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&res, "location"), "/somewhere");
    assert!(header(&res, "set-cookie").starts_with("theme=dark;"));

    let res = app
        .send(post(
            Some("http://127.0.0.1:3000"),
            "theme=light&next=%2F%2Fevil.example",
        ))
        .await;
    assert_eq!(header(&res, "location"), "/", "no open redirect");

    let res = app.send(post(Some("http://127.0.0.1:3000"), "theme=purple")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let res = app.send(post(Some("https://evil.example"), "theme=dark")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(header(&res, "set-cookie"), "");
    assert!(
        text(res)
            .await
            .contains("Origin checking failed - https://evil.example does not match any trusted origins.")
    );

    let mut req = post(None, "theme=dark");
    req.headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(app.send(req).await.status(), StatusCode::FORBIDDEN);

    let res = app.send(post(Some("null"), "theme=dark")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // The chosen mode is rendered on the first byte.
    let req = Request::get("/")
        .header("host", "127.0.0.1:3000")
        .header("cookie", "theme=dark")
        .body(Body::empty())
        .unwrap();
    assert!(
        text(app.send(req).await)
            .await
            .contains(r#"<html lang="en" data-theme="dark""#)
    );
}

#[tokio::test]
async fn configured_origins_are_trusted_and_production_adds_hsts() {
    let app = TestApp::new(&[
        ("THICODE_ENV", "production"),
        ("SECRET_KEY", "q7G2x9LmP4vR8tZ1wK6yN3bH5cJ0dF2s"),
        ("CORS_ALLOWED_ORIGINS", "https://app.example.com"),
        ("SITE_URL", "https://chat.example.com"),
    ])
    .await;
    let res = app.send(get("/healthz")).await;
    assert_eq!(
        header(&res, "strict-transport-security"),
        "max-age=31536000; includeSubDomains"
    );

    for (origin, expected) in [
        ("https://app.example.com", StatusCode::SEE_OTHER),
        ("https://chat.example.com", StatusCode::SEE_OTHER),
        ("http://127.0.0.1:3000", StatusCode::FORBIDDEN), // plain HTTP is not our origin in production
        ("https://127.0.0.1:3000", StatusCode::SEE_OTHER), // the host the browser addressed, over HTTPS
    ] {
        let req = Request::post("/theme")
            .header("host", "127.0.0.1:3000")
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("theme=dark"))
            .unwrap();
        assert_eq!(app.send(req).await.status(), expected, "{origin}");
    }
}

#[tokio::test]
async fn responses_are_compressed_and_static_files_cached() {
    let app = TestApp::new(&[]).await;
    for encoding in ["br", "gzip"] {
        let req = Request::get("/")
            .header("host", "127.0.0.1:3000")
            .header("accept-encoding", encoding)
            .body(Body::empty())
            .unwrap();
        let res = app.send(req).await;
        assert_eq!(header(&res, "content-encoding"), encoding);
    }
    let res = app.send(get("/favicon.ico")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "cache-control"), "public, max-age=86400");
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn a_real_tcp_connection_is_served() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::new(&[]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, app.router()).into_future());
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.contains(r#"{"status":"ok"}"#));
    server.abort();
}
