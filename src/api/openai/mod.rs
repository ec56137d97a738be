//! The OpenAI-compatible API under `/v1/` (issue #30): `GET /v1/models`, `POST /v1/chat/completions` (whole or
//! streamed) and `POST /v1/embeddings`, so that any OpenAI or Mistral SDK, editor or agent can use ThiCode with a
//! personal API token as its key. Calls count against the account's quotas and go into the usage ledger (source
//! `v1`); they are not stored unless the client asks. Server only.
//!
//! Authentication is the `Authorization: Bearer <personal token>` header alone: the session cookie is removed before
//! the session layer sees the request (`api::auth::authenticate_token`), so a browser's cookies or saved credentials
//! can never make a call, and cross-site requests need no CSRF check. Errors have OpenAI's shape,
//! `{"error": {"message", "type", "param", "code"}}`, with the status its SDKs map to their exceptions.

mod completions;
pub mod translate;

use axum::Json;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde::Serialize;
use serde_json::{Value, json};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::service::User;
use crate::admin::instance::OpenAiApi;
use crate::core::error::AppError;
use crate::state::AppState;

/// Where the API lives.
pub const PREFIX: &str = "/v1/";
/// The completions route, whose JSON body may carry images inline (up to [`MAX_BODY_BYTES`], not
/// `MAX_REQUEST_BODY_BYTES`).
pub const COMPLETIONS_PATH: &str = "/v1/chat/completions";
/// The embeddings route, whose body may hold 512 long texts.
pub const EMBEDDINGS_PATH: &str = "/v1/embeddings";
/// The largest body a `/v1/` call may send: eight photos inline as base64 with their conversation.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A body read whole, or OpenAI's 413 when it is larger than [`MAX_BODY_BYTES`] (or `MAX_UPLOAD_BYTES`).
pub async fn read_body(body: axum::body::Body) -> Result<axum::body::Bytes, OpenAiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        OpenAiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            Some("request_too_large"),
            format!(
                "The request body is larger than this instance takes ({} MiB at most).",
                MAX_BODY_BYTES / (1024 * 1024)
            ),
        )
    })
}

/// An error as OpenAI's SDKs read it.
#[derive(Debug, Clone)]
pub struct OpenAiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What is wrong, in English.
    pub message: String,
    /// `invalid_request_error`, `authentication_error`, `permission_error`, `not_found_error`, `insufficient_quota`,
    /// `requests`, `server_error` …
    pub kind: &'static str,
    /// The field at fault, when one is.
    pub param: Option<String>,
    /// A stable code (`invalid_api_key`, `model_not_found`, `rate_limit_exceeded` …).
    pub code: Option<&'static str>,
    /// Seconds to wait before trying again (429, 503).
    pub retry_after: Option<u64>,
    /// Whether the SDKs should retry by themselves (`x-should-retry`): not for a quota that resets in hours.
    pub should_retry: Option<bool>,
}

impl OpenAiError {
    pub(crate) fn new(status: StatusCode, kind: &'static str, code: Option<&'static str>, message: String) -> Self {
        Self {
            status,
            message,
            kind,
            param: None,
            code,
            retry_after: None,
            should_retry: None,
        }
    }

    /// 400 about `param` (or the body as a whole).
    pub fn invalid(param: Option<String>, message: String) -> Self {
        Self {
            param,
            ..Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", None, message)
        }
    }

