//! The French interface: how a page's language is chosen, the switch, the account's preference, every page's text,
//! the validation and provider messages, the reset email — and the REST API staying English.

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use leptos::server_fn::ServerFn;
use serde_json::Value;
use thicode::accounts::server_fns::{Login, Register, RequestPasswordReset, UpdateProfile};
use thicode::accounts::users;
use thicode::chat::server_fns::SendMessage;

use crate::chat_flow::Chat;
use crate::common::{
    ORIGIN, PASSWORD, TestApp, form_post, header, logged_in, sent_emails, text, with_user, without_markers,
};

/// A page with these request headers, hydration markers removed.
async fn page_with(app: &TestApp, uri: &str, headers: &[(&str, &str)]) -> String {
    let mut req = Request::get(uri).header("host", "127.0.0.1:3000");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    without_markers(&text(app.send(req.body(Body::empty()).unwrap()).await).await)
}

/// The page in French (cookie) for a session cookie, or none.
async fn french(app: &TestApp, uri: &str, session: Option<&str>) -> String {
    let cookie = match session {
        Some(s) => format!("{s}; lang=fr"),
        None => "lang=fr".to_string(),
    };
    page_with(app, uri, &[("cookie", &cookie)]).await
}

/// The page in English, for the same session.
async fn english(app: &TestApp, uri: &str, session: Option<&str>) -> String {
    let cookie = match session {
        Some(s) => format!("{s}; lang=en"),
        None => "lang=en".to_string(),
    };
    page_with(app, uri, &[("cookie", &cookie)]).await
}

