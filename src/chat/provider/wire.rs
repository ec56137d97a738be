//! The provider's wire: opening a chat-completions stream with retries before the first token, reading its
//! Server-Sent Events chunk by chunk, the model list, and what an error response says.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt};
use serde::Deserialize;

use crate::core::config::Secret;

use super::{ChatRequest, ClientSettings, ProviderError, ReplyStream, StreamEvent, ToolCallDelta, Usage};

/// A failed attempt, and how long the provider asked us to wait before the next.
pub(super) struct Failure {
    pub(super) error: ProviderError,
    pub(super) retry_after: Option<Duration>,
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
pub(super) fn backoff(attempt: u32, settings: &ClientSettings, retry_after: Option<Duration>) -> Option<Duration> {
    if let Some(wait) = retry_after {
        return Some(wait);
    }
    let step = settings.retry_base.saturating_mul(2u32.saturating_pow(attempt));
    let jitter_ms = (uuid::Uuid::new_v4().as_u128() % 1000) as u64;
    let jitter = step.mul_f64(jitter_ms as f64 / 1000.0);
    Some(step + jitter)
}

/// Sends the request and reads up to the first token, so that everything retryable happens here.
pub(super) async fn open_stream(
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
                let has_text = parsed
                    .iter()
                    .any(|e| matches!(e, StreamEvent::Delta(_) | StreamEvent::ToolCall(_)));
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
pub(super) async fn next_event<S>(
    events: &mut Pin<Box<S>>,
    idle: Duration,
) -> Option<Result<Vec<StreamEvent>, ProviderError>>
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
        let Delta { content, tool_calls } = choice.delta.unwrap_or_default();
        if let Some(text) = content.filter(|t| !t.is_empty()) {
            out.push(StreamEvent::Delta(text));
        }
        // Whole calls (often without `index`) or fragments by `index`: the position stands in for a missing index.
        for (position, call) in tool_calls.into_iter().flatten().enumerate() {
            let function = call.function.unwrap_or_default();
            out.push(StreamEvent::ToolCall(ToolCallDelta {
                index: call.index.unwrap_or(position),
                id: call.id,
                name: function.name,
                arguments: match function.arguments {
                    Some(serde_json::Value::String(text)) => text,
                    // Some servers send the arguments as an object.
                    Some(serde_json::Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                },
            }));
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
pub(super) struct Chunk {
    #[serde(default)]
    pub(super) choices: Vec<Choice>,
    #[serde(default)]
    pub(super) usage: Option<Usage>,
}

#[derive(Deserialize)]
pub(super) struct Choice {
    #[serde(default)]
    pub(super) delta: Option<Delta>,
    #[serde(default)]
    pub(super) finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
pub(super) struct Delta {
    #[serde(default)]
    pub(super) content: Option<String>,
    #[serde(default)]
    pub(super) tool_calls: Option<Vec<CallPiece>>,
}

#[derive(Deserialize)]
pub(super) struct CallPiece {
    #[serde(default)]
    pub(super) index: Option<usize>,
    #[serde(default)]
    pub(super) id: Option<String>,
    #[serde(default)]
    pub(super) function: Option<FunctionPiece>,
}

#[derive(Deserialize, Default)]
pub(super) struct FunctionPiece {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) arguments: Option<serde_json::Value>,
}

#[derive(Deserialize)]
pub(super) struct ModelList {
    #[serde(default)]
    pub(super) data: Vec<ModelEntry>,
}

#[derive(Deserialize)]
pub(super) struct ModelEntry {
    pub(super) id: String,
    #[serde(default)]
    pub(super) max_context_length: Option<u64>,
    #[serde(default)]
    pub(super) capabilities: Option<Capabilities>,
}

#[derive(Deserialize)]
pub(super) struct Capabilities {
    #[serde(default)]
    pub(super) completion_chat: Option<bool>,
    #[serde(default)]
    pub(super) vision: Option<bool>,
    #[serde(default)]
    pub(super) function_calling: Option<bool>,
}

/// `Retry-After` (seconds or an HTTP date) or Mistral's `ratelimitbysize-reset` (seconds).
pub(super) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
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
pub(super) fn error_detail(body: &[u8]) -> String {
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
