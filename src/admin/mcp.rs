//! MCP servers, managed by staff (issue #27): add one (streamable HTTP by URL with optional headers, or — when
//! `MCP_STDIO_ENABLED` — a local command), list its tools, enable servers and single tools, mark tools "ask first",
//! remove one. Every change is audited (`mcp.create`, `mcp.update`, `mcp.delete`), with the headers' names only: their
//! values are secrets, never shown back, logged or audited.

use std::collections::BTreeMap;

use serde_json::json;

use crate::admin::audit::{self, Entry};
use crate::admin::service::Actor;
use crate::core::error::AppError;
use crate::state::AppState;
use crate::text;
use crate::tools::mcp::{McpTool, Transport};
use crate::tools::store::{self, McpServer, ToolSetting};

/// A server's settings as staff give them; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct ServerEdit {
    /// Short name (its tools are offered as `<name>__<tool>`).
    pub name: Option<String>,
    /// Its streamable HTTP endpoint.
    pub url: Option<String>,
    /// Headers sent to it (replacing the stored ones).
    pub headers: Option<BTreeMap<String, String>>,
    /// A command to start instead (program, then arguments).
    pub command: Option<Vec<String>>,
    /// Whether its tools are offered.
    pub enabled: Option<bool>,
    /// Choices per tool (a choice left out stays as it is).
    pub tools: Option<BTreeMap<String, ToolChoice>>,
}

/// Staff's change to one tool of a server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
pub struct ToolChoice {
    /// Offer it to the model.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Wait for the user's approval before each call.
    #[serde(default)]
    pub ask_first: Option<bool>,
}

/// How long listing a server's tools may take.
const LIST_LIMIT: std::time::Duration = std::time::Duration::from_secs(15);

fn check_name(name: &str) -> Result<String, AppError> {
    let name = name.trim().to_string();
    let valid = (1..=24).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(name)
    } else {
        Err(AppError::invalid("name", text!(admin.mcp.name_invalid)))
    }
}

fn check_url(state: &AppState, url: &str) -> Result<String, AppError> {
    let url = url.trim();
    let parsed = reqwest::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| AppError::invalid("url", text!(admin.mcp.url_invalid)))?;
    state
        .chat
        .toolbox
        .mcp_guard
        .check_url(&parsed)
        .map_err(|refused| AppError::invalid("url", text!(admin.mcp.url_refused, reason = refused.to_string())))?;
    Ok(url.to_string())
}

fn check_headers(headers: BTreeMap<String, String>) -> Result<Vec<(String, String)>, AppError> {
    let mut out = Vec::new();
    for (name, value) in headers {
        let name_ok = !name.trim().is_empty() && name.trim().chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !name_ok || value.contains(['\r', '\n']) {
            return Err(AppError::invalid("headers", text!(admin.mcp.header_invalid)));
        }
        out.push((name.trim().to_string(), value.trim().to_string()));
    }
    Ok(out)
}

/// The transport `edit` describes, from `current` (a new server has none): a command, or a URL with headers.
fn transport_of(state: &AppState, edit: &ServerEdit, current: Option<&Transport>) -> Result<Transport, AppError> {
    if let Some(command) = &edit.command {
        if !state.chat.toolbox.stdio_enabled {
            return Err(AppError::invalid("command", text!(admin.mcp.stdio_off)));
        }
        let command: Vec<String> = command
            .iter()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect();
        if command.is_empty() {
            return Err(AppError::invalid("command", text!(admin.mcp.command_empty)));
        }
        return Ok(Transport::Stdio { command });
    }
    let (url, headers) = match current {
        Some(Transport::Http { url, headers }) => (Some(url.clone()), headers.clone()),
        _ => (None, Vec::new()),
    };
    let url = match (&edit.url, url) {
        (Some(url), _) => check_url(state, url)?,
        (None, Some(url)) => url,
        (None, None) => match current {
            Some(stdio @ Transport::Stdio { .. }) => return Ok(stdio.clone()),
            _ => return Err(AppError::invalid("url", text!(admin.mcp.url_invalid))),
        },
    };
    let headers = match &edit.headers {
        Some(given) => check_headers(given.clone())?,
        None => headers,
    };
    Ok(Transport::Http { url, headers })
}

