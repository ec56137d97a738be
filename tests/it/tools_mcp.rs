//! MCP servers' tools (issue #27) against real servers: npm's reference server (`server-everything`, over streamable
//! HTTP and over stdio) and one on PyPI's official SDK (`tests/mcp/server.py`, mcp 2.3.0, behind a bearer token),
//! both installed by `scripts/test` (`TEST_MCP_EVERYTHING`, `TEST_MCP_PYTHON`). Staff add them through the admin API
//! (audited, secrets never shown back), their tools are offered to replies and called, and the guard keeps them to the
//! hosts staff allowed.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use thicode::chat::store;

use crate::chat_flow::Chat;
use crate::common::{CSRF, api_session, free_port, json_request, with_staff};

/// The servers' entry points, or `None` (skipped) outside `scripts/test` unless `THICODE_REQUIRE_MCP` says they must
/// be there.
fn servers() -> Option<(String, String)> {
    match (std::env::var("TEST_MCP_EVERYTHING"), std::env::var("TEST_MCP_PYTHON")) {
        (Ok(everything), Ok(python)) => Some((everything, python)),
        _ => {
            assert!(
                std::env::var_os("THICODE_REQUIRE_MCP").is_none(),
                "TEST_MCP_EVERYTHING and TEST_MCP_PYTHON are required (scripts/test installs the MCP servers)"
            );
            eprintln!("skipped: no MCP test servers (scripts/test installs them)");
            None
        }
    }
}

