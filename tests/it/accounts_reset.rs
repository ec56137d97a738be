//! Password reset by email: the request, the mail (file backend), the link, and every way a link must die.

use crate::common::{ORIGIN, TestApp, form_post, header, page, sent_emails, session_cookie, with_user};
use axum::http::StatusCode;
use leptos::server_fn::ServerFn;
use thicode::accounts::server_fns::{Login, RequestPasswordReset, ResetPassword};
use thicode::accounts::{password, users};

/// Asks for a link and returns the token from the email that was sent.
async fn request_link(app: &TestApp, email: &str) -> String {
    let before = sent_emails(app).await.len();
    let body = format!("email={}", email.replace('@', "%40"));
    let res = app
        .send(form_post(
            RequestPasswordReset::PATH,
            "/forgot-password",
            &body,
            None,
            ORIGIN,
        ))
        .await;
    assert_eq!(header(&res, "location"), "/forgot-password?sent=1");
    let mails = sent_emails(app).await;
    assert_eq!(mails.len(), before + 1, "one email per request");
    let mail = mails.into_iter().find(|m| !m.is_empty()).unwrap().replace("=\r\n", "");
    let start = mail.find("/reset-password/").unwrap() + "/reset-password/".len();
    mail[start..start + 64].to_string()
}

async fn reset(app: &TestApp, token: &str, new: &str) -> axum::http::Response<axum::body::Body> {
    let body = format!("token={token}&new_password1={new}&new_password2={new}");
    app.send(form_post(
        ResetPassword::PATH,
        &format!("/reset-password/{token}"),
        &body,
        None,
        ORIGIN,
    ))
    .await
}

async fn error_page(app: &TestApp, res: axum::http::Response<axum::body::Body>) -> String {
    page(app, header(&res, "location").trim_start_matches(ORIGIN), None).await
}

#[tokio::test]
async fn a_reset_link_is_mailed_and_works_once() {
    let app = TestApp::new(&[("SITE_URL", "https://chat.example.com")]).await;
    let id = with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    let login = "login=ada&password=Tr4vel-Lisbon-Blue";
    let old_session = session_cookie(&app.send(form_post(Login::PATH, "/login", login, None, ORIGIN)).await).unwrap();

    let token = request_link(&app, "ADA@example.com").await;
    let mail = sent_emails(&app).await.pop().unwrap();
    assert!(mail.contains("To: ada@example.com") && mail.contains("Subject: Reset your ThiCode password"));
    assert!(
        mail.contains("Content-Type: text/plain") && mail.contains("Content-Type: text/html"),
        "text and HTML parts"
    );
    assert!(
        mail.replace("=\r\n", "")
            .contains(&format!("https://chat.example.com/reset-password/{token}"))
    );
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM password_resets")
        .fetch_all(&app.pool().pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token, "only a hash of the token is stored");

    assert!(
        page(&app, &format!("/reset-password/{token}"), None)
            .await
            .contains("Choose a new password")
    );
    let html = error_page(&app, reset(&app, &token, "short").await).await;
    assert!(html.contains("This password is too short."));

    let res = reset(&app, &token, "Fresh-Start-2026").await;
    assert_eq!(header(&res, "location"), "/login?reset=1");
    let user = users::by_id(&app.pool().pool, id).await.unwrap().unwrap();
    assert!(
        password::Hashing::default()
            .verify("Fresh-Start-2026".into(), Some(user.password))
            .await
            .unwrap()
    );
    assert!(
        page(&app, "/login?reset=1", None)
            .await
            .contains("Your password has been set.")
    );
    assert!(
        !page(&app, "/", Some(&old_session)).await.contains(">ada</a>"),
        "sessions end with the old password"
    );

    let html = error_page(&app, reset(&app, &token, "Another-Start-2027").await).await;
    assert!(html.contains("The password reset link was invalid"), "single use");
}

#[tokio::test]
async fn the_answer_is_the_same_for_unknown_addresses_and_no_mail_is_sent() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;
    for email in ["nobody%40example.com", "ada"] {
        let res = app
            .send(form_post(
                RequestPasswordReset::PATH,
                "/forgot-password",
                &format!("email={email}"),
                None,
                ORIGIN,
            ))
            .await;
        assert_eq!(res.status(), StatusCode::FOUND);
        if email == "ada" {
            // Not an address at all: a field error, which reveals nothing about accounts.
            assert!(error_page(&app, res).await.contains("Enter a valid email address."));
        } else {
            assert_eq!(header(&res, "location"), "/forgot-password?sent=1");
        }
    }
    assert!(sent_emails(&app).await.is_empty());
    assert!(
        page(&app, "/forgot-password?sent=1", None)
            .await
            .contains("If an account uses that address")
    );
}

#[tokio::test]
async fn links_die_when_expired_or_when_the_password_changes() {
    let app = TestApp::new(&[]).await;
    let id = with_user(&app, "ada", "Tr4vel-Lisbon-Blue").await;

    let expired = request_link(&app, "ada@example.com").await;
    sqlx::query("UPDATE password_resets SET expires_at = 0")
        .execute(&app.pool().pool)
        .await
        .unwrap();
    assert!(
        error_page(&app, reset(&app, &expired, "Fresh-Start-2026").await)
            .await
            .contains("reset link was invalid")
    );

    let token = request_link(&app, "ada@example.com").await;
    let hash = password::Hashing::default()
        .hash("Changed-Meanwhile-1".into())
        .await
        .unwrap();
    thicode::accounts::jwt::set_password(&app.pool().pool, id, &hash)
        .await
        .unwrap();
    assert!(
        error_page(&app, reset(&app, &token, "Fresh-Start-2026").await)
            .await
            .contains("reset link was invalid")
    );

    assert!(
        error_page(&app, reset(&app, "0".repeat(64).as_str(), "Fresh-Start-2026").await)
            .await
            .contains("reset link was invalid")
    );
}
