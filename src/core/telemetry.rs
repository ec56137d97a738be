//! Logging with `tracing` to standard error (standard output is for command answers): one span per request
//! carrying its id. Paths are logged without their query string, and bodies never, so passwords, tokens and
//! prompts stay out of the logs.

use std::io::IsTerminal;
use std::str::FromStr;

use axum::http::Request;
use tracing::Span;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

use crate::core::config::ConfigError;

/// Installs the global subscriber; `filter` uses `tracing` target syntax (`info,thicode=debug,sqlx=warn`).
pub fn init(filter: &str) -> Result<(), ConfigError> {
    let targets = Targets::from_str(filter).map_err(|e| ConfigError {
        key: "RUST_LOG".into(),
        problem: format!("invalid filter {filter:?}: {e}"),
    })?;
    // A second call (tests start several servers) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false)
                .with_ansi(std::io::stderr().is_terminal()),
        )
        .with(targets)
        .try_init();
    Ok(())
}

/// The span of one request: method, path, the client's address (`core::client`) and the `x-request-id` set by the
/// request-id layer.
pub fn request_span<B>(req: &Request<B>) -> Span {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let client = req
        .extensions()
        .get::<crate::core::client::ClientAddr>()
        .map_or_else(|| "unknown".to_string(), |c| c.text());
    tracing::info_span!("request", id = %id, client = %client, method = %req.method(), path = %req.uri().path())
}
