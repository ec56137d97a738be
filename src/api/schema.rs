//! The JSON shapes of the API as Rust types: handlers serialise these, and the OpenAPI document (`/api/openapi.json`)
//! is generated from the same types, so the two cannot drift apart. The shapes are the original backend's
//! (../shared/API.md) with the fields ThiCode adds.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoResponses, ToSchema};

use crate::accounts::service::User;
// The one JSON rendering of conversations and messages, shared with the exports.
pub use crate::chat::json::{ConversationOut, MessageOut};
use crate::core::time::iso;

fn json_or(text: &str, fallback: Value) -> Value {
    serde_json::from_str(text).unwrap_or(fallback)
}

/// An account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    /// Primary key.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Email address.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Free text (≤ 500 characters).
    pub bio: String,
    /// RFC 3339.
    pub date_joined: String,
    /// RFC 3339.
    pub date_modified: String,
    /// `ai_model`, `display_mode` (system | light | dark), `language` (en | fr), and any keys clients store.
    #[schema(value_type = Object)]
    pub preferences: Value,
}

impl From<&User> for UserOut {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            username: user.username.clone(),
            email: user.email.clone(),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            bio: user.bio.clone(),
            date_joined: iso(user.date_joined),
            date_modified: iso(user.date_modified),
            preferences: json_or(&user.preferences, Value::Object(serde_json::Map::new())),
        }
    }
}

/// A page of conversations (when `page` is given).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationPage {
    /// How many conversations match.
    pub count: i64,
    /// Link to the next page.
    pub next: Option<String>,
    /// Link to the previous page.
    pub previous: Option<String>,
    /// This page.
    pub results: Vec<ConversationOut>,
}

/// `GET conversations/`: a bare array without `page` (compatibility), a page object with it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ConversationList {
    /// Without `page`.
    All(Vec<ConversationOut>),
    /// With `page`.
    Page(ConversationPage),
}

/// Answer of register and login.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthOut {
    /// The account.
    pub user: UserOut,
    /// "Registration successful" or "Login successful".
    pub message: String,
}

/// A message for the user (`{message}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageText {
    /// What happened.
    pub message: String,
}

/// DRF's error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct Detail {
    /// What went wrong.
    pub detail: String,
}

/// A refused JSON Web Token (simplejwt's shape).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenNotValid {
    /// What went wrong.
    pub detail: String,
    /// `token_not_valid`.
    pub code: String,
}

/// The original backend's `{error}` body.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorText {
    /// What went wrong.
    pub error: String,
}

/// Problems per field: `{"field": ["message", …]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

/// Problems of the limits in a body, nested as DRF nests a nested object's: `{"quota": {"field": ["message", …]}}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuotaErrors {
    /// Problems per limit.
    pub quota: BTreeMap<String, Vec<String>>,
}

/// The original register route's `{errors: {field: [..]}}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorsOut {
    /// Problems per field.
    pub errors: BTreeMap<String, Vec<String>>,
}

/// A bad reset confirmation: one sentence, and the problems per field.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResetError {
    /// Every problem in one sentence.
    pub error: String,
    /// Problems per field (`password`, `__all__`).
    pub errors: BTreeMap<String, Vec<String>>,
}

/// A 400: malformed JSON or wrong types (`{detail}`), problems per field, or one of the original backend's own
/// bodies where API.md names them (`{error}`, `{errors}`, both for a reset confirmation).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum BadRequest {
    /// The body could not be read.
    Detail(Detail),
    /// Field problems.
    Fields(FieldErrors),
    /// Problems of the limits (`{quota: {field: [..]}}`).
    Quota(QuotaErrors),
    /// `{error}`.
    Error(ErrorText),
    /// `{errors}`.
    Errors(ErrorsOut),
    /// `{error, errors}`.
    Reset(ResetError),
}

/// `GET /api/csrf/`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CsrfOut {
    /// Send it back as `X-CSRFToken` on unsafe session requests.
    #[serde(rename = "csrfToken")]
    pub csrf_token: String,
}

/// Whether a password-reset token still works.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidOut {
    /// Unused, unexpired, and the password unchanged since.
    pub valid: bool,
}

