//! Files in the chat (issue #26) through the REST API, against the fake Mistral server: uploads sniffed and
//! processed, images sent to vision models as `image_url` parts, documents' text delimited in the prompt, refusals
//! that name their limit, hostile files, the ownership of every file route, and deletion down to the stored bytes.

use std::io::Cursor;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use crate::chat_flow::Chat;
use crate::common::{CSRF, api_session, header, json, json_request, text, with_user};

const BOUNDARY: &str = "thicode-test-boundary";

/// A multipart body: text fields, then files (name, bytes, declared type).
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8], &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    for (field, file_name, bytes, declared) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\n\
                 Content-Type: {declared}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn multipart_request(method: &str, uri: &str, body: Vec<u8>, cookie: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "127.0.0.1:3000")
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("cookie", cookie)
        .header("x-csrftoken", CSRF)
        .header("content-length", body.len())
        .body(Body::from(body))
        .unwrap()
}

fn authed(method: &str, uri: &str, body: Option<Value>, cookie: &str) -> Request<Body> {
    json_request(method, uri, body, Some(cookie), &[("x-csrftoken", CSRF)])
}

async fn upload(chat: &Chat, cookie: &str, name: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let body = multipart(&[], &[("file", name, bytes, "application/octet-stream")]);
    let res = chat
        .app
        .send(multipart_request("POST", "/api/files/", body, cookie))
        .await;
    let status = res.status();
    (status, json(res).await)
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::ImageBuffer::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 40]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A one-page PDF whose page says `words` (Helvetica), with a correct cross-reference table.
fn pdf(words: &str) -> Vec<u8> {
    pdf_pages(&[vec![words.to_string()]])
}

/// A PDF with a page per item of `pages`, each page's lines one under the other.
fn pdf_pages(pages: &[Vec<String>]) -> Vec<u8> {
    let kids: Vec<String> = (0..pages.len()).map(|k| format!("{} 0 R", 4 + 2 * k)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
    ];
    for (k, lines) in pages.iter().enumerate() {
        let shown: Vec<String> = lines.iter().map(|l| format!("({l}) Tj T*")).collect();
        let stream = format!("BT /F1 10 Tf 12 TL 40 760 Td {} ET", shown.join(" "));
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {} 0 R /Resources << /Font << /F1 3 0 R >> >> >>",
            5 + 2 * k
        ));
        objects.push(format!("<< /Length {} >>\nstream\n{stream}\nendstream", stream.len()));
    }
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

