//! `POST /v1/chat/completions`: the request read ([`super::translate`]), checked against the models offered, the
//! per-minute rate and the account's quotas, then sent upstream as a stream. A task of its own reads the provider
//! and does the bookkeeping (the ledger row, the saved conversation), so a client that hangs up never leaves either
//! half done; the handler relays the task's events as OpenAI chunks (`stream: true`) or waits for the whole answer.
//! Failures before the first token (after the provider's retries) are an HTTP error; after it, an `error` event ends
//! the stream, as OpenAI's own API does.

use std::time::Instant;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use crate::accounts::service::User;
use crate::chat::provider::{ProviderError, StreamEvent, ToolCall, ToolCalls, Usage, WireMessage};
use crate::state::AppState;

use super::translate::{self, Completion};
use super::{OpenAiError, V1User, model_for};

/// Events relayed from the task to the handler before they go out.
const RELAY_CAPACITY: usize = 64;

/// Where a completion came from and when: the fields every chunk repeats.
#[derive(Clone)]
struct Stamp {
    id: String,
    created: i64,
    model: String,
}

impl Stamp {
    fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> Value {
        json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "system_fingerprint": null,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
        })
    }
}

/// OpenAI's finish reasons: Mistral's `model_length` (the context window is full) is OpenAI's `length`.
fn finish_reason(reason: Option<&str>) -> &str {
    match reason {
        Some("model_length") => "length",
        Some(other) => other,
        None => "stop",
    }
}

fn usage_json(usage: Usage) -> Value {
    json!({
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    })
}

/// A chat completion, whole or as Server-Sent Events (`stream: true`) ending with `data: [DONE]`.
#[utoipa::path(post, path = "/v1/chat/completions", tag = "openai", security(("bearer" = [])),
    request_body(content = Object, description = "OpenAI's chat-completions body: `model`, `messages` (text and \
        `image_url` parts, tool calls and results), `stream`, `stream_options.include_usage`, `temperature`, `top_p`, \
        `max_tokens` / `max_completion_tokens`, `stop`, `seed`, `response_format`, `presence_penalty`, \
        `frequency_penalty`, `tools`, `tool_choice`, `parallel_tool_calls`; `metadata.thicode_save: true` (or the \
        header `X-ThiCode-Save: true`) keeps the exchange as a conversation."),
    responses(
        (status = 200, description = "`chat.completion`, or with `stream: true` Server-Sent Events of \
            `chat.completion.chunk`s ending with `data: [DONE]`",
            content((super::schema::ChatCompletionOut = "application/json"), (String = "text/event-stream"))),
        (status = 400, body = super::schema::OpenAiErrorOut, description = "Bad input, or refused by the provider"),
        (status = 401, body = super::schema::OpenAiErrorOut, description = "No key, or not a valid personal token"),
        (status = 403, body = super::schema::OpenAiErrorOut, description = "The API is off, or the model is not offered"),
        (status = 404, body = super::schema::OpenAiErrorOut, description = "No such model"),
        (status = 502, body = super::schema::OpenAiErrorOut, description = "The provider answered with nonsense"),
        (status = 429, body = super::schema::OpenAiErrorOut, description = "A quota or the rate is reached (`Retry-After`)"),
        (status = 503, body = super::schema::OpenAiErrorOut, description = "The provider is unavailable")))]
