//! The one error vocabulary of ThiCode: every service, server function, route and API handler answers [`AppError`]
//! when it does not succeed. It says *what* went wrong; how that reaches the client is decided here, once:
//! - as the error of a server function (both targets compile the type; the server gives a script's call the HTTP
//!   status of [`AppError::status_code`] and the page's language, in [`FromServerFnError::ser`]);
//! - as a small HTML page in the request's language ([`AppError::into_html_for`]);
//! - as DRF-shaped JSON for `/api/` ([`AppError::json_body`], the `IntoResponse` impl).
//!
//! Internal causes (a database error, a failed task) are logged with the request's id where they are converted
//! ([`AppError::internal`], `From<sqlx::Error>`) and never sent: the client gets a fixed message.

use std::collections::BTreeMap;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::core::i18n::{Lang, Text};
use crate::tr;

/// Key of errors that belong to the whole form rather than one field (Django's `__all__`).
pub const NON_FIELD: &str = "__all__";

/// DRF's message for a request without credentials to a protected route.
pub const NOT_AUTHENTICATED: &str = "Authentication credentials were not provided.";

/// Field-level problems of a form, and the non-secret values to show again next to them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormErrors {
    /// Messages per field name (`__all__` for the whole form).
    pub fields: BTreeMap<String, Vec<Text>>,
    /// What the user typed, except passwords, so the form keeps it.
    pub values: BTreeMap<String, String>,
}

impl FormErrors {
    /// Adds a message to `field`.
    pub fn add(&mut self, field: &str, message: Text) {
        self.fields.entry(field.to_string()).or_default().push(message);
    }

    /// The messages in `lang`, field by field: DRF's `{"field": ["message"]}`.
    pub fn in_lang(&self, lang: Lang) -> BTreeMap<String, Vec<String>> {
        self.fields
            .iter()
            .map(|(field, messages)| {
                (
                    field.clone(),
                    messages.iter().map(|m| m.get(lang).to_string()).collect(),
                )
            })
            .collect()
    }

    /// The messages of `field` in `lang`.
    pub fn of(&self, field: &str, lang: Lang) -> Vec<String> {
        self.fields
            .get(field)
            .map(|messages| messages.iter().map(|m| m.get(lang).to_string()).collect())
            .unwrap_or_default()
    }

    /// Remembers a value to show again.
    pub fn keep(&mut self, field: &str, value: &str) {
        self.values.insert(field.to_string(), value.to_string());
    }

    /// Whether any message was added.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// Why a request is refused although it is well-formed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The user may not do this (a staff page for someone who is not staff).
    Permission,
    /// The page needs a logged-in user and is not one that sends visitors to log in (a download, an event stream).
    LoginRequired,
    /// The request failed the cross-site request forgery check; the reason is Django's wording.
    Csrf(String),
}

/// What a request can end with instead of success. Never carries internal details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    /// The form or body has problems, listed per field.
    Invalid(FormErrors),
    /// The request itself is malformed, not one field of it (the detail says how).
    BadRequest(Text),
    /// The action needs a logged-in user.
    Unauthenticated,
    /// The request is refused.
    Forbidden(Refusal),
    /// No such object for this user, or no such route.
    NotFound,
    /// A reply is already being generated in this conversation.
    Busy,
    /// The request body is larger than this many bytes.
    PayloadTooLarge(usize),
    /// Too many attempts; the client may try again after this many seconds.
    Throttled(u64),
    /// The server has too much of this work in hand (password hashing); try again after this many seconds.
    Overloaded(u64),
    /// The workers that read uploads are all busy; try again after this many seconds.
    FilesBusy(u64),
    /// A usage limit of the account is reached: what and until when (`message`), and the seconds until it resets.
    OverQuota {
        /// Which limit, and when it resets.
        message: Text,
        /// Seconds until the limit resets.
        retry_after: u64,
    },
    /// The AI provider failed; `retryable` when it is down or busy rather than refusing the request.
    Provider {
        /// Whether trying again later may work (503) or not (502).
        retryable: bool,
        /// What the provider's failure means.
        message: Text,
    },
    /// Something failed on our side; the cause is in the server log.
    Internal,
}

impl AppError {
    /// A field error.
    pub fn invalid(field: &str, message: Text) -> Self {
        let mut errors = FormErrors::default();
        errors.add(field, message);
        Self::Invalid(errors)
    }

    /// The HTTP status of this error: the one table of ThiCode.
    pub fn status_code(&self) -> u16 {
        match self {
            Self::Invalid(_) | Self::BadRequest(_) => 400,
            Self::Unauthenticated => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound => 404,
            Self::Busy => 409,
            Self::PayloadTooLarge(_) => 413,
            Self::Throttled(_) | Self::OverQuota { .. } => 429,
            Self::Internal => 500,
            Self::Provider { retryable: false, .. } => 502,
            Self::Provider { retryable: true, .. } | Self::Overloaded(_) | Self::FilesBusy(_) => 503,
        }
    }

