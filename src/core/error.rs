//! One error vocabulary for the whole server, rendered as DRF-shaped JSON for API clients or as a small HTML page
//! for browsers. Internal causes are logged with the request id and never sent.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

/// An error that ends a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The route or object does not exist (or is not the caller's).
    #[error("Not found.")]
    NotFound,
    /// The request is refused, with a reason safe to show.
    #[error("{0}")]
    Forbidden(String),
    /// The request body is larger than `MAX_REQUEST_BODY_BYTES`.
    #[error("Request body is too large (limit {limit} bytes).")]
    PayloadTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// Anything unexpected; the cause is logged, the client sees a fixed message.
    #[error("A server error occurred.")]
    Internal(String),
}

impl AppError {
    /// The HTTP status for this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Renders for the client that sent `headers` to `path`: JSON under `/api/` or when JSON is asked for, HTML else.
    pub fn render(self, path: &str, headers: &HeaderMap) -> Response {
        let wants_json = path == "/api"
            || path.starts_with("/api/")
            || headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains("application/json") && !accept.contains("text/html"));
        if wants_json {
            self.into_response()
        } else {
            self.into_html_for(headers)
        }
    }

    /// The error as a small HTML page in the language the request asks for.
    pub fn into_html_for(self, headers: &HeaderMap) -> Response {
        self.html_in(crate::core::i18n::from_headers(headers))
    }

    fn log(&self) {
        if let Self::Internal(cause) = self {
            // The span of the request carries its id.
            tracing::error!(%cause, "internal error");
        }
    }

    /// The error as a small HTML page in English.
    pub fn into_html(self) -> Response {
        self.html_in(crate::core::i18n::Lang::En)
    }

    fn html_in(self, lang: crate::core::i18n::Lang) -> Response {
        use crate::core::i18n::translate;
        self.log();
        let status = self.status();
        let title = escape_html(&translate(lang, status.canonical_reason().unwrap_or("Error")));
        let message = escape_html(&translate(lang, &self.to_string()));
        let back = lang.t("Back to ThiCode", "Retour à ThiCode");
        let code = lang.code();
        let page = format!(
            "<!DOCTYPE html><html lang=\"{code}\"><head><meta charset=\"utf-8\"><title>{title} · ThiCode</title>\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\
             <body><main><h1>{title}</h1><p>{message}</p><p><a href=\"/\">{back}</a></p></main></body></html>"
        );
        // No scripts on these pages: the strict policy, not the page policy the middleware gives rendered pages.
        (
            status,
            [(header::CONTENT_SECURITY_POLICY, crate::core::security::STRICT_CSP)],
            Html(page),
        )
            .into_response()
    }
}

impl IntoResponse for AppError {
    /// DRF's shape: `{"detail": "…"}`.
    fn into_response(self) -> Response {
        self.log();
        (self.status(), axum::Json(json!({ "detail": self.to_string() }))).into_response()
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