pub(super) async fn completions(
    State(state): State<AppState>,
    caller: V1User,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, OpenAiError> {
    let body = super::read_body(body).await?;
    let body: Value = serde_json::from_slice(&body)
        .map_err(|e| OpenAiError::invalid(None, format!("We could not parse the JSON body of your request: {e}")))?;
    let mut completion = translate::completion(&body, hosted_mistral(&state.config.ai.base_url))?;
    completion.save |= headers
        .get("x-thicode-save")
        .and_then(|v| v.to_str().ok())
        .is_some_and(translate::truthy_text);
    let model = model_for(&state, &caller.setting, &completion.request.model, "chat").await?;
    if completion.images > 0 && !model.vision {
        return Err(OpenAiError::invalid(
            Some("messages".into()),
            format!("The model `{}` does not read images.", model.id),
        ));
    }
    let user = caller.user;
    state.api_limits.ask(user.id).map_err(OpenAiError::throttled)?;
    let prompt_chars: usize = completion.request.messages.iter().map(WireMessage::cost).sum();
    let prompt_tokens = crate::chat::quota::estimate_tokens(prompt_chars);
    // Under a limit, the call is counted before it starts (concurrent calls cannot pass the limit); without one, its
    // ledger row is written while the provider is asked, off the way of the first token.
    let quota = crate::chat::quota::effective(&state.db.pool, user.id).await?;
    let ledger = if quota.is_unlimited() {
        None
    } else {
        let pool = &state.db.pool;
        Some(crate::chat::quota::begin_unstored_under(pool, user.id, quota, &model.id, prompt_tokens, "v1").await?)
    };
    let stamp = Stamp {
        id: format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
        created: crate::core::db::now_millis() / 1000,
        model: model.id,
    };
    let (opened_tx, opened_rx) = oneshot::channel();
    let (events_tx, events_rx) = mpsc::channel(RELAY_CAPACITY);
    let job = Job {
        state: state.clone(),
        user,
        ledger,
        prompt_tokens,
        stamp: stamp.clone(),
    };
    let (stream, include_usage) = (completion.stream, completion.include_usage);
    tokio::spawn(job.run(completion, opened_tx, events_tx));
    match opened_rx.await {
        Ok(Ok(())) => {}
        Ok(Err(failure)) => return Err(failure.into()),
        Err(_) => {
            return Err(OpenAiError::internal(
                "the completion task ended before the stream opened",
            ));
        }
    }
    if stream {
        Ok(event_stream(stamp, include_usage, events_rx))
    } else {
        whole(stamp, events_rx).await
    }
}

/// Whether the provider is Mistral's hosted API (which fetches image addresses on the internet, not inside the
/// operator's network).
fn hosted_mistral(base_url: &str) -> bool {
    reqwest::Url::parse(base_url).is_ok_and(|u| u.scheme() == "https" && u.host_str() == Some("api.mistral.ai"))
}

/// What the task sends the handler.
enum Relay {
    /// A piece of the reply.
    Event(StreamEvent),
    /// The stream broke after the first token.
    Failed(ProviderError),
    /// The end, with the usage (the provider's, or estimated).
    Done(Usage),
}

/// The answer as one `chat.completion` object.
async fn whole(stamp: Stamp, mut events: mpsc::Receiver<Relay>) -> Result<Response, OpenAiError> {
    let mut content = String::new();
    let mut calls = ToolCalls::default();
    let mut reason = None;
    let mut usage = Usage::default();
    while let Some(relay) = events.recv().await {
        match relay {
            Relay::Event(StreamEvent::Delta(text)) => content.push_str(&text),
            Relay::Event(StreamEvent::ToolCall(piece)) => calls.push(piece),
            Relay::Event(StreamEvent::Finish { finish_reason, .. }) => reason = finish_reason,
            Relay::Failed(failure) => return Err(failure.into()),
            Relay::Done(total) => usage = total,
        }
    }
    let calls: Vec<Value> = calls.finish(0).iter().map(ToolCall::to_wire).collect();
    let mut message = json!({"role": "assistant", "content": content, "refusal": null});
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
        if content.is_empty() {
            message["content"] = Value::Null;
        }
    }
    Ok(Json(json!({
        "id": stamp.id, "object": "chat.completion", "created": stamp.created, "model": stamp.model,
        "system_fingerprint": null,
        "choices": [{"index": 0, "message": message, "logprobs": null,
                     "finish_reason": finish_reason(reason.as_deref())}],
        "usage": usage_json(usage),
    }))
    .into_response())
}

