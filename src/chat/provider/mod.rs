//! The AI provider: a Mistral (or any OpenAI-compatible) client on reqwest, and the built-in demo provider used when
//! no API key is configured. Server only: the key never leaves this module.
//!
//! Retries (429, 5xx, connection errors; exponential backoff with jitter, honouring `Retry-After`) happen only before
//! the first token; once text has been produced a failure ends the stream and the caller keeps what it received.

use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use futures_util::Stream;
use serde::{Deserialize, Serialize};

use crate::core::config::{AiConfig, Secret};
use crate::core::error::AppError;
use crate::core::i18n::Text;
use crate::text;

mod demo;
mod tools;
mod wire;

use demo::demo_stream;
pub use demo::fit_context;
pub use tools::{ToolCall, ToolCallDelta, ToolCalls, ToolSpec, mistral_call_id, valid_function_name};
pub use wire::parse_chunk;
use wire::{ModelList, backoff, open_stream};

/// One message of the history sent to the model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WireMessage {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    /// The text (with the documents it carries, delimited, before the user's own words); a tool's result.
    pub content: String,
    /// Images as `data:` URLs: sent as `image_url` parts in the object form, which every server accepts.
    pub images: Vec<String>,
    /// The calls an assistant message made.
    pub tool_calls: Vec<ToolCall>,
    /// The call a `tool` message answers, and the function's name.
    pub tool_call: Option<(String, String)>,
}

impl Serialize for WireMessage {
    /// `{role, content: "text"}`, or with images `{role, content: [{type: text}, {type: image_url, image_url: {url}}…]}`;
    /// an assistant's calls as `tool_calls` (content `null` when it wrote nothing); a tool's result as
    /// `{role: "tool", tool_call_id, name, content}`.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("WireMessage", 4)?;
        out.serialize_field("role", &self.role)?;
        if !self.tool_calls.is_empty() && self.content.is_empty() {
            out.serialize_field("content", &None::<String>)?;
        } else if self.images.is_empty() {
            out.serialize_field("content", &self.content)?;
        } else {
            let mut parts = Vec::with_capacity(self.images.len() + 1);
            if !self.content.is_empty() {
                parts.push(serde_json::json!({"type": "text", "text": self.content}));
            }
            parts.extend(
                self.images
                    .iter()
                    .map(|url| serde_json::json!({"type": "image_url", "image_url": {"url": url}})),
            );
            out.serialize_field("content", &parts)?;
        }
        if !self.tool_calls.is_empty() {
            let calls: Vec<serde_json::Value> = self.tool_calls.iter().map(ToolCall::to_wire).collect();
            out.serialize_field("tool_calls", &calls)?;
        }
        if let Some((id, name)) = &self.tool_call {
            out.serialize_field("tool_call_id", id)?;
            out.serialize_field("name", name)?;
        }
        out.end()
    }
}

impl WireMessage {
    /// A text message.
    pub fn text(role: &str, content: impl Into<String>) -> Self {
        Self {
            role: role.to_string(),
            content: content.into(),
            ..Self::default()
        }
    }

    /// The assistant's turn that made `calls` (with the text it wrote before them, if any).
    pub fn calls(content: impl Into<String>, calls: Vec<ToolCall>) -> Self {
        Self {
            role: "assistant".to_string(),
            content: content.into(),
            tool_calls: calls,
            ..Self::default()
        }
    }

    /// The result of `call`, as the model reads it.
    pub fn tool_result(call: &ToolCall, content: impl Into<String>) -> Self {
        Self {
            role: "tool".to_string(),
            content: content.into(),
            tool_call: Some((call.id.clone(), call.name.clone())),
            ..Self::default()
        }
    }

    /// What the message costs in the context window, in characters (an image counts as its tokens, about 4
    /// characters each: at most ≈ 3025 tokens once downscaled to 1540×1540).
    pub fn cost(&self) -> usize {
        self.content.len() + 16 + self.images.len() * 3025 * 4
    }
}

