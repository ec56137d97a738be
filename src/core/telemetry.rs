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
    let path = redacted_path(req.uri().path());
    tracing::info_span!("request", id = %id, client = %client, method = %req.method(), path = %path)
}

/// `path` with the secret it may carry (a password-reset token, a share link's token) replaced by `…`.
fn redacted_path(path: &str) -> std::borrow::Cow<'_, str> {
    let secret_at = ["/reset-password/", "/verify-reset-token/", "/api/shared/"]
        .iter()
        .find_map(|marker| path.find(marker).map(|at| at + marker.len()))
        .or_else(|| path.starts_with("/s/").then_some("/s/".len()));
    let Some(start) = secret_at else {
        return path.into();
    };
    let end = path[start..].find('/').map_or(path.len(), |i| start + i);
    format!("{}…{}", &path[..start], &path[end..]).into()
}

#[cfg(test)]
mod tests {
    use super::redacted_path;

    #[test]
    fn reset_tokens_stay_out_of_the_log() {
        assert_eq!(redacted_path("/reset-password/abc123"), "/reset-password/…");
        assert_eq!(
            redacted_path("/api/accounts/api/verify-reset-token/abc123/"),
            "/api/accounts/api/verify-reset-token/…/"
        );
        assert_eq!(redacted_path("/chat/3"), "/chat/3");
    }

    #[test]
    fn share_tokens_stay_out_of_the_log() {
        assert_eq!(redacted_path("/s/0a1b2c"), "/s/…");
        assert_eq!(redacted_path("/s/0a1b2c/files/2"), "/s/…/files/2");
        assert_eq!(redacted_path("/api/shared/0a1b2c/"), "/api/shared/…/");
        assert_eq!(redacted_path("/api/shared/0a1b2c/continue/"), "/api/shared/…/continue/");
        assert_eq!(redacted_path("/settings/shares"), "/settings/shares");
        assert_eq!(
            redacted_path("/api/chat/conversations/1/share/"),
            "/api/chat/conversations/1/share/"
        );
    }
}