/// The answer as Server-Sent Events: a first chunk with the role, one per piece, the finish, the usage when asked,
/// then `[DONE]`; an `error` event instead when the stream breaks.
fn event_stream(stamp: Stamp, include_usage: bool, events: mpsc::Receiver<Relay>) -> Response {
    let first = stamp.chunk(json!({"role": "assistant", "content": ""}), None);
    let mut started_calls: Vec<usize> = Vec::new();
    let frame = |value: &Value| Bytes::from(format!("data: {value}\n\n"));
    let head = futures_util::stream::once({
        let bytes = frame(&first);
        async move { Ok::<_, std::convert::Infallible>(bytes) }
    });
    let body = tokio_stream::wrappers::ReceiverStream::new(events).filter_map(move |relay| {
        let out = match relay {
            Relay::Event(StreamEvent::Delta(text)) => Some(frame(&stamp.chunk(json!({"content": text}), None))),
            Relay::Event(StreamEvent::ToolCall(piece)) => {
                let mut call = json!({"index": piece.index, "function": {"arguments": piece.arguments}});
                // The first piece of a call names it, with an id (made when the provider gave none).
                if !started_calls.contains(&piece.index) {
                    started_calls.push(piece.index);
                    let id = crate::chat::provider::mistral_call_id(piece.id.as_deref().unwrap_or(""), 0, piece.index);
                    call["id"] = json!(id);
                    call["type"] = json!("function");
                    call["function"]["name"] = json!(piece.name.unwrap_or_default());
                }
                Some(frame(&stamp.chunk(json!({"tool_calls": [call]}), None)))
            }
            Relay::Event(StreamEvent::Finish {
                finish_reason: reason, ..
            }) => Some(frame(&stamp.chunk(json!({}), Some(finish_reason(reason.as_deref()))))),
            Relay::Failed(failure) => {
                let error = OpenAiError::from(failure);
                Some(frame(&error.body()))
            }
            Relay::Done(usage) => {
                let mut tail = String::new();
                if include_usage {
                    let chunk = json!({
                        "id": stamp.id, "object": "chat.completion.chunk", "created": stamp.created,
                        "model": stamp.model, "system_fingerprint": null, "choices": [], "usage": usage_json(usage),
                    });
                    tail.push_str(&format!("data: {chunk}\n\n"));
                }
                tail.push_str("data: [DONE]\n\n");
                Some(Bytes::from(tail))
            }
        };
        std::future::ready(out.map(Ok))
    });
    let mut response = Response::new(Body::from_stream(head.chain(body)));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, "text/event-stream".parse().expect("static"));
    headers.insert(header::CACHE_CONTROL, "no-cache".parse().expect("static"));
    // Proxies (nginx) pass each event on at once.
    headers.insert("x-accel-buffering", "no".parse().expect("static"));
    response
}

/// One call's work, in a task of its own.
struct Job {
    state: AppState,
    user: User,
    /// The ledger row, when it was written before the call (else written by the task as the call starts).
    ledger: Option<i64>,
    prompt_tokens: i64,
    stamp: Stamp,
}

impl Job {
    /// Opens the provider's stream (saying whether it opened), relays it, then completes the ledger row and, when
    /// asked, stores the exchange. A handler that went away stops the relay; what was received is still counted.
    async fn run(
        self,
        completion: Completion,
        opened: oneshot::Sender<Result<(), ProviderError>>,
        events: mpsc::Sender<Relay>,
    ) {
        let started = Instant::now();
        let request = &completion.request;
        let mut reply = Reply::default();
        // A failure to open is answered once it is counted (and saved), so that whoever sees the error sees the
        // ledger as it will stay.
        let mut refused = None;
        let pool = &self.state.db.pool;
        let (opened_stream, ledger) = match self.ledger {
            Some(id) => (self.state.chat.provider.stream(request).await, Some(id)),
            None => {
                let now = crate::core::db::now_millis();
                let row = crate::chat::quota::insert_unstored(
                    pool,
                    self.user.id,
                    &self.stamp.model,
                    self.prompt_tokens,
                    "v1",
                    now,
                );
                let (opened, row) = tokio::join!(self.state.chat.provider.stream(request), row);
                let row = row
                    .inspect_err(|e| tracing::error!(error = %e, "v1 completion: ledger row not written"))
                    .ok();
                (opened, row)
            }
        };
        let outcome = match opened_stream {
            Err(failure) => {
                refused = Some(opened);
                Err(failure)
            }
            Ok(mut stream) => {
                let mut listening = opened.send(Ok(())).is_ok();
                let mut outcome = Ok(());
                while listening && let Some(event) = stream.next().await {
                    let event = match event {
                        Ok(event) => event,
                        // A failure after the model finished changes nothing.
                        Err(_) if reply.finished => break,
                        Err(failure) => {
                            outcome = Err(failure);
                            break;
                        }
                    };
                    if let StreamEvent::Finish { finish_reason, usage } = &event {
                        // Mistral's `error` finish is no OpenAI finish reason: the reply broke.
                        if finish_reason.as_deref() == Some("error") {
                            reply.usage = *usage;
                            outcome = Err(ProviderError::CutOff);
                            break;
                        }
                        // A second end (usage sent apart by some servers) only completes the first.
                        if reply.finished {
                            reply.usage = usage.or(reply.usage);
                            continue;
                        }
                    }
                    reply.take(&event, started);
                    listening = events.send(Relay::Event(event)).await.is_ok();
                }
                if !listening && outcome.is_ok() && !reply.finished {
                    reply.hung_up = true;
                }
                outcome
            }
        };
        let usage = reply.usage.unwrap_or(Usage {
            prompt_tokens: u64::try_from(self.prompt_tokens).unwrap_or(0),
            completion_tokens: u64::try_from(crate::chat::quota::estimate_tokens(reply.text.chars().count()))
                .unwrap_or(0),
            total_tokens: 0,
        });
        let status = match (&outcome, reply.hung_up) {
            (Err(_), _) => "error",
            (Ok(()), true) => "interrupted",
            (Ok(()), false) => "delivered",
        };
        if let Err(e) = &outcome {
            self.state.metrics.provider_error(e.code());
        }
        let tokens = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let (prompt, completion_tokens) = (tokens(usage.prompt_tokens), tokens(usage.completion_tokens));
        if let Some(ledger) = ledger
            && let Err(e) =
                crate::chat::quota::end_unstored(pool, ledger, status, prompt, completion_tokens, reply.first_token)
                    .await
        {
            tracing::error!(error = %e, "v1 completion: usage not recorded");
        }
        if completion.save {
            let draft = saved(&self.stamp, &completion, &reply, status, outcome.as_ref().err(), usage);
            match crate::chat::store::insert_draft(pool, self.user.id, &draft).await {
                Ok(id) => tracing::info!(user_id = self.user.id, conversation_id = id, "v1 completion saved"),
                Err(e) => tracing::error!(error = %e, user_id = self.user.id, "v1 completion: not saved"),
            }
        }
        // The end goes out last: a client that has the whole answer finds it counted (and saved).
        match (outcome, refused) {
            (Err(failure), Some(opened)) => {
                let _ = opened.send(Err(failure));
            }
            (Err(failure), None) => {
                let _ = events.send(Relay::Failed(failure)).await;
            }
            (Ok(()), _) if !reply.hung_up => {
                let _ = events.send(Relay::Done(usage)).await;
            }
            (Ok(()), _) => {}
        }
    }
}