/// What to ask the model. Only fields Mistral accepts are ever sent (its schema rejects unknown keys).
#[derive(Debug, Clone, Serialize)]
pub struct ChatRequest {
    /// Model id.
    pub model: String,
    /// Whole history, oldest first.
    pub messages: Vec<WireMessage>,
    /// Always true here.
    pub stream: bool,
    /// Cap on the reply length, when wanted (titles).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// The tools offered (none: the key is left out).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolSpec>,
    /// `auto` when tools are offered, `none` to have the model answer without them; `required` rather than `any`,
    /// which only Mistral takes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<&'static str>,
    /// Sampling and format options a client of the OpenAI-compatible API chose, under the names Mistral takes
    /// (`temperature`, `top_p`, `stop`, `random_seed`, `response_format`, `presence_penalty`, `frequency_penalty`,
    /// `parallel_tool_calls`, and `tool_choice` when it names a function). Only [`OPTION_KEYS`] are ever set.
    #[serde(flatten)]
    pub options: serde_json::Map<String, serde_json::Value>,
}

/// The options a [`ChatRequest`] may carry besides its own fields: each is a key of Mistral's request schema.
pub const OPTION_KEYS: &[&str] = &[
    "temperature",
    "top_p",
    "stop",
    "random_seed",
    "response_format",
    "presence_penalty",
    "frequency_penalty",
    "parallel_tool_calls",
    "tool_choice",
    "safe_prompt",
];

impl ChatRequest {
    /// A streaming request for `model` with `messages`.
    pub fn new(model: impl Into<String>, messages: Vec<WireMessage>) -> Self {
        Self {
            model: model.into(),
            messages,
            stream: true,
            max_tokens: None,
            tools: Vec::new(),
            tool_choice: None,
            options: serde_json::Map::new(),
        }
    }

    /// The same request, offering `tools` for the model to call as it sees fit.
    pub fn with_tools(self, tools: Vec<ToolSpec>) -> Self {
        let tool_choice = (!tools.is_empty()).then_some("auto");
        Self {
            tools,
            tool_choice,
            ..self
        }
    }
}

/// Token counts reported with the last chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens of the prompt.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Tokens of the reply.
    #[serde(default)]
    pub completion_tokens: u64,
    /// Both.
    #[serde(default)]
    pub total_tokens: u64,
}

/// One piece of a streamed reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// More text.
    Delta(String),
    /// A call of a tool, or a piece of one ([`ToolCalls`] puts them together).
    ToolCall(ToolCallDelta),
    /// The model finished; usage comes with the last chunk.
    Finish {
        /// `stop`, `length`, `model_length`, `error`, …
        finish_reason: Option<String>,
        /// Token counts, when sent.
        usage: Option<Usage>,
    },
}

/// A reply being streamed.
pub type ReplyStream = Pin<Box<dyn Stream<Item = Result<StreamEvent, ProviderError>> + Send>>;

/// Why a reply failed, each with a message a user can act on. Provider texts are kept short and never include keys.
/// A failed reply stores it in its metadata as `{"code", "value", "message"}` (the code and value from serde, the
/// English message for API clients), so its page shows the message in the reader's language ([`Self::of_metadata`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", content = "value", rename_all = "snake_case")]
pub enum ProviderError {
    /// 401: the key is missing or wrong.
    #[serde(rename = "invalid_api_key")]
    InvalidKey,
    /// 403: the key may not use this model.
    #[serde(rename = "model_forbidden")]
    Forbidden(String),
    /// 404: unknown or retired model.
    UnknownModel(String),
    /// 429 after the retries.
    RateLimited {
        /// Seconds to wait, when the provider said.
        retry_after: Option<u64>,
    },
    /// 400/422: the provider refused the request (e.g. the context window is exceeded).
    Rejected(String),
    /// 5xx or no connection, after the retries.
    #[serde(rename = "provider_unavailable")]
    Unavailable(String),
    /// No data for longer than the idle timeout.
    Timeout(u64),
    /// The stream broke after some text arrived.
    CutOff,
    /// Data that is not the documented format.
    #[serde(rename = "malformed_response")]
    Malformed,
}