    /// 401.
    fn unauthenticated(message: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            Some("invalid_api_key"),
            message.to_string(),
        )
    }

    /// 404 for a model the API does not offer at all.
    pub fn unknown_model(model: &str) -> Self {
        Self {
            param: Some("model".into()),
            ..Self::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                Some("model_not_found"),
                format!("The model `{model}` does not exist or you do not have access to it."),
            )
        }
    }

    /// 403 for a model the provider has but staff keep out of this API.
    pub fn model_not_allowed(model: &str) -> Self {
        Self {
            param: Some("model".into()),
            ..Self::new(
                StatusCode::FORBIDDEN,
                "permission_error",
                Some("model_not_allowed"),
                format!("The model `{model}` is not offered by this instance's OpenAI-compatible API."),
            )
        }
    }

    /// 429 for the per-minute rate.
    pub fn throttled(seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "requests",
                Some("rate_limit_exceeded"),
                format!("Rate limit reached for requests: try again in {} s.", seconds.max(1)),
            )
        }
    }

    /// 500, with the cause logged (never sent).
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "v1 API: internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            None,
            "The server had an error while processing your request.".into(),
        )
    }

    /// The JSON body: `{"error": {message, type, param, code}}`.
    pub fn body(&self) -> Value {
        json!({"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}})
    }
}

impl From<AppError> for OpenAiError {
    fn from(error: AppError) -> Self {
        use crate::core::i18n::Lang;
        match error {
            AppError::Invalid(form) => {
                let fields = form.in_lang(Lang::En);
                let (param, message) = fields
                    .into_iter()
                    .next()
                    .map(|(field, messages)| (Some(field), messages.join(" ")))
                    .unwrap_or((None, "Invalid request.".into()));
                Self::invalid(param, message)
            }
            AppError::BadRequest(text) => Self::invalid(None, text.english().to_string()),
            AppError::OverQuota { message, retry_after } => Self {
                retry_after: Some(retry_after),
                // The SDKs retry a 429 within seconds; a quota resets in hours (a reply of the account's still
                // running: within seconds, worth retrying).
                should_retry: Some(retry_after <= 10),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "insufficient_quota",
                    Some("insufficient_quota"),
                    message.english().to_string(),
                )
            },
            AppError::Throttled(seconds) => Self::throttled(seconds),
            AppError::PayloadTooLarge(bytes) => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                Some("request_too_large"),
                format!("The request body is larger than {bytes} bytes."),
            ),
            AppError::Provider { retryable, message } => Self::new(
                if retryable {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::BAD_GATEWAY
                },
                "server_error",
                Some("provider_error"),
                message.english().to_string(),
            ),
            AppError::Unauthenticated => Self::unauthenticated("Invalid API key."),
            AppError::NotFound => Self::new(StatusCode::NOT_FOUND, "not_found_error", None, "Not found.".into()),
            other => Self::internal(format!("{other:?}")),
        }
    }
}

impl From<sqlx::Error> for OpenAiError {
    fn from(error: sqlx::Error) -> Self {
        Self::internal(error)
    }
}

impl From<crate::chat::provider::ProviderError> for OpenAiError {
    /// The provider's failure, in the terms of this API: its rate limit is a 429 (with its wait), a refused request
    /// a 400 with the provider's reason, an unknown model a 404; the rest is the provider being down (503) or
    /// answering nonsense (502).
    fn from(failure: crate::chat::provider::ProviderError) -> Self {
        use crate::chat::provider::ProviderError as P;
        let message = failure.text().english().to_string();
        match &failure {
            P::RateLimited { retry_after } => Self {
                retry_after: Some(retry_after.unwrap_or(5)),
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "requests",
                    Some("rate_limit_exceeded"),
                    message,
                )
            },
            P::Rejected(_) => Self::invalid(None, message),
            P::UnknownModel(model) => Self::unknown_model(model),
            P::Forbidden(model) => Self::model_not_allowed(model),
            P::Unavailable(_) | P::Timeout(_) => Self {
                retry_after: Some(5),
                ..Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "server_error",
                    Some(failure.code()),
                    message,
                )
            },
            P::InvalidKey | P::CutOff | P::Malformed => {
                Self::new(StatusCode::BAD_GATEWAY, "server_error", Some(failure.code()), message)
            }
        }
    }
}

impl IntoResponse for OpenAiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(retry) = self.should_retry {
            headers.insert(
                "x-should-retry",
                HeaderValue::from_static(if retry { "true" } else { "false" }),
            );
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The caller: the owner of a valid personal token (either scope), when the API is on.
pub struct V1User {
    /// The token's owner.
    pub user: User,
    /// The API's setting, read once for the call.
    pub setting: OpenAiApi,
}

impl FromRequestParts<AppState> for V1User {
    type Rejection = OpenAiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, OpenAiError> {
        use crate::accounts::api_tokens::{self, Rejected};
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(OpenAiError::unauthenticated(
                "You didn't provide an API key: send `Authorization: Bearer <key>` with a personal API token \
                 (Settings → API tokens).",
            ));
        };
        let mut words = value.to_str().unwrap_or_default().split_whitespace();
        let (scheme, key) = (words.next().unwrap_or_default(), words.next());
        let key = match key {
            // `Token <key>`, as the REST API takes it, too.
            Some(key)
                if (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token"))
                    && words.next().is_none() =>
            {
                key
            }
            _ => {
                return Err(OpenAiError::unauthenticated(
                    "Invalid authorization header: send `Authorization: Bearer <key>`.",
                ));
            }
        };
        // The key and the API's setting are read side by side (neither needs the other).
        let pool = &state.db.pool;
        let (found, setting) = tokio::join!(
            api_tokens::authenticate(pool, key),
            crate::admin::instance::openai_api(pool)
        );
        let user = match found? {
            Ok((user, _)) => user,
            Err(Rejected::Expired) => return Err(OpenAiError::unauthenticated("This API key has expired.")),
            Err(Rejected::Inactive) => {
                return Err(OpenAiError::unauthenticated("The account of this API key is disabled."));
            }
            Err(Rejected::Invalid) => return Err(OpenAiError::unauthenticated("Incorrect API key provided.")),
        };
        let setting = setting?;
        if !setting.enabled {
            return Err(OpenAiError::new(
                StatusCode::FORBIDDEN,
                "permission_error",
                Some("api_disabled"),
                "The OpenAI-compatible API is turned off on this instance.".into(),
            ));
        }
        Ok(Self { user, setting })
    }
}

/// A model as `/v1/models` lists it: OpenAI's four fields, and what ThiCode knows of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenAiModel {
    /// The id to send as `model`.
    #[schema(example = "mistral-small-latest")]
    pub id: String,
    /// Always `model`.
    pub object: &'static str,
    /// Epoch seconds (the provider does not say: the time the list was made).
    pub created: i64,
    /// Always `thicode`.
    pub owned_by: &'static str,
    /// `chat` or `embeddings`.
    pub kind: &'static str,
    /// Whether it reads images.
    pub vision: bool,
    /// Whether it calls functions (`null`: the provider does not say).
    pub function_calling: Option<bool>,
    /// Context window in tokens, when known.
    pub max_context_length: Option<u64>,
}