/// The reply as it came.
#[derive(Default)]
struct Reply {
    text: String,
    calls: ToolCalls,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    first_token: Option<i64>,
    finished: bool,
    /// The client left before the end (the rest was not read).
    hung_up: bool,
}

impl Reply {
    fn take(&mut self, event: &StreamEvent, started: Instant) {
        match event {
            StreamEvent::Delta(text) => {
                self.first_token
                    .get_or_insert_with(|| i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX));
                self.text.push_str(text);
            }
            StreamEvent::ToolCall(piece) => self.calls.push(piece.clone()),
            StreamEvent::Finish { finish_reason, usage } => {
                self.finished = true;
                self.finish_reason.clone_from(finish_reason);
                self.usage = *usage;
            }
        }
    }
}

/// The exchange as a conversation: the system messages as its system prompt, each turn as a message (an
/// assistant's tool calls and their results as its steps, joined with the text it wrote after them), and the reply.
fn saved(
    stamp: &Stamp,
    completion: &Completion,
    reply: &Reply,
    status: &str,
    failure: Option<&ProviderError>,
    usage: Usage,
) -> crate::chat::import::Draft {
    use crate::chat::import::{Draft, DraftMessage};
    let now = crate::core::db::now_millis();
    let mut draft = Draft {
        source: format!("openai-api:{}", stamp.id),
        created_at: now,
        updated_at: now,
        status: "active".into(),
        ..Draft::default()
    };
    let message = |role: &str, content: &str, parent: Option<usize>| DraftMessage {
        parent,
        role: role.to_string(),
        content: content.to_string(),
        content_type: "text/plain".into(),
        status: "delivered".into(),
        created_at: now,
        updated_at: now,
        delivered_at: Some(now),
        additional_data: "{}".into(),
        metadata: "{}".into(),
        ..DraftMessage::default()
    };
    let mut system = Vec::new();
    let mut round = 0;
    for wire in &completion.request.messages {
        let parent = draft.messages.len().checked_sub(1);
        match wire.role.as_str() {
            "system" => system.push(wire.content.clone()),
            "tool" => {
                // The result of a call of the assistant message before it.
                let id = wire.tool_call.as_ref().map(|(id, _)| id.as_str()).unwrap_or_default();
                if let Some(step) = draft
                    .messages
                    .last_mut()
                    .and_then(|m| m.steps.iter_mut().find(|s| s.call_id == id))
                {
                    step.status = "done".into();
                    step.result = Some(wire.content.clone());
                }
            }
            "assistant" => {
                let joins = draft
                    .messages
                    .last()
                    .is_some_and(|m| m.role == "assistant" && !m.steps.is_empty());
                if !joins {
                    draft.messages.push(message("assistant", "", parent));
                }
                let last = draft.messages.last_mut().expect("just pushed");
                if !wire.content.is_empty() {
                    if !last.content.is_empty() {
                        last.content.push_str("\n\n");
                    }
                    last.content.push_str(&wire.content);
                }
                for call in &wire.tool_calls {
                    last.steps.push(step(call, round, "interrupted", now));
                }
                if !wire.tool_calls.is_empty() {
                    round += 1;
                }
            }
            _ => {
                let mut m = message("user", &wire.content, parent);
                if !wire.images.is_empty() {
                    m.additional_data = json!({"images_not_kept": wire.images.len()}).to_string();
                }
                draft.messages.push(m);
            }
        }
    }
    draft.system_prompt = system.join("\n\n");
    let title_source = draft
        .messages
        .iter()
        .find(|m| m.role == "user")
        .map_or(String::new(), |m| m.content.clone());
    let title: String = title_source.split_whitespace().collect::<Vec<_>>().join(" ");
    draft.title = if title.is_empty() {
        "API call".to_string()
    } else {
        title.chars().take(80).collect()
    };
    let mut metadata = json!({
        "model": stamp.model, "source": "openai-api", "completion_id": stamp.id,
        "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
        "finish_reason": finish_reason(reply.finish_reason.as_deref()),
    });
    if let Some(failure) = failure {
        metadata["error"] = failure.to_metadata();
    }
    // The reply: the text after the calls of the assistant message before it joins that message, as a reply of the
    // chat that called tools is one message.
    let joins = draft
        .messages
        .last()
        .is_some_and(|m| m.role == "assistant" && !m.steps.is_empty());
    if !joins {
        let parent = draft.messages.len().checked_sub(1);
        draft.messages.push(message("assistant", "", parent));
    }
    let answer = draft.messages.last_mut().expect("just pushed");
    if !reply.text.is_empty() {
        if !answer.content.is_empty() {
            answer.content.push_str("\n\n");
        }
        answer.content.push_str(&reply.text);
    }
    answer.status = status.to_string();
    answer.metadata = metadata.to_string();
    // Calls the client is to run: kept as calls whose result never came back here.
    for call in reply.calls.clone().finish(round) {
        answer.steps.push(step(&call, round, "interrupted", now));
    }
    draft.current_leaf = Some(draft.messages.len() - 1);
    draft
}

