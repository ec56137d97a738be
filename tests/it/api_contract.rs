//! The API against its own OpenAPI document (issue #5): real responses of every route — successes and errors — are
//! validated against the generated schemas (a status the document does not list is a failure too), and every route
//! of the document is called under every way of authenticating (the auth matrix).

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::chat_flow::Chat;
use crate::common::{header, text, with_user};

use crate::common::PASSWORD;
const CSRF: &str = "0123456789abcdef0123456789abcdef";

/// Checks responses against the document and remembers which operations were seen.
struct Contract {
    doc: Value,
    seen: Mutex<BTreeSet<(String, String)>>,
}

/// `/api/chat/conversations/{id}/` as a JSON pointer segment inside a URI fragment.
fn pointer_segment(path: &str) -> String {
    path.replace('~', "~0")
        .replace('/', "~1")
        .replace('{', "%7B")
        .replace('}', "%7D")
}

impl Contract {
    fn new(chat: &Chat) -> Self {
        let doc = thicode::api::openapi(&chat.app.state);
        Self {
            doc,
            seen: Mutex::new(BTreeSet::new()),
        }
    }

    fn operations(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                out.push((method.to_uppercase(), path.clone()));
            }
        }
        out
    }

    fn secured(&self, method: &str, template: &str) -> bool {
        self.doc["paths"][template][method.to_lowercase()]["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    }

    /// Sends `req` (for the operation `method template`) and checks the answer against the document.
    async fn call(&self, chat: &Chat, template: &str, req: Request<Body>) -> (StatusCode, Value) {
        let method = req.method().as_str().to_lowercase();
        let res = chat.app.send(req).await;
        let status = res.status();
        let kind = header(&res, "content-type").to_string();
        let body = text(res).await;
        let op = &self.doc["paths"][template][&method];
        assert!(op.is_object(), "{method} {template} is not in the document");
        let documented = &op["responses"][status.as_str()];
        assert!(
            documented.is_object(),
            "{method} {template} answered {status}, which the document does not list: {body}"
        );
        self.seen
            .lock()
            .unwrap()
            .insert((method.to_uppercase(), template.to_string()));
        if kind.starts_with("application/json") {
            let value: Value = serde_json::from_str(&body).unwrap();
            let mut root = self.doc.clone();
            root["$ref"] = Value::String(format!(
                "#/paths/{}/{method}/responses/{}/content/application~1json/schema",
                pointer_segment(template),
                status.as_str()
            ));
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&root)
                .unwrap_or_else(|e| panic!("schema of {method} {template} {status}: {e}"));
            let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{method} {template} {status}: {errors:?}\n{value}");
            (status, value)
        } else {
            if !body.is_empty() {
                let media = kind.split(';').next().unwrap_or_default();
                assert!(
                    documented["content"].get(media).is_some(),
                    "{method} {template} {status}: {media} not documented"
                );
            }
            (status, Value::String(body))
        }
    }
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    Anonymous,
    /// Session cookie, no CSRF token.
    SessionNoCsrf,
    /// Session cookie and the matching `X-CSRFToken`.
    Session,
    /// Session cookie with a cross-site `Origin`.
    CrossSite,
    /// `Authorization: Token <key>`.
    Token,
    /// `Authorization: Bearer <access JWT>`.
    Jwt,
}

/// One user's credentials.
struct Creds {
    cookie: String,
    key: String,
    /// Replaced when the password changes (access tokens end with it).
    access: std::cell::RefCell<String>,
}

fn request(method: &str, path: &str, body: Option<&Value>, auth: Auth, creds: Option<&Creds>) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1:3000");
    // `{"__file": name, "__bytes": text}` stands for a multipart upload of that file.
    let upload = body.and_then(|b| Some((b.get("__file")?.as_str()?, b.get("__bytes")?.as_str()?)));
    if let Some((name, bytes)) = upload {
        req = req.header(
            "content-type",
            format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}"),
        );
        let multipart = format!(
            "--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: text/plain\r\n\r\n{bytes}\r\n--{MULTIPART_BOUNDARY}--\r\n"
        );
        if let Some(c) = creds {
            req = authenticate(req, auth, c);
        }
        return req.body(Body::from(multipart)).unwrap();
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    if let Some(c) = creds {
        req = authenticate(req, auth, c);
    }
    req.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap()
}

const MULTIPART_BOUNDARY: &str = "contract-boundary";

fn authenticate(req: axum::http::request::Builder, auth: Auth, c: &Creds) -> axum::http::request::Builder {
    {
        match auth {
            Auth::Anonymous => req,
            Auth::SessionNoCsrf => req.header("cookie", &c.cookie),
            Auth::Session => req.header("cookie", &c.cookie).header("x-csrftoken", CSRF),
            Auth::CrossSite => req.header("cookie", &c.cookie).header("origin", "https://evil.example"),
            Auth::Token => req.header("authorization", format!("Token {}", c.key)),
            Auth::Jwt => req.header("authorization", format!("Bearer {}", c.access.borrow())),
        }
    }
}

/// A new session of `username`: its cookie header, with the CSRF cookie.
async fn relogin(chat: &Chat, username: &str) -> String {
    let login = json!({"username": username, "password": PASSWORD});
    let req = request("POST", "/api/accounts/api/login/", Some(&login), Auth::Anonymous, None);
    let res = chat.app.send(req).await;
    format!("{}; csrftoken={CSRF}", crate::common::session_cookie(&res).unwrap())
}