impl std::fmt::Display for ProviderError {
    /// The English message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text().english())
    }
}

impl std::error::Error for ProviderError {}

impl From<ProviderError> for AppError {
    /// A failure of the provider: 503 when it is down, busy or silent (trying later may work), 502 when it refused.
    fn from(failure: ProviderError) -> Self {
        Self::Provider {
            retryable: matches!(
                failure,
                ProviderError::Unavailable(_) | ProviderError::Timeout(_) | ProviderError::RateLimited { .. }
            ),
            message: failure.text(),
        }
    }
}

impl ProviderError {
    /// A stable machine-readable code, stored in message metadata and sent to API clients.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidKey => "invalid_api_key",
            Self::Forbidden(_) => "model_forbidden",
            Self::UnknownModel(_) => "unknown_model",
            Self::RateLimited { .. } => "rate_limited",
            Self::Rejected(_) => "rejected",
            Self::Unavailable(_) => "provider_unavailable",
            Self::Timeout(_) => "timeout",
            Self::CutOff => "cut_off",
            Self::Malformed => "malformed_response",
        }
    }

    /// What the failure means for the user, in every language.
    pub fn text(&self) -> Text {
        match self {
            Self::InvalidKey => text!(chat.provider.invalid_key),
            Self::Forbidden(model) => text!(chat.provider.forbidden, model = model),
            Self::UnknownModel(model) => text!(chat.provider.unknown_model, model = model),
            Self::RateLimited {
                retry_after: Some(seconds),
            } => text!(chat.provider.rate_limited_for, seconds = seconds),
            Self::RateLimited { retry_after: None } => text!(chat.provider.rate_limited),
            Self::Rejected(detail) => text!(chat.provider.rejected, detail = detail),
            Self::Unavailable(cause) => text!(chat.provider.unavailable, cause = cause),
            Self::Timeout(seconds) => text!(chat.provider.timeout, seconds = seconds),
            Self::CutOff => text!(chat.provider.cut_off),
            Self::Malformed => text!(chat.provider.malformed),
        }
    }

    /// The metadata a failed reply keeps about this failure.
    pub fn to_metadata(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({ "code": self.code() }));
        value["message"] = self.text().english().into();
        value
    }

    /// The message of the failure stored in a reply's `metadata["error"]`, in every language; a failure stored
    /// without its code and value (by an older version) keeps the English it was stored with.
    pub fn of_metadata(error: &serde_json::Value) -> Option<Text> {
        match serde_json::from_value::<Self>(error.clone()) {
            Ok(failure) => Some(failure.text()),
            Err(_) => {
                let english = error.get("message")?.as_str()?.to_string();
                Some(Text::new(|_| english.clone()))
            }
        }
    }

    fn retryable(&self) -> bool {
        matches!(
            self,
            Self::RateLimited { .. } | Self::Unavailable(_) | Self::Timeout(_) | Self::Malformed
        )
    }
}

/// A model the user may pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// Model id sent to the API.
    pub id: String,
    /// Context window in tokens, when the provider says.
    pub max_context_length: Option<u64>,
    /// Whether it reads images (`capabilities.vision`, or named in `VISION_MODELS`).
    pub vision: bool,
    /// Whether it calls functions, when the model list says (`capabilities.function_calling`).
    pub function_calling: Option<bool>,
}

/// Timeouts and retry policy.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Time to open a connection.
    pub connect_timeout: Duration,
    /// Longest silence allowed while waiting for the response or between chunks.
    pub idle_timeout: Duration,
    /// Retries after the first attempt (only before the first token).
    pub max_retries: u32,
    /// First backoff step; doubles each retry, plus up to the same again of jitter.
    pub retry_base: Duration,
    /// Longest single wait: a `Retry-After` beyond it is not waited for but reported.
    pub max_retry_wait: Duration,
    /// How long a fetched model list is reused.
    pub models_ttl: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_retries: 3,
            retry_base: Duration::from_millis(500),
            max_retry_wait: Duration::from_secs(20),
            models_ttl: Duration::from_secs(600),
        }
    }
}

