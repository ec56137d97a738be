//! Logging in and out through the server functions exactly as a browser without JavaScript does: form posts,
//! redirects, the session cookie, and errors carried back to the form.

use crate::common::{ORIGIN, TestApp, form_post, header, page, session_cookie, with_user};
use axum::http::StatusCode;
use leptos::server_fn::ServerFn;
use thicode::accounts::password;
use thicode::accounts::server_fns::{Login, Logout};

#[tokio::test]
async fn login_and_logout_work_as_plain_form_posts() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;

    let res = app
        .send(form_post(
            Login::PATH,
            "/login?next=%2Fafter",
            "login=ADA%40example.com&password=Tr4vel-Lisbon-Blue&next=%2Fafter",
            None,
            ORIGIN,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND, "success redirects");
    assert_eq!(header(&res, "location"), "/after");
    let set_cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("sessionid="))
        .unwrap();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    assert!(!set_cookie.contains("Secure"), "development runs over plain HTTP");
    let cookie = session_cookie(&res).expect("session cookie");
    let home = page(&app, "/", Some(&cookie)).await;
    assert!(
        home.contains(">ada</a>") && home.contains(r#"aria-label="Log out""#),
        "{home}"
    );
    assert!(page(&app, "/", None).await.contains(">Log in</a>"));

    // Logging out deletes the session: the old cookie is worthless afterwards.
    let res = app
        .send(form_post(
            Logout::PATH,
            "/login?next=%2Fafter",
            "",
            Some(&cookie),
            ORIGIN,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(header(&res, "location"), "/");
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
    assert!(page(&app, "/", Some(&cookie)).await.contains(">Log in</a>"));
}

#[tokio::test]
async fn wrong_credentials_come_back_to_the_form_with_the_login_kept() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    for body in [
        "login=ada&password=wrong-password",
        "login=nobody&password=Tr4vel-Lisbon-Blue",
    ] {
        let res = app
            .send(form_post(Login::PATH, "/login?next=%2Fafter", body, None, ORIGIN))
            .await;
        assert_eq!(res.status(), StatusCode::FOUND);
        assert!(session_cookie(&res).is_none());
        let location = header(&res, "location").to_string();
        assert!(
            location.starts_with(&format!("{ORIGIN}/login?next=%2Fafter&__path=")),
            "{location}"
        );
        let html = page(&app, location.trim_start_matches(ORIGIN), None).await;
        assert!(
            html.contains("Please enter a correct username or email and password."),
            "{html}"
        );
        let login = body.split('&').next().unwrap().trim_start_matches("login=");
        assert!(html.contains(&format!(r#"value="{login}""#)), "the login is kept");
    }
    let res = app
        .send(form_post(
            Login::PATH,
            "/login?next=%2Fafter",
            "login=&password=",
            None,
            ORIGIN,
        ))
        .await;
    let html = page(&app, header(&res, "location").trim_start_matches(ORIGIN), None).await;
    assert_eq!(
        html.matches("This field may not be blank.").count(),
        2,
        "one message per field"
    );
}

#[tokio::test]
async fn cross_site_login_posts_are_refused_and_next_stays_on_site() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    let res = app
        .send(form_post(
            Login::PATH,
            "/login?next=%2Fafter",
            "login=ada&password=Tr4vel-Lisbon-Blue",
            None,
            "https://evil.example",
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(session_cookie(&res).is_none());

    let res = app
        .send(form_post(
            Login::PATH,
            "/login?next=%2Fafter",
            "login=ada&password=Tr4vel-Lisbon-Blue&next=https%3A%2F%2Fevil.example",
            None,
            ORIGIN,
        ))
        .await;
    assert_eq!(header(&res, "location"), "/chat", "no open redirect: the chat instead");
}

#[tokio::test]
async fn a_password_change_ends_existing_sessions() {
    let app = TestApp::new(&[]).await;
    let id = with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    let res = app
        .send(form_post(
            Login::PATH,
            "/login?next=%2Fafter",
            "login=ada&password=Tr4vel-Lisbon-Blue",
            None,
            ORIGIN,
        ))
        .await;
    let cookie = session_cookie(&res).unwrap();
    assert!(page(&app, "/", Some(&cookie)).await.contains("user-name"));
    let new_hash = password::Hashing::default()
        .hash("Another-Secret-77".into())
        .await
        .unwrap();
    thicode::accounts::jwt::set_password(&app.pool().pool, id, &new_hash)
        .await
        .unwrap();
    assert!(
        !page(&app, "/", Some(&cookie)).await.contains("user-name"),
        "the old session no longer authenticates"
    );
}

#[tokio::test]
async fn scripts_get_400_with_the_field_errors_as_json() {
    let app = TestApp::new(&[]).await;
    let req = axum::http::Request::post(Login::PATH)
        .header("host", "127.0.0.1:3000")
        .header("origin", ORIGIN)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("login=nobody&password=whatever"))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = crate::common::json(res).await;
    assert_eq!(
        body["Invalid"]["fields"]["__all__"][0],
        "Please enter a correct username or email and password."
    );
    assert_eq!(body["Invalid"]["values"]["login"], "nobody");
}
