//! Conversations that travel (issue #29): share links made, read by anyone with the token, updated, listed and
//! revoked; the ownership matrix around them; sharing turned off by staff; misses throttled; forks and copies.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::api_chat::{Client, poll_completed};
use crate::chat_flow::Chat;
use crate::common::{CSRF, ORIGIN, api_session, form_post, json_request, text, with_staff};

const BASE: &str = "/api/chat/conversations";

/// A GET with no cookie at all, from `addr` (the client address the throttle counts).
async fn anonymous(chat: &Chat, path: &str, addr: &str) -> (StatusCode, Value, String) {
    let mut req = json_request("GET", path, None, None, &[]);
    req.extensions_mut()
        .insert(ConnectInfo(format!("{addr}:40000").parse::<SocketAddr>().unwrap()));
    let res = chat.app.send(req).await;
    let status = res.status();
    let body = text(res).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null), body)
}

/// A conversation of `client` with one finished exchange (`first`), and the ids of its user message and reply.
async fn conversation(client: &Client<'_>, first: &str) -> (i64, i64) {
    let (status, created) = client
        .call(
            "POST",
            &format!("{BASE}/"),
            Some(json!({"initial_message": first, "title": format!("Trip: {first}")})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    let user_message = created["messages"][0]["id"].as_i64().unwrap();
    poll_completed(client, id, user_message).await;
    (id, user_message)
}

async fn exchange(client: &Client<'_>, id: i64, content: &str) {
    let (status, sent) = client
        .call(
            "POST",
            &format!("{BASE}/{id}/messages/"),
            Some(json!({"content": content})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    poll_completed(client, id, sent["user_message"]["id"].as_i64().unwrap()).await;
}

fn token_of(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn a_link_shows_its_snapshot_to_anyone_until_it_is_updated_or_revoked() {
    let chat = Chat::new(&[]).await;
    let ada = Client::log_in(&chat, "ada").await;
    let (id, _) = conversation(&ada, "Where is Lisbon?").await;

    let (status, link) = ada.call("POST", &format!("{BASE}/{id}/share/"), None).await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let token = link["token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 64, "256 random bits, hex");
    assert_eq!(link["url"], json!(format!("http://127.0.0.1:3000/s/{token}")));
    assert_eq!(token_of(link["url"].as_str().unwrap()), token);
    assert_eq!(link["conversation_id"], json!(id));

    // Anyone, without an account.
    let (status, shared, raw) = anonymous(&chat, &format!("/api/shared/{token}/"), "203.0.113.5").await;
    assert_eq!(status, StatusCode::OK, "{raw}");
    assert_eq!(shared["title"], "Trip: Where is Lisbon?");
    let messages = shared["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(messages[0]["content"], "Where is Lisbon?");
    assert_eq!(messages[1]["content"], "Fake reply to: Where is Lisbon?");
    // Nothing names the owner or an internal id.
    assert!(!raw.contains("\"id\""), "{raw}");
    assert!(!raw.contains("ada"), "{raw}");
    assert!(!raw.contains(&format!("\"conversation_id\":{id}")), "{raw}");

    // Later messages wait for an update, which keeps the link.
    exchange(&ada, id, "And Porto?").await;
    let (_, shared, _) = anonymous(&chat, &format!("/api/shared/{token}/"), "203.0.113.5").await;
    assert_eq!(shared["messages"].as_array().unwrap().len(), 2);
    let (status, again) = ada.call("POST", &format!("{BASE}/{id}/share/"), None).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["token"], json!(token));
    let (_, shared, _) = anonymous(&chat, &format!("/api/shared/{token}/"), "203.0.113.5").await;
    assert_eq!(shared["messages"].as_array().unwrap().len(), 4);

    let (status, list) = ada.call("GET", "/api/chat/shares/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["token"], json!(token));
    assert_eq!(list[0]["title"], "Trip: Where is Lisbon?");

    // Revoked: 404 at once, and revoking again is 404 too.
    let (status, _) = ada.call("DELETE", &format!("{BASE}/{id}/share/"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = anonymous(&chat, &format!("/api/shared/{token}/"), "203.0.113.5").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = ada.call("DELETE", &format!("{BASE}/{id}/share/"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = ada.call("GET", "/api/chat/shares/", None).await;
    assert_eq!(list, json!([]));

    // A new link is a new token; deleting the conversation revokes it.
    let (_, link) = ada.call("POST", &format!("{BASE}/{id}/share/"), None).await;
    let second = link["token"].as_str().unwrap().to_string();
    assert_ne!(second, token);
    // The account's export lists the link and every action on links, by the token's first characters only.
    let res = chat
        .app
        .send(json_request("GET", "/settings/export", None, Some(&ada.cookies), &[]))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let export: Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(export["shares"].as_array().unwrap().len(), 1, "{}", export["shares"]);
    assert_eq!(export["shares"][0]["url"], link["url"]);
    let actions: Vec<&str> = export["share_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["share.create", "share.update", "share.revoke", "share.create"]
    );
    assert_eq!(export["share_events"][0]["link_starts_with"], json!(&token[..6]));
    assert!(
        !export["share_events"].to_string().contains(&token),
        "the old token is not kept whole"
    );
    let (status, _) = ada.call("DELETE", &format!("{BASE}/{id}/"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = anonymous(&chat, &format!("/api/shared/{second}/"), "203.0.113.5").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM shares")
        .fetch_one(&chat.app.pool().pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn another_user_can_neither_share_revoke_fork_nor_list_what_is_not_theirs() {
    let chat = Chat::new(&[]).await;
    let ada = Client::log_in(&chat, "ada").await;
    let bob = Client::log_in(&chat, "bob").await;
    let (id, ada_message) = conversation(&ada, "Private").await;
    let (_, link) = ada.call("POST", &format!("{BASE}/{id}/share/"), None).await;
    let token = link["token"].as_str().unwrap().to_string();

    let (status, _) = bob.call("POST", &format!("{BASE}/{id}/share/"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = bob.call("DELETE", &format!("{BASE}/{id}/share/"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = bob
        .call(
            "POST",
            &format!("{BASE}/{id}/fork/"),
            Some(json!({"message_id": ada_message})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = bob.call("GET", "/api/chat/shares/", None).await;
    assert_eq!(list, json!([]));
    // The token opens the snapshot and nothing else: not the conversation, not its messages.
    let (status, _) = bob.call("GET", &format!("{BASE}/{id}/"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Still shared after all of that.
    let (status, _, _) = anonymous(&chat, &format!("/api/shared/{token}/"), "203.0.113.6").await;
    assert_eq!(status, StatusCode::OK);
    // Without a session the owner's routes answer 401/403, not the link.
    let res = chat
        .app
        .send(json_request("POST", &format!("{BASE}/{id}/share/"), None, None, &[]))
        .await;
    assert!(matches!(res.status().as_u16(), 401 | 403), "{}", res.status());
    let res = chat
        .app
        .send(json_request("GET", "/api/chat/shares/", None, None, &[]))
        .await;
    assert!(matches!(res.status().as_u16(), 401 | 403), "{}", res.status());
}

#[tokio::test]
async fn guessing_tokens_is_answered_404_then_throttled_per_address() {
    let chat = Chat::new(&[]).await;
    let ada = Client::log_in(&chat, "ada").await;
    let (id, _) = conversation(&ada, "Shared").await;
    let (_, link) = ada.call("POST", &format!("{BASE}/{id}/share/"), None).await;
    let token = link["token"].as_str().unwrap().to_string();

    for guess in 0..30 {
        let fake = format!("{:064x}", guess);
        let (status, body, _) = anonymous(&chat, &format!("/api/shared/{fake}/"), "198.51.100.7").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    let (status, _, _) = anonymous(&chat, "/api/shared/not-even-hex/", "198.51.100.7").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Even the right token waits, from that address; another address reads it.
    let (status, _, _) = anonymous(&chat, &format!("/api/shared/{token}/"), "198.51.100.7").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let (status, _, _) = anonymous(&chat, &format!("/api/shared/{token}/"), "198.51.100.8").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn staff_can_turn_sharing_off_and_links_come_back_when_it_is_on() {
    let chat = Chat::new(&[]).await;
    with_staff(&chat.app, "root").await;
    let root = api_session(&chat.app, "root").await;
    let ada = Client::log_in(&chat, "ada").await;
    let (id, _) = conversation(&ada, "Shared").await;
    let (_, link) = ada.call("POST", &format!("{BASE}/{id}/share/"), None).await;
    let token = link["token"].as_str().unwrap().to_string();

    let patch = |on: bool| {
        json_request(
            "PATCH",
            "/api/admin/settings/",
            Some(json!({"sharing_enabled": if on { "true" } else { "false" }})),
            Some(&root),
            &[("x-csrftoken", CSRF)],
        )
    };
    let res = chat.app.send(patch(false)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&text(res).await).unwrap()["sharing_enabled"],
        json!(false)
    );
    let (status, _, _) = anonymous(&chat, &format!("/api/shared/{token}/"), "203.0.113.9").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, refused) = ada.call("POST", &format!("{BASE}/{id}/share/"), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused, json!({"share": ["Sharing is turned off on this instance."]}));
    // A user may not turn it on.
    let (status, _) = ada
        .call("PATCH", "/api/admin/settings/", Some(json!({"sharing_enabled": true})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let res = chat.app.send(patch(true)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let (status, _, _) = anonymous(&chat, &format!("/api/shared/{token}/"), "203.0.113.9").await;
    assert_eq!(status, StatusCode::OK);
    let audited: Vec<String> =
        sqlx::query_scalar("SELECT details FROM audit_log WHERE action = 'settings.sharing' ORDER BY id")
            .fetch_all(&chat.app.pool().pool)
            .await
            .unwrap();
    assert_eq!(audited.len(), 2, "{audited:?}");

    // The admin settings page's form, without JavaScript: an unticked box turns sharing off; a user's post does not.
    use leptos::server_fn::ServerFn;
    let path = thicode::admin::server_fns::AdminSaveSharing::PATH;
    let ada_page = crate::common::logged_in(&chat.app, "ada").await;
    let res = chat
        .app
        .send(form_post(path, "/admin/settings", "", Some(&ada_page), ORIGIN))
        .await;
    assert_ne!(crate::common::header(&res, "location"), "/admin/settings?saved=1");
    let (status, _, _) = anonymous(&chat, &format!("/api/shared/{token}/"), "203.0.113.9").await;
    assert_eq!(status, StatusCode::OK, "a user cannot turn sharing off");
    let root_page = crate::common::logged_in(&chat.app, "root").await;
    let res = chat
        .app
        .send(form_post(path, "/admin/settings", "", Some(&root_page), ORIGIN))
        .await;
    assert_eq!(crate::common::header(&res, "location"), "/admin/settings?saved=1");
    let html = crate::common::page(&chat.app, "/admin/settings", Some(&root_page)).await;
    assert!(html.contains(r#"data-testid="sharing-enabled""#), "{html}");
    assert!(
        !html.contains(r#"checked data-testid="sharing-enabled""#),
        "unticked now"
    );
    let (status, _, _) = anonymous(&chat, &format!("/api/shared/{token}/"), "203.0.113.9").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let res = chat
        .app
        .send(form_post(
            path,
            "/admin/settings",
            "sharing=on",
            Some(&root_page),
            ORIGIN,
        ))
        .await;
    assert_eq!(crate::common::header(&res, "location"), "/admin/settings?saved=1");
    let (status, _, _) = anonymous(&chat, &format!("/api/shared/{token}/"), "203.0.113.9").await;
    assert_eq!(status, StatusCode::OK);
    let html = crate::common::page(&chat.app, "/admin/settings", Some(&root_page)).await;
    assert!(
        html.contains(r#"checked data-testid="sharing-enabled""#),
        "ticked again: {html}"
    );
}

#[tokio::test]
async fn a_fork_holds_the_branch_up_to_the_message_and_a_reader_can_copy_a_shared_one() {
    let chat = Chat::new(&[]).await;
    let ada = Client::log_in(&chat, "ada").await;
    let (id, _) = conversation(&ada, "First question").await;
    exchange(&ada, id, "Second question").await;
    let (_, original) = ada.call("GET", &format!("{BASE}/{id}/"), None).await;
    let messages = original["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 4);
    let first_reply = messages[1]["id"].as_i64().unwrap();

    let (status, forked) = ada
        .call(
            "POST",
            &format!("{BASE}/{id}/fork/"),
            Some(json!({"message_id": first_reply.to_string()})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{forked}");
    assert_ne!(forked["id"], json!(id));
    assert_eq!(forked["title"], "Trip: First question (branch)");
    let copied = forked["messages"].as_array().unwrap();
    assert_eq!(copied.len(), 2);
    assert_eq!(copied[0]["content"], "First question");
    assert_eq!(copied[1]["content"], "Fake reply to: First question");
    let (_, unchanged) = ada.call("GET", &format!("{BASE}/{id}/"), None).await;
    assert_eq!(unchanged["messages"].as_array().unwrap().len(), 4);
    // A message of another conversation, or none: refused with the field named.
    let (status, body) = ada.call("POST", &format!("{BASE}/{id}/fork/"), Some(json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message_id"].is_array(), "{body}");
    let other = forked["id"].as_i64().unwrap();
    let (status, body) = ada
        .call(
            "POST",
            &format!("{BASE}/{other}/fork/"),
            Some(json!({"message_id": first_reply})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Bob copies Ada's shared conversation into his account.
    let (_, link) = ada.call("POST", &format!("{BASE}/{id}/share/"), None).await;
    let token = link["token"].as_str().unwrap();
    let bob = Client::log_in(&chat, "bob").await;
    let (status, copy) = bob.call("POST", &format!("/api/shared/{token}/continue/"), None).await;
    assert_eq!(status, StatusCode::CREATED, "{copy}");
    assert_eq!(copy["messages"].as_array().unwrap().len(), 4);
    let copy_id = copy["id"].as_i64().unwrap();
    let (status, _) = bob.call("GET", &format!("{BASE}/{copy_id}/"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = ada.call("GET", &format!("{BASE}/{copy_id}/"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // And he can go on from there.
    exchange(&bob, copy_id, "Third question").await;
}

#[tokio::test]
async fn the_shared_page_renders_on_the_server_escaped_noindexed_and_404s_once_revoked() {
    let chat = Chat::new(&[]).await;
    let ada = Client::log_in(&chat, "ada").await;
    let hostile = "<script>alert('x')</script> <img src=x onerror=alert(1)> **bold**";
    let (status, created) = ada
        .call(
            "POST",
            &format!("{BASE}/"),
            Some(json!({"initial_message": hostile, "title": "<img src=x onerror=alert(2)>"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    poll_completed(&ada, id, created["messages"][0]["id"].as_i64().unwrap()).await;
    let (_, link) = ada.call("POST", &format!("{BASE}/{id}/share/"), None).await;
    let token = link["token"].as_str().unwrap().to_string();

    let (status, _, page) = anonymous(&chat, &format!("/s/{token}"), "203.0.113.20").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(r#"<meta name="robots" content="noindex, nofollow">"#),
        "{page}"
    );
    assert!(page.contains(r#"<meta name="description" content="A conversation shared from ThiCode: "#));
    assert!(page.contains(r#"property="og:title""#));
    assert!(
        page.contains(r#"data-testid="shared-title">&lt;img src=x onerror=alert(2)&gt;"#),
        "{page}"
    );
    assert_eq!(
        page.matches(r#"<meta name="description""#).count(),
        1,
        "one description: the conversation's"
    );
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(
        page.contains("<strong>bold</strong>"),
        "the reply's Markdown is rendered"
    );
    // No composer, no sidebar, nothing of the owner's.
    assert!(!page.contains(r#"id="content""#));
    assert!(!page.contains("conversation-list"));
    assert!(!page.contains(&format!("/chat/{id}")));
    assert!(page.contains("sign-in-to-continue"));

    // French, for a French reader.
    let mut req = json_request("GET", &format!("/s/{token}"), None, None, &[("accept-language", "fr")]);
    req.extensions_mut()
        .insert(ConnectInfo("203.0.113.20:40000".parse::<SocketAddr>().unwrap()));
    let fr = text(chat.app.send(req).await).await;
    assert!(fr.contains("Une conversation partagée"), "{fr}");

    let (status, _) = ada.call("DELETE", &format!("{BASE}/{id}/share/"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, page) = anonymous(&chat, &format!("/s/{token}"), "203.0.113.20").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!page.contains("alert"), "{page}");
}

#[tokio::test]
async fn a_shared_file_is_served_through_the_link_only_while_the_snapshot_shows_it() {
    let chat = Chat::new(&[]).await;
    let ada = Client::log_in(&chat, "ada").await;
    // A file uploaded through the API, then sent with a message.
    let boundary = "XBOUNDARYX";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\nShared notes\r\n--{boundary}--\r\n"
    );
    let req = axum::http::Request::post("/api/files/")
        .header("host", "127.0.0.1:3000")
        .header("cookie", &ada.cookies)
        .header("x-csrftoken", &ada.csrf)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(axum::body::Body::from(body))
        .unwrap();
    let res = chat.app.send(req).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let file: Value = serde_json::from_str(&text(res).await).unwrap();
    let (status, created) = ada
        .call(
            "POST",
            &format!("{BASE}/"),
            Some(json!({"initial_message": "Read this", "title": "Notes", "attachments": [file["id"]]})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    poll_completed(&ada, id, created["messages"][0]["id"].as_i64().unwrap()).await;
    let (_, link) = ada.call("POST", &format!("{BASE}/{id}/share/"), None).await;
    let token = link["token"].as_str().unwrap().to_string();

    let (_, shared, _) = anonymous(&chat, &format!("/api/shared/{token}/"), "203.0.113.30").await;
    let url = shared["messages"][0]["files"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(url, format!("/s/{token}/files/1"));
    let (status, _, bytes) = anonymous(&chat, &url, "203.0.113.30").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, "Shared notes");
    // Not the owner's own URL, and nothing beyond the snapshot's files.
    let (status, _, _) = anonymous(&chat, &format!("/api/files/{}/content/", file["id"]), "203.0.113.30").await;
    assert!(matches!(status.as_u16(), 401 | 403), "{status}");
    for other in ["2", "0", "x"] {
        let (status, _, _) = anonymous(&chat, &format!("/s/{token}/files/{other}"), "203.0.113.30").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{other}");
    }
    let (status, _) = ada.call("DELETE", &format!("{BASE}/{id}/share/"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = anonymous(&chat, &url, "203.0.113.30").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn two_first_shares_at_once_make_one_link() {
    let chat = Chat::new(&[]).await;
    let ada = Client::log_in(&chat, "ada").await;
    let (id, _) = conversation(&ada, "Twice").await;
    let path = format!("{BASE}/{id}/share/");
    let ((a, first), (b, second)) = tokio::join!(ada.call("POST", &path, None), ada.call("POST", &path, None));
    let mut statuses = [a.as_u16(), b.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201], "{first} {second}");
    assert_eq!(first["token"], second["token"]);
    let (_, list) = ada.call("GET", "/api/chat/shares/", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}