/// A server process, stopped with the test.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` serving on `port` and waits until it accepts connections.
fn serve(mut command: Command, port: u16) -> Server {
    let child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let server = Server(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the MCP server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn everything_http(entry: &str, port: u16) -> Server {
    let mut command = Command::new("node");
    command.arg(entry).arg("streamableHttp").env("PORT", port.to_string());
    serve(command, port)
}

fn python_http(python: &str, port: u16, token: &str) -> Server {
    let mut command = Command::new(python);
    command
        .arg(crate::common::repo_path("tests/mcp/server.py"))
        .env("PORT", port.to_string())
        .env("MCP_TOKEN", token);
    serve(command, port)
}

struct Admin {
    chat: Chat,
    staff: String,
    user: String,
}

impl Admin {
    async fn new(extra: &[(&str, &str)]) -> Self {
        let chat = Chat::new(extra).await;
        with_staff(&chat.app, "root").await;
        let staff = api_session(&chat.app, "root").await;
        crate::common::with_user(&chat.app, "ada", crate::common::PASSWORD).await;
        let user = api_session(&chat.app, "ada").await;
        Self { chat, staff, user }
    }

    /// A call of the REST API with the session `cookie`: its status and JSON.
    async fn call(&self, cookie: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let res = self
            .chat
            .app
            .send(json_request(method, path, body, Some(cookie), &[("x-csrftoken", CSRF)]))
            .await;
        let status = res.status().as_u16();
        let text = crate::common::text(res).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn add(&self, body: Value) -> (u16, Value) {
        self.call(&self.staff.clone(), "POST", "/api/admin/mcp-servers/", Some(body))
            .await
    }

    /// The names of the tools ada may choose.
    async fn offered(&self) -> Vec<String> {
        let (_, listed) = self.call(&self.user.clone(), "GET", "/api/chat/tools/", None).await;
        listed
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    }

    /// Ada asks `content` in a new conversation that may use `tool` (MCP tools are chosen per conversation); the
    /// settled reply and its steps.
    async fn ask(&self, tool: &str, content: &str) -> (store::Message, Vec<store::Step>) {
        let (_, reply) = self.start(tool, content).await;
        let message = self.settled(reply).await;
        let steps = store::steps_of(&self.chat.app.pool().pool, &[reply]).await.unwrap();
        (message, steps)
    }

    async fn audit_actions(&self) -> Vec<(String, String)> {
        let (_, page) = self.call(&self.staff.clone(), "GET", "/api/admin/audit/", None).await;
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["action"].as_str().unwrap().to_string(), e["details"].to_string()))
            .collect()
    }
}

#[tokio::test]
async fn staff_add_a_server_and_its_tools_are_offered_called_and_shown_in_replies() {
    let Some((everything, _)) = servers() else { return };
    let port = free_port();
    let _server = everything_http(&everything, port);
    let admin = Admin::new(&[("MCP_ALLOWED_HOSTS", "127.0.0.1")]).await;
    let url = format!("http://127.0.0.1:{port}/mcp");

    // Only staff manage servers.
    let user = admin.user.clone();
    let (status, _) = admin
        .call(
            &user,
            "POST",
            "/api/admin/mcp-servers/",
            Some(json!({"name": "x", "url": url})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = admin.add(json!({"name": "Bad Name", "url": url})).await;
    assert_eq!(
        (status, &body["name"][0]),
        (
            400,
            &json!("Use 1 to 24 lowercase letters, digits or dashes, starting with a letter.")
        )
    );

    let (status, server) = admin.add(json!({"name": "everything", "url": url})).await;
    assert_eq!(status, 201, "{server}");
    assert_eq!(server["last_error"], Value::Null, "{server}");
    let tools: Vec<&str> = server["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        tools.contains(&"echo") && tools.contains(&"get-tiny-image"),
        "{tools:?}"
    );
    let echo = server["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "echo")
        .unwrap();
    assert_eq!(echo["offered_as"], "everything__echo");
    assert_eq!(echo["enabled"], true);
    assert!(echo["input_schema"]["properties"]["message"].is_object());
    let id = server["id"].as_i64().unwrap();
    assert!(admin.offered().await.contains(&"everything__echo".to_string()));
    let (_, name) = admin.add(json!({"name": "everything", "url": url})).await;
    assert_eq!(name["name"][0], "Another MCP server has this name.");

    // A reply calls it: the text comes back to the model as data, and the step keeps the result.
    let (reply, steps) = admin
        .ask(
            "everything__echo",
            r#"[fake:call=everything__echo {"message": "hi from ada"}] say it"#,
        )
        .await;
    assert_eq!(reply.status, "delivered", "{}", reply.metadata);
    assert_eq!(steps[0].status, "done", "{:?}", steps[0]);
    let result: Value = serde_json::from_str(steps[0].result.as_deref().unwrap()).unwrap();
    assert_eq!(
        result["content"][0],
        json!({"type": "text", "text": "Echo: hi from ada"})
    );
    assert!(
        reply
            .content
            .contains("<tool-result tool=\"everything__echo\">\nEcho: hi from ada"),
        "{}",
        reply.content
    );

    // An image result is shown as an image.
    let (reply, steps) = admin
        .ask(
            "everything__get-tiny-image",
            "[fake:call=everything__get-tiny-image {}] show me",
        )
        .await;
    assert_eq!(steps[0].status, "done");
    let result: Value = serde_json::from_str(steps[0].result.as_deref().unwrap()).unwrap();
    let image = result["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "image")
        .unwrap();
    assert_eq!(image["mime_type"], "image/png");
    assert!(reply.content.contains("[image: image/png]"));
    let cookie = crate::common::logged_in(&admin.chat.app, "ada").await;
    let page = crate::common::page(
        &admin.chat.app,
        &format!("/chat/{}", reply.conversation_id),
        Some(&cookie),
    )
    .await;
    assert!(
        page.contains(r#"<img class="step-image" src="data:image/png;base64,"#),
        "the image is drawn"
    );

    // A tool turned off is no longer offered (nor run when called anyway); the change is audited.
    let staff = admin.staff.clone();
    let (status, changed) = admin
        .call(
            &staff,
            "PATCH",
            &format!("/api/admin/mcp-servers/{id}/"),
            Some(json!({"tools": {"echo": {"enabled": false}}})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert!(!admin.offered().await.contains(&"everything__echo".to_string()));
    let (_, steps) = admin
        .ask(
            "everything__get-tiny-image",
            r#"[fake:call=everything__echo {"message": "x"}]"#,
        )
        .await;
    assert_eq!(
        steps[0].error.as_deref(),
        Some("there is no tool named everything__echo")
    );
    let (status, body) = admin
        .call(
            &staff,
            "PATCH",
            &format!("/api/admin/mcp-servers/{id}/"),
            Some(json!({"tools": {"nope": {"enabled": true}}})),
        )
        .await;
    assert_eq!(
        (status, &body["tools"][0]),
        (400, &json!("This server has no tool named “nope”."))
    );

    // Removed: its tools go, and that is audited too.
    let (status, _) = admin
        .call(&staff, "DELETE", &format!("/api/admin/mcp-servers/{id}/"), None)
        .await;
    assert_eq!(status, 204);
    assert!(admin.offered().await.iter().all(|t| !t.starts_with("everything__")));
    let actions: Vec<String> = admin.audit_actions().await.into_iter().map(|(a, _)| a).collect();
    assert_eq!(actions, ["mcp.delete", "mcp.update", "mcp.create"]);
}

#[tokio::test]
async fn a_servers_token_is_sent_to_it_alone_and_never_shown_back() {
    let Some((_, python)) = servers() else { return };
    let port = free_port();
    let _server = python_http(&python, port, "s3cret-token");
    let admin = Admin::new(&[("MCP_ALLOWED_HOSTS", "127.0.0.1")]).await;
    let url = format!("http://127.0.0.1:{port}/mcp");

    // Without the token the server refuses: the server is kept with the reason, and no tools.
    let (status, refused) = admin.add(json!({"name": "nokey", "url": url})).await;
    assert_eq!(status, 201);
    assert!(
        refused["last_error"].as_str().unwrap().contains("MCP server"),
        "{refused}"
    );
    assert_eq!(refused["tools"], json!([]));

    let (status, server) = admin
        .add(json!({"name": "py", "url": url, "headers": {"Authorization": "Bearer s3cret-token"}}))
        .await;
    assert_eq!(status, 201, "{server}");
    assert_eq!(server["headers"], json!(["Authorization"]));
    let wipe = server["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "wipe")
        .unwrap();
    assert_eq!(
        (wipe["destructive"].as_bool(), wipe["ask_first"].as_bool()),
        (Some(true), Some(true))
    );
    let add = server["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "add")
        .unwrap();
    assert_eq!(add["ask_first"], false);

    // The secret is in no answer and no audit entry.
    let staff = admin.staff.clone();
    let (_, listed) = admin.call(&staff, "GET", "/api/admin/mcp-servers/", None).await;
    let (_, one) = admin
        .call(
            &staff,
            "GET",
            &format!("/api/admin/mcp-servers/{}/", server["id"]),
            None,
        )
        .await;
    let audit = admin.audit_actions().await;
    for text in [listed.to_string(), one.to_string(), format!("{audit:?}")] {
        assert!(!text.contains("s3cret"), "{text}");
    }
    assert!(
        audit[0].1.contains("Authorization"),
        "the header's name is audited: {audit:?}"
    );

    // A call goes through with the token (the SDK speaks the newest protocol with this server).
    let (reply, steps) = admin.ask("py__add", r#"[fake:call=py__add {"a": 2, "b": 3}]"#).await;
    assert_eq!(steps[0].status, "done", "{:?}", steps[0]);
    assert!(
        reply.content.contains("<tool-result tool=\"py__add\">\n5"),
        "{}",
        reply.content
    );
    // Arguments that are not an object are refused before any request.
    let (_, steps) = admin.ask("py__add", r#"[fake:call=py__add [1, 2]]"#).await;
    assert_eq!(steps[0].error.as_deref(), Some("the arguments must be a JSON object"));
}

#[tokio::test]
async fn the_guard_keeps_servers_to_allowed_hosts_and_commands_need_the_setting() {
    let Some((everything, _)) = servers() else { return };
    let port = free_port();
    let _server = everything_http(&everything, port);
    // No internal host allowed: loopback is refused, in any spelling.
    let admin = Admin::new(&[]).await;
    for url in [
        format!("http://127.0.0.1:{port}/mcp"),
        format!("http://[::1]:{port}/mcp"),
        "http://169.254.169.254/latest".to_string(),
        "http://localhost/mcp".to_string(),
    ] {
        let (status, body) = admin.add(json!({"name": "internal", "url": url})).await;
        assert_eq!(status, 400, "{url}: {body}");
        assert!(
            body["url"][0].as_str().unwrap().starts_with("This address is refused"),
            "{body}"
        );
    }
    let (status, body) = admin
        .add(json!({"name": "local", "command": ["node", everything, "stdio"]}))
        .await;
    assert_eq!(
        (status, &body["command"][0]),
        (
            400,
            &json!("Servers started as a command are off on this instance (MCP_STDIO_ENABLED).")
        )
    );
    let (status, body) = admin.add(json!({"name": "ftp", "url": "ftp://example.org/mcp"})).await;
    assert_eq!(
        (status, body["url"][0].as_str().unwrap().starts_with("Give the server")),
        (400, true)
    );

    // With the setting, a command is started over stdio, with none of ThiCode's environment.
    let admin = Admin::new(&[("MCP_STDIO_ENABLED", "true"), ("TOOL_CALL_TIMEOUT_SECONDS", "2")]).await;
    let (status, server) = admin
        .add(json!({"name": "local", "command": ["node", everything, "stdio"]}))
        .await;
    assert_eq!(status, 201, "{server}");
    assert_eq!(server["transport"], "stdio");
    assert!(server["tools"].as_array().unwrap().len() > 3, "{server}");
    let (reply, steps) = admin
        .ask("local__echo", r#"[fake:call=local__echo {"message": "over stdio"}]"#)
        .await;
    assert_eq!(steps[0].status, "done", "{:?}", steps[0]);
    assert!(reply.content.contains("Echo: over stdio"));
    // A call that outlives the time limit is an error result; the reply goes on.
    let (reply, steps) = admin
        .ask(
            "local__trigger-long-running-operation",
            r#"[fake:call=local__trigger-long-running-operation {"duration": 10, "steps": 2}]"#,
        )
        .await;
    assert_eq!(reply.status, "delivered");
    assert_eq!(steps[0].status, "error");
    assert!(
        steps[0].error.as_deref().unwrap().contains("within 2 s"),
        "{:?}",
        steps[0].error
    );
}

impl Admin {
    /// Ada starts `content` in a new conversation that may use `tool`; the conversation and the reply's id.
    async fn start(&self, tool: &str, content: &str) -> (i64, i64) {
        let (status, created) = self
            .call(
                &self.user.clone(),
                "POST",
                "/api/chat/conversations/",
                Some(json!({"initial_message": content, "tools": [tool]})),
            )
            .await;
        assert_eq!(status, 201, "{created}");
        (
            created["id"].as_i64().unwrap(),
            created["messages"][1]["id"].as_i64().unwrap(),
        )
    }

    /// Waits until the first call of `reply` has the status `status`; that call.
    async fn step_in(&self, reply: i64, status: &str) -> store::Step {
        let pool = &self.chat.app.pool().pool;
        for _ in 0..400 {
            if let Some(step) = store::steps_of(pool, &[reply]).await.unwrap().into_iter().next()
                && step.status == status
            {
                return step;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let steps = store::steps_of(pool, &[reply]).await.unwrap();
        let message = store::message_by_id(pool, reply).await.unwrap();
        panic!("the call of reply {reply} never became {status}: {steps:?} {message:?}");
    }

    async fn settled(&self, reply: i64) -> store::Message {
        let pool = &self.chat.app.pool().pool;
        for _ in 0..400 {
            let m = store::message_by_id(pool, reply).await.unwrap().unwrap();
            if m.status != "pending" && m.status != "streaming" {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the reply never finished");
    }
}

#[tokio::test]
async fn a_call_marked_ask_first_waits_for_the_users_answer_which_survives_a_reload_and_expires() {
    let Some((_, python)) = servers() else { return };
    let port = free_port();
    let _server = python_http(&python, port, "");
    let admin = Admin::new(&[("MCP_ALLOWED_HOSTS", "127.0.0.1"), ("TOOL_APPROVAL_SECONDS", "3")]).await;
    let (status, _) = admin
        .add(json!({"name": "py", "url": format!("http://127.0.0.1:{port}/mcp")}))
        .await;
    assert_eq!(status, 201);

    // `wipe` says it is destructive: the reply pauses on it, and the page asks (a form, no script needed).
    let (conversation, reply) = admin
        .start("py__wipe", r#"[fake:call=py__wipe {"path": "/tmp/a"}]"#)
        .await;
    let waiting = admin.step_in(reply, "awaiting_approval").await;
    assert!(waiting.expires_at.is_some());
    let cookie = crate::common::logged_in(&admin.chat.app, "ada").await;
    let page = crate::common::page(&admin.chat.app, &format!("/chat/{conversation}"), Some(&cookie)).await;
    assert!(
        page.contains(r#"<li class="step" data-status="awaiting_approval"><details open>"#),
        "{page}"
    );
    assert!(page.contains("Run py__wipe with these arguments?"));
    assert!(page.contains(&format!(r#"name="call_id" value="{}""#, waiting.call_id)));

    // Another user cannot answer it; a call that is not waiting cannot be answered.
    crate::common::with_user(&admin.chat.app, "eve", crate::common::PASSWORD).await;
    let eve = api_session(&admin.chat.app, "eve").await;
    let approve = format!("/api/chat/conversations/{conversation}/messages/{reply}/approve/");
    let (status, _) = admin
        .call(
            &eve,
            "POST",
            &approve,
            Some(json!({"call_id": waiting.call_id, "allow": true})),
        )
        .await;
    assert_eq!(status, 404);
    let user = admin.user.clone();
    let (status, body) = admin
        .call(
            &user,
            "POST",
            &approve,
            Some(json!({"call_id": "nosuchone", "allow": true})),
        )
        .await;
    assert_eq!(
        (status, &body["call_id"][0]),
        (400, &json!("This call is not waiting for your approval (any more)."))
    );

    // Allowed: it runs, and the reply goes on.
    let (status, answered) = admin
        .call(
            &user,
            "POST",
            &approve,
            Some(json!({"call_id": waiting.call_id, "allow": "true"})),
        )
        .await;
    assert_eq!(status, 200, "{answered}");
    let done = admin.settled(reply).await;
    let step = &store::steps_of(&admin.chat.app.pool().pool, &[reply]).await.unwrap()[0];
    assert_eq!(step.status, "done", "{step:?}");
    assert!(done.content.contains("wiped /tmp/a"), "{}", done.content);

    // Denied (a form post without JavaScript): the model is told, nothing runs.
    let (conversation, reply) = admin
        .start("py__wipe", r#"[fake:call=py__wipe {"path": "/home"}]"#)
        .await;
    let waiting = admin.step_in(reply, "awaiting_approval").await;
    use leptos::server_fn::ServerFn;
    let res = admin
        .chat
        .app
        .send(crate::common::form_post(
            thicode::chat::server_fns::DecideCall::PATH,
            &format!("/chat/{conversation}"),
            &format!(
                "conversation_id={conversation}&message_id={reply}&call_id={}&allow=0",
                waiting.call_id
            ),
            Some(&cookie),
            crate::common::ORIGIN,
        ))
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let denied = admin.settled(reply).await;
    let step = &store::steps_of(&admin.chat.app.pool().pool, &[reply]).await.unwrap()[0];
    assert_eq!(
        (step.status.as_str(), step.error.as_deref()),
        ("denied", Some("the user denied this call"))
    );
    assert!(
        denied.content.contains("the user denied this call"),
        "{}",
        denied.content
    );
    assert!(!denied.content.contains("wiped /home"));

    // Not answered in time: expired, and the reply goes on.
    let (_, reply) = admin
        .start("py__wipe", r#"[fake:call=py__wipe {"path": "/srv"}]"#)
        .await;
    let expired = admin.settled(reply).await;
    let step = &store::steps_of(&admin.chat.app.pool().pool, &[reply]).await.unwrap()[0];
    assert_eq!(step.status, "expired");
    assert!(expired.content.contains("the user did not answer in time"));

    // Staff can turn "ask first" off: then it runs at once.
    let staff = admin.staff.clone();
    let (_, servers) = admin.call(&staff, "GET", "/api/admin/mcp-servers/", None).await;
    let id = servers[0]["id"].as_i64().unwrap();
    let (status, _) = admin
        .call(
            &staff,
            "PATCH",
            &format!("/api/admin/mcp-servers/{id}/"),
            Some(json!({"tools": {"wipe": {"ask_first": false}}})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, reply) = admin
        .start("py__wipe", r#"[fake:call=py__wipe {"path": "/var"}]"#)
        .await;
    let done = admin.settled(reply).await;
    assert!(done.content.contains("wiped /var"), "{}", done.content);
}

#[tokio::test]
async fn staff_manage_servers_from_the_admin_page_with_plain_forms_and_never_see_a_token_again() {
    use crate::common::{ORIGIN, form_post, logged_in, page};
    use leptos::server_fn::ServerFn;
    use thicode::admin::server_fns::{AdminAddMcpServer, AdminMcpServerAction, AdminSaveMcpServer};
    let Some((_, python)) = servers() else { return };
    let port = free_port();
    let token = "s3cret-page-token";
    let _server = python_http(&python, port, token);
    let admin = Admin::new(&[("MCP_ALLOWED_HOSTS", "127.0.0.1")]).await;
    let app = &admin.chat.app;
    let root = logged_in(app, "root").await;
    let ada = logged_in(app, "ada").await;
    let url = format!("http://127.0.0.1:{port}/mcp");
    let encoded = |text: &str| form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let post = |path: &'static str, body: String, cookie: String, origin: &'static str| async move {
        let res = app
            .send(form_post(path, "/admin/tools", &body, Some(&cookie), origin))
            .await;
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().replace(ORIGIN, ""))
            .unwrap_or_default();
        (status, location)
    };
    let add_body = |name: &str| {
        format!(
            "name={name}&url={}&headers={}&enabled=1",
            encoded(&url),
            encoded(&format!("Authorization: Bearer {token}\n"))
        )
    };

    // A user gets 403 on the page and the forms; a form from another site is refused; nothing is added.
    let mut req = crate::common::get("/admin/tools");
    req.headers_mut().insert("cookie", ada.parse().unwrap());
    assert_eq!(app.send(req).await.status().as_u16(), 403);
    let (_, back) = post(AdminAddMcpServer::PATH, add_body("calc"), ada.clone(), ORIGIN).await;
    assert_ne!(back, "/admin/tools?done=added");
    let (status, _) = post(
        AdminAddMcpServer::PATH,
        add_body("calc"),
        root.clone(),
        "https://evil.example",
    )
    .await;
    assert_eq!(status, 403);
    assert!(admin::servers_of(&admin).await.is_empty());

    // A mistake: the field says what is wrong and keeps what was typed — but never the headers.
    let (_, back) = post(AdminAddMcpServer::PATH, add_body("Calc!"), root.clone(), ORIGIN).await;
    assert!(!back.contains(token), "{back}");
    let html = page(app, &back, Some(&root)).await;
    assert!(html.contains("Use 1 to 24 lowercase letters"), "{html}");
    assert!(html.contains(r#"value="Calc!""#) && !html.contains(token), "{html}");
    let (_, back) = post(
        AdminAddMcpServer::PATH,
        format!("name=calc&url={}&headers=no-colon-here", encoded(&url)),
        root.clone(),
        ORIGIN,
    )
    .await;
    let html = page(app, &back, Some(&root)).await;
    assert!(html.contains("Write each header as “Name: value”"), "{html}");

    // Added: its tools are listed with the bearer token, which the page names but never shows.
    let (_, back) = post(AdminAddMcpServer::PATH, add_body("calc"), root.clone(), ORIGIN).await;
    assert_eq!(back, "/admin/tools?done=added");
    let html = page(app, &back, Some(&root)).await;
    assert!(html.contains("MCP server added."), "{html}");
    assert!(html.contains("calc__add") && html.contains("calc__wipe"), "{html}");
    assert!(html.contains("Stored: Authorization (values hidden)"), "{html}");
    assert!(!html.contains(token), "the page shows the token");
    let id = admin::servers_of(&admin).await[0]["id"].as_i64().unwrap();
    let tool = |name: &str, servers: &[Value]| {
        let tools = servers[0]["tools"].as_array().unwrap().clone();
        tools.into_iter().find(|t| t["name"] == name).unwrap()
    };
    let servers = admin::servers_of(&admin).await;
    assert_eq!(
        (
            tool("wipe", &servers)["ask_first"].clone(),
            tool("add", &servers)["ask_first"].clone()
        ),
        (json!(true), json!(false)),
        "a destructive tool asks first by default"
    );

    // Saved: `add` stops being offered, `wipe` stops asking first (unticked boxes are choices too); the headers stay.
    let (_, back) = post(
        AdminSaveMcpServer::PATH,
        format!(
            "id={id}&name=calc&url={}&headers=&enabled=1&listed[0]=add&listed[1]=wipe&on[1]=wipe",
            encoded(&url)
        ),
        root.clone(),
        ORIGIN,
    )
    .await;
    assert_eq!(back, "/admin/tools?done=saved");
    let servers = admin::servers_of(&admin).await;
    assert_eq!(tool("add", &servers)["enabled"], false, "{servers:?}");
    assert_eq!(tool("wipe", &servers)["enabled"], true);
    assert_eq!(tool("wipe", &servers)["ask_first"], false);
    assert_eq!(servers[0]["headers"], json!(["Authorization"]));
    assert!(!admin.offered().await.contains(&"calc__add".to_string()));

    // Listed again: still reached with the stored token.
    let (_, back) = post(
        AdminMcpServerAction::PATH,
        format!("id={id}&action=refresh"),
        root.clone(),
        ORIGIN,
    )
    .await;
    assert_eq!(back, "/admin/tools?done=refresh");
    let servers = admin::servers_of(&admin).await;
    assert_eq!(servers[0]["last_error"], Value::Null, "{servers:?}");

    // Clearing the headers: the server refuses the next listing, and the page says why.
    let (_, back) = post(
        AdminSaveMcpServer::PATH,
        format!("id={id}&name=calc&url={}&clear_headers=1&enabled=1", encoded(&url)),
        root.clone(),
        ORIGIN,
    )
    .await;
    assert_eq!(back, "/admin/tools?done=saved");
    post(
        AdminMcpServerAction::PATH,
        format!("id={id}&action=refresh"),
        root.clone(),
        ORIGIN,
    )
    .await;
    let html = page(app, "/admin/tools", Some(&root)).await;
    assert!(html.contains("Its tools could not be listed"), "{html}");
    assert!(html.contains("None stored."), "{html}");

    // The delete link asks first (without JavaScript the dialog is on the page), then the form removes it.
    let html = page(app, &format!("/admin/tools?confirm_delete={id}"), Some(&root)).await;
    assert!(html.contains("Delete calc?"), "{html}");
    let (_, back) = post(
        AdminMcpServerAction::PATH,
        format!("id={id}&action=delete"),
        root.clone(),
        ORIGIN,
    )
    .await;
    assert_eq!(back, "/admin/tools?done=delete");
    assert!(admin::servers_of(&admin).await.is_empty());
    let html = page(app, &back, Some(&root)).await;
    assert!(
        html.contains("MCP server deleted.") && html.contains("No MCP server yet."),
        "{html}"
    );

    // Every change is audited, without the token.
    let actions = admin.audit_actions().await;
    let names: Vec<&str> = actions.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(names.iter().filter(|a| **a == "mcp.update").count(), 2, "{names:?}");
    assert!(
        names.contains(&"mcp.create") && names.contains(&"mcp.delete"),
        "{names:?}"
    );
    assert!(actions.iter().all(|(_, details)| !details.contains(token)));
}

mod admin {
    use serde_json::Value;

    /// The servers as the admin API lists them.
    pub async fn servers_of(admin: &super::Admin) -> Vec<Value> {
        let (_, listed) = admin
            .call(&admin.staff.clone(), "GET", "/api/admin/mcp-servers/", None)
            .await;
        listed.as_array().unwrap().clone()
    }
}