fn step(call: &ToolCall, round: usize, status: &str, now: i64) -> crate::chat::import::DraftStep {
    crate::chat::import::DraftStep {
        round: i64::try_from(round).unwrap_or(0),
        call_id: call.id.clone(),
        tool: call.name.clone(),
        arguments: call.arguments.clone(),
        status: status.to_string(),
        started_at: now,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mistrals_hosted_api_gets_image_addresses() {
        assert!(hosted_mistral("https://api.mistral.ai"));
        assert!(hosted_mistral("https://api.mistral.ai/"));
        assert!(!hosted_mistral("http://127.0.0.1:8000"));
        assert!(!hosted_mistral("https://api.mistral.ai.evil.example"));
    }

    #[test]
    fn a_saved_exchange_keeps_turns_calls_and_results() {
        let completion = translate::completion(
            &json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "abcdefghi", "type": "function", "function": {"name": "weather", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "abcdefghi", "content": "21 C"},
            ],
            }),
            false,
        )
        .unwrap();
        let reply = Reply {
            text: "It is 21 °C.".into(),
            ..Reply::default()
        };
        let stamp = Stamp {
            id: "chatcmpl-x".into(),
            created: 0,
            model: "m".into(),
        };
        let draft = saved(&stamp, &completion, &reply, "delivered", None, Usage::default());
        assert_eq!(draft.system_prompt, "Be brief.");
        assert_eq!(draft.title, "Weather in Paris?");
        let roles: Vec<&str> = draft.messages.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["user", "assistant"]);
        assert_eq!(draft.messages[1].steps[0].result.as_deref(), Some("21 C"));
        assert_eq!(draft.messages[1].steps[0].status, "done");
        assert_eq!(draft.messages[1].content, "It is 21 °C.");
        assert_eq!(draft.messages[1].parent, Some(0));
        assert_eq!(draft.current_leaf, Some(1));
    }
}
