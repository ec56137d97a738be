//! The `mcp_servers` table (migration 000016): the MCP servers staff added, their tools as last listed and staff's
//! choices per tool. Secrets (the headers' values) are read here for the connection only; what is shown of a server
//! names its headers, never their values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, FromRow, Row};

use super::mcp::{McpTool, Transport};
use crate::core::db::now_millis;

/// Staff's choice for one tool of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolSetting {
    /// Offered to the model.
    pub enabled: bool,
    /// A call waits for the user's approval.
    pub ask_first: bool,
}

/// A server as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct McpServer {
    /// Primary key.
    pub id: i64,
    /// Short name; its tools are offered as `<name>__<tool>`.
    pub name: String,
    /// How it is reached (with its secrets).
    pub transport: Transport,
    /// Whether its tools are offered.
    pub enabled: bool,
    /// Its tools, as last listed.
    pub tools: Vec<McpTool>,
    /// Staff's choices per tool; a tool without one is enabled, and asks first when it is destructive.
    pub settings: BTreeMap<String, ToolSetting>,
    /// When the tools were last listed (epoch ms).
    pub listed_at: Option<i64>,
    /// Why the last listing failed, if it did.
    pub last_error: Option<String>,
}

impl McpServer {
    /// Staff's choice for `tool`, or the default: enabled, asking first when the server says it is destructive.
    pub fn setting(&self, tool: &McpTool) -> ToolSetting {
        self.settings.get(&tool.name).copied().unwrap_or(ToolSetting {
            enabled: true,
            ask_first: tool.destructive,
        })
    }
}

impl FromRow<'_, AnyRow> for McpServer {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let text = |name: &str| row.try_get::<String, _>(name);
        let transport = match text("transport")?.as_str() {
            "stdio" => Transport::Stdio {
                command: serde_json::from_str(&text("command")?).unwrap_or_default(),
            },
            _ => Transport::Http {
                url: text("url")?,
                headers: serde_json::from_str::<BTreeMap<String, String>>(&text("headers")?)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            },
        };
        Ok(Self {
            id: row.try_get("id")?,
            name: text("name")?,
            transport,
            enabled: row.try_get::<i64, _>("enabled")? != 0,
            tools: serde_json::from_str(&text("tools")?).unwrap_or_default(),
            settings: serde_json::from_str(&text("tool_settings")?).unwrap_or_default(),
            listed_at: row.try_get("listed_at")?,
            last_error: row.try_get("last_error")?,
        })
    }
}

const COLUMNS: &str =
    "id, name, transport, url, headers, command, enabled, tools, tool_settings, listed_at, last_error";

/// Every server, by name.
pub async fn servers(pool: &AnyPool) -> Result<Vec<McpServer>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM mcp_servers ORDER BY name"))
        .fetch_all(pool)
        .await
}

/// The server `id`.
pub async fn server(pool: &AnyPool, id: i64) -> Result<Option<McpServer>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM mcp_servers WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The stored columns of `transport`: kind, URL, headers (JSON), command (JSON).
fn columns_of(transport: &Transport) -> (&'static str, String, String, String) {
    match transport {
        Transport::Http { url, headers } => (
            "http",
            url.clone(),
            serde_json::to_string(&headers.iter().cloned().collect::<BTreeMap<_, _>>()).unwrap_or_default(),
            "[]".into(),
        ),
        Transport::Stdio { command } => (
            "stdio",
            String::new(),
            "{}".into(),
            serde_json::to_string(command).unwrap_or_default(),
        ),
    }
}

/// Adds a server (in the caller's transaction, with its audit entry); returns its id. A name already taken is a
/// unique-constraint error.
pub async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    name: &str,
    transport: &Transport,
    enabled: bool,
) -> Result<i64, sqlx::Error> {
    let (kind, url, headers, command) = columns_of(transport);
    let now = now_millis();
    sqlx::query_scalar(
        "INSERT INTO mcp_servers (name, transport, url, headers, command, enabled, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(name)
    .bind(kind)
    .bind(url)
    .bind(headers)
    .bind(command)
    .bind(i64::from(enabled))
    .bind(now)
    .fetch_one(&mut **tx)
    .await
}

/// Replaces a server's name, transport, state and tool choices (in the caller's transaction).
pub async fn update(tx: &mut sqlx::Transaction<'static, sqlx::Any>, server: &McpServer) -> Result<bool, sqlx::Error> {
    let (kind, url, headers, command) = columns_of(&server.transport);
    let done = sqlx::query(
        "UPDATE mcp_servers SET name = $1, transport = $2, url = $3, headers = $4, command = $5, enabled = $6, \
         tool_settings = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(&server.name)
    .bind(kind)
    .bind(url)
    .bind(headers)
    .bind(command)
    .bind(i64::from(server.enabled))
    .bind(serde_json::to_string(&server.settings).unwrap_or_default())
    .bind(now_millis())
    .bind(server.id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Removes a server (in the caller's transaction).
pub async fn delete(tx: &mut sqlx::Transaction<'static, sqlx::Any>, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM mcp_servers WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(done == 1)
}

/// Records a listing of the server's tools: the tools, or why it failed (the tools of the last good one stay).
pub async fn set_listing(pool: &AnyPool, id: i64, listed: Result<&[McpTool], String>) -> Result<(), sqlx::Error> {
    match listed {
        Ok(tools) => {
            sqlx::query("UPDATE mcp_servers SET tools = $1, listed_at = $2, last_error = NULL WHERE id = $3")
                .bind(serde_json::to_string(tools).unwrap_or_default())
                .bind(now_millis())
                .bind(id)
                .execute(pool)
                .await?;
        }
        Err(why) => {
            sqlx::query("UPDATE mcp_servers SET last_error = $1 WHERE id = $2")
                .bind(why)
                .bind(id)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}
