//! The personal data export and account deletion.

use crate::common::{ORIGIN, TestApp, form_post, header, logged_in, page, with_user};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use leptos::server_fn::ServerFn;
use thicode::accounts::server_fns::DeleteAccount;
use thicode::accounts::{resets, users};

fn export(cookie: Option<&str>) -> Request<Body> {
    let mut req = Request::get("/settings/export").header("host", "127.0.0.1:3000");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    req.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_export_holds_the_profile_and_never_the_password_hash() {
    let app = TestApp::new(&[]).await;
    let id = with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    sqlx::query("UPDATE users SET bio = 'Analyst', preferences = '{\"ai_model\":\"codestral-latest\"}' WHERE id = $1")
        .bind(id)
        .execute(&app.pool().pool)
        .await
        .unwrap();
    let res = app.send(export(None)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&res, "location"), "/login?next=/settings/export");

    let cookie = logged_in(&app, "ada").await;
    let res = app.send(export(Some(&cookie))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header(&res, "content-disposition"),
        "attachment; filename=\"thicode-ada.json\""
    );
    let user = users::by_id(&app.pool().pool, id).await.unwrap().unwrap();
    let text = crate::common::text(res).await;
    assert!(
        !text.contains(&user.password) && !text.contains("argon2"),
        "no hash in the export"
    );
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["profile"]["username"], "ada");
    assert_eq!(doc["profile"]["bio"], "Analyst");
    assert_eq!(doc["profile"]["preferences"]["ai_model"], "codestral-latest");
    assert_eq!(
        doc["profile"]["date_joined"],
        thicode::core::time::iso(user.date_joined)
    );
    assert_eq!(doc["conversations"], serde_json::json!([]));
}

#[tokio::test]
async fn deletion_needs_the_password_and_removes_everything() {
    let app = TestApp::new(&[]).await;
    let id = with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    let user = users::by_id(&app.pool().pool, id).await.unwrap().unwrap();
    resets::create(&app.pool().pool, &user).await.unwrap();
    let cookie = logged_in(&app, "ada").await;

    let res = app
        .send(form_post(
            DeleteAccount::PATH,
            "/settings",
            "password=wrong",
            Some(&cookie),
            ORIGIN,
        ))
        .await;
    let html = page(&app, header(&res, "location").trim_start_matches(ORIGIN), Some(&cookie)).await;
    assert!(html.contains("Your password was entered incorrectly."));
    assert!(users::by_id(&app.pool().pool, id).await.unwrap().is_some());

    let res = app
        .send(form_post(
            DeleteAccount::PATH,
            "/settings",
            "password=Tr4vel-Lisbon-Blue",
            Some(&cookie),
            ORIGIN,
        ))
        .await;
    assert_eq!(header(&res, "location"), "/?account_deleted=1");
    assert!(users::by_id(&app.pool().pool, id).await.unwrap().is_none());
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM password_resets")
        .fetch_one(&app.pool().pool)
        .await
        .unwrap();
    assert_eq!(left, 0, "owned rows go with the account");
    let home = page(&app, "/?account_deleted=1", Some(&cookie)).await;
    assert!(home.contains("Your account and all its data were deleted.") && home.contains(">Log in</a>"));
}
