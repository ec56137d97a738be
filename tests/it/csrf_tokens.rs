//! Every form carries the CSRF token (#25, point 10), and a state-changing post that says neither where it comes
//! from (`Origin`) nor how (`Sec-Fetch-Site`) — an old browser, a proxy that strips both — must carry it.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use leptos::server_fn::ServerFn;
use thicode::accounts::server_fns::{Login, UpdateProfile};

use crate::chat_flow::Chat;
use crate::common::{ORIGIN, PASSWORD, TestApp, header, logged_in, text, with_staff, with_user, without_markers};

/// Every `<form>` that posts in `html`, each with whether it holds the token `token`.
fn post_forms(html: &str, token: &str) -> Vec<(String, bool)> {
    let mut forms = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<form") {
        let end = rest[start..].find("</form>").map_or(rest.len(), |e| start + e);
        let form = &rest[start..end];
        let open_tag = &form[..form.find('>').unwrap_or(form.len())];
        if open_tag.contains(r#"method="post""#) {
            let field = format!(r#"name="csrfmiddlewaretoken" value="{token}""#);
            forms.push((open_tag.to_string(), form.contains(&field)));
        }
        rest = &rest[end..];
    }
    forms
}

async fn page_with(app: &TestApp, uri: &str, cookie: &str) -> String {
    let req = Request::get(uri)
        .header("host", "127.0.0.1:3000")
        .header("cookie", cookie)
        .body(Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert!(res.status().is_success(), "{uri}: {}", res.status());
    without_markers(&text(res).await)
}

#[tokio::test]
async fn every_form_of_every_page_carries_the_token() {
    let chat = Chat::new(&[]).await;
    let app = &chat.app;
    let ada = with_user(app, "ada", PASSWORD).await;
    with_staff(app, "root").await;
    let token = "0123456789abcdef0123456789abcdef";
    let anonymous = format!("csrftoken={token}");
    for uri in ["/", "/login", "/register", "/forgot-password", "/reset-password/abc"] {
        let html = page_with(app, uri, &anonymous).await;
        for (form, has) in post_forms(&html, token) {
            assert!(has, "{uri}: {form}");
        }
    }
    let cookie = logged_in(app, "ada").await;
    let (_, sent) = chat.send(&cookie, None, "hello").await;
    chat.settled(sent["assistant_message_id"].as_i64().unwrap()).await;
    let conversation = sent["conversation_id"].as_i64().unwrap();
    let mut seen = 0;
    for uri in [
        "/chat".to_string(),
        format!("/chat/{conversation}"),
        "/settings".into(),
        "/settings/password".into(),
        "/settings/tokens".into(),
        "/settings/usage".into(),
    ] {
        let html = page_with(app, &uri, &format!("{cookie}; csrftoken={token}")).await;
        for (form, has) in post_forms(&html, token) {
            assert!(has, "{uri}: {form}");
            seen += 1;
        }
    }
    let root = logged_in(app, "root").await;
    for uri in [
        "/admin/users".to_string(),
        format!("/admin/users/{ada}"),
        "/admin/settings".into(),
        format!("/admin/users/{ada}/conversations"),
    ] {
        let html = page_with(app, &uri, &format!("{root}; csrftoken={token}")).await;
        for (form, has) in post_forms(&html, token) {
            assert!(has, "{uri}: {form}");
            seen += 1;
        }
    }
    assert!(seen >= 20, "the pages' forms were looked at: {seen}");
}

#[tokio::test]
async fn a_first_visit_gets_a_token_cookie_and_its_forms_the_same_token() {
    let app = TestApp::new(&[]).await;
    let res = app.send(crate::common::get("/login")).await;
    let set = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("csrftoken="))
        .expect("a csrftoken cookie")
        .to_string();
    let token = set["csrftoken=".len()..].split(';').next().unwrap().to_string();
    assert!(thicode::core::security::is_csrf_token(&token));
    let html = without_markers(&text(res).await);
    let forms = post_forms(&html, &token);
    assert!(!forms.is_empty());
    assert!(forms.iter().all(|(_, has)| *has), "{forms:?}");
    // A browser that has one keeps it.
    let res = app
        .send(
            Request::get("/login")
                .header("host", "127.0.0.1:3000")
                .header("cookie", format!("csrftoken={token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(header(&res, "set-cookie").is_empty() || !header(&res, "set-cookie").starts_with("csrftoken="));
}

/// A form post from a browser that sends neither `Origin` nor `Sec-Fetch-Site`.
fn bare_post(path: &str, cookie: &str, body: &str) -> Request<Body> {
    Request::post(path)
        .header("host", "127.0.0.1:3000")
        .header("cookie", cookie)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn a_post_that_says_nowhere_needs_the_token() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", PASSWORD).await;
    let session = logged_in(&app, "ada").await;
    let token = "00112233445566778899aabbccddeeff";
    let cookie = format!("{session}; csrftoken={token}");
    let profile = "email=ada%40example.com&first_name=&last_name=&bio=changed&ai_model=mistral-small-latest\
                   &display_mode=dark&language=en";
    let bio = || async {
        sqlx::query_scalar::<_, String>("SELECT bio FROM users WHERE username = 'ada'")
            .fetch_one(&app.pool().pool)
            .await
            .unwrap()
    };
    // No token, a wrong one, no cookie: refused, nothing changed.
    for (cookie, body, reason) in [
        (cookie.clone(), profile.to_string(), "CSRF token missing."),
        (
            cookie.clone(),
            format!("csrfmiddlewaretoken=ffffffffffffffffffffffffffffffff&{profile}"),
            "CSRF token incorrect.",
        ),
        (
            session.clone(),
            format!("csrfmiddlewaretoken={token}&{profile}"),
            "CSRF cookie not set.",
        ),
    ] {
        let res = app.send(bare_post(UpdateProfile::PATH, &cookie, &body)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{reason}");
        assert!(text(res).await.contains(reason), "{reason}");
    }
    assert_eq!(bio().await, "");
    // The form's token, or the header scripts send: accepted.
    let res = app
        .send(bare_post(
            UpdateProfile::PATH,
            &cookie,
            &format!("csrfmiddlewaretoken={token}&{profile}"),
        ))
        .await;
    assert!(
        res.status().is_success() || res.status().is_redirection(),
        "{}",
        res.status()
    );
    assert_eq!(bio().await, "changed");
    let mut req = bare_post(Login::PATH, &format!("csrftoken={token}"), "login=ada&password=wrong");
    req.headers_mut().insert("x-csrftoken", token.parse().unwrap());
    let res = app.send(req).await;
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "checked, then refused for its password"
    );
    // A token never makes a cross-site post acceptable.
    let mut req = bare_post(
        UpdateProfile::PATH,
        &cookie,
        &format!("csrfmiddlewaretoken={token}&{profile}"),
    );
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    assert_eq!(app.send(req).await.status(), StatusCode::FORBIDDEN);
    // A browser that says where it comes from needs no token (as before).
    let mut req = bare_post(UpdateProfile::PATH, &session, profile);
    req.headers_mut().insert("origin", ORIGIN.parse().unwrap());
    let status = app.send(req).await.status();
    assert!(status.is_success() || status.is_redirection(), "{status}");
}