/// A message accepted for a reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentOut {
    /// The stored user message.
    pub user_message: Option<MessageOut>,
    /// `pending`.
    pub status: String,
    /// The reply being generated (poll its status or stream it).
    pub assistant_message_id: i64,
}

/// Progress of a reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusOut {
    /// `pending`, `streaming`, `completed` or `error`.
    pub status: String,
    /// The reply, once completed (or failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai_message: Option<MessageOut>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One Server-Sent Event of a reply stream: `event` names it, `data` is JSON text (`user_message` and `done`: a
/// Message; `snapshot`: `{content}`; `delta`: `{text}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct SseEvent {
    /// `user_message`, `snapshot`, `delta` or `done`.
    pub event: Option<String>,
    /// JSON text.
    pub data: Option<String>,
}

/// `ask-mistral/`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AskOut {
    /// The model's whole answer.
    pub response: String,
}

/// A personal API token (the key only once, when created).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    /// Token id.
    pub id: i64,
    /// The owner's label.
    pub name: String,
    /// The first characters of the key.
    pub prefix: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; none = never.
    pub expires_at: Option<String>,
    /// RFC 3339 (to the minute).
    pub last_used_at: Option<String>,
    /// What it may call: `all` (this REST API and the OpenAI-compatible `/v1/`) or `v1` (`/v1/` only).
    #[schema(example = "all")]
    pub scope: String,
    /// The secret key: in the answer to its creation only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl From<&crate::accounts::api_tokens::ApiToken> for TokenOut {
    fn from(t: &crate::accounts::api_tokens::ApiToken) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            prefix: t.prefix.clone(),
            created_at: iso(t.created_at),
            expires_at: t.expires_at.map(iso),
            last_used_at: t.last_used_at.map(iso),
            scope: t.scope.clone(),
            key: None,
        }
    }
}

/// Errors of every authenticated route.
#[derive(IntoResponses)]
pub enum AuthErrors {
    /// No valid credentials (`WWW-Authenticate` says which schemes work).
    #[response(status = 401)]
    Unauthorized(Detail),
    /// A session request failed the CSRF check.
    #[response(status = 403)]
    Forbidden(Detail),
}

/// Errors of every route with a JSON body.
#[derive(IntoResponses)]
pub enum BodyErrors {
    /// Malformed JSON, wrong types or missing fields.
    #[response(status = 400)]
    BadRequest(BadRequest),
    /// Sent by a browser from another site (no trusted `Origin`), or a session request without its CSRF token.
    #[response(status = 403)]
    Forbidden(Detail),
    /// The body is larger than `MAX_REQUEST_BODY_BYTES`.
    #[response(status = 413)]
    TooLarge(Detail),
    /// Not `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(Detail),
}

/// Not the caller's, or no such object.
#[derive(IntoResponses)]
#[response(status = 404)]
pub struct NotFound(pub Detail);

/// Too many requests; wait `Retry-After` seconds.
#[derive(IntoResponses)]
#[response(status = 429, headers(("Retry-After" = u64, description = "Seconds to wait")))]
pub struct Throttled(pub Detail);

/// The server is checking too many passwords at once; wait `Retry-After` seconds.
#[derive(IntoResponses)]
#[response(status = 503, headers(("Retry-After" = u64, description = "Seconds to wait")))]
pub struct Overloaded(pub Detail);

/// A reply is already being generated in this conversation.
#[derive(IntoResponses)]
#[response(status = 409)]
pub struct Conflict(pub Detail);

/// A shape as JSON bytes, written straight into a buffer of about the right size (a list of conversations is tens of
/// kilobytes; growing a small buffer step by step copied it several times).
pub fn json_bytes<T: Serialize>(value: &T, size_hint: usize) -> Result<axum::body::Bytes, crate::api::error::ApiError> {
    let mut body = Vec::with_capacity(size_hint);
    serde_json::to_writer(&mut body, value).map_err(crate::api::error::ApiError::internal)?;
    Ok(body.into())
}

/// A 200 answer with a JSON body already written.
pub fn json_body(body: axum::body::Bytes) -> axum::response::Response {
    use axum::response::IntoResponse;
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Serialises a shape (they cannot fail: plain data).
pub fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
