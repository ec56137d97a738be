//! Password hashing under a burst: a bounded number of argon2 computations and a short queue; beyond it a login,
//! registration or password change is refused at once with 503 and `Retry-After`, and counts as no failed attempt.

use crate::common::{ORIGIN, TestApp, form_post, header, json, json_request, page, session_cookie, with_user};
use axum::http::StatusCode;
use futures::future::join_all;
use leptos::server_fn::ServerFn;
use thicode::accounts::password::Hashing;
use thicode::accounts::server_fns::Login;

/// An app whose hashing takes one computation at a time and queues one more.
async fn narrow_app() -> TestApp {
    let mut app = TestApp::new(&[]).await;
    app.state.hashing = Hashing::new(1, 1);
    with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    app
}

fn api_login(username: &str, password: &str) -> axum::http::Request<axum::body::Body> {
    json_request(
        "POST",
        "/api/accounts/api/login/",
        Some(serde_json::json!({"username": username, "password": password})),
        None,
        &[("origin", ORIGIN)],
    )
}

async fn failures_recorded(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM throttle_events WHERE scope = 'login-ip'")
        .fetch_one(&app.pool().pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_api_login_burst_beyond_the_queue_gets_503_with_retry_after_and_no_failure_is_counted() {
    let app = narrow_app().await;
    let answers = join_all((0..12).map(|i| app.send(api_login(&format!("guess{i}"), "wrong-password")))).await;
    let (mut refused, mut checked) = (0, 0);
    for res in answers {
        match res.status() {
            StatusCode::SERVICE_UNAVAILABLE => {
                refused += 1;
                assert_eq!(header(&res, "retry-after"), "1");
                let body = json(res).await;
                assert_eq!(
                    body["detail"], "The server is busy checking passwords. Try again in 1 s.",
                    "{body}"
                );
            }
            StatusCode::UNAUTHORIZED => checked += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        refused >= 1,
        "twelve at once cannot all fit in one slot and a queue of one"
    );
    assert!(checked >= 2, "the slot and the queue were used");
    assert_eq!(
        failures_recorded(&app).await,
        checked,
        "a refused login is not a failed one: it counts towards no lock"
    );
    assert_eq!(app.state.hashing.in_use(), 0, "every place is given back");
    // Once the burst is over, the right password logs in.
    let res = app.send(api_login("ada", "Tr4vel-Lisbon-Blue")).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_script_and_a_form_post_to_the_login_server_function_are_told_to_come_back() {
    let app = narrow_app().await;
    // A script (JSON): 503 with Retry-After.
    let script = |i: usize| {
        axum::http::Request::post(Login::PATH)
            .header("host", "127.0.0.1:3000")
            .header("origin", ORIGIN)
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(format!(
                "login=guess{i}&password=wrong-password"
            )))
            .unwrap()
    };
    let answers = join_all((0..12).map(|i| app.send(script(i)))).await;
    let refused: Vec<_> = answers
        .iter()
        .filter(|res| res.status() == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!refused.is_empty());
    for res in refused {
        assert_eq!(header(res, "retry-after"), "1");
    }
    // A browser without JavaScript: back to the form, which says why.
    let answers = join_all((0..12).map(|i| {
        let body = format!("login=other{i}&password=wrong-password");
        app.send(form_post(Login::PATH, "/login", &body, None, ORIGIN))
    }))
    .await;
    let mut told = 0;
    for res in answers {
        assert!(session_cookie(&res).is_none());
        let location = header(&res, "location").trim_start_matches(ORIGIN).to_string();
        assert!(location.starts_with("/login"), "{location}");
        let html = page(&app, &location, None).await;
        if html.contains("The server is busy checking passwords. Try again in 1 s.") {
            told += 1;
        } else {
            assert!(html.contains("Please enter a correct username"), "{html}");
        }
    }
    assert!(told >= 1);
}

#[tokio::test]
async fn a_registration_refused_for_load_creates_no_account() {
    let mut app = TestApp::new(&[]).await;
    app.state.hashing = Hashing::new(1, 0);
    let register = |i: usize| {
        json_request(
            "POST",
            "/api/accounts/api/register/",
            Some(serde_json::json!({
                "username": format!("newcomer{i}"),
                "email": format!("newcomer{i}@example.com"),
                "password1": "Tr4vel-Lisbon-Blue",
                "password2": "Tr4vel-Lisbon-Blue",
            })),
            None,
            &[("origin", ORIGIN)],
        )
    };
    let answers = join_all((0..6).map(|i| app.send(register(i)))).await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    let created = statuses.iter().filter(|s| **s == 200 || **s == 201).count();
    assert!(statuses.iter().all(|s| [200, 201, 503].contains(s)), "{statuses:?}");
    assert!(statuses.contains(&503), "{statuses:?}");
    let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    assert_eq!(
        accounts as usize, created,
        "only the accepted registrations made accounts"
    );
}