/// `{object: "list", data: [...]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OpenAiModelList {
    /// Always `list`.
    pub object: &'static str,
    /// The models this caller may use.
    pub data: Vec<OpenAiModel>,
}

/// The models the API offers now: the provider's chat models and the embeddings model, as staff allow.
async fn offered(state: &AppState, setting: &OpenAiApi) -> Vec<OpenAiModel> {
    let created = crate::core::db::now_millis() / 1000;
    let provider = &state.chat.provider;
    let mut list: Vec<OpenAiModel> = provider
        .models()
        .await
        .into_iter()
        .map(|m| OpenAiModel {
            id: m.id,
            object: "model",
            created,
            owned_by: "thicode",
            kind: "chat",
            vision: m.vision,
            function_calling: m.function_calling,
            max_context_length: m.max_context_length,
        })
        .collect();
    if let Some(model) = provider.embedding_model() {
        list.push(OpenAiModel {
            id: model.to_string(),
            object: "model",
            created,
            owned_by: "thicode",
            kind: "embeddings",
            vision: false,
            function_calling: Some(false),
            max_context_length: None,
        });
    }
    list.retain(|m| setting.allows(&m.id));
    list
}

/// The model `id` of `kind` if this caller may use it: 404 when the API offers no such model, 403 when staff keep
/// it out.
async fn model_for(state: &AppState, setting: &OpenAiApi, id: &str, kind: &str) -> Result<OpenAiModel, OpenAiError> {
    let all = offered(state, &OpenAiApi::default()).await;
    let Some(found) = all.into_iter().find(|m| m.id == id && m.kind == kind) else {
        return Err(OpenAiError::unknown_model(id));
    };
    if !setting.allows(id) {
        return Err(OpenAiError::model_not_allowed(id));
    }
    Ok(found)
}

/// The models this caller may use.
#[utoipa::path(get, path = "/v1/models", tag = "openai", security(("bearer" = [])),
    responses((status = 200, body = OpenAiModelList, description = "OpenAI's list shape, with ThiCode's capability flags"),
        (status = 401, body = schema::OpenAiErrorOut, description = "No key, or not a valid personal token"),
        (status = 403, body = schema::OpenAiErrorOut, description = "The API is turned off")))]
async fn models(State(state): State<AppState>, caller: V1User) -> Json<OpenAiModelList> {
    Json(OpenAiModelList {
        object: "list",
        data: offered(&state, &caller.setting).await,
    })
}

/// One model of the list.
#[utoipa::path(get, path = "/v1/models/{model}", tag = "openai", security(("bearer" = [])),
    params(("model" = String, Path, description = "Model id")),
    responses((status = 200, body = OpenAiModel), (status = 404, body = schema::OpenAiErrorOut, description = "Not offered"),
        (status = 403, body = schema::OpenAiErrorOut, description = "The API is turned off"),
        (status = 401, body = schema::OpenAiErrorOut, description = "No key, or not a valid personal token")))]