async fn wait_reply(chat: &Chat, cookie: &str, conversation: i64) -> Value {
    for _ in 0..200 {
        let res = chat
            .app
            .send(authed(
                "GET",
                &format!("/api/chat/conversations/{conversation}/"),
                None,
                cookie,
            ))
            .await;
        let body = json(res).await;
        let messages = body["messages"].as_array().unwrap();
        let done = messages.iter().any(|m| m["role"] == "assistant")
            && messages
                .iter()
                .all(|m| !["pending", "streaming"].contains(&m["status"].as_str().unwrap()));
        if done {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the reply never settled");
}

fn last_request_messages(chat: &Chat) -> Vec<Value> {
    chat.fake
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.body["max_tokens"].is_null())
        .map(|r| r.body["messages"].as_array().unwrap().clone())
        .unwrap()
}

#[tokio::test]
async fn an_image_goes_to_a_vision_model_as_an_image_url_part() {
    let chat = Chat::new(&[]).await;
    with_user(&chat.app, "ana", crate::common::PASSWORD).await;
    let cookie = api_session(&chat.app, "ana").await;

    // A large photo-like PNG, uploaded under a misleading name and type: sniffed, downscaled, kept lossless.
    let (status, file) = upload(&chat, &cookie, "holiday.txt", &png(2000, 1000)).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    assert_eq!(file["type"], "image/png");
    assert_eq!(file["kind"], "image");
    assert_eq!(file["name"], "holiday.png");
    assert_eq!(
        (file["width"].as_i64(), file["height"].as_i64()),
        (Some(1540), Some(770))
    );

    let res = chat
        .app
        .send(authed(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "What is in this picture?", "attachments": [file["id"]]})),
            &cookie,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created = json(res).await;
    assert_eq!(created["messages"][0]["attachments"][0]["id"], file["id"]);
    assert_eq!(created["messages"][0]["attachments"][0]["type"], "image/png");
    let conversation = wait_reply(&chat, &cookie, created["id"].as_i64().unwrap()).await;
    let reply = conversation["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(reply["status"], "delivered", "{reply}");
    assert!(
        reply["content"].as_str().unwrap().contains("[saw 1 image(s)]"),
        "{reply}"
    );

    let sent = last_request_messages(&chat);
    let parts = sent.last().unwrap()["content"].as_array().unwrap().clone();
    assert_eq!(parts[0], json!({"type": "text", "text": "What is in this picture?"}));
    let url = parts[1]["image_url"]["url"].as_str().unwrap();
    assert_eq!(parts[1]["type"], "image_url");
    assert!(url.starts_with("data:image/png;base64,iVBOR"), "{}", &url[..40]);

    // The bytes come back to their owner, inline, with the headers that keep them from running as a page.
    let res = chat
        .app
        .send(authed(
            "GET",
            &format!("/api/files/{}/content/", file["id"]),
            None,
            &cookie,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), "image/png");
    assert!(header(&res, "content-disposition").starts_with("inline;"));
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    assert!(header(&res, "content-security-policy").contains("sandbox"));
    let etag = header(&res, "etag").to_string();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    assert_eq!(bytes.len() as i64, file["size"].as_i64().unwrap());
    let again = json_request(
        "GET",
        &format!("/api/files/{}/content/", file["id"]),
        None,
        Some(&cookie),
        &[("if-none-match", etag.as_str())],
    );
    assert_eq!(chat.app.send(again).await.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn an_image_is_never_dropped_for_a_model_that_cannot_read_it() {
    let chat = Chat::new(&[]).await;
    with_user(&chat.app, "ben", crate::common::PASSWORD).await;
    let cookie = api_session(&chat.app, "ben").await;
    let (_, file) = upload(&chat, &cookie, "chart.png", &png(64, 64)).await;
    let before = chat.fake.requests().len();
    let res = chat
        .app
        .send(authed(
            "POST",
            "/api/chat/conversations/",
            Some(
                json!({"initial_message": "Read the chart", "model": "codestral-latest", "attachments": [file["id"]]}),
            ),
            &cookie,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = json(res).await;
    let message = body["attachments"][0].as_str().unwrap();
    assert!(
        message.contains("codestral-latest") && message.contains("cannot read images"),
        "{message}"
    );
    assert!(
        message.contains("mistral-small-latest"),
        "a model that can is offered: {message}"
    );
    assert_eq!(chat.fake.requests().len(), before, "nothing was sent");
    let list = json(
        chat.app
            .send(authed("GET", "/api/chat/conversations/", None, &cookie))
            .await,
    )
    .await;
    assert_eq!(list, json!([]), "nothing was stored");
}

#[tokio::test]
async fn documents_go_into_the_prompt_whole_delimited_with_their_names() {
    let chat = Chat::new(&[]).await;
    with_user(&chat.app, "cleo", crate::common::PASSWORD).await;
    let cookie = api_session(&chat.app, "cleo").await;
    let (status, notes) = upload(&chat, &cookie, "notes.md", b"# Notes\nThe secret word is papaya.\n").await;
    assert_eq!(status, StatusCode::CREATED, "{notes}");
    assert_eq!(
        (notes["type"].as_str(), notes["kind"].as_str()),
        (Some("text/markdown"), Some("document"))
    );
    let (status, paper) = upload(
        &chat,
        &cookie,
        "paper.pdf",
        &pdf("Quarterly revenue grew by 12 percent"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{paper}");
    assert_eq!(
        (paper["type"].as_str(), paper["pages"].as_i64()),
        (Some("application/pdf"), Some(1))
    );

    // Sent as multipart, as a form with files does: the text fields and the files in one request.
    let res = chat
        .app
        .send(authed(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "hello"})),
            &cookie,
        ))
        .await;
    let id = json(res).await["id"].as_i64().unwrap();
    wait_reply(&chat, &cookie, id).await;
    let body = multipart(
        &[
            ("content", "What is the secret word?"),
            ("attachments", &notes["id"].to_string()),
        ],
        &[("files", "memo.txt", b"Meeting moved to Friday.", "text/plain")],
    );
    let res = chat
        .app
        .send(multipart_request(
            "POST",
            &format!("/api/chat/conversations/{id}/messages/"),
            body,
            &cookie,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let sent = json(res).await;
    let names: Vec<&str> = sent["user_message"]["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["notes.md", "memo.txt"]);
    let conversation = wait_reply(&chat, &cookie, id).await;
    assert_eq!(conversation["messages"].as_array().unwrap().len(), 4);
    let last = last_request_messages(&chat).last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        last.starts_with(
            "<document name=\"notes.md\" type=\"text/markdown\">\n# Notes\nThe secret word is papaya.\n</document>"
        ),
        "{last}"
    );
    assert!(last.contains("<document name=\"memo.txt\" type=\"text/plain\">\nMeeting moved to Friday.\n</document>"));
    assert!(last.ends_with("What is the secret word?"), "{last}");

    // A PDF's text, page by page.
    let res = chat
        .app
        .send(authed(
            "POST",
            &format!("/api/chat/conversations/{id}/messages/"),
            Some(json!({"content": "Summarise", "attachments": [paper["id"]]})),
            &cookie,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    wait_reply(&chat, &cookie, id).await;
    let last = last_request_messages(&chat).last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        last.contains("<document name=\"paper.pdf\" type=\"application/pdf\" pages=\"1\">"),
        "{last}"
    );
    assert!(last.contains("Quarterly revenue grew by 12 percent"), "{last}");
}

#[tokio::test]
async fn every_refusal_names_its_reason_and_limit() {
    let chat = Chat::new(&[
        ("MAX_FILE_BYTES", "4096"),
        ("MAX_FILE_STORAGE_PER_USER", "6000"),
        ("MAX_FILES_PER_MESSAGE", "2"),
    ])
    .await;
    with_user(&chat.app, "dan", crate::common::PASSWORD).await;
    let cookie = api_session(&chat.app, "dan").await;
    let field = |body: &Value| body["file"][0].as_str().unwrap_or_default().to_string();

    let (status, body) = upload(&chat, &cookie, "big.txt", &vec![b'a'; 5000]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field(&body).contains("a file can be at most 4 KB"), "{body}");
    let (status, body) = upload(&chat, &cookie, "empty.txt", b"").await;
    assert_eq!(
        (status, field(&body)),
        (StatusCode::BAD_REQUEST, "“empty.txt” is empty.".to_string())
    );
    let (status, body) = upload(&chat, &cookie, "tool.exe", b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field(&body).contains("not a kind of file ThiCode reads"), "{body}");
    let (status, body) = upload(&chat, &cookie, "cut.pdf", &pdf("hello")[..120]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field(&body).contains("damaged or truncated"), "{body}");
    let mut broken = png(32, 32);
    broken.truncate(60);
    let (status, body) = upload(&chat, &cookie, "broken.png", &broken).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(field(&body).contains("could not be read as an image"), "{body}");
    let mut bomb = png(1, 1);
    bomb[16..20].copy_from_slice(&70_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&70_000u32.to_be_bytes());
    let (status, body) = upload(&chat, &cookie, "bomb.png", &bomb).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        field(&body).contains("70000×70000") || field(&body).contains("could not be read"),
        "{body}"
    );

    // The account's total.
    let (status, _) = upload(&chat, &cookie, "a.txt", &vec![b'a'; 4000]).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = upload(&chat, &cookie, "b.txt", &vec![b'b'; 4000]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        field(&body).contains("more than the 5.9 KB an account may keep"),
        "{body}"
    );

    // Files per message.
    let body = multipart(
        &[("content", "three files")],
        &[
            ("files", "1.txt", b"one", "text/plain"),
            ("files", "2.txt", b"two", "text/plain"),
            ("files", "3.txt", b"three", "text/plain"),
        ],
    );
    let res = chat
        .app
        .send(authed(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "x"})),
            &cookie,
        ))
        .await;
    let id = json(res).await["id"].as_i64().unwrap();
    let res = chat
        .app
        .send(multipart_request(
            "POST",
            &format!("/api/chat/conversations/{id}/messages/"),
            body,
            &cookie,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json(res).await["attachments"][0],
        "A message can carry at most 2 files."
    );
}

#[tokio::test]
async fn hostile_files_are_stored_as_text_and_never_served_as_pages() {
    let chat = Chat::new(&[]).await;
    with_user(&chat.app, "eve", crate::common::PASSWORD).await;
    let cookie = api_session(&chat.app, "eve").await;
    for (name, bytes, kind) in [
        (
            "x.svg",
            &b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"[..],
            "text/x-code",
        ),
        (
            "page.html",
            b"<!doctype html><html><script>alert(document.cookie)</script><p>Hi</p></html>",
            "text/html",
        ),
        ("<img src=x onerror=alert(1)>.md", b"# title", "text/markdown"),
    ] {
        let (status, file) = upload(&chat, &cookie, name, bytes).await;
        assert_eq!(status, StatusCode::CREATED, "{name}: {file}");
        assert_eq!(file["type"], kind, "{name}");
        let stored_name = file["name"].as_str().unwrap();
        assert!(
            !stored_name.contains('<') && !stored_name.contains('"'),
            "{stored_name}"
        );
        let res = chat
            .app
            .send(authed(
                "GET",
                &format!("/api/files/{}/content/", file["id"]),
                None,
                &cookie,
            ))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(header(&res, "content-disposition").starts_with("attachment;"), "{name}");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff");
        assert!(header(&res, "content-security-policy").contains("sandbox"));
        assert_eq!(header(&res, "cross-origin-resource-policy"), "same-origin");
        assert_eq!(text(res).await.as_bytes(), bytes, "served as uploaded");
    }
    // A GIF that is also a script: re-encoded, what follows the image is gone.
    let mut polyglot = Vec::new();
    image::DynamicImage::ImageRgb8(image::ImageBuffer::from_pixel(4, 4, image::Rgb([1u8, 2, 3])))
        .write_to(&mut Cursor::new(&mut polyglot), image::ImageFormat::Gif)
        .unwrap();
    polyglot.extend_from_slice(b"*/=1;alert(document.domain)//");
    let (status, file) = upload(&chat, &cookie, "poly.gif", &polyglot).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    assert_eq!(file["type"], "image/png");
    let res = chat
        .app
        .send(authed(
            "GET",
            &format!("/api/files/{}/content/", file["id"]),
            None,
            &cookie,
        ))
        .await;
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    assert!(!bytes.windows(5).any(|w| w == b"alert"));
}

#[tokio::test]
async fn only_the_owner_reaches_a_file() {
    let chat = Chat::new(&[]).await;
    with_user(&chat.app, "owner", crate::common::PASSWORD).await;
    with_user(&chat.app, "other", crate::common::PASSWORD).await;
    let owner = api_session(&chat.app, "owner").await;
    let other = api_session(&chat.app, "other").await;
    let (_, file) = upload(&chat, &owner, "private.txt", b"my secret").await;
    let id = file["id"].as_i64().unwrap();
    for (method, uri) in [
        ("GET", format!("/api/files/{id}/")),
        ("GET", format!("/api/files/{id}/content/")),
        ("DELETE", format!("/api/files/{id}/")),
    ] {
        let res = chat.app.send(authed(method, &uri, None, &other)).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {uri} by another user");
        let anonymous = json_request(method, &uri, None, None, &[]);
        let status = chat.app.send(anonymous).await.status();
        assert!(
            matches!(status.as_u16(), 401 | 403),
            "{method} {uri} anonymously: {status}"
        );
    }
    // Another user cannot attach it either, by the API or a server function.
    let res = chat
        .app
        .send(authed(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "leak it", "attachments": [id]})),
            &other,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(res).await["attachments"][0], format!("No such file: {id}."));
    // A cross-site form cannot upload into a session.
    let body = multipart(&[], &[("file", "x.txt", b"planted", "text/plain")]);
    let forged = Request::post("/api/files/")
        .header("host", "127.0.0.1:3000")
        .header("origin", "https://evil.example")
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("cookie", owner.replace(&format!("; csrftoken={CSRF}"), ""))
        .body(Body::from(body))
        .unwrap();
    assert_eq!(chat.app.send(forged).await.status(), StatusCode::FORBIDDEN);
    // Still there for its owner.
    let res = chat
        .app
        .send(authed("GET", &format!("/api/files/{id}/content/"), None, &owner))
        .await;
    assert_eq!(text(res).await, "my secret");
}

#[tokio::test]
async fn only_upload_routes_take_large_multipart_bodies() {
    let chat = Chat::new(&[("MAX_REQUEST_BODY_BYTES", "4096")]).await;
    with_user(&chat.app, "gus", crate::common::PASSWORD).await;
    let cookie = api_session(&chat.app, "gus").await;
    let big = vec![b'x'; 64 << 10];
    // Anywhere else a multipart body keeps the ordinary limit, logged in or not.
    use leptos::server_fn::ServerFn;
    for path in [
        "/api/accounts/api/login/",
        "/api/accounts/settings/",
        thicode::accounts::server_fns::Login::PATH,
    ] {
        let body = multipart(&[("bio", "x")], &[("file", "big.txt", &big, "text/plain")]);
        let res = chat.app.send(multipart_request("POST", path, body, &cookie)).await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "{path}");
    }
    let (status, file) = upload(&chat, &cookie, "big.txt", &big).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    // On an upload route, text fields still keep the ordinary limit: only files may be large.
    let res = chat
        .app
        .send(authed(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "x"})),
            &cookie,
        ))
        .await;
    let id = json(res).await["id"].as_i64().unwrap();
    let long = "y".repeat(8 << 10);
    let body = multipart(&[("content", &long)], &[]);
    let res = chat
        .app
        .send(multipart_request(
            "POST",
            &format!("/api/chat/conversations/{id}/messages/"),
            body,
            &cookie,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // A client of the original backend that leaves `content` out hears what it always heard.
    let res = chat
        .app
        .send(authed(
            "POST",
            &format!("/api/chat/conversations/{id}/messages/"),
            Some(json!({})),
            &cookie,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json(res).await, json!({"content": ["This field is required."]}));
}

/// Where a file's bytes are on disk (local storage).
/// Whether the stored copy of the bytes with hash `sha256` exists (in the local folder or the bucket).
async fn stored(chat: &Chat, user_id: i64, sha256: &str) -> bool {
    let key = thicode::files::storage::Storage::key(user_id, sha256);
    chat.app.state.files.storage.exists(&key).await.unwrap()
}

/// The settings of a bucket of its own on the S3-compatible server of the test run (`TEST_S3_ENDPOINT`, started by
/// `scripts/test`), created now; `None` without one, unless `THICODE_REQUIRE_S3` says it must be there.
async fn s3_bucket(name: &str) -> Option<Vec<(&'static str, String)>> {
    let Ok(endpoint) = std::env::var("TEST_S3_ENDPOINT") else {
        assert!(
            std::env::var_os("THICODE_REQUIRE_S3").is_none(),
            "TEST_S3_ENDPOINT is required (scripts/test starts an S3-compatible server)"
        );
        eprintln!("skipped: no TEST_S3_ENDPOINT (scripts/test starts an S3-compatible server)");
        return None;
    };
    let bucket = format!("{name}-{}", uuid::Uuid::new_v4().simple());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("the S3-compatible server answers");
    assert!(created.status().is_success(), "bucket {bucket}: {}", created.status());
    Some(vec![
        ("S3_BUCKET", bucket),
        ("S3_ENDPOINT", endpoint),
        ("S3_REGION", "us-east-1".to_string()),
        ("S3_ACCESS_KEY_ID", "test".to_string()),
        ("S3_SECRET_ACCESS_KEY", "test".to_string()),
    ])
}

#[tokio::test]
async fn a_file_is_deleted_when_nothing_refers_to_it() {
    deleted_when_nothing_refers_to_it(Chat::new(&[]).await).await;
}

#[tokio::test]
async fn on_s3_a_file_is_deleted_when_nothing_refers_to_it() {
    let Some(settings) = s3_bucket("deletion").await else {
        return;
    };
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let chat = Chat::new(&settings).await;
    assert!(matches!(
        chat.app.state.config.files.storage,
        thicode::core::config::FileStorage::S3(_)
    ));
    deleted_when_nothing_refers_to_it(chat).await;
}

/// Unsent, attached, shared and deleted files, down to their stored bytes, on whatever storage `chat` has.
async fn deleted_when_nothing_refers_to_it(chat: Chat) {
    let user_id = with_user(&chat.app, "fay", crate::common::PASSWORD).await;
    let cookie = api_session(&chat.app, "fay").await;
    let (_, loose) = upload(&chat, &cookie, "loose.txt", b"never sent").await;
    let (_, kept) = upload(&chat, &cookie, "kept.txt", b"sent with a message").await;
    let sha = |id: i64| {
        let pool = chat.app.state.db.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT sha256 FROM files WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let loose_sha = sha(loose["id"].as_i64().unwrap()).await;
    let kept_sha = sha(kept["id"].as_i64().unwrap()).await;
    assert!(stored(&chat, user_id, &loose_sha).await && stored(&chat, user_id, &kept_sha).await);

    let res = chat
        .app
        .send(authed("DELETE", &format!("/api/files/{}/", loose["id"]), None, &cookie))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    thicode::files::service::sweep(&chat.app.state, false).await.unwrap();
    assert!(
        !stored(&chat, user_id, &loose_sha).await,
        "the bytes went with the file"
    );

    let res = chat
        .app
        .send(authed(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "keep this", "attachments": [kept["id"]]})),
            &cookie,
        ))
        .await;
    let id = json(res).await["id"].as_i64().unwrap();
    wait_reply(&chat, &cookie, id).await;
    let res = chat
        .app
        .send(authed("DELETE", &format!("/api/files/{}/", kept["id"]), None, &cookie))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "attached: kept");
    thicode::files::service::sweep(&chat.app.state, true).await.unwrap();
    assert!(stored(&chat, user_id, &kept_sha).await);
    let res = chat
        .app
        .send(authed(
            "GET",
            &format!("/api/files/{}/content/", kept["id"]),
            None,
            &cookie,
        ))
        .await;
    assert_eq!(text(res).await, "sent with a message");

    let res = chat
        .app
        .send(authed(
            "DELETE",
            &format!("/api/chat/conversations/{id}/"),
            None,
            &cookie,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    thicode::files::service::sweep(&chat.app.state, false).await.unwrap();
    let res = chat
        .app
        .send(authed("GET", &format!("/api/files/{}/", kept["id"]), None, &cookie))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(
        !stored(&chat, user_id, &kept_sha).await,
        "the bytes went with the conversation"
    );

    // The same bytes uploaded twice share one stored copy, which stays while either file does.
    let (_, one) = upload(&chat, &cookie, "one.txt", b"same bytes").await;
    let (_, two) = upload(&chat, &cookie, "two.txt", b"same bytes").await;
    let shared = sha(one["id"].as_i64().unwrap()).await;
    chat.app
        .send(authed("DELETE", &format!("/api/files/{}/", one["id"]), None, &cookie))
        .await;
    thicode::files::service::sweep(&chat.app.state, false).await.unwrap();
    assert!(
        stored(&chat, user_id, &shared).await,
        "still referred to by the second file"
    );
    chat.app
        .send(authed("DELETE", &format!("/api/files/{}/", two["id"]), None, &cookie))
        .await;
    thicode::files::service::sweep(&chat.app.state, false).await.unwrap();
    assert!(!stored(&chat, user_id, &shared).await);
}

#[tokio::test]
async fn on_s3_uploads_stream_to_the_bucket_and_are_served_from_it() {
    let Some(settings) = s3_bucket("uploads").await else {
        return;
    };
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let chat = Chat::new(&settings).await;
    with_user(&chat.app, "sam", crate::common::PASSWORD).await;
    let cookie = api_session(&chat.app, "sam").await;
    // 12 MB of text: sent to the bucket in parts (a multipart upload), read back whole.
    let big: Vec<u8> = b"0123456789abcdef".iter().copied().cycle().take(12 << 20).collect();
    let (status, file) = upload(&chat, &cookie, "big.txt", &big).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let res = chat
        .app
        .send(authed(
            "GET",
            &format!("/api/files/{}/content/", file["id"]),
            None,
            &cookie,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    assert_eq!(body.len(), big.len());
    assert!(body[..] == big[..]);
    // An image, re-encoded, goes to a vision model from the bucket.
    let (status, image) = upload(&chat, &cookie, "dot.png", &png(32, 32)).await;
    assert_eq!(status, StatusCode::CREATED);
    let res = chat
        .app
        .send(authed(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "what is it", "attachments": [image["id"]]})),
            &cookie,
        ))
        .await;
    let id = json(res).await["id"].as_i64().unwrap();
    let done = wait_reply(&chat, &cookie, id).await;
    assert!(
        done["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("[saw 1 image(s)]")
    );
}

async fn stored_files(chat: &Chat) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM files")
        .fetch_one(&chat.app.state.db.pool)
        .await
        .unwrap()
}

