//! Settings and password change through their server functions, as browsers without JavaScript post them.

use crate::common::{ORIGIN, TestApp, form_post, header, logged_in, page, session_cookie, with_user};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use leptos::server_fn::ServerFn;
use thicode::accounts::server_fns::{ChangePassword, UpdateProfile};
use thicode::accounts::{password, users};

fn settings_body(email: &str, bio: &str, ai_model: &str, display_mode: &str) -> String {
    format!(
        "email={}&first_name=Ada&last_name=Lovelace&bio={}&ai_model={ai_model}&display_mode={display_mode}&language=fr",
        email.replace('@', "%40"),
        bio.replace(' ', "+")
    )
}

#[tokio::test]
async fn settings_need_a_session_and_redirect_to_login() {
    let app = TestApp::new(&[]).await;
    for path in ["/settings", "/settings/password"] {
        // As a browser navigates: it says it wants HTML, which makes the redirect a real 302.
        let req = Request::get(path)
            .header("host", "127.0.0.1:3000")
            .header("accept", "text/html")
            .body(Body::empty());
        let res = app.send(req.unwrap()).await;
        assert_eq!(res.status(), StatusCode::FOUND, "{path}");
        assert_eq!(header(&res, "location"), format!("/login?next={path}"));
    }
    let req = Request::post(UpdateProfile::PATH)
        .header("host", "127.0.0.1:3000")
        .header("origin", crate::common::ORIGIN)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(settings_body(
            "a@example.com",
            "",
            "mistral-small-latest",
            "dark",
        )))
        .unwrap();
    assert_eq!(app.send(req).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn profile_and_preferences_are_saved_and_unknown_preference_keys_kept() {
    let app = TestApp::new(&[]).await;
    let id = with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    sqlx::query("UPDATE users SET preferences = $1 WHERE id = $2")
        .bind(r#"{"ai_model":"mistral-small-latest","client_flag":true}"#)
        .bind(id)
        .execute(&app.pool().pool)
        .await
        .unwrap();
    let cookie = logged_in(&app, "ada").await;
    assert!(
        page(&app, "/settings", Some(&cookie))
            .await
            .contains(r#"value="ada@example.com""#)
    );

    let body = settings_body(
        "Ada.Lovelace@example.com",
        "Poet of science",
        "mistral-large-latest",
        "dark",
    );
    let res = app
        .send(form_post(
            UpdateProfile::PATH,
            "/settings",
            &body,
            Some(&cookie),
            ORIGIN,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    assert_eq!(header(&res, "location"), "/settings?saved=1");
    let cookies: Vec<_> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("theme=dark;")),
        "display mode applies at once: {cookies:?}"
    );

    let user = users::by_id(&app.pool().pool, id).await.unwrap().unwrap();
    assert_eq!(
        (user.email.as_str(), user.first_name.as_str(), user.bio.as_str()),
        ("Ada.Lovelace@example.com", "Ada", "Poet of science")
    );
    let prefs: serde_json::Value = serde_json::from_str(&user.preferences).unwrap();
    assert_eq!(
        prefs,
        serde_json::json!({"ai_model": "mistral-large-latest", "display_mode": "dark", "language": "fr", "client_flag": true})
    );
    let html = page(&app, "/settings?saved=1", Some(&cookie)).await;
    assert!(html.contains("Your settings were saved.") && html.contains("Poet of science"));
    assert!(
        html.contains(r#"<option value="mistral-large-latest" selected"#),
        "saved model preselected"
    );
}

#[tokio::test]
async fn invalid_settings_get_field_errors_and_change_nothing() {
    let app = TestApp::new(&[]).await;
    let id = with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    with_user(&app, "bob", "Tr4vel-Lisbon-Blue").await;
    let cookie = logged_in(&app, "ada").await;
    let before = users::by_id(&app.pool().pool, id).await.unwrap().unwrap();
    let long_bio = "b".repeat(501);
    for (body, message) in [
        (
            settings_body("BOB@example.com", "", "mistral-small-latest", "dark"),
            "A user with that email already exists.",
        ),
        (
            settings_body("not-an-email", "", "mistral-small-latest", "dark"),
            "Enter a valid email address.",
        ),
        (
            settings_body("ada@example.com", &long_bio, "mistral-small-latest", "dark"),
            "Ensure this field has no more than 500 characters",
        ),
        (
            settings_body("ada@example.com", "", "gpt-4", "dark"),
            "gpt-4 is not one of the available choices.",
        ),
        (
            settings_body("ada@example.com", "", "mistral-small-latest", "purple"),
            "purple is not one of the available choices.",
        ),
    ] {
        let res = app
            .send(form_post(
                UpdateProfile::PATH,
                "/settings",
                &body,
                Some(&cookie),
                ORIGIN,
            ))
            .await;
        let html = page(&app, header(&res, "location").trim_start_matches(ORIGIN), Some(&cookie)).await;
        assert!(html.contains(message), "missing {message:?}");
    }
    let after = users::by_id(&app.pool().pool, id).await.unwrap().unwrap();
    assert_eq!(
        (after.email, after.bio, after.preferences),
        (before.email, before.bio, before.preferences)
    );
}

#[tokio::test]
async fn password_change_keeps_this_session_and_ends_the_others() {
    let app = TestApp::new(&[]).await;
    let id = with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    let here = logged_in(&app, "ada").await;
    let elsewhere = logged_in(&app, "ada").await;

    let wrong = "old_password=nope&new_password1=Brand-New-Secret-5&new_password2=Brand-New-Secret-5";
    let res = app
        .send(form_post(
            ChangePassword::PATH,
            "/settings/password",
            wrong,
            Some(&here),
            ORIGIN,
        ))
        .await;
    let html = page(&app, header(&res, "location").trim_start_matches(ORIGIN), Some(&here)).await;
    assert!(html.contains("Your old password was entered incorrectly."));
    let weak = "old_password=Tr4vel-Lisbon-Blue&new_password1=ada12&new_password2=ada12";
    let res = app
        .send(form_post(
            ChangePassword::PATH,
            "/settings/password",
            weak,
            Some(&here),
            ORIGIN,
        ))
        .await;
    let html = page(&app, header(&res, "location").trim_start_matches(ORIGIN), Some(&here)).await;
    assert!(html.contains("This password is too short."));

    let good = "old_password=Tr4vel-Lisbon-Blue&new_password1=Brand-New-Secret-5&new_password2=Brand-New-Secret-5";
    let res = app
        .send(form_post(
            ChangePassword::PATH,
            "/settings/password",
            good,
            Some(&here),
            ORIGIN,
        ))
        .await;
    assert_eq!(header(&res, "location"), "/settings?password_changed=1");
    let here = session_cookie(&res).unwrap_or(here);
    assert!(
        page(&app, "/", Some(&here)).await.contains(">ada</a>"),
        "this session stays logged in"
    );
    assert!(
        !page(&app, "/", Some(&elsewhere)).await.contains(">ada</a>"),
        "other sessions end"
    );
    let user = users::by_id(&app.pool().pool, id).await.unwrap().unwrap();
    assert!(
        password::Hashing::default()
            .verify("Brand-New-Secret-5".into(), Some(user.password))
            .await
            .unwrap()
    );
}