async fn model(
    State(state): State<AppState>,
    caller: V1User,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<OpenAiModel>, OpenAiError> {
    offered(&state, &caller.setting)
        .await
        .into_iter()
        .find(|m| m.id == id)
        .map(Json)
        .ok_or_else(|| OpenAiError::unknown_model(&id))
}

/// Shapes of the OpenAPI document.
pub mod schema {
    use serde::Serialize;
    use utoipa::ToSchema;

    /// A whole chat completion (`object: chat.completion`).
    #[derive(Serialize, ToSchema)]
    pub struct ChatCompletionOut {
        /// `chatcmpl-…`.
        pub id: String,
        /// `chat.completion`.
        pub object: String,
        /// Epoch seconds.
        pub created: i64,
        /// The model that answered.
        pub model: String,
        /// One choice: `{index: 0, message: {role: assistant, content, tool_calls?}, finish_reason}`.
        #[schema(value_type = Vec<Object>)]
        pub choices: Vec<serde_json::Value>,
        /// Token counts.
        pub usage: OpenAiUsage,
    }

    /// Token counts, as the provider gave them (or estimated, about four characters a token, when it did not).
    #[derive(Serialize, ToSchema)]
    pub struct OpenAiUsage {
        /// Tokens of the prompt.
        pub prompt_tokens: u64,
        /// Tokens of the reply (0 for embeddings).
        #[serde(default)]
        pub completion_tokens: Option<u64>,
        /// Both.
        pub total_tokens: u64,
    }

    /// Embeddings (`object: list`).
    #[derive(Serialize, ToSchema)]
    pub struct EmbeddingsOut {
        /// `list`.
        pub object: String,
        /// `{object: embedding, index, embedding}`: a list of numbers, or a base64 string of little-endian 32-bit
        /// floats when `encoding_format` is `base64`.
        #[schema(value_type = Vec<Object>)]
        pub data: Vec<serde_json::Value>,
        /// The embeddings model.
        pub model: String,
        /// Tokens read.
        pub usage: OpenAiUsage,
    }

    /// `{"error": {...}}`.
    #[derive(Serialize, ToSchema)]
    pub struct OpenAiErrorOut {
        /// What went wrong.
        pub error: OpenAiErrorDetail,
    }

    /// OpenAI's error object.
    #[derive(Serialize, ToSchema)]
    pub struct OpenAiErrorDetail {
        /// In English.
        pub message: String,
        /// `invalid_request_error`, `permission_error`, `insufficient_quota`, `requests`, `server_error` …
        #[serde(rename = "type")]
        pub kind: String,
        /// The field at fault.
        pub param: Option<String>,
        /// `invalid_api_key`, `model_not_found`, `model_not_allowed`, `insufficient_quota`, `rate_limit_exceeded` …
        pub code: Option<String>,
    }
}

/// `POST /v1/embeddings` body: OpenAI's, of which `model` and `input` are read (`encoding_format` decides the
/// answer's encoding; `dimensions` and `user`, which Mistral refuses, are not sent on).
#[derive(serde::Deserialize, ToSchema)]
struct EmbeddingsBody {
    /// The embeddings model (`EMBEDDING_MODEL`).
    #[serde(default)]
    model: Option<Value>,
    /// A string, or a list of 1 to 512 strings.
    #[serde(default)]
    #[schema(value_type = Object)]
    input: Option<Value>,
    /// `float` (the default) or `base64` (little-endian 32-bit floats, as the SDKs ask by default).
    #[serde(default)]
    encoding_format: Option<String>,
}

/// Most inputs in one embeddings call (Mistral's limit).
const MAX_EMBEDDING_INPUTS: usize = 512;

/// Embeddings of the inputs, from the provider's embeddings model.
#[utoipa::path(post, path = "/v1/embeddings", tag = "openai", security(("bearer" = [])), request_body = EmbeddingsBody,
    responses((status = 200, body = schema::EmbeddingsOut),
        (status = 401, body = schema::OpenAiErrorOut, description = "No key, or not a valid personal token"),
        (status = 403, body = schema::OpenAiErrorOut, description = "The API is off, or the model is not offered"),
        (status = 502, body = schema::OpenAiErrorOut, description = "The provider did not return the embeddings"),
        (status = 400, body = schema::OpenAiErrorOut, description = "Bad input"),
        (status = 404, body = schema::OpenAiErrorOut, description = "No such embeddings model"),
        (status = 429, body = schema::OpenAiErrorOut, description = "A quota or the rate is reached (`Retry-After`)")))]
