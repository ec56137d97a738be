//! Importing conversations (issue #29): ChatGPT's `conversations.json` (or its ZIP archive) with its branches, Open
//! WebUI's export, and ThiCode's own export round-tripping exactly; previews, idempotence, what is not carried, bad
//! files and limits; the REST route and the settings page without JavaScript, and how another site could call them.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::api_chat::Client;
use crate::chat_flow::Chat;
use crate::common::{ORIGIN, PASSWORD, form_post, page, text, with_user};

const CHATGPT: &[u8] = include_bytes!("../fixtures/import/chatgpt.json");
const OPENWEBUI: &[u8] = include_bytes!("../fixtures/import/openwebui.json");
/// One conversation as ThiCode exports it: branches, a stopped reply, a tool call with its result.
const THICODE: &[u8] = include_bytes!("../fixtures/import/thicode.json");
const BOUNDARY: &str = "----thicode-import-boundary";

/// A multipart body with the file part `file` and the text fields.
fn multipart(file_name: &str, bytes: &[u8], fields: &[(&str, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/json\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Posts `body` to the REST import as the logged-in `client` (`content_type` multipart unless given).
async fn post_import(
    chat: &Chat,
    client: &Client<'_>,
    query: &str,
    body: Vec<u8>,
    content_type: Option<&str>,
) -> (StatusCode, Value) {
    let req = Request::post(format!("/api/chat/import/{query}"))
        .header("host", "127.0.0.1:3000")
        .header("cookie", &client.cookies)
        .header("x-csrftoken", &client.csrf)
        .header(
            "content-type",
            content_type.map_or_else(|| format!("multipart/form-data; boundary={BOUNDARY}"), str::to_string),
        )
        .body(Body::from(body))
        .unwrap();
    let res = chat.app.send(req).await;
    let status = res.status();
    (status, serde_json::from_str(&text(res).await).unwrap_or(Value::Null))
}

async fn conversations_of(chat: &Chat, user_id: i64) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM conversations WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap()
}

async fn user_id(chat: &Chat, name: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(name)
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_chatgpt_export_is_previewed_then_imported_once_with_its_branches() {
    let chat = Chat::new(&[]).await;
    let ada = Client::log_in(&chat, "ada").await;
    let ada_id = user_id(&chat, "ada").await;

    // The preview stores nothing and says what it would do.
    let (status, preview) = post_import(
        &chat,
        &ada,
        "",
        multipart("conversations.json", CHATGPT, &[("dry_run", "true")]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["format"], "chatgpt");
    assert_eq!(preview["dry_run"], json!(true));
    assert_eq!(
        (preview["found"].as_u64(), preview["imported"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(preview["left_out"], 1);
    assert_eq!(preview["conversations"][0]["outcome"], "new");
    assert_eq!(preview["conversations"][0]["branches"], 2);
    assert_eq!(preview["conversations"][2]["outcome"], "empty");
    assert_eq!(preview["not_carried"]["images"], 1);
    assert_eq!(preview["not_carried"]["tool_calls"], 1);
    assert_eq!(conversations_of(&chat, ada_id).await, 0);

    // The import.
    let (status, report) = post_import(&chat, &ada, "", multipart("conversations.json", CHATGPT, &[]), None).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(report["imported"], 2);
    let tea = report["conversations"][0]["id"].as_i64().unwrap();
    let old = report["conversations"][1]["id"].as_i64().unwrap();
    assert_eq!(report["conversations"][0]["outcome"], "imported");

    let (status, c) = ada.call("GET", &format!("/api/chat/conversations/{tea}/"), None).await;
    assert_eq!(status, StatusCode::OK, "{c}");
    assert_eq!(c["title"], "Tea brewing");
    assert_eq!(c["created_at"], "2023-11-14T22:13:20Z");
    assert_eq!(c["system_prompt"], "I live in Lyon.\n\nAnswer briefly.");
    assert_eq!(
        c["model"], "",
        "another app's model is not ours: the user's preferred one answers next"
    );
    let messages = c["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 5);
    let id_at = |i: usize| messages[i]["id"].as_i64().unwrap();
    // Two answers to the first question (ChatGPT's regeneration), the branch on screen going on from the second.
    assert_eq!(messages[1]["parent"].as_i64(), Some(id_at(0)));
    assert_eq!(messages[2]["parent"].as_i64(), Some(id_at(0)));
    assert_eq!(messages[3]["parent"].as_i64(), Some(id_at(2)));
    assert_eq!(c["current_leaf"].as_i64(), Some(id_at(4)));
    assert_eq!(messages[0]["created_at"], "2023-11-14T22:13:30Z");
    assert_eq!(messages[1]["metadata"]["model"], "gpt-4o");
    assert_eq!(messages[4]["content"], "Searching…\n\nSteep green tea at 80 °C.");
    assert_eq!(c["additional_data"]["import_source"], "chatgpt:conv-tea-0001");
    let (_, archived) = ada.call("GET", &format!("/api/chat/conversations/{old}/"), None).await;
    assert_eq!(archived["status"], "archived");

    // The page shows the branch on screen, and the other app's markup as text.
    let cookie = ada.cookies.clone();
    let html = page(&chat.app, &format!("/chat/{old}"), Some(&cookie)).await;
    assert!(html.contains("What is 2+2?"), "{html}");
    assert!(
        !html.contains("<script>alert(1)</script>"),
        "imported text is sanitised"
    );
    assert!(!html.contains("<b>archived</b>"), "titles are text");
    let html = page(&chat.app, &format!("/chat/{tea}"), Some(&cookie)).await;
    assert!(html.contains("80 °C"), "the branch on screen is the file's current one");

    // Again: nothing added.
    let (status, again) = post_import(&chat, &ada, "", multipart("conversations.json", CHATGPT, &[]), None).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        (again["imported"].as_u64(), again["already_imported"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(again["conversations"][0]["id"].as_i64(), Some(tea));
    assert_eq!(conversations_of(&chat, ada_id).await, 2);

    // Deleted, it can be imported again; another account imports its own copy.
    let (status, _) = ada
        .call("DELETE", &format!("/api/chat/conversations/{old}/"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, back) = post_import(&chat, &ada, "", multipart("c.json", CHATGPT, &[]), None).await;
    assert_eq!(
        (back["imported"].as_u64(), back["already_imported"].as_u64()),
        (Some(1), Some(1))
    );
    let bob = Client::log_in(&chat, "bob").await;
    let (status, theirs) = post_import(&chat, &bob, "", multipart("c.json", CHATGPT, &[]), None).await;
    assert_eq!((status, theirs["imported"].as_u64()), (StatusCode::CREATED, Some(2)));
    let (status, _) = bob.call("GET", &format!("/api/chat/conversations/{tea}/"), None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "imports never reach another account's conversations"
    );

    // The same file in a ZIP archive, as ChatGPT sends it.
    let carol = Client::log_in(&chat, "carol").await;
    let mut zipped = std::io::Cursor::new(Vec::new());
    {
        use std::io::Write;
        let mut writer = zip::ZipWriter::new(&mut zipped);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        writer.start_file("chat.html", options).unwrap();
        writer.write_all(b"<html></html>").unwrap();
        writer.start_file("conversations.json", options).unwrap();
        writer.write_all(CHATGPT).unwrap();
        writer.finish().unwrap();
    }
    let (status, report) = post_import(&chat, &carol, "", multipart("export.zip", zipped.get_ref(), &[]), None).await;
    assert_eq!(
        (status, report["imported"].as_u64()),
        (StatusCode::CREATED, Some(2)),
        "{report}"
    );
}

/// A conversation without its ids, for comparing two exports: every message's parent as an index.
fn shape(c: &Value) -> Value {
    let messages = c["messages"].as_array().unwrap();
    let index = |id: &Value| messages.iter().position(|m| &m["id"] == id);
    let mut c = c.clone();
    let leaf = index(&c["current_leaf"]);
    let obj = c.as_object_mut().unwrap();
    for key in ["id", "current_leaf"] {
        obj.remove(key);
    }
    if let Some(data) = obj.get_mut("additional_data").and_then(Value::as_object_mut) {
        data.remove("import_source");
    }
    obj.insert("leaf".to_string(), json!(leaf));
    let shaped: Vec<Value> = messages
        .iter()
        .map(|m| {
            let mut m = m.clone();
            let parent = m["parent"].clone();
            let o = m.as_object_mut().unwrap();
            o.remove("id");
            o.insert("parent".to_string(), json!(index(&parent)));
            for step in o.get_mut("steps").and_then(Value::as_array_mut).into_iter().flatten() {
                let s = step.as_object_mut().unwrap();
                s.remove("id");
                s.remove("message_id");
            }
            m
        })
        .collect();
    obj.insert("messages".to_string(), Value::Array(shaped));
    c
}

async fn export_of(chat: &Chat, client: &Client<'_>) -> Value {
    let res = chat
        .app
        .send(
            Request::get("/settings/export/conversations.json")
                .header("host", "127.0.0.1:3000")
                .header("cookie", &client.cookies)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(crate::common::header(&res, "content-disposition").contains("conversations.json"));
    serde_json::from_str(&text(res).await).unwrap()
}

#[tokio::test]
async fn open_webui_and_thicode_exports_come_in_and_thicode_round_trips_exactly() {
    let chat = Chat::new(&[]).await;
    let ada = Client::log_in(&chat, "ada").await;

    // Open WebUI, sent as the body itself.
    let (status, report) = post_import(&chat, &ada, "", OPENWEBUI.to_vec(), Some("application/json")).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(report["format"], "openwebui");
    assert_eq!(
        report["not_carried"],
        json!({"images": 0, "files": 1, "tool_calls": 1, "reasoning": 1, "other": 0})
    );
    let rust = report["conversations"][0]["id"].as_i64().unwrap();
    let (_, c) = ada.call("GET", &format!("/api/chat/conversations/{rust}/"), None).await;
    assert_eq!(c["tags"], json!(["rust", "learning"]));
    assert_eq!(c["is_pinned"], json!(true));
    assert_eq!(
        c["messages"][2]["content"],
        "A lifetime names how long a borrow is valid."
    );

    // A ThiCode conversation of ThiCode's own, with a reply's tool calls, branches and a stopped reply.
    let own: Value = serde_json::from_slice(THICODE).unwrap();
    let (status, report) = post_import(&chat, &ada, "", own.to_string().into_bytes(), Some("application/json")).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    assert_eq!(report["format"], "thicode");
    let weather = report["conversations"][0]["id"].as_i64().unwrap();
    let (_, c) = ada
        .call("GET", &format!("/api/chat/conversations/{weather}/"), None)
        .await;
    assert_eq!(
        c["messages"][1]["steps"][0]["result"]["results"][0]["url"],
        "https://example.com/lyon"
    );
    assert_eq!(c["messages"][2]["status"], "stopped");
    assert_eq!(c["created_at"], "2026-01-02T03:04:05.678Z");
    assert_eq!(shape(&c)["messages"], shape(&own)["messages"]);
    assert_eq!(
        c["additional_data"],
        json!({"color": "blue", "import_source": "thicode:1767323045678:77"})
    );

    // And a ChatGPT file, for the sources to travel.
    post_import(&chat, &ada, "", multipart("conversations.json", CHATGPT, &[]), None).await;

    // Ada's export, imported into Bob's account, exports again the same (ids aside).
    let first = export_of(&chat, &ada).await;
    assert_eq!(first["format"], "thicode-conversations-1");
    let count = first["conversations"].as_array().unwrap().len();
    assert_eq!(count, 4);
    let bob = Client::log_in(&chat, "bob").await;
    let (status, report) = post_import(
        &chat,
        &bob,
        "",
        multipart("thicode-ada-conversations.json", first.to_string().as_bytes(), &[]),
        None,
    )
    .await;
    assert_eq!(
        (status, report["imported"].as_u64()),
        (StatusCode::CREATED, Some(4)),
        "{report}"
    );
    let second = export_of(&chat, &bob).await;
    let shapes = |doc: &Value| {
        let mut all: Vec<Value> = doc["conversations"].as_array().unwrap().iter().map(shape).collect();
        all.sort_by_key(|c| c["created_at"].as_str().unwrap().to_string());
        all
    };
    assert_eq!(shapes(&first), shapes(&second));

    // Where each came from travels with it: ChatGPT's file adds nothing to Bob now, nor Ada's export to Ada.
    let (_, again) = post_import(&chat, &bob, "", multipart("c.json", CHATGPT, &[]), None).await;
    assert_eq!(
        (again["imported"].as_u64(), again["already_imported"].as_u64()),
        (Some(0), Some(2))
    );
    let (_, own_again) = post_import(
        &chat,
        &ada,
        "?dry_run=1",
        multipart("x.json", first.to_string().as_bytes(), &[]),
        None,
    )
    .await;
    assert_eq!(own_again["already_imported"], 4, "{own_again}");
    // The account export is a ThiCode export too.
    let res = chat
        .app
        .send(
            Request::get("/settings/export")
                .header("host", "127.0.0.1:3000")
                .header("cookie", &ada.cookies)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    let account = text(res).await;
    let (status, from_account) = post_import(
        &chat,
        &ada,
        "?dry_run=true",
        multipart("a.json", account.as_bytes(), &[]),
        None,
    )
    .await;
    assert_eq!(
        (status, from_account["already_imported"].as_u64()),
        (StatusCode::OK, Some(4))
    );
}

#[tokio::test]
async fn files_that_are_not_exports_get_a_clear_error_and_limits_hold() {
    let chat = Chat::new(&[("MAX_IMPORT_BYTES", "20000")]).await;
    let ada = Client::log_in(&chat, "ada").await;
    let first = |v: &Value| v["file"][0].as_str().unwrap_or_default().to_string();

    let (status, body) = post_import(&chat, &ada, "", multipart("notes.txt", b"just some notes", &[]), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(first(&body).contains("not JSON"), "{body}");
    let (status, body) = post_import(
        &chat,
        &ada,
        "",
        multipart("x.json", br#"{"hello": "world"}"#, &[]),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        first(&body),
        "This file is not an export of ChatGPT, Open WebUI or ThiCode."
    );
    let (status, body) = post_import(&chat, &ada, "", multipart("x.json", b"", &[]), None).await;
    assert_eq!(
        (status, first(&body)),
        (StatusCode::BAD_REQUEST, "Choose a file to import.".to_string())
    );
    let (status, body) = post_import(
        &chat,
        &ada,
        "",
        b"PK\x03\x04 not a zip".to_vec(),
        Some("application/zip"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(first(&body).contains("ZIP"), "{body}");
    let big = vec![b' '; 30_000];
    let (status, body) = post_import(&chat, &ada, "", multipart("big.json", &big, &[]), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(first(&body).contains("larger than"), "{body}");
    // A body declared far larger is refused before it is read.
    let req = Request::post("/api/chat/import/")
        .header("host", "127.0.0.1:3000")
        .header("cookie", &ada.cookies)
        .header("x-csrftoken", &ada.csrf)
        .header("content-type", "application/json")
        .header("content-length", "900000000")
        .body(Body::from("[]"))
        .unwrap();
    assert_eq!(chat.app.send(req).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Too many conversations at once.
    let many: Vec<Value> = (0..10_001).map(|_| json!({"mapping": {}})).collect();
    let chat_big = Chat::new(&[]).await;
    let bob = Client::log_in(&chat_big, "bob").await;
    let (status, body) = post_import(
        &chat_big,
        &bob,
        "",
        serde_json::to_vec(&many).unwrap(),
        Some("application/json"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(first(&body).contains("10001"), "{body}");
}

#[tokio::test]
async fn another_site_cannot_import_into_an_account() {
    let chat = Chat::new(&[]).await;
    let ada = Client::log_in(&chat, "ada").await;
    let ada_id = user_id(&chat, "ada").await;
    // The session cookie a browser attaches on its own, without the CSRF token a page of ours sends: to the API,
    // and to the settings form.
    for path in ["/api/chat/import/", "/settings/import"] {
        let req = Request::post(path)
            .header("host", "127.0.0.1:3000")
            .header("origin", "https://evil.example")
            .header("cookie", &ada.cookies)
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(Body::from(multipart("c.json", CHATGPT, &[])))
            .unwrap();
        assert_eq!(chat.app.send(req).await.status(), StatusCode::FORBIDDEN, "{path}");
    }
    // Without a session.
    let req = Request::post("/api/chat/import/")
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/json")
        .body(Body::from(CHATGPT))
        .unwrap();
    let status = chat.app.send(req).await.status();
    assert!(
        status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN,
        "{status}"
    );
    assert_eq!(conversations_of(&chat, ada_id).await, 0);
}

#[tokio::test]
async fn the_import_page_previews_and_imports_without_javascript() {
    use leptos::server_fn::ServerFn;
    let chat = Chat::new(&[]).await;
    with_user(&chat.app, "ada", PASSWORD).await;
    let cookie = crate::common::logged_in(&chat.app, "ada").await;
    let form = |bytes: &[u8], cookie: &str, origin: &str| {
        Request::post("/settings/import")
            .header("host", "127.0.0.1:3000")
            .header("origin", origin)
            .header("referer", format!("{ORIGIN}/settings/import"))
            .header("accept", "text/html")
            .header("cookie", cookie)
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(Body::from(multipart("conversations.json", bytes, &[])))
            .unwrap()
    };
    let html = page(&chat.app, "/settings", Some(&cookie)).await;
    assert!(
        html.contains("href=\"/settings/import\""),
        "settings link to the import"
    );
    assert!(html.contains("/settings/export/conversations.json"));

    // A bad file comes back to the form with its message.
    let res = chat.app.send(form(b"nope", &cookie, ORIGIN)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = crate::common::header(&res, "location").to_string();
    assert!(location.starts_with("/settings/import?"), "{location}");
    let html = page(&chat.app, &location, Some(&cookie)).await;
    assert!(html.contains("This file is not JSON"), "{html}");

    // The preview.
    let res = chat.app.send(form(CHATGPT, &cookie, ORIGIN)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = crate::common::header(&res, "location").to_string();
    let token = location.strip_prefix("/settings/import?preview=").unwrap().to_string();
    let html = page(&chat.app, &location, Some(&cookie)).await;
    assert!(html.contains("Tea brewing"), "{html}");
    assert!(html.contains("Import 2 conversations"));
    assert!(html.contains("1 images"), "what is not carried is said");
    assert!(html.contains("Old &lt;b&gt;archived&lt;/b&gt; chat"), "titles are text");
    let french = page(&chat.app, &location, Some(&format!("{cookie}; lang=fr"))).await;
    assert!(french.contains("Importer 2 conversations"), "{french}");
    assert!(french.contains("Non repris de ce fichier"));
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM conversations")
            .fetch_one(&chat.app.pool().pool)
            .await
            .unwrap(),
        0
    );

    // Another account cannot see or confirm it.
    with_user(&chat.app, "eve", PASSWORD).await;
    let eve = crate::common::logged_in(&chat.app, "eve").await;
    let html = page(&chat.app, &location, Some(&eve)).await;
    assert!(html.contains("This preview has expired"), "{html}");
    assert!(!html.contains("Tea brewing"));
    let res = chat
        .app
        .send(form_post(
            ConfirmImportPath::PATH,
            &location,
            &format!("token={token}"),
            Some(&eve),
            ORIGIN,
        ))
        .await;
    assert_ne!(res.status(), StatusCode::OK);

    // Confirmed, then shown done; confirming twice adds nothing.
    for _ in 0..2 {
        let res = chat
            .app
            .send(form_post(
                ConfirmImportPath::PATH,
                &location,
                &format!("token={token}"),
                Some(&cookie),
                ORIGIN,
            ))
            .await;
        assert_eq!(res.status(), StatusCode::FOUND, "{}", text(res).await);
    }
    let html = page(&chat.app, &location, Some(&cookie)).await;
    assert!(html.contains("Imported 2 conversations."), "{html}");
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM conversations")
            .fetch_one(&chat.app.pool().pool)
            .await
            .unwrap(),
        2
    );
    // Cross-site, the confirmation is refused.
    let res = chat
        .app
        .send(form_post(
            ConfirmImportPath::PATH,
            &location,
            &format!("token={token}"),
            Some(&cookie),
            "https://evil.example",
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

use thicode::chat::server_fns::ConfirmImport as ConfirmImportPath;
