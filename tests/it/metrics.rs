//! `/metrics` (#25): off unless configured, then behind a bearer token or an address allow-list; values that change as
//! requests, replies, provider failures and mail happen; and output `promtool check metrics` accepts.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};

use crate::chat_flow::Chat;
use crate::common::{PASSWORD, TestApp, get, json_request, logged_in, text, with_user};

const TOKEN: &str = "metrics-token-0123456789";

fn scrape(token: Option<&str>, peer: &str) -> Request<Body> {
    let mut req = get("/metrics");
    if let Some(token) = token {
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    req.extensions_mut()
        .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    req
}

/// The value of the sample `name` (with its labels, as written) in `body`, 0 when absent.
fn value(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

async fn read(app: &TestApp) -> String {
    let res = app.send(scrape(Some(TOKEN), "10.9.8.7:1234")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(crate::common::header(&res, "content-type").starts_with("text/plain; version=0.0.4"));
    assert_eq!(
        crate::common::header(&res, "cache-control"),
        "no-store",
        "never kept by a cache"
    );
    text(res).await
}

#[tokio::test]
async fn metrics_exist_only_when_configured_and_only_for_the_token_or_an_allowed_address() {
    let off = TestApp::new(&[]).await;
    assert_eq!(
        off.send(scrape(Some(TOKEN), "127.0.0.1:1")).await.status(),
        StatusCode::NOT_FOUND
    );

    let app = TestApp::new(&[("METRICS_TOKEN", TOKEN), ("METRICS_ALLOWED_ADDRESSES", "192.0.2.0/24")]).await;
    for (token, peer) in [
        (None, "10.9.8.7:1"),
        (Some("metrics-token-0123456788"), "10.9.8.7:1"),
        (Some(""), "10.0.0.1:1"),
    ] {
        let res = app.send(scrape(token, peer)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{token:?} from {peer}");
        assert_eq!(crate::common::header(&res, "www-authenticate"), "Bearer");
    }
    assert_eq!(
        app.send(scrape(Some(TOKEN), "10.9.8.7:1")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.send(scrape(None, "192.0.2.33:1")).await.status(),
        StatusCode::OK,
        "an allowed address"
    );
    // A short token is refused at start-up, naming the key.
    let config = thicode::core::config::Config::from_sources(&thicode::core::config::Sources::from_pairs(
        std::path::Path::new("/tmp"),
        vec![("METRICS_TOKEN", "short")],
    ))
    .unwrap_err();
    assert!(config.to_string().starts_with("METRICS_TOKEN:"), "{config}");
}

#[tokio::test]
async fn values_follow_requests_replies_failures_and_mail_and_promtool_accepts_them() {
    let chat = Chat::new(&[("METRICS_TOKEN", TOKEN)]).await;
    let app = &chat.app;
    with_user(app, "ada", PASSWORD).await;
    let before = read(app).await;
    for _ in 0..3 {
        app.send(get("/healthz")).await;
    }
    let cookie = logged_in(app, "ada").await;
    let (_, sent) = chat.send(&cookie, None, "[fake:tokens=12] Hello").await;
    chat.settled(sent["assistant_message_id"].as_i64().unwrap()).await;
    let (_, failed) = chat.send(&cookie, None, "[fake:401] Hello").await;
    chat.settled(failed["assistant_message_id"].as_i64().unwrap()).await;
    app.send(json_request(
        "POST",
        "/api/accounts/api/reset-password/",
        Some(serde_json::json!({"email": "ada@example.com"})),
        None,
        &[],
    ))
    .await;
    app.state.outbox.idle().await;
    let after = read(app).await;

    let grew = |name: &str| value(&after, name) - value(&before, name);
    assert_eq!(
        grew(r#"thicode_http_requests_total{route="/healthz",status="2xx"}"#),
        3.0,
        "{after}"
    );
    assert!(grew(r#"thicode_http_request_duration_seconds_count{route="/healthz"}"#) >= 3.0);
    assert!(grew("thicode_replies_started_total") >= 2.0, "{after}");
    assert!(grew("thicode_tokens_streamed_total") >= 12.0, "{after}");
    assert!(grew("thicode_time_to_first_token_seconds_count") >= 1.0, "{after}");
    assert_eq!(
        grew(r#"thicode_provider_errors_total{code="invalid_api_key"}"#),
        1.0,
        "{after}"
    );
    assert_eq!(grew("thicode_mails_queued_total"), 1.0, "{after}");
    assert_eq!(grew("thicode_mails_sent_total"), 1.0, "{after}");
    assert_eq!(value(&after, "thicode_replies_live"), 0.0, "both replies ended");
    assert!(value(&after, "thicode_process_resident_memory_bytes") > 1e6);
    assert!(
        value(&after, r#"thicode_db_pool_connections{state="idle"}"#) >= 1.0,
        "{after}"
    );
    // Raw paths never become labels.
    app.send(get("/no/such/page/12345")).await;
    let later = read(app).await;
    assert!(!later.contains("12345"), "{later}");

    // Prometheus' own checker (Debian's prometheus package, which scripts/test installs).
    let promtool = std::env::var("PROMTOOL").unwrap_or_else(|_| "promtool".into());
    let mut check = std::process::Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{promtool}: {e} (install Debian's prometheus package; scripts/test does)"));
    use std::io::Write;
    check.stdin.take().unwrap().write_all(later.as_bytes()).unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}\n{later}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