async fn embeddings(
    State(state): State<AppState>,
    caller: V1User,
    body: axum::body::Body,
) -> Result<Response, OpenAiError> {
    use base64::Engine;
    let body = read_body(body).await?;
    let body: EmbeddingsBody = serde_json::from_slice(&body)
        .map_err(|e| OpenAiError::invalid(None, format!("We could not parse the JSON body of your request: {e}")))?;
    let Some(Value::String(model)) = body.model else {
        return Err(OpenAiError::invalid(
            Some("model".into()),
            "You must provide a model parameter.".into(),
        ));
    };
    let inputs: Vec<String> = match body.input {
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
            .into_iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => {
            return Err(OpenAiError::invalid(
                Some("input".into()),
                "`input` must be a string or a list of strings (token arrays are not supported).".into(),
            ));
        }
    };
    if inputs.is_empty() || inputs.len() > MAX_EMBEDDING_INPUTS || inputs.iter().any(|i| i.is_empty()) {
        return Err(OpenAiError::invalid(
            Some("input".into()),
            format!("`input` must hold 1 to {MAX_EMBEDDING_INPUTS} non-empty strings."),
        ));
    }
    let base64 = match body.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(_) => {
            return Err(OpenAiError::invalid(
                Some("encoding_format".into()),
                "`encoding_format` must be `float` or `base64`.".into(),
            ));
        }
    };
    model_for(&state, &caller.setting, &model, "embeddings").await?;
    let user = &caller.user;
    state.api_limits.ask(user.id).map_err(OpenAiError::throttled)?;
    let chars: usize = inputs.iter().map(|i| i.chars().count()).sum();
    let tokens = crate::chat::quota::estimate_tokens(chars);
    let ledger = crate::chat::quota::begin_unstored(&state.db.pool, user.id, &model, tokens, "v1").await?;
    // The call and its bookkeeping run as a task of their own: a client that hangs up does not leave the ledger's row
    // open (which, under a token limit, would hold the account's other replies back).
    let task_state = state.clone();
    let vectors = tokio::spawn(async move {
        let vectors = task_state.chat.provider.embed(&inputs).await;
        let status = if vectors.is_some() { "delivered" } else { "error" };
        let pool = &task_state.db.pool;
        if let Err(e) = crate::chat::quota::end_unstored(pool, ledger, status, tokens, 0, None).await {
            tracing::error!(error = %e, "v1 embeddings: usage not recorded");
        }
        vectors
    })
    .await
    .map_err(OpenAiError::internal)?;
    let Some(vectors) = vectors else {
        return Err(OpenAiError::new(
            StatusCode::BAD_GATEWAY,
            "server_error",
            Some("provider_error"),
            "The AI provider did not return the embeddings.".into(),
        ));
    };
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(index, vector)| {
            let embedding = if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|f| f.to_le_bytes()).collect();
                json!(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    Ok(Json(json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
    .into_response())
}

/// Any other path or method under `/v1/`: OpenAI's 404 (or 405), not a web page.
async fn not_found(method: Method, uri: axum::http::Uri) -> OpenAiError {
    OpenAiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        Some("unknown_url"),
        format!("Unrecognized request URL ({method} {}).", uri.path()),
    )
}

/// A known path with the wrong method: OpenAI's error shape, keeping `Allow`.
async fn method_not_allowed(req: Request, next: Next) -> Response {
    crate::api::with_405_body(req, next, |method| {
        OpenAiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            Some("method_not_allowed"),
            format!("Method {method} is not allowed here."),
        )
        .into_response()
    })
    .await
}

/// The documented routes.
pub fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(models))
        .routes(routes!(model))
        .routes(routes!(completions::completions))
        .routes(routes!(embeddings))
}

/// The routes' router with its own layers: OpenAI's 404/405 bodies, and CORS open to every origin without
/// credentials (a key is sent by the script that holds it; no cookie is ever read here).
pub fn layered(router: axum::Router<AppState>) -> axum::Router<AppState> {
    router
        .route("/v1/{*rest}", any(not_found))
        .route("/v1", any(not_found))
        .layer(middleware::from_fn(method_not_allowed))
        // The handlers read their bodies themselves, up to `MAX_BODY_BYTES`, with OpenAI's 413.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::any())
                .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
                .allow_headers(AllowHeaders::any())
                .expose_headers([header::RETRY_AFTER, header::HeaderName::from_static("x-request-id")])
                .max_age(std::time::Duration::from_secs(86_400)),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_openai_shape_and_headers() {
        let e = OpenAiError::from(AppError::OverQuota {
            message: crate::core::i18n::Text::new(|_| "Daily limit reached.".to_string()),
            retry_after: 3600,
        });
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            e.body(),
            json!({"error": {"message": "Daily limit reached.", "type": "insufficient_quota", "param": null,
                   "code": "insufficient_quota"}})
        );
        let response = e.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "3600");
        assert_eq!(response.headers()["x-should-retry"], "false");
        let e = OpenAiError::from(crate::chat::provider::ProviderError::Rejected("too long".into()));
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }
}
