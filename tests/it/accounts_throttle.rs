//! Throttling of failed logins (per account and per address) and of reset requests.

use crate::common::{ORIGIN, TestApp, form_post, header, page, sent_emails, session_cookie, with_user};
use axum::http::StatusCode;
use leptos::server_fn::ServerFn;
use thicode::accounts::server_fns::{Login, RequestPasswordReset};

async fn try_login(app: &TestApp, login: &str, password: &str) -> (Option<String>, String) {
    let body = format!("login={login}&password={password}");
    let res = app.send(form_post(Login::PATH, "/login", &body, None, ORIGIN)).await;
    let cookie = session_cookie(&res);
    let html = if cookie.is_some() {
        String::new()
    } else {
        page(app, header(&res, "location").trim_start_matches(ORIGIN), None).await
    };
    (cookie, html)
}

#[tokio::test]
async fn five_failures_lock_an_account_for_fifteen_minutes_whether_or_not_it_exists() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    for account in ["ada", "ghost"] {
        for _ in 0..5 {
            let (cookie, html) = try_login(&app, account, "wrong-password").await;
            assert!(cookie.is_none() && html.contains("Please enter a correct username"));
        }
        let (cookie, html) = try_login(&app, account, "Tr4vel-Lisbon-Blue").await;
        assert!(cookie.is_none(), "{account}: even the right password is refused now");
        assert!(
            html.contains("Too many attempts. Try again in 15 minutes."),
            "{account}: {html}"
        );
    }
    // A script gets 429.
    let req = axum::http::Request::post(Login::PATH)
        .header("host", "127.0.0.1:3000")
        .header("origin", ORIGIN)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("login=ada&password=x"))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // The wait, in seconds: the 15 minutes of the lock.
    let body = crate::common::json(res).await;
    let wait = body["Throttled"].as_u64().unwrap_or_else(|| panic!("{body}"));
    assert!((14 * 60 + 1..=15 * 60).contains(&wait), "{wait}");
}

#[tokio::test]
async fn a_success_resets_the_account_count() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    for _ in 0..2 {
        for _ in 0..4 {
            try_login(&app, "ada", "wrong-password").await;
        }
        let (cookie, _) = try_login(&app, "ADA", "Tr4vel-Lisbon-Blue").await;
        assert!(
            cookie.is_some(),
            "four failures are still allowed, and a success starts the count again"
        );
    }
}

#[tokio::test]
async fn twenty_failures_from_one_address_block_it() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    for i in 0..20 {
        try_login(&app, &format!("guess{i}"), "wrong-password").await;
    }
    let (cookie, html) = try_login(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    assert!(cookie.is_none() && html.contains("Too many attempts."));
}

#[tokio::test]
async fn reset_requests_are_limited_per_email() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    for _ in 0..3 {
        let res = app
            .send(form_post(
                RequestPasswordReset::PATH,
                "/forgot-password",
                "email=ada%40example.com",
                None,
                ORIGIN,
            ))
            .await;
        assert_eq!(header(&res, "location"), "/forgot-password?sent=1");
    }
    let res = app
        .send(form_post(
            RequestPasswordReset::PATH,
            "/forgot-password",
            "email=ada%40example.com",
            None,
            ORIGIN,
        ))
        .await;
    let html = page(&app, header(&res, "location").trim_start_matches(ORIGIN), None).await;
    assert!(html.contains("Too many attempts. Try again in 15 minutes."));
    assert_eq!(sent_emails(&app).await.len(), 3);
}