/// The configured provider, cheap to clone.
#[derive(Clone, Debug)]
pub struct Provider {
    inner: Arc<Inner>,
    /// Models said to read images by the settings (`VISION_MODELS`), whatever the model list says.
    vision_models: Arc<[String]>,
    /// The embeddings model (`EMBEDDING_MODEL`), if any.
    embedding_model: Option<Arc<str>>,
    /// The OCR model (`OCR_MODEL`), if any.
    ocr_model: Option<Arc<str>>,
}

#[derive(Debug)]
enum Kind {
    Remote {
        http: reqwest::Client,
        base_url: String,
        api_key: Secret,
    },
    Demo,
}

#[derive(Debug)]
struct Inner {
    kind: Kind,
    settings: ClientSettings,
    fallback_models: Vec<String>,
    models: RwLock<Option<(Instant, Vec<ModelInfo>)>>,
}

/// The model list used when the provider's cannot be fetched: the configured default first.
pub fn fallback_models(default_model: &str) -> Vec<String> {
    let mut list = vec![default_model.to_string()];
    list.extend(
        crate::accounts::types::FALLBACK_MODELS
            .iter()
            .map(|m| m.to_string())
            .filter(|m| m != default_model),
    );
    list
}

impl Provider {
    /// The provider the configuration selects: Mistral-compatible with a key, the demo provider without one.
    pub fn from_config(ai: &AiConfig) -> Self {
        let settings = ClientSettings {
            idle_timeout: Duration::from_secs(ai.idle_timeout_seconds),
            max_retries: ai.max_retries,
            ..ClientSettings::default()
        };
        let provider = match &ai.api_key {
            Some(key) => Self::remote(&ai.base_url, key.clone(), &ai.default_model, settings),
            None => Self::demo(&ai.default_model),
        };
        provider
            .with_vision_models(ai.vision_models.clone())
            .with_embedding_model(&ai.embedding_model)
            .with_ocr_model(&ai.ocr_model)
    }

    /// The same provider, reading scans with `model` (none when empty).
    pub fn with_ocr_model(self, model: &str) -> Self {
        Self {
            ocr_model: (!model.trim().is_empty()).then(|| Arc::from(model.trim())),
            ..self
        }
    }

    /// The same provider, embedding with `model` (none when empty).
    pub fn with_embedding_model(self, model: &str) -> Self {
        Self {
            embedding_model: (!model.trim().is_empty()).then(|| Arc::from(model.trim())),
            ..self
        }
    }

    /// The same provider, with `models` taken to read images whatever the model list says.
    pub fn with_vision_models(self, models: Vec<String>) -> Self {
        Self {
            vision_models: models.into(),
            ..self
        }
    }

