//! The REST API's first routes (issue #5): CSRF cookie, DRF-shaped errors, session login/logout, current user.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, header, json, session_cookie, with_user};

fn post_json(path: &str, body: &str, cookie: Option<&str>, extra: &[(&str, &str)]) -> Request<Body> {
    let mut req = Request::post(path)
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/json");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

fn get_with(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut req = Request::get(path).header("host", "127.0.0.1:3000");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    req.body(Body::empty()).unwrap()
}

const LOGIN: &str = "/api/accounts/api/login/";

#[tokio::test]
async fn csrf_token_comes_as_json_and_a_script_readable_cookie() {
    let app = TestApp::new(&[]).await;
    let res = app.send(get_with("/api/csrf/", None)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = header(&res, "set-cookie").to_string();
    let body = json(res).await;
    let token = body["csrfToken"].as_str().unwrap();
    assert_eq!(token.len(), 32);
    assert!(cookie.starts_with(&format!("csrftoken={token};")), "{cookie}");
    assert!(
        cookie.contains("SameSite=Lax") && !cookie.contains("HttpOnly"),
        "{cookie}"
    );
    // Asked again with the cookie, the same token.
    let res = app
        .send(get_with("/api/csrf/", Some(&format!("csrftoken={token}"))))
        .await;
    assert_eq!(json(res).await["csrfToken"], token);
}

#[tokio::test]
async fn bad_input_and_anonymous_calls_get_drf_shaped_errors() {
    let app = TestApp::new(&[]).await;
    let res = app.send(get_with("/api/accounts/current-user/", None)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&res, "www-authenticate").starts_with("Token"));
    assert_eq!(
        json(res).await,
        json!({"detail": "Authentication credentials were not provided."})
    );

    let res = app.send(post_json(LOGIN, r#"{"username": "ada"}"#, None, &[])).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(res).await, json!({"password": ["This field is required."]}));
    let res = app.send(post_json(LOGIN, r#"{"username": "ada", "#, None, &[])).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(json(res).await["detail"].is_string());
    let res = app
        .send(post_json(LOGIN, r#"{"username": 5, "password": []}"#, None, &[]))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // A form body is read as DRF reads it (issue #11); the missing password is named.
    let mut req = post_json(LOGIN, "username=ada", None, &[]);
    req.headers_mut()
        .insert("content-type", "application/x-www-form-urlencoded".parse().unwrap());
    let res = app.send(req).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(res).await, json!({"password": ["This field is required."]}));
    let mut req = post_json(LOGIN, "username=ada", None, &[]);
    req.headers_mut().insert("content-type", "text/plain".parse().unwrap());
    let res = app.send(req).await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        json(res).await["detail"]
            .as_str()
            .unwrap()
            .starts_with("Unsupported media type")
    );
}

#[tokio::test]
async fn session_login_current_user_and_logout_with_csrf() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    let res = app
        .send(post_json(
            LOGIN,
            r#"{"username": "ada", "password": "wrong-one"}"#,
            None,
            &[],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(res).await, json!({"message": "Invalid credentials"}));

    let res = app
        .send(post_json(
            LOGIN,
            r#"{"username": "ada", "password": "Tr4vel-Lisbon-Blue"}"#,
            None,
            &[],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let session = session_cookie(&res).unwrap();
    let body: Value = json(res).await;
    assert_eq!(body["message"], "Login successful");
    for field in ["id", "username", "email", "date_joined", "preferences"] {
        assert!(body["user"].get(field).is_some(), "{field} in {body}");
    }
    assert!(body["user"].get("password").is_none());

    let res = app.send(get_with("/api/accounts/current-user/", Some(&session))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await["username"], "ada");

    // An unsafe call on the session without a token or an Origin is refused; with the token it passes.
    let logout = "/api/accounts/api/logout/";
    let res = app.send(post_json(logout, "{}", Some(&session), &[])).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(res).await, json!({"detail": "CSRF Failed: CSRF token missing."}));
    let cookies = format!("{session}; csrftoken=0123456789abcdef0123456789abcdef");
    let res = app
        .send(post_json(
            logout,
            "{}",
            Some(&cookies),
            &[("x-csrftoken", "ffffffffffffffffffffffffffffffff")],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(res).await, json!({"detail": "CSRF Failed: CSRF token incorrect."}));
    let res = app
        .send(post_json(
            logout,
            "{}",
            Some(&cookies),
            &[("x-csrftoken", "0123456789abcdef0123456789abcdef")],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(json(res).await, json!({"message": "Logout successful"}));
    let res = app.send(get_with("/api/accounts/current-user/", Some(&session))).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the session is gone");
}

#[tokio::test]
async fn api_logins_are_throttled_like_the_page() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    for _ in 0..5 {
        let res = app
            .send(post_json(
                LOGIN,
                r#"{"username": "ada", "password": "nope-nope"}"#,
                None,
                &[],
            ))
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app
        .send(post_json(
            LOGIN,
            r#"{"username": "ada", "password": "Tr4vel-Lisbon-Blue"}"#,
            None,
            &[],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        json(res).await["detail"]
            .as_str()
            .unwrap()
            .starts_with("Too many attempts.")
    );
}

#[tokio::test]
async fn register_logs_in_and_reports_field_errors_in_the_originals_shape() {
    let app = TestApp::new(&[]).await;
    let path = "/api/accounts/api/register/";
    let body = r#"{"username": "grace", "email": "grace@example.com", "password1": "Cobol-Harbor-1959", "password2": "Cobol-Harbor-1959"}"#;
    let res = app.send(post_json(path, body, None, &[])).await;
    assert_eq!(res.status(), StatusCode::OK);
    let session = session_cookie(&res).unwrap();
    assert_eq!(json(res).await["user"]["username"], "grace");
    let res = app.send(get_with("/api/accounts/current-user/", Some(&session))).await;
    assert_eq!(json(res).await["username"], "grace");

    let res = app
        .send(post_json(
            path,
            r#"{"username": "GRACE", "email": "x@example.com", "password1": "password", "password2": "other"}"#,
            None,
            &[],
        ))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let errors = json(res).await["errors"].clone();
    assert!(
        errors["username"][0].as_str().unwrap().contains("already exists"),
        "{errors}"
    );
    assert!(errors["password2"].is_array(), "{errors}");
}