/// What is audited of a server: everything but the headers' values.
fn audited(server: &McpServer) -> serde_json::Value {
    let transport = match &server.transport {
        Transport::Http { url, headers } => json!({
            "url": url,
            "headers": headers.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>(),
        }),
        Transport::Stdio { command } => json!({"command": command}),
    };
    json!({"name": server.name, "enabled": server.enabled, "transport": transport, "tools": server.settings})
}

fn unique_name(e: sqlx::Error) -> AppError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => AppError::invalid("name", text!(admin.mcp.name_taken)),
        _ => e.into(),
    }
}

async fn record(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    actor: &Actor,
    action: &'static str,
    server: &McpServer,
    details: serde_json::Value,
) -> Result<(), AppError> {
    let entry = Entry {
        actor_id: actor.user.id,
        actor: actor.user.username.clone(),
        action,
        target_id: Some(server.id),
        target: server.name.clone(),
        details,
        client_addr: actor.addr.clone(),
    };
    Ok(audit::record(tx, &entry).await?)
}

/// Lists the server's tools now and keeps them (or why it failed); every instance sees the change soon after.
pub async fn refresh(state: &AppState, id: i64) -> Result<McpServer, AppError> {
    let server = store::server(&state.db.pool, id).await?.ok_or(AppError::NotFound)?;
    let listed: Result<Vec<McpTool>, String> =
        crate::tools::mcp::list_tools(&server.transport, &state.chat.toolbox.mcp_guard, LIST_LIMIT)
            .await
            .map_err(|e| e.to_string());
    store::set_listing(&state.db.pool, id, listed.as_deref().map_err(String::clone)).await?;
    state.chat.toolbox.refresh(&state.db.pool).await?;
    store::server(&state.db.pool, id).await?.ok_or(AppError::NotFound)
}

/// Adds a server (audited), then lists its tools.
pub async fn create(state: &AppState, actor: &Actor, edit: ServerEdit) -> Result<McpServer, AppError> {
    let name = check_name(edit.name.as_deref().unwrap_or_default())?;
    let transport = transport_of(state, &edit, None)?;
    let enabled = edit.enabled.unwrap_or(true);
    let mut tx = state.db.pool.begin().await?;
    let id = store::insert(&mut tx, &name, &transport, enabled)
        .await
        .map_err(unique_name)?;
    crate::admin::service::lock_staff(&mut tx, actor).await?;
    let server = McpServer {
        id,
        name,
        transport,
        enabled,
        tools: Vec::new(),
        settings: BTreeMap::new(),
        listed_at: None,
        last_error: None,
    };
    record(&mut tx, actor, "mcp.create", &server, audited(&server)).await?;
    tx.commit().await?;
    refresh(state, id).await
}

/// Changes a server (audited with its settings before and after).
pub async fn update(state: &AppState, actor: &Actor, id: i64, edit: ServerEdit) -> Result<McpServer, AppError> {
    let before = store::server(&state.db.pool, id).await?.ok_or(AppError::NotFound)?;
    let mut after = before.clone();
    if let Some(name) = &edit.name {
        after.name = check_name(name)?;
    }
    if edit.url.is_some() || edit.headers.is_some() || edit.command.is_some() {
        after.transport = transport_of(state, &edit, Some(&before.transport))?;
    }
    if let Some(enabled) = edit.enabled {
        after.enabled = enabled;
    }
    if let Some(tools) = edit.tools {
        for (name, choice) in tools {
            let Some(tool) = after.tools.iter().find(|t| t.name == name) else {
                return Err(AppError::invalid("tools", text!(admin.mcp.no_such_tool, name = name)));
            };
            let now = after.setting(tool);
            let setting = ToolSetting {
                enabled: choice.enabled.unwrap_or(now.enabled),
                ask_first: choice.ask_first.unwrap_or(now.ask_first),
            };
            after.settings.insert(name, setting);
        }
    }
    let mut tx = state.db.pool.begin().await?;
    crate::admin::service::lock_staff(&mut tx, actor).await?;
    if !store::update(&mut tx, &after).await.map_err(unique_name)? {
        return Err(AppError::NotFound);
    }
    let reached_elsewhere = after.transport != before.transport;
    record(
        &mut tx,
        actor,
        "mcp.update",
        &after,
        json!({"from": audited(&before), "to": audited(&after)}),
    )
    .await?;
    tx.commit().await?;
    if reached_elsewhere {
        return refresh(state, id).await;
    }
    state.chat.toolbox.refresh(&state.db.pool).await?;
    store::server(&state.db.pool, id).await?.ok_or(AppError::NotFound)
}

