//! Every tool this instance offers, under one name each, and the limits of their use: what the reply engine offers
//! the model, runs, and bounds. The built-in tools, and the tools of the MCP servers staff added (enabled servers,
//! enabled tools) under `<server>__<tool>` names, from a snapshot of `mcp_servers` each instance reads again every few
//! seconds and at once after a change it made.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::builtin::{Builtins, Outcome};
use super::guard::Guard;
use super::mcp::{McpTool, Transport};
use super::store::McpServer;

/// A tool as listed to users and offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolInfo {
    /// Its name, unique on the instance (`^[a-zA-Z0-9_-]{1,64}$`).
    pub name: String,
    /// What it does.
    pub description: String,
    /// Its arguments' JSON Schema.
    pub parameters: Value,
    /// `builtin`, or the MCP server it comes from.
    pub source: String,
    /// A call waits for the user's approval.
    pub ask_first: bool,
}

/// How far tool use may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolLimits {
    /// Rounds of calls per reply before the model must answer.
    pub max_rounds: u32,
    /// Calls per user per day (0: no limit).
    pub calls_per_day: u32,
    /// Longest a single call may run.
    pub call_timeout: Duration,
    /// Longest the calls of one reply may run altogether.
    pub reply_budget: Duration,
    /// How long a call marked "ask first" waits for the user's answer.
    pub approval_wait: Duration,
}

impl Default for ToolLimits {
    fn default() -> Self {
        Self {
            max_rounds: 8,
            calls_per_day: 0,
            call_timeout: Duration::from_secs(30),
            reply_budget: Duration::from_secs(300),
            approval_wait: Duration::from_secs(600),
        }
    }
}

/// The tools of the instance and their limits; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Toolbox {
    builtins: Arc<Builtins>,
    /// How far tool use may go.
    pub limits: ToolLimits,
    /// Models taken to call functions when the provider's list does not say.
    function_models: Arc<[String]>,
    /// The MCP servers, as last read.
    servers: Arc<RwLock<Vec<McpServer>>>,
    /// Where MCP servers may be reached: public addresses and `MCP_ALLOWED_HOSTS`.
    pub mcp_guard: Guard,
    /// Whether servers started as a command may be used (`MCP_STDIO_ENABLED`).
    pub stdio_enabled: bool,
}

/// The name a server's tool is offered to the model under: `<server>__<tool>`, in the characters every provider
/// takes, at most 64 of them.
pub fn offered_name(server: &str, tool: &str) -> String {
    format!("{server}__{tool}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

impl Toolbox {
    /// The built-in tools `builtins`, within `limits`.
    pub fn new(builtins: Builtins, limits: ToolLimits) -> Self {
        Self {
            builtins: Arc::new(builtins),
            limits,
            ..Self::default()
        }
    }

    /// The tools and limits the settings describe.
    pub fn from_config(config: &crate::core::config::ToolsConfig) -> Self {
        let call_timeout = Duration::from_secs(config.call_timeout_seconds);
        Self {
            builtins: Arc::new(Builtins::from_config(config)),
            limits: ToolLimits {
                max_rounds: config.max_rounds,
                calls_per_day: config.calls_per_day,
                call_timeout,
                reply_budget: (call_timeout * 4).max(Duration::from_secs(120)),
                approval_wait: Duration::from_secs(config.approval_seconds),
            },
            function_models: config.models.clone().into(),
            servers: Arc::default(),
            mcp_guard: Guard::allowing(&config.mcp_allowed_hosts),
            stdio_enabled: config.mcp_stdio_enabled,
        }
    }

    /// Reads the MCP servers again (after a change, and every few seconds: another instance may have made one).
    pub async fn refresh(&self, pool: &sqlx::AnyPool) -> Result<(), sqlx::Error> {
        let servers = super::store::servers(pool).await?;
        if let Ok(mut snapshot) = self.servers.write() {
            *snapshot = servers;
        }
        Ok(())
    }

    /// Reads the MCP servers now and every 10 seconds.
    pub fn spawn_refresh(&self, pool: sqlx::AnyPool) -> tokio::task::JoinHandle<()> {
        let toolbox = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(10));
            loop {
                every.tick().await;
                if let Err(e) = toolbox.refresh(&pool).await {
                    tracing::warn!(error = %e, "could not read the MCP servers");
                }
            }
        })
    }

    /// Whether the server can be used on this instance (a command only when `MCP_STDIO_ENABLED`).
    fn usable(&self, server: &McpServer) -> bool {
        server.enabled && (self.stdio_enabled || !matches!(server.transport, Transport::Stdio { .. }))
    }

    /// The enabled tools of the usable servers: (server, tool, offered name, asks first).
    fn mcp_tools(&self) -> Vec<(McpServer, McpTool, String, bool)> {
        let Ok(servers) = self.servers.read() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for server in servers.iter().filter(|s| self.usable(s)) {
            for tool in &server.tools {
                let setting = server.setting(tool);
                if setting.enabled {
                    out.push((
                        server.clone(),
                        tool.clone(),
                        offered_name(&server.name, &tool.name),
                        setting.ask_first,
                    ));
                }
            }
        }
        out
    }

    /// Every tool on offer: the built-in ones, then the MCP servers' (a name taken twice is offered once).
    pub fn tools(&self) -> Vec<ToolInfo> {
        let mut tools: Vec<ToolInfo> = self
            .builtins
            .definitions()
            .into_iter()
            .map(|d| ToolInfo {
                name: d.name.to_string(),
                description: d.description.to_string(),
                parameters: d.parameters,
                source: "builtin".to_string(),
                ask_first: false,
            })
            .collect();
        for (server, tool, name, ask_first) in self.mcp_tools() {
            if tools.iter().any(|t| t.name == name) {
                continue;
            }
            tools.push(ToolInfo {
                name,
                description: tool.description.clone(),
                parameters: tool.input_schema.clone(),
                source: server.name.clone(),
                ask_first,
            });
        }
        tools
    }

    /// The tools a conversation starts with when its owner chose nothing: the built-in ones.
    pub fn default_names(&self) -> Vec<String> {
        self.tools()
            .into_iter()
            .filter(|t| t.source == "builtin")
            .map(|t| t.name)
            .collect()
    }

    /// Of `names`, the tools on offer, in the instance's order.
    pub fn chosen(&self, names: &[String]) -> Vec<ToolInfo> {
        self.tools().into_iter().filter(|t| names.contains(&t.name)).collect()
    }

    /// Whether the model `id` calls functions: as its provider says (`listed`), else as the settings say.
    pub fn model_calls_functions(&self, id: &str, listed: Option<bool>) -> bool {
        listed.unwrap_or_else(|| self.function_models.iter().any(|m| m == id))
    }

    /// Runs a call of `name` with the model's `arguments` (JSON text); a web search numbers its results from
    /// `first_source`.
    pub async fn call(&self, name: &str, arguments: &str, first_source: usize) -> Outcome {
        if self.builtins.offers(name) {
            return self.builtins.call(name, arguments, first_source).await;
        }
        match self.mcp_tools().into_iter().find(|(_, _, offered, _)| offered == name) {
            Some((server, tool, _, _)) => {
                super::mcp::call_tool(
                    &server.transport,
                    &self.mcp_guard,
                    &tool.name,
                    name,
                    arguments,
                    self.limits.call_timeout,
                )
                .await
            }
            None => Outcome::failed(name, format!("there is no tool named {name}")),
        }
    }
}
