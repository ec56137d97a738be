//! Registration through its server function, as a browser without JavaScript posts it.

use crate::common::{ORIGIN, TestApp, form_post, header, page, session_cookie, with_user};
use axum::http::StatusCode;
use leptos::server_fn::ServerFn;
use thicode::accounts::server_fns::Register;
use thicode::accounts::users;

fn body(username: &str, email: &str, password1: &str, password2: &str) -> String {
    let enc = |s: &str| s.replace('@', "%40").replace(' ', "+");
    format!(
        "username={}&email={}&password1={}&password2={}&next=%2F",
        enc(username),
        enc(email),
        enc(password1),
        enc(password2)
    )
}

#[tokio::test]
async fn a_valid_registration_creates_an_ordinary_account_and_logs_it_in() {
    let app = TestApp::new(&[]).await;
    let res = app
        .send(form_post(
            Register::PATH,
            "/register",
            &body("grace", "grace@example.com", "Cobol-Rules-1959", "Cobol-Rules-1959"),
            None,
            ORIGIN,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(header(&res, "location"), "/");
    let cookie = session_cookie(&res).expect("logged in");
    assert!(page(&app, "/", Some(&cookie)).await.contains(">grace</a>"));
    let user = users::by_login(&app.pool().pool, "grace").await.unwrap().unwrap();
    assert!(
        !user.is_staff && !user.is_superuser && user.is_active,
        "registration never grants staff"
    );
    assert!(user.password.starts_with("$argon2id$"));
}

#[tokio::test]
async fn every_field_gets_its_own_message_and_the_input_is_kept() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    let cases: &[(&str, &str, &str, &str, &[&str])] = &[
        (
            "ADA",
            "new@example.com",
            "Cobol-Rules-1959",
            "Cobol-Rules-1959",
            &["A user with that username already exists."],
        ),
        (
            "grace",
            "Ada@Example.com",
            "Cobol-Rules-1959",
            "Cobol-Rules-1959",
            &["A user with that email already exists."],
        ),
        (
            "bad name",
            "not-an-email",
            "Cobol-Rules-1959",
            "Cobol-Rules-1959",
            &["Enter a valid username.", "Enter a valid email address."],
        ),
        (
            "grace",
            "grace@example.com",
            "123",
            "123",
            &["This password is too short.", "This password is entirely numeric."],
        ),
        (
            "grace",
            "grace@example.com",
            "password",
            "password",
            &["This password is too common."],
        ),
        (
            "grace",
            "grace@example.com",
            "grace123",
            "grace123",
            &["The password is too similar to the username."],
        ),
        (
            "grace",
            "grace@example.com",
            "Cobol-Rules-1959",
            "Cobol-Rules-1960",
            &["The two password fields didn"],
        ),
        ("", "", "", "", &["This field may not be blank."]),
    ];
    for (username, email, p1, p2, expected) in cases {
        let res = app
            .send(form_post(
                Register::PATH,
                "/register",
                &body(username, email, p1, p2),
                None,
                ORIGIN,
            ))
            .await;
        assert_eq!(res.status(), StatusCode::FOUND, "{username}");
        assert!(
            session_cookie(&res).is_none(),
            "{username}: {:?} -> {}",
            res.headers().get_all("set-cookie"),
            header(&res, "location")
        );
        let html = page(&app, header(&res, "location").trim_start_matches(ORIGIN), None).await;
        for message in *expected {
            assert!(html.contains(message), "{username}/{email}: missing {message:?}");
        }
        if !username.is_empty() {
            assert!(html.contains(&format!(r#"value="{username}""#)), "username kept");
        }
        assert!(
            !html.contains(&format!(r#"value="{p1}""#)) || p1.is_empty(),
            "passwords are never echoed"
        );
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    assert_eq!(count, 1, "nothing was created");
}

#[tokio::test]
async fn overlong_input_is_rejected_not_truncated() {
    let app = TestApp::new(&[]).await;
    let long_name = "a".repeat(151);
    let res = app
        .send(form_post(
            Register::PATH,
            "/register",
            &body(&long_name, "g@example.com", "Cobol-Rules-1959", "Cobol-Rules-1959"),
            None,
            ORIGIN,
        ))
        .await;
    let html = page(&app, header(&res, "location").trim_start_matches(ORIGIN), None).await;
    assert!(html.contains("Ensure this field has no more than 150 characters."));
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn scripts_get_400_with_the_field_errors_as_json() {
    let app = TestApp::new(&[]).await;
    let req = axum::http::Request::post(Register::PATH)
        .header("host", "127.0.0.1:3000")
        .header("origin", ORIGIN)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body(
            "x",
            "x@example.com",
            "12345678",
            "1234567",
        )))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let answer = crate::common::json(res).await;
    assert_eq!(
        answer["Invalid"]["fields"]["password2"][0],
        "The two password fields didn't match."
    );
}
