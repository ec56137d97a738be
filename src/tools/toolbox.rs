//! Every tool this instance offers, under one name each, and the limits of their use: what the reply engine offers
//! the model, runs, and bounds. Built-in tools today; MCP servers' tools join them under `server__tool` names.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::builtin::{Builtins, Outcome};

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
}

impl Default for ToolLimits {
    fn default() -> Self {
        Self {
            max_rounds: 8,
            calls_per_day: 0,
            call_timeout: Duration::from_secs(30),
            reply_budget: Duration::from_secs(300),
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
}

impl Toolbox {
    /// The built-in tools `builtins`, within `limits`.
    pub fn new(builtins: Builtins, limits: ToolLimits) -> Self {
        Self {
            builtins: Arc::new(builtins),
            limits,
            function_models: Arc::from([]),
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
            },
            function_models: config.models.clone().into(),
        }
    }

    /// Every tool on offer.
    pub fn tools(&self) -> Vec<ToolInfo> {
        self.builtins
            .definitions()
            .into_iter()
            .map(|d| ToolInfo {
                name: d.name.to_string(),
                description: d.description.to_string(),
                parameters: d.parameters,
                source: "builtin".to_string(),
            })
            .collect()
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

    /// Runs a call of `name` with the model's `arguments` (JSON text).
    pub async fn call(&self, name: &str, arguments: &str) -> Outcome {
        self.builtins.call(name, arguments).await
    }
}
