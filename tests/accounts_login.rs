//! Logging in and out through the server functions exactly as a browser without JavaScript does: form posts,
//! redirects, the session cookie, and errors carried back to the form.
#![cfg(feature = "ssr")]
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use common::{TestApp, header, text};
use leptos::server_fn::ServerFn;
use thicode::accounts::password;
use thicode::accounts::server_fns::{Login, Logout};
use thicode::accounts::users::{self, NewUser};

const ORIGIN: &str = "http://127.0.0.1:3000";

async fn with_user(app: &TestApp, username: &str, secret: &str) -> i64 {
    let hash = password::hash(secret.to_string()).await.unwrap();
    let new = NewUser {
        username: username.into(),
        email: format!("{username}@example.com"),
        password_hash: hash,
        ..NewUser::default()
    };
    users::create(&app.pool().pool, &new).await.unwrap()
}

/// A form post as a browser without JavaScript sends it.
fn form_post(path: &str, body: &str, cookie: Option<&str>, origin: &str) -> Request<Body> {
    let mut req = Request::post(path)
        .header("host", "127.0.0.1:3000")
        .header("origin", origin)
        .header("referer", format!("{ORIGIN}/login?next=%2Fafter"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

fn session_cookie(res: &Response<Body>) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("sessionid="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

async fn page(app: &TestApp, uri: &str, cookie: Option<&str>) -> String {
    let mut req = Request::get(uri).header("host", "127.0.0.1:3000");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    text(app.send(req.body(Body::empty()).unwrap()).await).await
}

#[tokio::test]
async fn login_and_logout_work_as_plain_form_posts() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;

    let res = app
        .send(form_post(
            Login::PATH,
            "login=ADA%40example.com&password=Tr4vel-Lisbon-Blue&next=%2Fafter",
            None,
            ORIGIN,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND, "success redirects");
    assert_eq!(header(&res, "location"), "/after");
    let set_cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    assert!(!set_cookie.contains("Secure"), "development runs over plain HTTP");
    let cookie = session_cookie(&res).expect("session cookie");
    let home = page(&app, "/", Some(&cookie)).await;
    assert!(
        home.contains(r#"class="user-name">ada</span>"#) && home.contains(">Log out</button>"),
        "{home}"
    );
    assert!(page(&app, "/", None).await.contains(">Log in</a>"));

    // Logging out deletes the session: the old cookie is worthless afterwards.
    let res = app.send(form_post(Logout::PATH, "", Some(&cookie), ORIGIN)).await;
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
        let res = app.send(form_post(Login::PATH, body, None, ORIGIN)).await;
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
    let res = app.send(form_post(Login::PATH, "login=&password=", None, ORIGIN)).await;
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
            "login=ada&password=Tr4vel-Lisbon-Blue&next=https%3A%2F%2Fevil.example",
            None,
            ORIGIN,
        ))
        .await;
    assert_eq!(header(&res, "location"), "/", "no open redirect");
}

#[tokio::test]
async fn a_password_change_ends_existing_sessions() {
    let app = TestApp::new(&[]).await;
    let id = with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    let res = app
        .send(form_post(
            Login::PATH,
            "login=ada&password=Tr4vel-Lisbon-Blue",
            None,
            ORIGIN,
        ))
        .await;
    let cookie = session_cookie(&res).unwrap();
    assert!(page(&app, "/", Some(&cookie)).await.contains("user-name"));
    let new_hash = password::hash("Another-Secret-77".into()).await.unwrap();
    users::set_password(&app.pool().pool, id, &new_hash).await.unwrap();
    assert!(
        !page(&app, "/", Some(&cookie)).await.contains("user-name"),
        "the old session no longer authenticates"
    );
}