    /// A client of the OpenAI-compatible API at `base_url` (without `/v1`).
    pub fn remote(base_url: &str, api_key: Secret, default_model: &str, settings: ClientSettings) -> Self {
        // TLS with ring (Cargo.toml), the process's default once, whichever client asks first.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.idle_timeout)
            .tcp_nodelay(true)
            .user_agent(concat!("ThiCode/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self::with_kind(
            Kind::Remote {
                http,
                base_url: base_url.trim_end_matches('/').to_string(),
                api_key,
            },
            default_model,
            settings,
        )
    }

    /// The built-in demo provider.
    pub fn demo(default_model: &str) -> Self {
        Self::with_kind(Kind::Demo, default_model, ClientSettings::default())
    }

    fn with_kind(kind: Kind, default_model: &str, settings: ClientSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                kind,
                settings,
                fallback_models: fallback_models(default_model),
                models: RwLock::new(None),
            }),
            vision_models: Arc::from([]),
            embedding_model: None,
            ocr_model: None,
        }
    }

    /// True when no real model is configured.
    pub fn is_demo(&self) -> bool {
        matches!(self.inner.kind, Kind::Demo)
    }

    /// The chat models on offer: fetched from `GET /v1/models` (chat-capable only), cached, or the fallback list.
    pub async fn models(&self) -> Vec<ModelInfo> {
        let fallback = || {
            self.inner
                .fallback_models
                .iter()
                .map(|id| ModelInfo {
                    id: id.clone(),
                    max_context_length: None,
                    // The demo provider describes whatever it is sent; a real one's fallback list knows only the
                    // models the settings name.
                    vision: self.is_demo() || self.vision_models.contains(id),
                    function_calling: None,
                })
                .collect::<Vec<_>>()
        };
        let Kind::Remote {
            http,
            base_url,
            api_key,
        } = &self.inner.kind
        else {
            return fallback();
        };
        if let Ok(cache) = self.inner.models.read()
            && let Some((at, list)) = cache.as_ref()
            && at.elapsed() < self.inner.settings.models_ttl
        {
            return list.clone();
        }
        let fetched = async {
            let response = http
                .get(format!("{base_url}/v1/models"))
                .bearer_auth(api_key.expose())
                .timeout(self.inner.settings.idle_timeout.min(Duration::from_secs(10)))
                .send()
                .await
                .ok()?;
            if !response.status().is_success() {
                return None;
            }
            let body: ModelList = serde_json::from_slice(&response.bytes().await.ok()?).ok()?;
            let list: Vec<ModelInfo> = body
                .data
                .into_iter()
                .filter(|m| {
                    m.capabilities
                        .as_ref()
                        .is_none_or(|c| c.completion_chat.unwrap_or(true))
                })
                .map(|m| ModelInfo {
                    vision: m.capabilities.as_ref().and_then(|c| c.vision).unwrap_or(false)
                        || self.vision_models.contains(&m.id),
                    function_calling: m.capabilities.as_ref().and_then(|c| c.function_calling),
                    id: m.id,
                    max_context_length: m.max_context_length,
                })
                .collect();
            (!list.is_empty()).then_some(list)
        }
        .await;
        match fetched {
            Some(list) => {
                if let Ok(mut cache) = self.inner.models.write() {
                    *cache = Some((Instant::now(), list.clone()));
                }
                list
            }
            None => {
                tracing::warn!("model list unavailable from the provider; using the configured fallback list");
                fallback()
            }
        }
    }

    /// The embeddings model, when one is configured and a real provider serves it.
    pub fn embedding_model(&self) -> Option<&str> {
        match self.inner.kind {
            Kind::Remote { .. } => self.embedding_model.as_deref(),
            Kind::Demo => None,
        }
    }

    /// The embeddings of `inputs` (`POST /v1/embeddings`), in their order; `None` when there is no embeddings model
    /// or the provider did not give them (the cause is logged, without the inputs).
    pub async fn embed(&self, inputs: &[String]) -> Option<Vec<Vec<f32>>> {
        let model = self.embedding_model()?;
        let body = serde_json::json!({ "model": model, "input": inputs });
        let response = self
            .post_json("/v1/embeddings", &body, Duration::from_secs(60), model, "embeddings")
            .await?;
        #[derive(serde::Deserialize)]
        struct Item {
            index: usize,
            embedding: Vec<f32>,
        }
        #[derive(serde::Deserialize)]
        struct List {
            data: Vec<Item>,
        }
        let list: List = serde_json::from_slice(&response).ok()?;
        let mut out = vec![Vec::new(); inputs.len()];
        for item in list.data {
            *out.get_mut(item.index)? = item.embedding;
        }
        out.iter().all(|v| !v.is_empty()).then_some(out)
    }

    /// The OCR model, when one is configured and a real provider may serve it.
    pub fn ocr_model(&self) -> Option<&str> {
        match self.inner.kind {
            Kind::Remote { .. } => self.ocr_model.as_deref(),
            Kind::Demo => None,
        }
    }

    /// The text of each page of a scanned PDF, read by the OCR model (`POST /v1/ocr`, Mistral's: pages numbered from
    /// 0, each as Markdown); `None` when there is no OCR model or the provider did not read it (a server without
    /// `/v1/ocr` answers 404; the cause is logged, never the document).
    pub async fn ocr_pdf(&self, pdf: &[u8]) -> Option<Vec<String>> {
        use base64::Engine;
        let model = self.ocr_model()?;
        let url = format!(
            "data:application/pdf;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(pdf)
        );
        let body = serde_json::json!({
            "model": model,
            "document": { "type": "document_url", "document_url": url },
        });
        let response = self
            .post_json("/v1/ocr", &body, Duration::from_secs(180), model, "OCR")
            .await?;
        #[derive(serde::Deserialize)]
        struct Page {
            index: usize,
            #[serde(default)]
            markdown: String,
        }
        #[derive(serde::Deserialize)]
        struct Pages {
            pages: Vec<Page>,
        }
        let mut pages: Pages = serde_json::from_slice(&response).ok()?;
        pages.pages.sort_by_key(|p| p.index);
        Some(pages.pages.into_iter().map(|p| p.markdown).collect())
    }

    /// Posts `body` as JSON to `path` of a real provider; the answer's body when it succeeded, else `None` with the
    /// cause logged (the status or the error, and the model, never the body).
    async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
        timeout: Duration,
        model: &str,
        what: &str,
    ) -> Option<bytes::Bytes> {
        let Kind::Remote {
            http,
            base_url,
            api_key,
        } = &self.inner.kind
        else {
            return None;
        };
        let response = http
            .post(format!("{base_url}{path}"))
            .bearer_auth(api_key.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .timeout(timeout)
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => r.bytes().await.ok(),
            Ok(r) => {
                tracing::warn!(
                    status = r.status().as_u16(),
                    model,
                    what,
                    "the provider refused a request"
                );
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, model, what, "a request to the provider failed");
                None
            }
        }
    }

    /// Streams a reply to `request`, retrying failures that happen before the first token.
    pub async fn stream(&self, request: &ChatRequest) -> Result<ReplyStream, ProviderError> {
        match &self.inner.kind {
            Kind::Demo => Ok(demo_stream(request)),
            Kind::Remote {
                http,
                base_url,
                api_key,
            } => {
                let settings = &self.inner.settings;
                let mut attempt = 0;
                loop {
                    let result = open_stream(http, base_url, api_key, request, settings).await;
                    let error = match result {
                        Ok(stream) => return Ok(stream),
                        Err(failure) => failure,
                    };
                    let wait = backoff(attempt, settings, error.retry_after);
                    let can_retry = error.error.retryable()
                        && attempt < settings.max_retries
                        && wait.is_some_and(|w| w <= settings.max_retry_wait);
                    if !can_retry {
                        return Err(error.error);
                    }
                    attempt += 1;
                    tracing::info!(attempt, code = error.error.code(), "retrying the AI provider");
                    tokio::time::sleep(wait.unwrap_or_default()).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::wire::{error_detail, retry_after};
    use super::*;

    #[test]
    fn tool_calls_read_from_mistrals_capture_and_from_relayed_fragments() {
        // mistral-small-latest, 2026-01: the whole call in one delta, no index and no type, with the finish reason.
        let whole = r#"{"choices":[{"index":0,"delta":{"content":null,"tool_calls":[{"id":"gSIMJiOkT","function":{"name":"weather","arguments":"{\"location\": \"San Francisco\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":124,"total_tokens":146,"completion_tokens":22}}"#;
        let events = parse_chunk(whole).unwrap();
        assert_eq!(
            events[0],
            StreamEvent::ToolCall(ToolCallDelta {
                index: 0,
                id: Some("gSIMJiOkT".into()),
                name: Some("weather".into()),
                arguments: "{\"location\": \"San Francisco\"}".into(),
            })
        );
        assert!(
            matches!(&events[1], StreamEvent::Finish { finish_reason: Some(r), usage: Some(_) } if r == "tool_calls")
        );
        // zai-glm-5 relayed: a foreign id first, then pieces with `name: ""` and no id; arguments as an object too.
        let mut calls = ToolCalls::default();
        for data in [
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"chatcmpl-tool-a17d","type":"function","function":{"name":"read","arguments":"{\"path\": \"update"},"index":0}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"type":"function","function":{"name":"","arguments":".sh\"}"},"index":0}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"x","function":{"name":"count","arguments":{"n":2}},"index":1}]}}]}"#,
        ] {
            for event in parse_chunk(data).unwrap() {
                if let StreamEvent::ToolCall(piece) = event {
                    calls.push(piece);
                }
            }
        }
        let calls = calls.finish(0);
        assert_eq!(calls[0].name, "read");
        assert_eq!(calls[0].arguments, "{\"path\": \"update.sh\"}");
        assert_eq!(calls[1].arguments, "{\"n\":2}");
    }

    #[test]
    fn chunks_ignore_unknown_fields_and_carry_usage_on_the_last() {
        let first = r#"{"id":"x","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"p":"abc"}"#;
        assert_eq!(parse_chunk(first).unwrap(), vec![]);
        let last = r#"{"choices":[{"index":0,"delta":{"content":"!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5},"p":"zz"}"#;
        assert_eq!(
            parse_chunk(last).unwrap(),
            vec![
                StreamEvent::Delta("!".into()),
                StreamEvent::Finish {
                    finish_reason: Some("stop".into()),
                    usage: Some(Usage {
                        prompt_tokens: 3,
                        completion_tokens: 2,
                        total_tokens: 5
                    })
                }
            ]
        );
        assert_eq!(parse_chunk("{not json"), Err(ProviderError::Malformed));
    }

    #[test]
    fn a_stored_failure_reads_back_in_either_language() {
        use crate::core::i18n::Lang;
        let failure = ProviderError::RateLimited { retry_after: Some(4) };
        let stored = failure.to_metadata();
        assert_eq!(stored["code"], "rate_limited");
        assert_eq!(stored["code"], failure.code());
        assert_eq!(
            stored["message"],
            "The AI provider is rate limiting requests — retry in 4 s."
        );
        let text = ProviderError::of_metadata(&stored).unwrap();
        assert_eq!(
            text.get(Lang::Fr),
            "Le fournisseur d’IA limite les requêtes — réessayez dans 4 s."
        );
        for failure in [
            ProviderError::InvalidKey,
            ProviderError::Unavailable("HTTP 503".into()),
            ProviderError::Malformed,
        ] {
            assert_eq!(failure.to_metadata()["code"], failure.code());
        }
        // A failure stored by an older version (code and English only) keeps its English.
        let old = serde_json::json!({"code": "whatever", "message": "Old text."});
        assert_eq!(ProviderError::of_metadata(&old).unwrap().get(Lang::Fr), "Old text.");
    }

    #[test]
    fn error_bodies_of_every_known_shape_are_summarised() {
        assert_eq!(
            error_detail(br#"{"object":"error","message":"too long","type":"invalid_request_error"}"#),
            "too long"
        );
        assert_eq!(
            error_detail(br#"{"detail":[{"msg":"extra_forbidden"},{"msg":"bad"}]}"#),
            "extra_forbidden; bad"
        );
        assert_eq!(error_detail(br#"{"message":{"detail":[{"msg":"x"}]}}"#), "x");
        assert_eq!(error_detail(b"<html>oops</html>"), "");
    }

    #[test]
    fn context_is_trimmed_from_the_oldest_turn_keeping_system_and_newest() {
        let m = |role: &str, n: usize| WireMessage {
            role: role.into(),
            content: "x".repeat(n),
            ..Default::default()
        };
        let all = vec![m("system", 10), m("user", 400), m("assistant", 400), m("user", 100)];
        let kept = fit_context(all.clone(), 200);
        assert_eq!(
            kept.iter().map(|m| m.content.len()).collect::<Vec<_>>(),
            vec![10, 400, 100]
        );
        let kept = fit_context(all.clone(), 10);
        assert_eq!(kept.iter().map(|m| m.content.len()).collect::<Vec<_>>(), vec![10, 100]);
        assert_eq!(fit_context(all.clone(), 100_000), all);
    }

    #[test]
    fn retry_after_reads_seconds_and_mistral_header() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("ratelimitbysize-reset", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
    }
}