/// A post of the composer's form without JavaScript (`/chat/send`, multipart) from this site's page.
fn composer_post(body: Vec<u8>, cookie: &str, origin: Option<&str>) -> Request<Body> {
    let mut request = Request::post("/chat/send")
        .header("host", "127.0.0.1:3000")
        .header("accept", "text/html")
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("cookie", cookie)
        .header("content-length", body.len());
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.body(Body::from(body)).unwrap()
}

#[tokio::test]
async fn the_composer_form_without_javascript_posts_files_and_is_guarded() {
    let chat = Chat::new(&[]).await;
    with_user(&chat.app, "nojs", crate::common::PASSWORD).await;
    with_user(&chat.app, "stranger", crate::common::PASSWORD).await;
    let cookie = api_session(&chat.app, "nojs").await;
    let stranger = api_session(&chat.app, "stranger").await;
    let own = Some("http://127.0.0.1:3000");
    let before = stored_files(&chat).await;

    // Anonymous, cross-site, and without origin or token: refused before anything is stored.
    let body = || multipart(&[("content", "hi")], &[("files", "a.txt", b"some text", "text/plain")]);
    let anonymous = composer_post(body(), "", own);
    assert!(matches!(chat.app.send(anonymous).await.status().as_u16(), 401 | 403));
    let forged = composer_post(body(), &cookie, Some("https://evil.example"));
    assert_eq!(chat.app.send(forged).await.status(), StatusCode::FORBIDDEN);
    let tokenless = composer_post(body(), &cookie, None);
    assert_eq!(chat.app.send(tokenless).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(stored_files(&chat).await, before, "a refused post stores nothing");

    // From the page: the message and its files, then the conversation once the reply is written.
    let png_bytes = png(8, 8);
    let body = multipart(
        &[("content", "Look"), ("model", "default")],
        &[
            ("files", "dot.png", &png_bytes, "image/png"),
            ("files", "notes.txt", b"remember the milk", "text/plain"),
            // An empty file input sends a nameless, empty part: ignored.
            ("files", "", b"", "application/octet-stream"),
        ],
    );
    let res = chat.app.send(composer_post(body, &cookie, own)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = header(&res, "location");
    let id: i64 = location.trim_start_matches("/chat/").parse().unwrap();
    let conversation = wait_reply(&chat, &cookie, id).await;
    let first = &conversation["messages"][0];
    let names: Vec<&str> = first["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["dot.png", "notes.txt"]);
    assert!(
        conversation["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("[saw 1 image(s)]")
    );

    // A refused send goes back to the composer with the reason, the text and the stored files.
    let body = multipart(
        &[("content", "What colour?"), ("model", "codestral-latest")],
        &[("files", "dot.png", &png_bytes, "image/png")],
    );
    let res = chat.app.send(composer_post(body, &cookie, own)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = header(&res, "location");
    assert!(location.starts_with("/chat?attach="), "{location}");
    assert!(location.contains("prompt=What+colour%3F"), "{location}");
    assert!(location.contains("__err="), "{location}");
    // The stored files come back described (the composer shows them without asking the server).
    let query = location.split_once('?').unwrap().1;
    let attach = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "attach")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let kept_files: Value = serde_json::from_str(&attach).unwrap();
    assert_eq!(kept_files[0]["name"], "dot.png");
    assert_eq!(kept_files[0]["kind"], "image");
    let kept = kept_files[0]["id"].as_i64().unwrap();
    // Posting it again (the kept file as `attachments[0]`) with a model that reads images sends it.
    let body = multipart(
        &[("content", "What colour?"), ("attachments[0]", &kept.to_string())],
        &[],
    );
    let res = chat.app.send(composer_post(body, &cookie, own)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(header(&res, "location").starts_with("/chat/"));

    // Another user cannot send someone's file by naming its id.
    let body = multipart(&[("content", "mine now"), ("attachments[0]", &kept.to_string())], &[]);
    let res = chat.app.send(composer_post(body, &stranger, own)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = header(&res, "location");
    assert!(location.contains("__err="), "{location}");
    let list = chat
        .app
        .send(authed("GET", "/api/chat/conversations/", None, &stranger))
        .await;
    let list = json(list).await;
    let count = list
        .as_array()
        .map_or_else(|| list["count"].as_u64().unwrap_or(u64::MAX), |a| a.len() as u64);
    assert_eq!(count, 0, "{list}");
}

/// A long report: 60 pages of filler about budgets, and on page 37 the one line the question is about.
fn long_report() -> Vec<u8> {
    let topics = ["budget", "hiring", "travel", "office", "training", "supplies"];
    let pages: Vec<Vec<String>> = (1..=60)
        .map(|n| {
            (0..26)
                .map(|line| {
                    if n == 37 && line == 12 {
                        "The launch code of project pelican is PELICAN-42, kept in the blue safe.".to_string()
                    } else {
                        let topic = topics[(n + line) % topics.len()];
                        format!("Section {n}.{line} reviews the quarterly {topic} figures of the regional teams again.")
                    }
                })
                .collect()
        })
        .collect();
    pdf_pages(&pages)
}

#[tokio::test]
async fn a_long_document_is_searched_and_the_reply_names_its_sources() {
    let chat = Chat::new(&[]).await;
    with_user(&chat.app, "reader", crate::common::PASSWORD).await;
    let cookie = api_session(&chat.app, "reader").await;
    let (status, file) = upload(&chat, &cookie, "report.pdf", &long_report()).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    assert_eq!(file["pages"], 60);
    let id = file["id"].as_i64().unwrap();
    let pool = &chat.app.state.db.pool;
    let chunks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM file_chunks WHERE file_id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap();
    assert!(chunks >= 60, "{chunks} chunks");
    // Embedded in the background by the provider's embeddings model.
    for _ in 0..200 {
        let missing: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM file_chunks WHERE file_id = $1 AND embedding IS NULL")
                .bind(id)
                .fetch_one(pool)
                .await
                .unwrap();
        if missing == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let embedded = chat.fake.embedding_requests();
    assert!(!embedded.is_empty());
    assert!(embedded.iter().all(|r| r["model"] == "mistral-embed"));

    let question = "What is the launch code of project pelican? [fake:tokens=5]";
    let res = chat
        .app
        .send(authed(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": question, "attachments": [id]})),
            &cookie,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let conversation = json(res).await["id"].as_i64().unwrap();
    let done = wait_reply(&chat, &cookie, conversation).await;

    // The whole report does not fit: the prompt names it and quotes the relevant parts, with their pages.
    let messages = last_request_messages(&chat);
    let content = messages.last().unwrap()["content"].as_str().unwrap().to_string();
    assert!(content.contains("<document name=\"report.pdf\""), "{content}");
    assert!(content.contains("[Too long to include whole"));
    assert!(content.contains("<excerpts"));
    assert!(content.contains("<excerpt document=\"report.pdf\" page=\"37\">"));
    assert!(content.contains("PELICAN-42"));
    assert!(content.len() < 40_000, "{} characters", content.len());
    assert!(content.trim_end().ends_with(question));
    // The question was embedded too (hybrid ranking).
    assert!(
        chat.fake
            .embedding_requests()
            .iter()
            .any(|r| r["input"] == json!([question]))
    );

    // The reply names its sources, in the API and on the page.
    let reply = done["messages"].as_array().unwrap().last().unwrap().clone();
    let sources = reply["metadata"]["sources"].as_array().unwrap();
    assert!(
        sources.contains(&json!({"file_id": id, "name": "report.pdf", "page": 37})),
        "{sources:?}"
    );
    let page = chat
        .app
        .send(json_request(
            "GET",
            &format!("/chat/{conversation}"),
            None,
            Some(&cookie),
            &[],
        ))
        .await;
    assert!(text(page).await.contains("report.pdf, p. 37"));

    // A short document in another conversation still goes whole, without excerpts.
    let (_, small) = upload(&chat, &cookie, "memo.txt", b"The memo says hello.").await;
    let res = chat
        .app
        .send(authed(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "Summarise", "attachments": [small["id"]]})),
            &cookie,
        ))
        .await;
    let other = json(res).await["id"].as_i64().unwrap();
    let done = wait_reply(&chat, &cookie, other).await;
    let content = last_request_messages(&chat).last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        content.contains("The memo says hello.") && !content.contains("<excerpts"),
        "{content}"
    );
    let reply = done["messages"].as_array().unwrap().last().unwrap().clone();
    assert!(reply["metadata"]["sources"].is_null());
}

#[tokio::test]
async fn a_scanned_pdf_is_read_by_ocr_or_refused_as_having_no_text() {
    let scan = pdf_pages(&[Vec::new(), Vec::new()]);
    let chat = Chat::new(&[]).await;
    with_user(&chat.app, "scanner", crate::common::PASSWORD).await;
    let cookie = api_session(&chat.app, "scanner").await;
    // A PDF with a text layer never goes to OCR.
    let (status, _) = upload(&chat, &cookie, "typed.pdf", &pdf("Typed words")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(chat.fake.ocr_requests().is_empty());

    // A scan: the provider's OCR model reads it, as a PDF `data:` URL, page by page.
    let (status, file) = upload(&chat, &cookie, "scan.pdf", &scan).await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    assert_eq!(file["pages"], 2);
    let requests = chat.fake.ocr_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["model"], "mistral-ocr-latest");
    assert_eq!(requests[0]["document"]["type"], "document_url");
    assert!(
        requests[0]["document"]["document_url"]
            .as_str()
            .unwrap()
            .starts_with("data:application/pdf;base64,")
    );
    let res = chat
        .app
        .send(authed(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "What is the total?", "attachments": [file["id"]]})),
            &cookie,
        ))
        .await;
    let id = json(res).await["id"].as_i64().unwrap();
    wait_reply(&chat, &cookie, id).await;
    let content = last_request_messages(&chat).last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(content.contains("<document name=\"scan.pdf\" type=\"application/pdf\" pages=\"2\">"));
    assert!(
        content.contains("Scanned page 1 reads") && content.contains("Scanned page 2 reads"),
        "{content}"
    );

    // Without an OCR model (or with a provider that has none), the user is told no text was found.
    let chat = Chat::new(&[("OCR_MODEL", "off")]).await;
    with_user(&chat.app, "scanner", crate::common::PASSWORD).await;
    let cookie = api_session(&chat.app, "scanner").await;
    let (status, body) = upload(&chat, &cookie, "scan.pdf", &scan).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["file"][0],
        "“scan.pdf” has no text to read: it looks like a scan, and the AI provider offers no OCR. Send a PDF with a \
         text layer, or its pages as images."
    );
    assert!(chat.fake.ocr_requests().is_empty());
}

#[tokio::test]
async fn staff_open_a_users_file_from_the_conversation_audited_and_storage_is_limited_per_account() {
    use crate::common::{logged_in, page, with_staff};
    let chat = Chat::new(&[]).await;
    with_staff(&chat.app, "root").await;
    let ada = with_user(&chat.app, "ada", crate::common::PASSWORD).await;
    with_user(&chat.app, "bob", crate::common::PASSWORD).await;
    let cookie = api_session(&chat.app, "ada").await;
    let bob = api_session(&chat.app, "bob").await;
    let (_, file) = upload(&chat, &cookie, "salary.txt", b"the secret numbers").await;
    let id = file["id"].as_i64().unwrap();
    let res = chat
        .app
        .send(authed(
            "POST",
            "/api/chat/conversations/",
            Some(json!({"initial_message": "read it", "attachments": [id]})),
            &cookie,
        ))
        .await;
    let conversation = json(res).await["id"].as_i64().unwrap();
    wait_reply(&chat, &cookie, conversation).await;
    let root = logged_in(&chat.app, "root").await;
    let pool = &chat.app.state.db.pool;
    let opened = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE action = 'file.view'")
            .fetch_one(pool)
            .await
            .unwrap()
    };
    // The conversation view lists the file with a link to the staff route.
    let mut req = crate::common::get(&format!("/admin/users/{ada}/conversations/{conversation}"));
    req.headers_mut().insert("cookie", root.parse().unwrap());
    req.headers_mut()
        .insert("sec-fetch-site", "same-origin".parse().unwrap());
    let html = crate::common::without_markers(&text(chat.app.send(req).await).await);
    let link = format!("/admin/users/{ada}/files/{id}");
    assert!(html.contains(&format!(r#"href="{link}""#)), "{html}");

    let open = |cookie: &str, site: Option<&str>, uri: &str| {
        let mut req = crate::common::get(uri);
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        if let Some(site) = site {
            req.headers_mut().insert("sec-fetch-site", site.parse().unwrap());
        }
        req
    };
    // Not staff, another site, or a request that does not say where it comes from: nothing served, nothing audited.
    for (who, site) in [(&bob, Some("same-origin")), (&root, Some("cross-site")), (&root, None)] {
        let res = chat.app.send(open(who, site, &link)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{site:?}");
        assert!(!text(res).await.contains("secret numbers"));
    }
    assert_eq!(opened().await, 0);
    // Another account's id in the path: not found.
    let wrong = format!("/admin/users/{}/files/{id}", ada + 1);
    assert_eq!(
        chat.app.send(open(&root, Some("same-origin"), &wrong)).await.status(),
        StatusCode::NOT_FOUND
    );
    // From the conversation's page: served with the owner's route's safe headers, and audited.
    let res = chat.app.send(open(&root, Some("same-origin"), &link)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    assert!(header(&res, "content-disposition").starts_with("attachment"));
    assert_eq!(text(res).await, "the secret numbers");
    assert_eq!(opened().await, 1);
    let html = page(&chat.app, "/admin/audit", Some(&root)).await;
    assert!(html.contains("opened a file"), "{html}");

    // The account's own storage limit (megabytes) applies to its uploads; the staff page shows what it keeps.
    let res = chat
        .app
        .send(authed(
            "PATCH",
            &format!("/api/admin/users/{ada}/"),
            Some(json!({"quota": {"storage_mb": 1}})),
            &root_api(&chat).await,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let detail = json(res).await;
    assert_eq!(detail["quota"]["storage_mb"], 1);
    assert_eq!(detail["storage"]["limit_bytes"], 1 << 20);
    assert_eq!(detail["storage"]["used_bytes"], 18);
    let (status, body) = upload(&chat, &cookie, "big.txt", &vec![b'a'; (1 << 20) + 10]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["file"][0]
            .as_str()
            .unwrap()
            .contains("more than the 1 MB an account may keep"),
        "{body}"
    );
    let html = page(&chat.app, &format!("/admin/users/{ada}"), Some(&root)).await;
    assert!(html.contains("18 B / 1 MB"), "{html}");
    // Storage per user in the usage report.
    let html = page(&chat.app, "/admin/usage?group_by=user", Some(&root)).await;
    assert!(html.contains("18 B"), "{html}");
}

async fn root_api(chat: &Chat) -> String {
    api_session(&chat.app, "root").await
}

#[tokio::test]
async fn the_personal_data_export_holds_the_files_described_and_in_an_archive() {
    use std::io::Read;
    let chat = Chat::new(&[]).await;
    with_user(&chat.app, "eve", crate::common::PASSWORD).await;
    with_user(&chat.app, "mallory", crate::common::PASSWORD).await;
    let cookie = api_session(&chat.app, "eve").await;
    let other = api_session(&chat.app, "mallory").await;
    let image = png(24, 12);
    let (_, shot) = upload(&chat, &cookie, "shot.png", &image).await;
    let (_, notes) = upload(&chat, &cookie, "notes.md", b"# Plan\n\nShip the export.").await;
    upload(&chat, &other, "theirs.txt", b"not eve's").await;
    let get = |uri: &str, cookie: &str| json_request("GET", uri, None, Some(cookie), &[]);

    let res = chat.app.send(get("/settings/export", &cookie)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let document = json(res).await;
    let files = document["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(files[0]["name"], "shot.png");
    assert_eq!(files[0]["width"], 24);
    assert_eq!(files[1]["text"], "# Plan\n\nShip the export.");
    assert_eq!(files[1]["archive_path"], format!("files/{}-notes.md", notes["id"]));

    let res = chat.app.send(get("/settings/export.zip", &cookie)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), "application/zip");
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes.to_vec())).unwrap();
    // In the order written: the files, oldest first, then (sorted last here) the document.
    let mut names: Vec<String> = archive.file_names().map(|n| n.unwrap().to_string()).collect();
    names.sort_by_key(|n| !n.starts_with("files/"));
    assert_eq!(
        names,
        [
            format!("files/{}-shot.png", shot["id"]),
            format!("files/{}-notes.md", notes["id"]),
            "thicode-eve.json".to_string(),
        ]
    );
    let mut stored = Vec::new();
    archive
        .by_name(&format!("files/{}-notes.md", notes["id"]))
        .unwrap()
        .read_to_end(&mut stored)
        .unwrap();
    assert_eq!(stored, b"# Plan\n\nShip the export.");
    let mut json_text = String::new();
    archive
        .by_name("thicode-eve.json")
        .unwrap()
        .read_to_string(&mut json_text)
        .unwrap();
    assert!(json_text.contains("\"archive_path\"") && !json_text.contains("theirs.txt"));
    // The spool file it was built in is gone once sent.
    let spool = chat.app.state.files.storage.spool_dir().to_path_buf();
    let left = std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "{spool:?}");

    // Without a session: to the login page.
    let res = chat
        .app
        .send(json_request("GET", "/settings/export.zip", None, None, &[]))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn an_edit_keeps_its_files_unless_the_form_unticks_them() {
    use leptos::server_fn::ServerFn;
    use thicode::chat::server_fns::{EditMessage, SendMessage};
    let chat = Chat::new(&[]).await;
    let cookie = chat.user("ed").await;
    let api = api_session(&chat.app, "ed").await;
    let (_, one) = upload(&chat, &api, "one.txt", b"first file").await;
    let (_, two) = upload(&chat, &api, "two.txt", b"second file").await;
    // The page's form: `attachments[0]`… beside the text (the brackets percent-encoded, as browsers send them).
    let body = format!(
        "content=look&attachments%5B0%5D={}&attachments%5B1%5D={}",
        one["id"], two["id"]
    );
    let (status, sent) = chat.call(SendMessage::PATH, &body, &cookie).await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    let first = sent["user_message_id"].as_i64().unwrap();
    chat.settled(sent["assistant_message_id"].as_i64().unwrap()).await;
    let names = |message: &Value| -> Vec<String> {
        message["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect()
    };
    let user_message = |sent: &Value| {
        let id = sent["user_message_id"].as_i64().unwrap();
        sent["view"]["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(names(&user_message(&sent)), ["one.txt", "two.txt"]);

    // An edit from a form that does not list the files (a script, an older page) keeps them.
    let (status, edited) = chat
        .call(EditMessage::PATH, &format!("message_id={first}&content=again"), &cookie)
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    chat.settled(edited["assistant_message_id"].as_i64().unwrap()).await;
    assert_eq!(names(&user_message(&edited)), ["one.txt", "two.txt"]);

    // The edit form lists them: the unticked one stays behind.
    let body = format!(
        "message_id={first}&content=only+two&files_listed=1&keep%5B1%5D={}",
        two["id"]
    );
    let (status, edited) = chat.call(EditMessage::PATH, &body, &cookie).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    chat.settled(edited["assistant_message_id"].as_i64().unwrap()).await;
    assert_eq!(names(&user_message(&edited)), ["two.txt"]);
    let content = last_request_messages(&chat).last().unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        content.contains("second file") && !content.contains("first file"),
        "{content}"
    );
}