async fn creds(chat: &Chat, contract: &Contract, username: &str) -> Creds {
    with_user(&chat.app, username, PASSWORD).await;
    let login = json!({"username": username, "password": PASSWORD});
    let cookie = relogin(chat, username).await;
    let (_, pair) = contract
        .call(
            chat,
            "/api/token/",
            request("POST", "/api/token/", Some(&login), Auth::Anonymous, None),
        )
        .await;
    let access = pair["access"].as_str().unwrap().to_string();
    let c = Creds {
        cookie,
        key: String::new(),
        access: std::cell::RefCell::new(access),
    };
    let (status, token) = contract
        .call(
            chat,
            "/api/accounts/tokens/",
            request(
                "POST",
                "/api/accounts/tokens/",
                Some(&json!({"name": "contract"})),
                Auth::Session,
                Some(&c),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    Creds {
        key: token["key"].as_str().unwrap().to_string(),
        ..c
    }
}

/// Waits until no reply is being generated in conversation `id`.
async fn settle(chat: &Chat, id: i64) {
    for _ in 0..400 {
        let busy: Option<i64> = sqlx::query_scalar("SELECT generating_id FROM conversations WHERE id = $1")
            .bind(id)
            .fetch_optional(&chat.app.pool().pool)
            .await
            .unwrap()
            .flatten();
        if busy.is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("conversation {id} never settled");
}

/// A conversation of `creds`' user with one finished exchange: (conversation, user message, reply).
async fn fixture(chat: &Chat, contract: &Contract, creds: &Creds) -> (i64, i64, i64) {
    let (status, c) = contract
        .call(
            chat,
            "/api/chat/conversations/",
            request(
                "POST",
                "/api/chat/conversations/",
                Some(&json!({"initial_message": "Hello"})),
                Auth::Token,
                Some(creds),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    let id = c["id"].as_i64().unwrap();
    settle(chat, id).await;
    let messages: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, role FROM messages WHERE conversation_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&chat.app.pool().pool)
            .await
            .unwrap();
    (id, messages[0].0, messages[1].0)
}

#[tokio::test]
async fn real_responses_match_the_openapi_document() {
    let chat = Chat::new(&[
        ("EMBEDDING_MODEL", "mistral-embed"),
        ("RATE_LIMIT_MESSAGES_PER_MINUTE", "0"),
        ("MAX_REQUEST_BODY_BYTES", "4096"),
        ("MCP_ALLOWED_HOSTS", "127.0.0.1"),
    ])
    .await;
    let contract = Contract::new(&chat);
    let doc = &contract.doc;
    assert_eq!(doc["openapi"].as_str().unwrap(), "3.1.0");
    for scheme in ["session", "token", "jwt"] {
        assert!(doc["components"]["securitySchemes"][scheme].is_object(), "{scheme}");
    }
    let ada = creds(&chat, &contract, "ada").await;
    let call = |template: &'static str, method: &'static str, path: String, body: Option<Value>, auth: Auth| {
        let req = request(method, &path, body.as_ref(), auth, Some(&ada));
        contract.call(&chat, template, req)
    };

    // Accounts.
    call("/api/csrf/", "GET", "/api/csrf/".into(), None, Auth::Anonymous).await;
    let bob = json!({"username": "bob", "email": "bob@example.com", "password1": "Sea-Glass-Harbour-4", "password2": "Sea-Glass-Harbour-4"});
    let (s, _) = call(
        "/api/accounts/api/register/",
        "POST",
        "/api/accounts/api/register/".into(),
        Some(bob.clone()),
        Auth::Anonymous,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        "/api/accounts/api/register/",
        "POST",
        "/api/accounts/api/register/".into(),
        Some(bob),
        Auth::Anonymous,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let login = "/api/accounts/api/login/";
    let (s, _) = call(
        login,
        "POST",
        login.into(),
        Some(json!({"username": "ada", "password": "nope"})),
        Auth::Anonymous,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = call(
        login,
        "POST",
        login.into(),
        Some(json!({"username": "ada"})),
        Auth::Anonymous,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(
        login,
        "POST",
        login.into(),
        Some(json!({"username": "ada", "password": PASSWORD})),
        Auth::Anonymous,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let mut form = request("POST", login, None, Auth::Anonymous, None);
    form.headers_mut().insert("content-type", "text/plain".parse().unwrap());
    let (s, _) = contract.call(&chat, login, form).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let big = json!({"username": "x".repeat(5000), "password": "y"});
    let (s, _) = call(login, "POST", login.into(), Some(big), Auth::Anonymous).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let me = "/api/accounts/current-user/";
    assert_eq!(call(me, "GET", me.into(), None, Auth::Jwt).await.0, StatusCode::OK);
    assert_eq!(
        call(me, "GET", me.into(), None, Auth::Anonymous).await.0,
        StatusCode::UNAUTHORIZED
    );
    let settings = "/api/accounts/settings/";
    assert_eq!(
        call(settings, "GET", settings.into(), None, Auth::Token).await.0,
        StatusCode::OK
    );
    let patch = json!({"preferences": {"display_mode": "dark", "x": [1]}});
    assert_eq!(
        call(settings, "PATCH", settings.into(), Some(patch), Auth::Session)
            .await
            .0,
        StatusCode::OK
    );
    let patch = json!({"preferences": {"display_mode": "neon"}});
    assert_eq!(
        call(settings, "PATCH", settings.into(), Some(patch), Auth::Session)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(settings, "PATCH", settings.into(), Some(json!({})), Auth::SessionNoCsrf)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let reset = "/api/accounts/api/reset-password/";
    assert_eq!(
        call(
            reset,
            "POST",
            reset.into(),
            Some(json!({"email": "ada@example.com"})),
            Auth::Anonymous
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        call(reset, "POST", reset.into(), Some(json!({})), Auth::Anonymous)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let verify = "/api/accounts/api/verify-reset-token/{token}/";
    call(
        verify,
        "GET",
        "/api/accounts/api/verify-reset-token/abc/".into(),
        None,
        Auth::Anonymous,
    )
    .await;
    let confirm = "/api/accounts/api/reset-password/confirm/";
    let (s, _) = call(
        confirm,
        "POST",
        confirm.into(),
        Some(json!({"token": "abc", "password": "x"})),
        Auth::Anonymous,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let mail = crate::common::sent_emails(&chat.app)
        .await
        .pop()
        .unwrap()
        .replace("=\r\n", "");
    let at = mail.find("/reset-password/").unwrap() + "/reset-password/".len();
    let token = mail[at..at + 64].to_string();
    let (s, _) = call(
        confirm,
        "POST",
        confirm.into(),
        Some(json!({"token": token, "password": PASSWORD})),
        Auth::Anonymous,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "the same password again is allowed");
    let tokens = "/api/accounts/tokens/";
    assert_eq!(
        call(tokens, "GET", tokens.into(), None, Auth::Token).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(tokens, "POST", tokens.into(), Some(json!({"name": ""})), Auth::Token)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    // The access JWT obtained before the reset ended with the password; personal tokens go on.
    let me = "/api/accounts/current-user/";
    assert_eq!(
        call(me, "GET", me.into(), None, Auth::Jwt).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (_, pair) = call(
        "/api/token/",
        "POST",
        "/api/token/".into(),
        Some(json!({"username": "ada", "password": PASSWORD})),
        Auth::Anonymous,
    )
    .await;
    *ada.access.borrow_mut() = pair["access"].as_str().unwrap().to_string();
    let (_, t) = call(
        tokens,
        "POST",
        tokens.into(),
        Some(json!({"name": "tmp", "expires_in_days": 7})),
        Auth::Token,
    )
    .await;
    let one = "/api/accounts/tokens/{id}/";
    let path = format!("/api/accounts/tokens/{}/", t["id"]);
    assert_eq!(
        call(one, "DELETE", path.clone(), None, Auth::Token).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(one, "DELETE", path, None, Auth::Token).await.0,
        StatusCode::NOT_FOUND
    );
    let (_, pair) = call(
        "/api/token/",
        "POST",
        "/api/token/".into(),
        Some(json!({"username": "ada", "password": PASSWORD})),
        Auth::Anonymous,
    )
    .await;
    assert_eq!(
        call(
            "/api/token/",
            "POST",
            "/api/token/".into(),
            Some(json!({"username": "ada", "password": "x"})),
            Auth::Anonymous
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    let refresh = json!({"refresh": pair["refresh"]});
    let (s, next) = call(
        "/api/token/refresh/",
        "POST",
        "/api/token/refresh/".into(),
        Some(refresh.clone()),
        Auth::Anonymous,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        call(
            "/api/token/refresh/",
            "POST",
            "/api/token/refresh/".into(),
            Some(refresh),
            Auth::Anonymous
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );
    let revoke = json!({"refresh": next["refresh"]});
    assert_eq!(
        call(
            "/api/token/revoke/",
            "POST",
            "/api/token/revoke/".into(),
            Some(revoke),
            Auth::Anonymous
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        call(
            "/api/token/revoke/",
            "POST",
            "/api/token/revoke/".into(),
            Some(json!({"refresh": "x"})),
            Auth::Anonymous
        )
        .await
        .0,
        StatusCode::UNAUTHORIZED
    );

    // Chat.
    let list = "/api/chat/conversations/";
    let (s, _) = call(list, "POST", list.into(), Some(json!({})), Auth::Token).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (id, user_message, reply) = fixture(&chat, &contract, &ada).await;
    assert!(call(list, "GET", list.into(), None, Auth::Token).await.1.is_array());
    let (_, page) = call(
        list,
        "GET",
        format!("{list}?page=1&page_size=1&ordering=-created_at"),
        None,
        Auth::Token,
    )
    .await;
    assert_eq!(page["count"], 1);
    assert_eq!(
        call(list, "GET", format!("{list}?ordering=size"), None, Auth::Token)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(list, "GET", format!("{list}?search=hello"), None, Auth::Token)
            .await
            .0,
        StatusCode::OK
    );
    let one = "/api/chat/conversations/{id}/";
    assert_eq!(
        call(one, "GET", format!("{list}{id}/"), None, Auth::Token).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(one, "GET", format!("{list}999999/"), None, Auth::Token).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(one, "GET", format!("{list}abc/"), None, Auth::Token).await.0,
        StatusCode::NOT_FOUND
    );
    let edit = json!({"title": "T", "tags": ["a"], "category": "c", "summary": "s", "is_pinned": true, "system_prompt": "Be brief."});
    assert_eq!(
        call(one, "PATCH", format!("{list}{id}/"), Some(edit), Auth::Token)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(
            one,
            "PATCH",
            format!("{list}{id}/"),
            // A number is read as text, as DRF's CharField does (issue #11); a list is not text.
            Some(json!({"title": ["x"]})),
            Auth::Token
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(
            one,
            "PATCH",
            format!("{list}{id}/"),
            Some(json!({"title": " "})),
            Auth::Token
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    for spelling in ["update_metadata", "update-metadata"] {
        let template: &'static str = if spelling == "update_metadata" {
            "/api/chat/conversations/{id}/update_metadata/"
        } else {
            "/api/chat/conversations/{id}/update-metadata/"
        };
        let (s, _) = call(
            template,
            "POST",
            format!("{list}{id}/{spelling}/"),
            Some(json!({"is_pinned": false})),
            Auth::Token,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
    let msgs = "/api/chat/conversations/{id}/messages/";
    assert_eq!(
        call(msgs, "GET", format!("{list}{id}/messages/"), None, Auth::Token)
            .await
            .0,
        StatusCode::OK
    );
    let slow = json!({"content": "[fake:tps=20] [fake:tokens=30] slow"});
    let (s, sent) = call(msgs, "POST", format!("{list}{id}/messages/"), Some(slow), Auth::Token).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = call(
        msgs,
        "POST",
        format!("{list}{id}/messages/"),
        Some(json!({"content": "busy?"})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let status = "/api/chat/conversations/{id}/messages/{message_id}/status/";
    let pending = sent["user_message"]["id"].as_i64().unwrap();
    let (_, st) = call(
        status,
        "GET",
        format!("{list}{id}/messages/{pending}/status/"),
        None,
        Auth::Token,
    )
    .await;
    assert!(
        ["pending", "streaming"].contains(&st["status"].as_str().unwrap()),
        "{st}"
    );
    let stream = "/api/chat/conversations/{id}/messages/{message_id}/stream/";
    let (s, _) = call(
        stream,
        "GET",
        format!("{list}{id}/messages/{pending}/stream/"),
        None,
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    settle(&chat, id).await;
    let (_, st) = call(
        status,
        "GET",
        format!("{list}{id}/messages/{user_message}/status/"),
        None,
        Auth::Token,
    )
    .await;
    assert_eq!(st["status"], "completed");
    assert_eq!(
        call(
            status,
            "GET",
            format!("{list}{id}/messages/{reply}/status/"),
            None,
            Auth::Token
        )
        .await
        .0,
        StatusCode::OK
    );
    let (s, _) = call(
        msgs,
        "POST",
        format!("{list}{id}/messages/"),
        // Any content type of at most 50 characters is accepted (issue #11); a longer one is refused.
        Some(json!({"content": "x", "content_type": "g".repeat(51)})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(
        msgs,
        "POST",
        format!("{list}{id}/messages/?stream=true"),
        Some(json!({"content": "streamed"})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    settle(&chat, id).await;
    let (s, _) = call(
        msgs,
        "POST",
        format!("{list}{id}/messages/"),
        Some(json!({"content": "[fake:500]"})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    settle(&chat, id).await;
    let failed: i64 = sqlx::query_scalar("SELECT MAX(id) FROM messages WHERE conversation_id = $1 AND role = 'user'")
        .bind(id)
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap();
    let (_, st) = call(
        status,
        "GET",
        format!("{list}{id}/messages/{failed}/status/"),
        None,
        Auth::Token,
    )
    .await;
    assert_eq!(st["status"], "error", "{st}");
    let archive = "/api/chat/conversations/{id}/archive/";
    assert_eq!(
        call(archive, "POST", format!("{list}{id}/archive/"), None, Auth::Token)
            .await
            .0,
        StatusCode::OK
    );
    let restore = "/api/chat/conversations/{id}/restore/";
    assert_eq!(
        call(restore, "POST", format!("{list}{id}/restore/"), None, Auth::Token)
            .await
            .0,
        StatusCode::OK
    );
    // Share links, forks and copies (issue #29).
    let share = "/api/chat/conversations/{id}/share/";
    let (s, link) = call(share, "POST", format!("{list}{id}/share/"), None, Auth::Token).await;
    assert_eq!(s, StatusCode::CREATED, "{link}");
    let (s, _) = call(share, "POST", format!("{list}{id}/share/"), None, Auth::Token).await;
    assert_eq!(s, StatusCode::OK);
    let token = link["token"].as_str().unwrap().to_string();
    let shares = "/api/chat/shares/";
    let (s, listed) = call(shares, "GET", shares.into(), None, Auth::Token).await;
    assert_eq!((s, listed.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
    let shared = "/api/shared/{token}/";
    let (s, _) = call(shared, "GET", format!("/api/shared/{token}/"), None, Auth::Anonymous).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(shared, "GET", "/api/shared/nope/".into(), None, Auth::Anonymous).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let copy = "/api/shared/{token}/continue/";
    let (s, _) = call(
        copy,
        "POST",
        format!("/api/shared/{token}/continue/"),
        None,
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let fork = "/api/chat/conversations/{id}/fork/";
    let (s, _) = call(
        fork,
        "POST",
        format!("{list}{id}/fork/"),
        Some(json!({"message_id": pending})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = call(fork, "POST", format!("{list}{id}/fork/"), Some(json!({})), Auth::Token).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let import = "/api/chat/import/";
    let (s, report) = call(import, "POST", import.into(), Some(chatgpt_conversation()), Auth::Token).await;
    assert_eq!(
        (s, report["imported"].as_u64()),
        (StatusCode::CREATED, Some(1)),
        "{report}"
    );
    let (s, report) = call(import, "POST", import.into(), Some(chatgpt_conversation()), Auth::Token).await;
    assert_eq!(
        (s, report["already_imported"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{report}"
    );
    let (s, _) = call(
        import,
        "POST",
        import.into(),
        Some(json!({"not": "an export"})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(share, "DELETE", format!("{list}{id}/share/"), None, Auth::Token).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(share, "DELETE", format!("{list}{id}/share/"), None, Auth::Token).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let ask = "/api/chat/ask-mistral/";
    assert_eq!(
        call(ask, "POST", ask.into(), Some(json!({"message": "Hi"})), Auth::Token)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(ask, "POST", ask.into(), Some(json!({})), Auth::Token).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(
            ask,
            "POST",
            ask.into(),
            Some(json!({"message": "[fake:401]"})),
            Auth::Token
        )
        .await
        .0,
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(
        call(
            ask,
            "POST",
            ask.into(),
            Some(json!({"message": "[fake:503]"})),
            Auth::Token
        )
        .await
        .0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        call(one, "DELETE", format!("{list}{id}/"), None, Auth::Token).await.0,
        StatusCode::NO_CONTENT
    );
    let logout = "/api/accounts/api/logout/";
    assert_eq!(
        call(logout, "POST", logout.into(), Some(json!({})), Auth::Session)
            .await
            .0,
        StatusCode::OK
    );

    // Files: an upload, its details and bytes, a refusal, attached files that stay, deletion.
    let files = "/api/files/";
    let (s, file) = call(
        files,
        "POST",
        files.into(),
        Some(json!({"__file": "a.md", "__bytes": "# A"})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{file}");
    let fid = file["id"].as_i64().unwrap();
    let one = "/api/files/{id}/";
    assert_eq!(
        call(one, "GET", format!("{files}{fid}/"), None, Auth::Jwt).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(one, "GET", format!("{files}999999/"), None, Auth::Token).await.0,
        StatusCode::NOT_FOUND
    );
    let content = "/api/files/{id}/content/";
    assert_eq!(
        call(content, "GET", format!("{files}{fid}/content/"), None, Auth::Token)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(content, "GET", format!("{files}0/content/"), None, Auth::Jwt)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (s, refused) = call(
        files,
        "POST",
        files.into(),
        Some(json!({"__file": "e.txt", "__bytes": ""})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{refused}");
    let (s, c) = call(
        "/api/chat/conversations/",
        "POST",
        "/api/chat/conversations/".into(),
        Some(json!({"initial_message": "read it", "attachments": [fid]})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(c["messages"][0]["attachments"][0]["id"], fid);
    settle(&chat, c["id"].as_i64().unwrap()).await;
    assert_eq!(
        call(one, "DELETE", format!("{files}{fid}/"), None, Auth::Token).await.0,
        StatusCode::BAD_REQUEST
    );
    let (_, loose) = call(
        files,
        "POST",
        files.into(),
        Some(json!({"__file": "b.txt", "__bytes": "b"})),
        Auth::Token,
    )
    .await;
    assert_eq!(
        call(one, "DELETE", format!("{files}{}/", loose["id"]), None, Auth::Token)
            .await
            .0,
        StatusCode::NO_CONTENT
    );

    // Administration: refused to ada until she is staff, then every route with its answers and its errors.
    let users = "/api/admin/users/";
    assert_eq!(
        call(users, "GET", users.into(), None, Auth::Token).await.0,
        StatusCode::FORBIDDEN
    );
    sqlx::query("UPDATE users SET is_staff = 1 WHERE username = 'ada'")
        .execute(&chat.app.pool().pool)
        .await
        .unwrap();
    let carol = with_user(&chat.app, "carol", PASSWORD).await;
    let (s, page) = call(
        users,
        "GET",
        format!("{users}?search=carol&ordering=-tokens"),
        None,
        Auth::Token,
    )
    .await;
    assert_eq!((s, page["count"].as_i64()), (StatusCode::OK, Some(1)));
    assert_eq!(
        call(users, "GET", format!("{users}?ordering=nope"), None, Auth::Jwt)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let user = "/api/admin/users/{id}/";
    assert_eq!(
        call(user, "GET", format!("{users}{carol}/"), None, Auth::Jwt).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(user, "GET", format!("{users}999999/"), None, Auth::Token).await.0,
        StatusCode::NOT_FOUND
    );
    let (s, _) = call(
        user,
        "PATCH",
        format!("{users}{carol}/"),
        Some(json!({"is_staff": true})),
        Auth::Jwt,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let ada_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'ada'")
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap();
    let (s, _) = call(
        user,
        "PATCH",
        format!("{users}{ada_id}/"),
        Some(json!({"is_active": false})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(
        user,
        "PATCH",
        format!("{users}{carol}/"),
        Some(json!({"is_staff": [1]})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let reset = "/api/admin/users/{id}/send-reset/";
    assert_eq!(
        call(reset, "POST", format!("{users}{carol}/send-reset/"), None, Auth::Jwt)
            .await
            .0,
        StatusCode::ACCEPTED
    );
    let audit = "/api/admin/audit/";
    let (s, log) = call(audit, "GET", audit.into(), None, Auth::Token).await;
    assert_eq!((s, log["count"].as_i64()), (StatusCode::OK, Some(2)));
    assert_eq!(
        call(audit, "GET", format!("{audit}?page=x"), None, Auth::Token).await.0,
        StatusCode::BAD_REQUEST
    );
    let settings = "/api/admin/settings/";
    assert_eq!(
        call(settings, "GET", settings.into(), None, Auth::Token).await.0,
        StatusCode::OK
    );
    let (s, _) = call(
        settings,
        "PATCH",
        settings.into(),
        Some(json!({"quota": {"tokens_per_month": 1000}})),
        Auth::Jwt,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        settings,
        "PATCH",
        settings.into(),
        Some(json!({"quota": {"tokens_per_month": -1}})),
        Auth::Jwt,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = call(
        user,
        "PATCH",
        format!("{users}{carol}/"),
        Some(json!({"quota": {"messages_per_day": 5}})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let report = "/api/admin/usage/";
    assert_eq!(
        call(report, "GET", format!("{report}?group_by=model"), None, Auth::Token)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(report, "GET", format!("{report}?from=x"), None, Auth::Token)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    // MCP servers (on a loopback port nothing listens on: kept, with why its tools could not be listed) and the
    // tools list.
    let servers = "/api/admin/mcp-servers/";
    let closed = format!("http://127.0.0.1:{}/mcp", crate::common::free_port());
    let (s, server) = call(
        servers,
        "POST",
        servers.into(),
        Some(json!({"name": "nowhere", "url": closed, "headers": {"Authorization": "Bearer k"}})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{server}");
    assert!(server["last_error"].is_string(), "{server}");
    let (s, _) = call(servers, "POST", servers.into(), Some(json!({"name": ""})), Auth::Jwt).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        call(servers, "GET", servers.into(), None, Auth::Token).await.0,
        StatusCode::OK
    );
    let one = "/api/admin/mcp-servers/{id}/";
    let at = format!("{servers}{}/", server["id"]);
    assert_eq!(call(one, "GET", at.clone(), None, Auth::Token).await.0, StatusCode::OK);
    assert_eq!(
        call(one, "GET", format!("{servers}999999/"), None, Auth::Token).await.0,
        StatusCode::NOT_FOUND
    );
    let (s, changed) = call(one, "PATCH", at.clone(), Some(json!({"enabled": false})), Auth::Token).await;
    assert_eq!((s, changed["enabled"].as_bool()), (StatusCode::OK, Some(false)));
    let (s, tools) = call(
        "/api/admin/mcp-servers/{id}/tools/",
        "GET",
        format!("{at}tools/"),
        None,
        Auth::Token,
    )
    .await;
    assert_eq!((s, tools), (StatusCode::OK, json!([])));
    let refresh = "/api/admin/mcp-servers/{id}/refresh/";
    assert_eq!(
        call(refresh, "POST", format!("{at}refresh/"), None, Auth::Token)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(one, "DELETE", at, None, Auth::Token).await.0,
        StatusCode::NO_CONTENT
    );
    let (c, _, reply) = fixture(&chat, &contract, &ada).await;
    let (s, refused) = call(
        "/api/chat/conversations/{id}/messages/{message_id}/approve/",
        "POST",
        format!("/api/chat/conversations/{c}/messages/{reply}/approve/"),
        Some(json!({"call_id": "notwaitin", "allow": false})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{refused}");
    // A page number far beyond the last (the fuzzer's 2^62 + 1) is an empty page, not an overflow.
    let (s, far) = call(
        "/api/chat/conversations/",
        "GET",
        "/api/chat/conversations/?page=4611686018427387905".into(),
        None,
        Auth::Token,
    )
    .await;
    assert_eq!(
        (s, far["results"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(0)),
        "{far}"
    );
    let (s, _) = call(
        "/api/admin/users/",
        "GET",
        "/api/admin/users/?page=4611686018427387905".into(),
        None,
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let tools = "/api/chat/tools/";
    let (s, listed) = call(tools, "GET", tools.into(), None, Auth::Token).await;
    assert_eq!((s, listed), (StatusCode::OK, json!([])));
    let usage = "/api/accounts/usage/";
    let (s, mine) = call(usage, "GET", usage.into(), None, Auth::Token).await;
    assert_eq!(
        (s, mine["limits"]["tokens_per_month"].as_i64()),
        (StatusCode::OK, Some(1000))
    );
    assert_eq!(
        call(usage, "GET", usage.into(), None, Auth::Anonymous).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(user, "DELETE", format!("{users}{ada_id}/"), None, Auth::Token)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(user, "DELETE", format!("{users}{carol}/"), None, Auth::Token)
            .await
            .0,
        StatusCode::NO_CONTENT
    );

    // The OpenAI-compatible API: its answers and its errors, in its own shapes.
    let (s, models) = call("/v1/models", "GET", "/v1/models".into(), None, Auth::Token).await;
    assert_eq!((s, &models["object"]), (StatusCode::OK, &json!("list")));
    let one = "/v1/models/{model}";
    assert_eq!(
        call(one, "GET", "/v1/models/mistral-embed".into(), None, Auth::Token)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(one, "GET", "/v1/models/gpt-4o".into(), None, Auth::Token).await.0,
        StatusCode::NOT_FOUND
    );
    let completions = "/v1/chat/completions";
    let ask = |text: &str| json!({"model": "mistral-small-latest", "messages": [{"role": "user", "content": text}]});
    for (body, expected) in [
        (ask("hi"), StatusCode::OK),
        (json!({"model": "mistral-small-latest"}), StatusCode::BAD_REQUEST),
        (
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}),
            StatusCode::NOT_FOUND,
        ),
        (ask("hi [fake:429]"), StatusCode::TOO_MANY_REQUESTS),
        (ask("hi [fake:503]"), StatusCode::SERVICE_UNAVAILABLE),
    ] {
        let (s, out) = call(completions, "POST", completions.into(), Some(body), Auth::Token).await;
        assert_eq!(s, expected, "{out}");
    }
    let mut streamed = ask("hi");
    streamed["stream"] = json!(true);
    let (s, out) = call(completions, "POST", completions.into(), Some(streamed), Auth::Token).await;
    assert!(
        s == StatusCode::OK && out.as_str().unwrap().ends_with("data: [DONE]\n\n"),
        "{out}"
    );
    let (s, _) = call(completions, "POST", completions.into(), Some(ask("hi")), Auth::Session).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let embeddings = "/v1/embeddings";
    let (s, out) = call(
        embeddings,
        "POST",
        embeddings.into(),
        Some(json!({"model": "mistral-embed", "input": ["a", "b"]})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{out}");
    let (s, _) = call(
        embeddings,
        "POST",
        embeddings.into(),
        Some(json!({"model": "mistral-embed"})),
        Auth::Token,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Every operation of the document was called at least once.
    let seen = contract.seen.lock().unwrap().clone();
    let missing: Vec<_> = contract
        .operations()
        .into_iter()
        .filter(|op| !seen.contains(op))
        .collect();
    assert!(missing.is_empty(), "never called: {missing:?}");
}

#[tokio::test]
async fn limits_answer_429_as_documented() {
    let chat = Chat::new(&[
        ("RATE_LIMIT_MESSAGES_PER_MINUTE", "1"),
        ("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "3"),
    ])
    .await;
    let contract = Contract::new(&chat);
    let ada = creds(&chat, &contract, "ada").await;
    let list = "/api/chat/conversations/";
    let create = |text: &str| {
        request(
            "POST",
            list,
            Some(&json!({"initial_message": text})),
            Auth::Token,
            Some(&ada),
        )
    };
    assert_eq!(contract.call(&chat, list, create("one")).await.0, StatusCode::CREATED);
    let (s, body) = contract.call(&chat, list, create("two")).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let ask = request(
        "POST",
        "/api/chat/ask-mistral/",
        Some(&json!({"message": "a"})),
        Auth::Token,
        Some(&ada),
    );
    assert_eq!(
        contract.call(&chat, "/api/chat/ask-mistral/", ask).await.0,
        StatusCode::OK
    );
    let ask = request(
        "POST",
        "/api/chat/ask-mistral/",
        Some(&json!({"message": "b"})),
        Auth::Token,
        Some(&ada),
    );
    assert_eq!(
        contract.call(&chat, "/api/chat/ask-mistral/", ask).await.0,
        StatusCode::TOO_MANY_REQUESTS
    );
    // creds() used two anonymous calls (login is counted too); the third and fourth hit the address limit.
    let csrf = || request("GET", "/api/csrf/", None, Auth::Anonymous, None);
    let mut statuses = Vec::new();
    for _ in 0..2 {
        statuses.push(contract.call(&chat, "/api/csrf/", csrf()).await.0);
    }
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
}

/// One conversation as ChatGPT exports it.
fn chatgpt_conversation() -> Value {
    json!({
        "id": "contract-1", "title": "Contract", "create_time": 1_700_000_000.0,
        "mapping": {"a": {"id": "a", "parent": null, "children": [], "message": {
            "author": {"role": "user"}, "content": {"content_type": "text", "parts": ["hi"]}}}},
        "current_node": "a"
    })
}

/// The body that makes each operation succeed, and the path with ids filled in.
fn concrete(method: &str, template: &str, ids: &HashMap<&str, i64>) -> (String, Option<Value>) {
    let mut path = template.to_string();
    for (name, value) in ids {
        path = path.replace(&format!("{{{name}}}"), &value.to_string());
    }
    let path = path.replace("{token}", "0").replace("{model}", "mistral-small-latest");
    let body = match (method, template) {
        ("GET" | "DELETE", _) => None,
        (_, "/api/chat/conversations/") => Some(json!({"initial_message": "matrix"})),
        (_, "/api/chat/conversations/{id}/messages/") => Some(json!({"content": "matrix"})),
        (_, "/api/chat/conversations/{id}/fork/") => Some(json!({"message_id": ids["message_id"]})),
        // The body is the file itself: one ChatGPT conversation.
        (_, "/api/chat/import/") => Some(chatgpt_conversation()),
        (_, "/api/chat/ask-mistral/") => Some(json!({"message": "matrix"})),
        (_, "/v1/chat/completions") => {
            Some(json!({"model": "mistral-small-latest", "messages": [{"role": "user", "content": "matrix"}]}))
        }
        (_, "/v1/embeddings") => Some(json!({"model": "mistral-embed", "input": "matrix"})),
        (_, "/api/accounts/tokens/") => Some(json!({"name": "matrix"})),
        (_, "/api/files/") => Some(json!({"__file": "matrix.txt", "__bytes": "matrix"})),
        (_, "/api/accounts/settings/") => Some(json!({"bio": "matrix"})),
        (_, "/api/accounts/api/login/" | "/api/token/") => Some(json!({"username": "ada", "password": PASSWORD})),
        (_, "/api/accounts/api/register/") => {
            Some(json!({"username": "u", "email": "u@x.example", "password1": "a", "password2": "b"}))
        }
        (_, "/api/accounts/api/reset-password/") => Some(json!({"email": "ada@example.com"})),
        (_, "/api/accounts/api/reset-password/confirm/") => Some(json!({"token": "x", "password": "y"})),
        (_, "/api/token/refresh/" | "/api/token/revoke/") => Some(json!({"refresh": "x"})),
        // The fixture's reply has no call waiting for approval: the answer is the field error that says so.
        (_, "/api/chat/conversations/{id}/messages/{message_id}/approve/") => {
            Some(json!({"call_id": "notwaitin", "allow": true}))
        }
        _ => Some(json!({})),
    };
    (path, body)
}

#[tokio::test]
async fn every_route_under_every_kind_of_caller() {
    let chat = Chat::new(&[
        ("EMBEDDING_MODEL", "mistral-embed"),
        ("RATE_LIMIT_MESSAGES_PER_MINUTE", "0"),
        ("RATE_LIMIT_ANONYMOUS_PER_MINUTE", "0"),
    ])
    .await;
    let contract = Contract::new(&chat);
    let mut ada = creds(&chat, &contract, "ada").await;
    let bob = creds(&chat, &contract, "bob").await;
    let operations = contract.operations();
    assert!(operations.len() >= 30, "{operations:?}");
    let modes = [
        Auth::Anonymous,
        Auth::SessionNoCsrf,
        Auth::Session,
        Auth::CrossSite,
        Auth::Token,
        Auth::Jwt,
    ];
    let mut rows = 0;
    for (method, template) in &operations {
        let unsafe_method = method != "GET";
        let secured = contract.secured(method, template);
        for mode in modes.iter().copied().chain([Auth::Token]) {
            let other_user = rows % (modes.len() + 1) == modes.len();
            rows += 1;
            // Fresh objects of ada's for every call, so deletes and sends always have something to act on.
            let (id, message, reply) = fixture(&chat, &contract, &ada).await;
            let approve = template.ends_with("/approve/");
            let mut ids = HashMap::from([("id", id), ("message_id", if approve { reply } else { message })]);
            if template.starts_with("/api/files/{id}/") {
                let upload = json!({"__file": "m.txt", "__bytes": format!("matrix {rows}")});
                let (_, file) = contract
                    .call(
                        &chat,
                        "/api/files/",
                        request("POST", "/api/files/", Some(&upload), Auth::Token, Some(&ada)),
                    )
                    .await;
                ids.insert("id", file["id"].as_i64().unwrap());
            }
            if template == "/api/accounts/tokens/{id}/" {
                let (_, token) = contract
                    .call(
                        &chat,
                        "/api/accounts/tokens/",
                        request(
                            "POST",
                            "/api/accounts/tokens/",
                            Some(&json!({"name": "m"})),
                            Auth::Token,
                            Some(&ada),
                        ),
                    )
                    .await;
                ids.insert("id", token["id"].as_i64().unwrap());
            }
            let (mut path, body) = concrete(method, template, &ids);
            if template.ends_with("/share/") && method == "DELETE" || template.starts_with("/api/shared/") {
                // A link of ada's to revoke or to read.
                let (_, link) = contract
                    .call(
                        &chat,
                        "/api/chat/conversations/{id}/share/",
                        request(
                            "POST",
                            &format!("/api/chat/conversations/{id}/share/"),
                            None,
                            Auth::Token,
                            Some(&ada),
                        ),
                    )
                    .await;
                path = path.replace(
                    "/api/shared/0/",
                    &format!("/api/shared/{}/", link["token"].as_str().unwrap()),
                );
            }
            let who = if other_user { &bob } else { &ada };
            let req = request(method, &path, body.as_ref(), mode, Some(who));
            let (status, answer) = contract.call(&chat, template, req).await;
            let case = format!(
                "{method} {path} as {mode:?}{}: {status} {answer}",
                if other_user { " (bob)" } else { "" }
            );
            // ada and bob are not staff: the admin routes refuse them once they know who calls.
            let admin = template.starts_with("/api/admin/");
            if template.starts_with("/v1/") {
                // The OpenAI-compatible API: a personal token, and nothing else (no cookie, no JWT) opens it.
                if mode == Auth::Token {
                    assert!(status.is_success(), "{case}");
                } else {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}");
                    assert_eq!(answer["error"]["code"], "invalid_api_key", "{case}");
                }
            } else if other_user && template.contains("{id}") && !admin {
                assert_eq!(status, StatusCode::NOT_FOUND, "{case}");
            } else if mode == Auth::CrossSite && unsafe_method {
                assert_eq!(status, StatusCode::FORBIDDEN, "{case}");
                assert!(answer["detail"].as_str().unwrap().starts_with("CSRF Failed"), "{case}");
            } else if secured && mode == Auth::Anonymous {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}");
            } else if secured && mode == Auth::SessionNoCsrf && unsafe_method {
                assert_eq!(status, StatusCode::FORBIDDEN, "{case}");
                assert_eq!(answer["detail"], "CSRF Failed: CSRF token missing.", "{case}");
            } else if admin {
                assert_eq!(status, StatusCode::FORBIDDEN, "{case}");
                assert_eq!(
                    answer["detail"], "You do not have permission to perform this action.",
                    "{case}"
                );
            } else if approve {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
                assert_eq!(
                    answer["call_id"][0], "This call is not waiting for your approval (any more).",
                    "{case}"
                );
            } else if secured {
                assert!(status.is_success(), "{case}");
            } else if template == "/api/accounts/api/logout/" && mode == Auth::SessionNoCsrf {
                // Logging a session out is an unsafe session request like any other.
                assert_eq!(status, StatusCode::FORBIDDEN, "{case}");
            } else {
                assert!(
                    status != StatusCode::FORBIDDEN && status.as_u16() < 500,
                    "anonymous routes need no credentials: {case}"
                );
            }
            settle(&chat, id).await;
            if template == "/api/accounts/api/logout/" && status.is_success() {
                // That ended the session (and the others keep working): a new one for the next rows.
                ada.cookie = relogin(&chat, "ada").await;
            }
        }
    }
    assert!(rows >= operations.len() * 7);
}

#[tokio::test]
async fn the_document_and_its_readable_page_are_served() {
    let chat = Chat::new(&[]).await;
    let res = chat.app.send(crate::common::get("/api/openapi.json")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let served: Value = serde_json::from_str(&text(res).await).unwrap();
    let contract = Contract::new(&chat);
    assert_eq!(served, contract.doc, "the served document is the generated one");
    let res = chat.app.send(crate::common::get("/api/docs/")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(header(&res, "content-type").starts_with("text/html"));
    assert!(header(&res, "content-security-policy").starts_with("default-src 'none'"));
    let html = text(res).await;
    for (method, path) in contract.operations() {
        assert!(
            html.contains(&format!(">{method}</span>{path}</h3>")),
            "{method} {path} missing from the page"
        );
    }
    for shape in ["ConversationOut", "MessageOut", "UserOut", "TokenOut"] {
        assert!(html.contains(&format!("id=\"schema-{shape}\"")), "{shape}");
    }
    assert!(!html.contains("<script"), "no script on the page");
}
