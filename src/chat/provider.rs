//! The AI provider: a Mistral (or any OpenAI-compatible) client on reqwest, and the built-in demo provider used when
//! no API key is configured. Server only: the key never leaves this module.
//!
//! Retries (429, 5xx, connection errors; exponential backoff with jitter, honouring `Retry-After`) happen only before
//! the first token; once text has been produced a failure ends the stream and the caller keeps what it received.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};

use crate::core::config::{AiConfig, Secret};

/// One message of the history sent to the model.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WireMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
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
}

impl ChatRequest {
    /// A streaming request for `model` with `messages`.
    pub fn new(model: impl Into<String>, messages: Vec<WireMessage>) -> Self {
        Self {
            model: model.into(),
            messages,
            stream: true,
            max_tokens: None,
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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// 401: the key is missing or wrong.
    #[error("The AI provider rejected the API key. Check MISTRAL_API_KEY.")]
    InvalidKey,
    /// 403: the key may not use this model.
    #[error("This API key is not allowed to use the model “{0}”.")]
    Forbidden(String),
    /// 404: unknown or retired model.
    #[error("The model “{0}” is unknown or retired. Choose another model.")]
    UnknownModel(String),
    /// 429 after the retries.
    #[error("{}", rate_limited_message(*.retry_after))]
    RateLimited {
        /// Seconds to wait, when the provider said.
        retry_after: Option<u64>,
    },
    /// 400/422: the provider refused the request (e.g. the context window is exceeded).
    #[error("The AI provider refused the request: {0}")]
    Rejected(String),
    /// 5xx or no connection, after the retries.
    #[error("The AI provider is unavailable ({0}). Try again in a moment.")]
    Unavailable(String),
    /// No data for longer than the idle timeout.
    #[error("The AI provider stopped answering (no data for {0} s).")]
    Timeout(u64),
    /// The stream broke after some text arrived.
    #[error("The reply was cut off: the connection to the AI provider broke.")]
    CutOff,
    /// Data that is not the documented format.
    #[error("The AI provider sent data ThiCode could not read.")]
    Malformed,
}

fn rate_limited_message(retry_after: Option<u64>) -> String {
    match retry_after {
        Some(secs) => format!("The AI provider is rate limiting requests — retry in {secs} s."),
        None => "The AI provider is rate limiting requests — retry in a moment.".to_string(),
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
        match &ai.api_key {
            Some(key) => Self::remote(&ai.base_url, key.clone(), &ai.default_model, settings),
            None => Self::demo(&ai.default_model),
        }
    }

    /// A client of the OpenAI-compatible API at `base_url` (without `/v1`).
    pub fn remote(base_url: &str, api_key: Secret, default_model: &str, settings: ClientSettings) -> Self {
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

struct Failure {
    error: ProviderError,
    retry_after: Option<Duration>,
}

impl From<ProviderError> for Failure {
    fn from(error: ProviderError) -> Self {
        Self {
            error,
            retry_after: None,
        }
    }
}

/// The wait before retry number `attempt + 1`: `Retry-After` when given, else exponential backoff with jitter.
fn backoff(attempt: u32, settings: &ClientSettings, retry_after: Option<Duration>) -> Option<Duration> {
    if let Some(wait) = retry_after {
        return Some(wait);
    }
    let step = settings.retry_base.saturating_mul(2u32.saturating_pow(attempt));
    let jitter_ms = (uuid::Uuid::new_v4().as_u128() % 1000) as u64;
    let jitter = step.mul_f64(jitter_ms as f64 / 1000.0);
    Some(step + jitter)
}

/// Sends the request and reads up to the first token, so that everything retryable happens here.
async fn open_stream(
    http: &reqwest::Client,
    base_url: &str,
    api_key: &Secret,
    request: &ChatRequest,
    settings: &ClientSettings,
) -> Result<ReplyStream, Failure> {
    let idle = settings.idle_timeout;
    let send = http
        .post(format!("{base_url}/v1/chat/completions"))
        .bearer_auth(api_key.expose())
        .header(reqwest::header::ACCEPT, "text/event-stream")
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(serde_json::to_vec(request).map_err(|_| ProviderError::Malformed)?)
        .send();
    let response = match tokio::time::timeout(idle, send).await {
        Err(_) => return Err(ProviderError::Timeout(idle.as_secs()).into()),
        Ok(Err(e)) if e.is_timeout() => return Err(ProviderError::Timeout(idle.as_secs()).into()),
        Ok(Err(e)) => {
            let what = if e.is_connect() {
                "no connection"
            } else {
                "connection error"
            };
            return Err(ProviderError::Unavailable(what.to_string()).into());
        }
        Ok(Ok(response)) => response,
    };
    let status = response.status();
    if !status.is_success() {
        let retry_after = retry_after(response.headers());
        let body = tokio::time::timeout(idle, response.bytes())
            .await
            .ok()
            .and_then(Result::ok);
        let detail = body.as_deref().map(error_detail).unwrap_or_default();
        let error = match status.as_u16() {
            401 => ProviderError::InvalidKey,
            403 => ProviderError::Forbidden(request.model.clone()),
            404 => ProviderError::UnknownModel(request.model.clone()),
            429 => ProviderError::RateLimited {
                retry_after: retry_after.map(|d| d.as_secs().max(1)),
            },
            400 | 413 | 422 => ProviderError::Rejected(if detail.is_empty() {
                format!("HTTP {}", status.as_u16())
            } else {
                detail
            }),
            code => ProviderError::Unavailable(format!("HTTP {code}")),
        };
        return Err(Failure { error, retry_after });
    }

    let mut events = Box::pin(response.bytes_stream().eventsource());
    let mut buffered = VecDeque::new();
    // Read until the first text (or the end): a failure before it is still retryable.
    loop {
        match next_event(&mut events, idle).await {
            None => {
                return if buffered.is_empty() {
                    Err(ProviderError::Malformed.into())
                } else {
                    Ok(Box::pin(futures_util::stream::iter(buffered)))
                };
            }
            Some(Err(e)) => return Err(e.into()),
            Some(Ok(parsed)) => {
                let has_text = parsed.iter().any(|e| matches!(e, StreamEvent::Delta(_)));
                let finished = parsed.iter().any(|e| matches!(e, StreamEvent::Finish { .. }));
                buffered.extend(parsed.into_iter().map(Ok));
                if has_text || finished {
                    break;
                }
            }
        }
    }
    let rest = futures_util::stream::unfold((events, false), move |(mut events, ended)| async move {
        if ended {
            return None;
        }
        match next_event(&mut events, idle).await {
            None => None,
            Some(Ok(parsed)) => Some((Ok(parsed), (events, false))),
            Some(Err(ProviderError::Timeout(s))) => Some((Err(ProviderError::Timeout(s)), (events, true))),
            Some(Err(ProviderError::Malformed)) => Some((Err(ProviderError::Malformed), (events, true))),
            Some(Err(_)) => Some((Err(ProviderError::CutOff), (events, true))),
        }
    })
    .flat_map(|item: Result<Vec<StreamEvent>, ProviderError>| match item {
        Ok(events) => futures_util::stream::iter(events.into_iter().map(Ok).collect::<Vec<_>>()),
        Err(e) => futures_util::stream::iter(vec![Err(e)]),
    });
    Ok(Box::pin(futures_util::stream::iter(buffered).chain(rest)))
}

/// The next SSE event turned into stream events; `None` at `[DONE]` or the end of the body. A body that ends
/// without `[DONE]` and without a finish reason is a cut.
async fn next_event<S>(events: &mut Pin<Box<S>>, idle: Duration) -> Option<Result<Vec<StreamEvent>, ProviderError>>
where
    S: Stream<Item = Result<eventsource_stream::Event, eventsource_stream::EventStreamError<reqwest::Error>>> + ?Sized,
{
    match tokio::time::timeout(idle, events.next()).await {
        Err(_) => Some(Err(ProviderError::Timeout(idle.as_secs()))),
        Ok(None) => Some(Err(ProviderError::CutOff)),
        Ok(Some(Err(eventsource_stream::EventStreamError::Transport(e)))) if e.is_timeout() => {
            Some(Err(ProviderError::Timeout(idle.as_secs())))
        }
        Ok(Some(Err(eventsource_stream::EventStreamError::Transport(_)))) => Some(Err(ProviderError::CutOff)),
        Ok(Some(Err(_))) => Some(Err(ProviderError::Malformed)),
        Ok(Some(Ok(event))) => {
            let data = event.data.trim();
            if data == "[DONE]" {
                return None;
            }
            if data.is_empty() {
                return Some(Ok(Vec::new()));
            }
            Some(parse_chunk(data))
        }
    }
}

/// One `data:` payload of a streamed completion. Unknown fields (such as the padding `p`) are ignored.
pub fn parse_chunk(data: &str) -> Result<Vec<StreamEvent>, ProviderError> {
    let chunk: Chunk = serde_json::from_str(data).map_err(|_| ProviderError::Malformed)?;
    let mut out = Vec::new();
    let mut finish_reason = None;
    for choice in chunk.choices {
        if let Some(text) = choice.delta.and_then(|d| d.content).filter(|t| !t.is_empty()) {
            out.push(StreamEvent::Delta(text));
        }
        if choice.finish_reason.is_some() {
            finish_reason = choice.finish_reason;
        }
    }
    if finish_reason.is_some() || chunk.usage.is_some() {
        out.push(StreamEvent::Finish {
            finish_reason,
            usage: chunk.usage,
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
}

#[derive(Deserialize)]
struct ModelList {
    #[serde(default)]
    data: Vec<ModelEntry>,
}

#[derive(Deserialize)]
struct ModelEntry {
    id: String,
    #[serde(default)]
    max_context_length: Option<u64>,
    #[serde(default)]
    capabilities: Option<Capabilities>,
}

#[derive(Deserialize)]
struct Capabilities {
    #[serde(default)]
    completion_chat: Option<bool>,
}

/// `Retry-After` (seconds or an HTTP date) or Mistral's `ratelimitbysize-reset` (seconds).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)
        .or_else(|| headers.get("ratelimitbysize-reset"))?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let at = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let secs = (at - time::OffsetDateTime::now_utc()).whole_seconds().max(0);
    Some(Duration::from_secs(secs.unsigned_abs()))
}

/// A short, printable summary of an error body, whatever its shape (`message` string or object, `detail` list…).
fn error_detail(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    fn text_of(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Array(items) => {
                let parts: Vec<String> = items.iter().filter_map(text_of).collect();
                (!parts.is_empty()).then(|| parts.join("; "))
            }
            serde_json::Value::Object(map) => map
                .get("msg")
                .or_else(|| map.get("message"))
                .or_else(|| map.get("detail"))
                .and_then(text_of),
            _ => None,
        }
    }
    let mut text = text_of(&value).unwrap_or_default();
    if text.chars().count() > 300 {
        text = text.chars().take(300).collect::<String>() + "…";
    }
    text
}

/// The demo reply: says that no model is configured and echoes the prompt, streamed word by word.
fn demo_stream(request: &ChatRequest) -> ReplyStream {
    let prompt = request
        .messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| m.content.as_str())
        .unwrap_or_default();
    let quoted: String = prompt.lines().map(|l| format!("> {l}\n")).collect();
    let text = format!(
        "**Demo reply — no AI model is configured.** ThiCode is running without `MISTRAL_API_KEY`, so this answer \
         comes from the built-in demo provider. Set the key (or `MISTRAL_BASE_URL` for any OpenAI-compatible \
         server) and restart to talk to a real model.\n\nYou wrote:\n\n{quoted}"
    );
    let words: Vec<String> = text.split_inclusive(' ').map(str::to_string).collect();
    let completion_tokens = words.len() as u64;
    let prompt_tokens = request
        .messages
        .iter()
        .map(|m| m.content.split_whitespace().count() as u64)
        .sum();
    let finish = StreamEvent::Finish {
        finish_reason: Some("stop".to_string()),
        usage: Some(Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens + completion_tokens,
        }),
    };
    let events = words.into_iter().map(StreamEvent::Delta).chain(std::iter::once(finish));
    Box::pin(futures_util::stream::iter(events).then(|event| async move {
        if matches!(event, StreamEvent::Delta(_)) {
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        Ok(event)
    }))
}

/// Trims `messages` (system prompt first, newest last) to fit `context_tokens`, dropping the oldest turns after the
/// system prompt; the newest message is always kept. Tokens are estimated at 4 characters each, and a quarter of the
/// window is left for the reply.
pub fn fit_context(messages: Vec<WireMessage>, context_tokens: u64) -> Vec<WireMessage> {
    let budget = (context_tokens.saturating_mul(3) / 4).saturating_mul(4) as usize;
    let cost = |m: &WireMessage| m.content.len() + 16;
    let (system, turns): (Vec<_>, Vec<_>) = messages.into_iter().partition(|m| m.role == "system");
    let mut turns = VecDeque::from(turns);
    let mut total: usize = system.iter().chain(turns.iter()).map(cost).sum();
    while total > budget && turns.len() > 1 {
        if let Some(dropped) = turns.pop_front() {
            total -= cost(&dropped);
        }
    }
    system.into_iter().chain(turns).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