    /// The seconds a client should wait before trying again (`Retry-After`), for the errors that say so.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Throttled(seconds)
            | Self::Overloaded(seconds)
            | Self::FilesBusy(seconds)
            | Self::OverQuota {
                retry_after: seconds, ..
            } => Some((*seconds).max(1)),
            _ => None,
        }
    }

    /// The form problems, if that is what this is.
    pub fn form(&self) -> Option<&FormErrors> {
        match self {
            Self::Invalid(errors) => Some(errors),
            _ => None,
        }
    }

    /// The message for a person, in `lang`, by variant. A form error says its first problem, for places that show a
    /// single line.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Self::Invalid(errors) => match errors.fields.values().flatten().next() {
                Some(first) => first.get(lang).to_string(),
                None => tr!(lang, core.error.invalid).to_string(),
            },
            Self::BadRequest(detail) => tr!(lang, core.error.bad_request, detail = detail.get(lang)).to_string(),
            Self::Unauthenticated | Self::Forbidden(Refusal::LoginRequired) => {
                tr!(lang, core.error.unauthenticated).to_string()
            }
            Self::Forbidden(Refusal::Permission) => tr!(lang, core.error.forbidden).to_string(),
            Self::Forbidden(Refusal::Csrf(reason)) => tr!(lang, core.error.csrf, reason = reason).to_string(),
            Self::NotFound => tr!(lang, core.error.not_found).to_string(),
            Self::Busy => tr!(lang, core.error.busy).to_string(),
            Self::PayloadTooLarge(limit) => tr!(lang, core.error.payload_too_large, limit = limit).to_string(),
            Self::Throttled(seconds) if *seconds >= 120 => {
                tr!(lang, core.error.throttled_minutes, minutes = seconds.div_ceil(60)).to_string()
            }
            Self::Throttled(seconds) => tr!(lang, core.error.throttled_seconds, seconds = seconds).to_string(),
            Self::Overloaded(seconds) => tr!(lang, core.error.overloaded, seconds = seconds).to_string(),
            Self::FilesBusy(seconds) => tr!(lang, core.error.files_busy, seconds = seconds).to_string(),
            Self::Provider { message, .. } | Self::OverQuota { message, .. } => message.get(lang).to_string(),
            Self::Internal => tr!(lang, core.error.internal).to_string(),
        }
    }

    /// The title of the HTML error page: the status' name.
    #[cfg_attr(not(feature = "ssr"), allow(dead_code))]
    fn title(&self, lang: Lang) -> &'static str {
        match self.status_code() {
            400 => tr!(lang, core.error.title.bad_request),
            401 => tr!(lang, core.error.title.unauthenticated),
            403 => tr!(lang, core.error.title.forbidden),
            404 => tr!(lang, core.error.title.not_found),
            409 => tr!(lang, core.error.title.conflict),
            413 => tr!(lang, core.error.title.payload_too_large),
            429 => tr!(lang, core.error.title.throttled),
            503 if matches!(self, Self::Overloaded(_) | Self::FilesBusy(_)) => tr!(lang, core.error.title.unavailable),
            502 | 503 => tr!(lang, core.error.title.provider),
            _ => tr!(lang, core.error.title.internal),
        }
    }
}

impl std::fmt::Display for AppError {
    /// The English message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        // Arguments that could not be decoded are the caller's mistake (400, the field named); transport problems are
        // nothing the user can fix.
        match crate::core::arguments::argument_error(&error) {
            Some(e) => match e.field {
                Some(field) => Self::invalid(&field, e.message),
                None => Self::BadRequest(e.message),
            },
            None => Self::Internal,
        }
    }

    /// The error as a server function sends it: on the server, with the status for a script's call (a plain form
    /// post keeps Leptos' redirect back to the form). Its texts are written in the page's language.
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        crate::core::server_fn::set_script_status(self.status(), self.retry_after());
        <JsonEncoding as leptos::server_fn::Encodes<Self>>::encode(self)
            .unwrap_or_else(|_| leptos::server_fn::Bytes::from_static(b"\"Internal\""))
    }
}

/// Escapes text for HTML content and attribute values.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(feature = "ssr")]
mod server {
    //! The server's renderings: status, log line, HTML page, DRF JSON.

    use axum::http::{HeaderMap, StatusCode, header};
    use axum::response::{Html, IntoResponse, Response};
    use serde_json::{Value, json};

    use super::{AppError, NOT_AUTHENTICATED, Refusal};
    use crate::core::i18n::Lang;
    use crate::tr;

    impl AppError {
        /// A failure on our side: `cause` is logged (the request's span carries its id), the client gets a fixed
        /// message.
        pub fn internal(what: &str, cause: impl std::fmt::Display) -> Self {
            tracing::error!(%cause, "{what} failed");
            Self::Internal
        }