/// Removes a server (audited); its tools are no longer offered.
pub async fn delete(state: &AppState, actor: &Actor, id: i64) -> Result<(), AppError> {
    let server = store::server(&state.db.pool, id).await?.ok_or(AppError::NotFound)?;
    let mut tx = state.db.pool.begin().await?;
    crate::admin::service::lock_staff(&mut tx, actor).await?;
    store::delete(&mut tx, id).await?;
    record(&mut tx, actor, "mcp.delete", &server, audited(&server)).await?;
    tx.commit().await?;
    state.chat.toolbox.refresh(&state.db.pool).await?;
    Ok(())
}

/// Every server.
pub async fn servers(state: &AppState) -> Result<Vec<McpServer>, AppError> {
    Ok(store::servers(&state.db.pool).await?)
}

/// The server `id`.
pub async fn server(state: &AppState, id: i64) -> Result<McpServer, AppError> {
    store::server(&state.db.pool, id).await?.ok_or(AppError::NotFound)
}

/// What the admin page shows of `server`: everything but the headers' values.
pub fn row(server: &McpServer) -> crate::admin::types::McpServerRow {
    let (url, headers, command) = match &server.transport {
        Transport::Http { url, headers } => (
            url.clone(),
            headers.iter().map(|(name, _)| name.clone()).collect(),
            Vec::new(),
        ),
        Transport::Stdio { command } => (String::new(), Vec::new(), command.clone()),
    };
    crate::admin::types::McpServerRow {
        id: server.id,
        name: server.name.clone(),
        url,
        headers,
        command,
        enabled: server.enabled,
        tools: server
            .tools
            .iter()
            .map(|tool| {
                let setting = server.setting(tool);
                crate::admin::types::McpToolRow {
                    name: tool.name.clone(),
                    offered_as: crate::tools::toolbox::offered_name(&server.name, &tool.name),
                    description: tool.description.clone(),
                    destructive: tool.destructive,
                    enabled: setting.enabled,
                    ask_first: setting.ask_first,
                }
            })
            .collect(),
        listed_at: server.listed_at.map(crate::core::time::minute),
        last_error: server.last_error.clone(),
    }
}

/// The admin page's tools: the built-in ones as the settings turn them on, the limits, the MCP servers.
pub async fn page(state: &AppState) -> Result<crate::admin::types::ToolsAdminView, AppError> {
    let config = &state.config.tools;
    let limits = state.chat.toolbox.limits;
    Ok(crate::admin::types::ToolsAdminView {
        web_search: config.web_search.as_ref().map(|s| s.backend.name().to_string()),
        web_fetch: config.web_fetch_enabled,
        max_rounds: limits.max_rounds,
        calls_per_day: limits.calls_per_day,
        call_timeout_seconds: limits.call_timeout.as_secs(),
        approval_seconds: limits.approval_wait.as_secs(),
        stdio_enabled: state.chat.toolbox.stdio_enabled,
        servers: servers(state).await?.iter().map(row).collect(),
    })
}

/// The headers a form gives, one `Name: value` a line (blank lines skipped).
pub fn headers_of_text(text: &str) -> Result<BTreeMap<String, String>, AppError> {
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(AppError::invalid("headers", text!(admin.mcp.header_line)));
        };
        out.insert(name.trim().to_string(), value.trim().to_string());
    }
    check_headers(out.clone())?;
    Ok(out)
}

/// The command a form gives: the program on the first line, then one argument a line (blank lines skipped).
pub fn command_of_text(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}