/// The `lang=…` cookie a response sets, if any.
fn lang_cookie(res: &axum::http::Response<Body>) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("lang="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

#[tokio::test]
async fn the_language_comes_from_the_cookie_then_the_browser_then_english() {
    let app = TestApp::new(&[]).await;
    let default = page_with(&app, "/login", &[]).await;
    assert!(default.contains(r#"<html lang="en""#) && default.contains("<h1>Log in</h1>"));

    let browser = page_with(&app, "/login", &[("accept-language", "fr-CA,fr;q=0.9,en;q=0.8")]).await;
    assert!(browser.contains(r#"<html lang="fr""#), "Accept-Language picks French");
    assert!(browser.contains("<h1>Connexion</h1>") && browser.contains("<title>Connexion · ThiCode</title>"));

    let chosen = page_with(&app, "/login", &[("accept-language", "fr"), ("cookie", "lang=en")]).await;
    assert!(
        chosen.contains(r#"<html lang="en""#),
        "the cookie wins over the browser"
    );

    let unknown = page_with(
        &app,
        "/login",
        &[("accept-language", "de-DE,de;q=0.9"), ("cookie", "lang=xx")],
    )
    .await;
    assert!(
        unknown.contains(r#"<html lang="en""#),
        "unknown languages fall back to English"
    );
}

/// Text nodes and the labels users read in attributes (placeholders, ARIA labels) of the page's body.
fn visible_texts(html: &str) -> BTreeSet<String> {
    let start = html.find("<body").unwrap_or(0);
    let end = html.find("</body>").unwrap_or(html.len());
    let body = &html[start..end];
    let mut texts = BTreeSet::new();
    let mut rest = body;
    while let Some(start) = rest.find('>') {
        rest = &rest[start + 1..];
        let end = rest.find('<').unwrap_or(rest.len());
        let text = rest[..end].trim();
        if !text.is_empty() {
            texts.insert(text.to_string());
        }
        rest = &rest[end..];
    }
    for attribute in ["placeholder=\"", "aria-label=\"", "title=\""] {
        for part in body.split(attribute).skip(1) {
            texts.insert(part.split('"').next().unwrap_or_default().to_string());
        }
    }
    texts
}

/// Texts that are the same in both languages: names, codes, symbols and the user's own data.
fn is_language_neutral(text: &str) -> bool {
    const SAME: &[&str] = &[
        "ThiCode",
        "◆",
        "·",
        "…",
        "‹",
        "›",
        "📌",
        "▍",
        "English",
        "Français",
        "Assistant",
        "Conversation",
        "Conversations",
        "Message",
        "MISTRAL_API_KEY",
        "Authorization: Token &lt;key&gt;",
        "Administration",
        "conversations",
        "messages",
        // Key names, the same on French keyboards.
        "Ctrl/⌘ K",
        "? · Ctrl /",
    ];
    SAME.contains(&text)
        || text.starts_with(env!("CARGO_PKG_VERSION"))
        || text.chars().all(|c| !c.is_alphabetic())
        || text.contains("ada")
        || text.contains("root")
        // Addresses (the OpenAI-compatible API's base URL).
        || text.starts_with("http://")
        || text.contains("mistral")
        || text.contains("codestral")
        || text.contains("Fake reply")
        || ["fn", "main", "rust", "fn main() {}"].contains(&text)
        || text.contains("Kitchen")
}

#[tokio::test]
async fn no_english_is_left_on_any_french_page() {
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ada").await;
    // A conversation with a code block and a failed reply, so the message actions, the Copy button and the
    // provider's error are on the page.
    let (_, sent) = chat.send(&cookie, None, "Kitchen\n\n```rust\nfn main() {}\n```").await;
    let conversation = sent["conversation_id"].as_i64().unwrap();
    chat.settled(sent["assistant_message_id"].as_i64().unwrap()).await;
    let (_, failed) = chat.send(&cookie, Some(conversation), "[fake:503] Kitchen").await;
    chat.settled(failed["assistant_message_id"].as_i64().unwrap()).await;
    let app = &chat.app;
    let staff = thicode::accounts::users::NewUser {
        username: "root".into(),
        email: "root@example.com".into(),
        password_hash: thicode::accounts::password::Hashing::default()
            .hash(PASSWORD.to_string())
            .await
            .unwrap(),
        is_staff: true,
        ..Default::default()
    };
    users::create(&app.pool().pool, &staff).await.unwrap();
    let root = logged_in(app, "root").await;

    let pages: &[(&str, bool)] = &[
        ("/", false),
        ("/login", false),
        ("/register", false),
        ("/forgot-password", false),
        ("/forgot-password?sent=1", false),
        ("/reset-password/abc", false),
        ("/login?reset=1", false),
        ("/no-such-page", false),
        ("/settings?saved=1", true),
        ("/settings/password", true),
        ("/settings/tokens", true),
        ("/chat", true),
        (&format!("/chat/{conversation}"), true),
        ("/chat/999999", true),
        ("/chat?q=Kitchen", true),
    ];
    let mut left = Vec::new();
    let staff_pages: &[(&str, bool)] = &[("/admin", true), ("/admin/nothing", true)];
    for (uri, logged_in) in pages.iter().chain(staff_pages) {
        let session = logged_in.then_some(if uri.starts_with("/admin") {
            root.as_str()
        } else {
            cookie.as_str()
        });
        let en = english(app, uri, session).await;
        let fr = french(app, uri, session).await;
        assert!(fr.contains(r#"<html lang="fr""#), "{uri}");
        let english_texts = visible_texts(&en);
        for text in visible_texts(&fr) {
            if english_texts.contains(&text) && !is_language_neutral(&text) {
                left.push(format!("{uri}: {text}"));
            }
        }
    }
    assert!(left.is_empty(), "untranslated on French pages:\n{}", left.join("\n"));

    let page = french(app, &format!("/chat/{conversation}"), Some(&cookie)).await;
    assert!(page.contains(">Copier</button>"), "the code block's button");
    assert!(
        page.contains("Le fournisseur d’IA est indisponible"),
        "the provider's error in French"
    );
}

#[tokio::test]
async fn validation_messages_are_french_on_french_pages() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", PASSWORD).await;
    let body = "username=bad+name&email=not-an-email&password1=123&password2=124&next=%2F";
    let mut req = form_post(Register::PATH, "/register", body, Some("lang=fr"), ORIGIN);
    req.headers_mut().insert("accept-language", "en".parse().unwrap());
    let res = app.send(req).await;
    let html = french(&app, header(&res, "location").trim_start_matches(ORIGIN), None).await;
    for message in [
        "Saisissez un nom d’utilisateur valide.",
        "Saisissez une adresse e-mail valide.",
        "Ce mot de passe est trop court. Il doit contenir au minimum 8 caractères.",
        "Ce mot de passe est entièrement numérique.",
        "Les deux mots de passe ne correspondent pas.",
    ] {
        assert!(html.contains(message), "missing {message:?} in {html}");
    }
    assert!(!html.contains("This password"), "no English left");
    let body = "username=ADA&email=ada2%40example.com&password1=ada&password2=ada&next=%2F";
    let res = app
        .send(form_post(Register::PATH, "/register", body, Some("lang=fr"), ORIGIN))
        .await;
    let html = french(&app, header(&res, "location").trim_start_matches(ORIGIN), None).await;
    assert!(html.contains("Un utilisateur avec ce nom existe déjà."), "{html}");
    assert!(
        html.contains("Le mot de passe est trop semblable au champ « nom d’utilisateur »."),
        "{html}"
    );

    // A wrong password, then the throttle, in French.
    let wrong = "login=ada&password=wrong-password";
    let res = app
        .send(form_post(Login::PATH, "/login", wrong, Some("lang=fr"), ORIGIN))
        .await;
    let html = french(&app, header(&res, "location").trim_start_matches(ORIGIN), None).await;
    assert!(html.contains("Saisissez un nom d’utilisateur (ou une adresse e-mail) et un mot de passe valides."));
    for _ in 0..5 {
        app.send(form_post(Login::PATH, "/login", wrong, Some("lang=fr"), ORIGIN))
            .await;
    }
    let res = app
        .send(form_post(Login::PATH, "/login", wrong, Some("lang=fr"), ORIGIN))
        .await;
    let html = french(&app, header(&res, "location").trim_start_matches(ORIGIN), None).await;
    assert!(
        html.contains("Trop de tentatives. Réessayez dans 15 minutes."),
        "{html}"
    );

    // Scripts calling a server function get the page's language too.
    let chat = Chat::new(&[]).await;
    let session = chat.user("bob").await;
    let (status, answer) = chat
        .call(SendMessage::PATH, "content=+", &format!("{session}; lang=fr"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer.to_string().contains("Écrivez d’abord un message."), "{answer}");
}

#[tokio::test]
async fn odd_requests_still_get_their_language() {
    let app = TestApp::new(&[]).await;
    // Another app's cookie on the same host holds bytes that are not UTF-8: the language cookie still counts.
    let req = Request::get("/login")
        .header("host", "127.0.0.1:3000")
        .header(
            "cookie",
            axum::http::HeaderValue::from_bytes(b"other=caf\xe9; lang=fr").unwrap(),
        )
        .body(Body::empty())
        .unwrap();
    let html = without_markers(&text(app.send(req).await).await);
    assert!(html.contains(r#"<html lang="fr""#));
    // HTTP/2 may send the cookies in several headers.
    let req = Request::get("/login")
        .header("host", "127.0.0.1:3000")
        .header("cookie", "a=1")
        .header("cookie", "lang=fr")
        .body(Body::empty())
        .unwrap();
    assert!(text(app.send(req).await).await.contains(r#"<html lang="fr""#));

    // The switches come back to the page with its query.
    let html = french(&app, "/login?next=/admin", None).await;
    assert!(html.contains(r#"name="next" value="/login?next=/admin""#), "{html}");

    // Error pages outside the app speak French too.
    let res = app
        .send(
            Request::get("/chat/1/export/md")
                .header("host", "127.0.0.1:3000")
                .header("cookie", "lang=fr")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let html = text(res).await;
    assert!(
        html.contains(r#"<html lang="fr">"#) && html.contains("Connectez-vous pour continuer."),
        "{html}"
    );
    assert!(html.contains("Accès refusé") && html.contains("Retour à ThiCode"));
}

#[tokio::test]
async fn the_api_stores_a_language_only_when_sent() {
    let app = TestApp::new(&[]).await;
    let id = with_user(&app, "ada", PASSWORD).await;
    let session = logged_in(&app, "ada").await;
    let patch = |body: &'static str| {
        Request::patch("/api/accounts/settings/")
            .header("host", "127.0.0.1:3000")
            .header("origin", ORIGIN)
            .header("content-type", "application/json")
            .header("cookie", &session)
            .body(Body::from(body))
            .unwrap()
    };
    let stored = || async {
        let user = users::by_id(&app.pool().pool, id).await.unwrap().unwrap();
        serde_json::from_str::<Value>(&user.preferences).unwrap()
    };
    let res = app.send(patch(r#"{"bio": "Counts."}"#)).await;
    assert_eq!(res.status(), StatusCode::OK, "{}", text(res).await);
    assert!(stored().await.get("language").is_none(), "not chosen, not stored");
    let res = app.send(patch(r#"{"preferences": {"language": "fr"}}"#)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(stored().await["language"], "fr");
    let res = app.send(patch(r#"{"preferences": {"language": "xx"}}"#)).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(stored().await["language"], "fr");
}

#[tokio::test]
async fn the_switch_stores_the_language_and_goes_back() {
    let app = TestApp::new(&[]).await;
    let id = with_user(&app, "ada", PASSWORD).await;
    let res = app
        .send(form_post(
            "/language",
            "/login",
            "lang=fr&next=%2Flogin%3Freset%3D1",
            None,
            ORIGIN,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&res, "location"), "/login?reset=1");
    assert_eq!(lang_cookie(&res).as_deref(), Some("lang=fr"));

    let res = app
        .send(form_post(
            "/language",
            "/",
            "lang=fr&next=%2F%2Fevil.example",
            None,
            ORIGIN,
        ))
        .await;
    assert_eq!(header(&res, "location"), "/", "no open redirect");
    let res = app
        .send(form_post("/language", "/", "lang=klingon&next=%2F", None, ORIGIN))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(lang_cookie(&res).is_none());
    let res = app
        .send(form_post("/language", "/", "lang=fr", None, "https://evil.example"))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "cross-site posts are refused");

    // Logged in, the choice is saved in the account's preferences (other keys kept) and applied at the next login.
    let session = logged_in(&app, "ada").await;
    let res = app
        .send(form_post(
            "/language",
            "/settings",
            "lang=fr&next=%2Fsettings",
            Some(&session),
            ORIGIN,
        ))
        .await;
    assert_eq!(lang_cookie(&res).as_deref(), Some("lang=fr"));
    let user = users::by_id(&app.pool().pool, id).await.unwrap().unwrap();
    let preferences: Value = serde_json::from_str(&user.preferences).unwrap();
    assert_eq!(preferences["language"], "fr");
    let res = app
        .send(form_post(
            Login::PATH,
            "/login",
            &format!("login=ada&password={PASSWORD}"),
            Some("lang=en"),
            ORIGIN,
        ))
        .await;
    assert_eq!(
        lang_cookie(&res).as_deref(),
        Some("lang=fr"),
        "login applies the account's language"
    );
    let html = french(&app, "/settings", Some(&session)).await;
    assert!(html.contains(r#"<option value="fr" selected"#), "{html}");
}

#[tokio::test]
async fn an_account_without_a_language_keeps_the_browsers() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", PASSWORD).await;
    let res = app
        .send(form_post(
            Login::PATH,
            "/login",
            &format!("login=ada&password={PASSWORD}"),
            Some("lang=fr"),
            ORIGIN,
        ))
        .await;
    assert!(lang_cookie(&res).is_none(), "no preference: the cookie stays as it is");
    let session = crate::common::session_cookie(&res).unwrap();
    // The settings offer the language the page is shown in.
    let html = french(&app, "/settings", Some(&session)).await;
    assert!(html.contains(r#"<option value="fr" selected"#));

    // Saving the settings in English switches the language at once.
    let body = "email=ada%40example.com&first_name=&last_name=&bio=&ai_model=mistral-small-latest&display_mode=system&language=en";
    let res = app
        .send(form_post(
            UpdateProfile::PATH,
            "/settings",
            body,
            Some(&format!("{session}; lang=fr")),
            ORIGIN,
        ))
        .await;
    assert_eq!(lang_cookie(&res).as_deref(), Some("lang=en"));
}

#[tokio::test]
async fn the_reset_email_is_in_the_accounts_language_else_the_requesters() {
    let app = TestApp::new(&[]).await;
    let id = with_user(&app, "ada", PASSWORD).await;
    with_user(&app, "bob", PASSWORD).await;
    users::set_preferences(&app.pool().pool, id, r#"{"language":"fr","ai_model":"x"}"#)
        .await
        .unwrap();
    // Ada chose French: her mail is French even when asked from an English page.
    app.send(form_post(
        RequestPasswordReset::PATH,
        "/forgot-password",
        "email=ada%40example.com",
        Some("lang=en"),
        ORIGIN,
    ))
    .await;
    let mail = sent_emails(&app).await.pop().unwrap().replace("=\r\n", "");
    assert!(mail.contains("Bonjour ada"), "{mail}");
    assert!(!mail.contains("Hello"));

    // Bob chose nothing: the language of the page he asked from.
    let before = sent_emails(&app).await.len();
    app.send(form_post(
        RequestPasswordReset::PATH,
        "/forgot-password",
        "email=bob%40example.com",
        Some("lang=fr"),
        ORIGIN,
    ))
    .await;
    let mails = sent_emails(&app).await;
    assert_eq!(mails.len(), before + 1);
    assert!(mails.iter().any(|m| m.replace("=\r\n", "").contains("Bonjour bob")));
}

#[tokio::test]
async fn the_rest_api_keeps_the_english_contract() {
    let app = TestApp::new(&[]).await;
    let req = Request::post("/api/accounts/api/register/")
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/json")
        .header("accept-language", "fr")
        .header("cookie", "lang=fr")
        .body(Body::from(
            r#"{"username":"bad name","email":"x","password1":"123","password2":"123"}"#,
        ))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = text(res).await;
    assert!(body.contains("Enter a valid username."), "{body}");
    assert!(!body.contains("Saisissez"));
}

/// Every message of the validators and the provider comes from a catalogue key that has its own French.
#[test]
fn every_message_of_the_validators_and_the_provider_has_a_translation() {
    use thicode::accounts::password::{UserAttributes, validate};
    use thicode::chat::provider::ProviderError;
    use thicode::core::i18n::{Lang, Text};
    let user = UserAttributes {
        username: "adalovelace",
        email: "ada@example.com",
        first_name: "Augusta",
        last_name: "Lovelace",
    };
    let mut messages: Vec<Text> = Vec::new();
    for password in [
        "123",
        "password",
        "adalovelace1",
        "augusta99",
        "lovelace12",
        "ada@example.com1",
    ] {
        messages.extend(validate(password, user));
    }
    messages.extend(validate(&"x".repeat(5000), user));
    use thicode::accounts::fields::{check_email, check_max, check_username};
    messages.extend(check_username("").err());
    messages.extend(check_username("bad name").err());
    messages.extend(check_username(&"a".repeat(151)).err());
    messages.extend(check_email("nope").err());
    messages.extend(check_email(&"a".repeat(300)).err());
    messages.extend(check_max("abc", 2).err());
    for error in [
        ProviderError::InvalidKey,
        ProviderError::Forbidden("m".into()),
        ProviderError::UnknownModel("m".into()),
        ProviderError::RateLimited { retry_after: Some(3) },
        ProviderError::RateLimited { retry_after: None },
        ProviderError::Rejected("why".into()),
        ProviderError::Unavailable("503".into()),
        ProviderError::Timeout(30),
        ProviderError::CutOff,
        ProviderError::Malformed,
    ] {
        assert_eq!(error.to_string(), error.text().english());
        messages.push(error.text());
    }
    // (A taken username or email is checked in French by the registration tests above.)
    assert!(messages.len() > 20);
    for message in &messages {
        let french = message.get(Lang::Fr);
        assert!(!french.is_empty(), "no French for {message:?}");
        assert_ne!(french, message.english(), "no French for {message:?}");
    }
}

#[tokio::test]
async fn every_page_describes_the_site_in_its_language() {
    let app = TestApp::new(&[]).await;
    for uri in ["/", "/login", "/register", "/forgot-password"] {
        let en = english(&app, uri, None).await;
        assert_eq!(en.matches(r#"<meta name="description""#).count(), 1, "{uri}");
        assert!(
            en.contains(r#"<meta name="description" content="ThiCode is a fast, self-hosted AI chat"#),
            "{uri}"
        );
        let fr = french(&app, uri, None).await;
        assert!(
            fr.contains(r#"<meta name="description" content="ThiCode est un chat IA rapide"#),
            "{uri}"
        );
    }
}