        /// The HTTP status.
        pub fn status(&self) -> StatusCode {
            StatusCode::from_u16(self.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        }

        /// The body DRF would send (the original backend's `{"error"}` for a provider failure), in English: the
        /// REST API's contract.
        pub fn json_body(&self) -> Value {
            match self {
                Self::Invalid(form) => json!(form.in_lang(Lang::En)),
                Self::Unauthenticated | Self::Forbidden(Refusal::LoginRequired) => {
                    json!({ "detail": NOT_AUTHENTICATED })
                }
                Self::Forbidden(Refusal::Permission) => {
                    json!({ "detail": "You do not have permission to perform this action." })
                }
                Self::Internal => json!({ "detail": "A server error occurred." }),
                Self::Provider { message, .. } => json!({ "error": message.english() }),
                other => json!({ "detail": other.to_string() }),
            }
        }

        /// Renders for the client that sent `headers` to `path`: JSON under `/api/` or when JSON is asked for, HTML
        /// else.
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

        /// The error as a small HTML page in English.
        pub fn into_html(self) -> Response {
            self.html_in(Lang::En)
        }

        fn html_in(self, lang: Lang) -> Response {
            use super::escape_html;
            let title = escape_html(self.title(lang));
            let message = escape_html(&self.message(lang));
            let back = tr!(lang, core.error.back_home);
            let code = lang.code();
            let page = format!(
                "<!DOCTYPE html><html lang=\"{code}\"><head><meta charset=\"utf-8\"><title>{title} · ThiCode</title>\
                 <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\
                 <body><main><h1>{title}</h1><p>{message}</p><p><a href=\"/\">{back}</a></p></main></body></html>"
            );
            // No scripts on these pages: the strict policy, not the page policy the middleware gives rendered pages.
            (
                self.status(),
                [(header::CONTENT_SECURITY_POLICY, crate::core::security::STRICT_CSP)],
                Html(page),
            )
                .into_response()
        }
    }

    impl IntoResponse for AppError {
        /// DRF's shapes, with `Retry-After` when throttled.
        fn into_response(self) -> Response {
            let mut response = (self.status(), axum::Json(self.json_body())).into_response();
            if let Some(seconds) = self.retry_after() {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
            }
            response
        }
    }

    impl From<sqlx::Error> for AppError {
        fn from(cause: sqlx::Error) -> Self {
            Self::internal("database query", cause)
        }
    }

    impl From<tokio::task::JoinError> for AppError {
        fn from(cause: tokio::task::JoinError) -> Self {
            Self::internal("background task", cause)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_a_status_and_a_message_in_both_languages() {
        let all = [
            AppError::invalid("title", crate::text!(chat.limit.title_blank)),
            AppError::BadRequest(crate::text!(core.field.wrong_type)),
            AppError::Unauthenticated,
            AppError::Forbidden(Refusal::Permission),
            AppError::Forbidden(Refusal::LoginRequired),
            AppError::Forbidden(Refusal::Csrf("Origin checking failed.".into())),
            AppError::NotFound,
            AppError::Busy,
            AppError::PayloadTooLarge(10),
            AppError::Throttled(900),
            AppError::Overloaded(1),
            AppError::FilesBusy(5),
            AppError::Provider {
                retryable: true,
                message: crate::text!(chat.provider.cut_off),
            },
            AppError::Internal,
        ];
        assert_eq!(AppError::FilesBusy(5).status_code(), 503);
        assert_eq!(AppError::FilesBusy(5).retry_after(), Some(5));
        assert!(AppError::FilesBusy(5).message(Lang::En).contains("reading other files"));
        for error in all {
            assert!((400..600).contains(&error.status_code()), "{error:?}");
            assert!(!error.message(Lang::En).is_empty());
            assert!(!error.message(Lang::Fr).is_empty());
        }
    }

    #[test]
    fn form_messages_render_in_the_language_asked_for() {
        let mut form = FormErrors::default();
        form.add("username", crate::text!(core.field.too_long_has, max = 150, len = 151));
        let error = AppError::Invalid(form.clone());
        assert_eq!(
            error.message(Lang::Fr),
            "Assurez-vous que ce champ ne comporte pas plus de 150 caractères (actuellement 151)."
        );
        assert_eq!(
            form.of("username", Lang::En),
            ["Ensure this field has no more than 150 characters (it has 151)."]
        );
        assert!(form.of("email", Lang::En).is_empty());
        #[cfg(feature = "ssr")]
        assert_eq!(
            error.json_body(),
            serde_json::json!({"username": ["Ensure this field has no more than 150 characters (it has 151)."]})
        );
    }

    #[test]
    fn waits_read_in_seconds_then_minutes() {
        assert_eq!(
            AppError::Throttled(7).to_string(),
            "Too many attempts. Try again in 7 s."
        );
        assert_eq!(
            AppError::Throttled(899).to_string(),
            "Too many attempts. Try again in 15 minutes."
        );
    }
}
