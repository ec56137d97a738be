//! A fake of the Mistral API for tests and benchmarks: a real HTTP server on 127.0.0.1 speaking the same wire format
//! (SSE chunks with the padding field `p`, usage on the last chunk, `[DONE]`, `422 extra_forbidden` on unknown keys)
//! that records every request it receives.
//!
//! Faults are asked for by markers in the last user message, so tests, the browser and the benchmark can all reach
//! them: `[fake:401]`, `[fake:403]`, `[fake:404]`, `[fake:422]`, `[fake:429]` (with `Retry-After: 1`), `[fake:500]`,
//! `[fake:503]`, `[fake:fail-once:503]` / `[fake:fail-twice:429]` (the first one or two requests carrying that marker
//! fail, later ones succeed), `[fake:cut]` (the stream breaks after a few tokens), `[fake:malformed]` (an unreadable
//! chunk after a few tokens), `[fake:hang]` (never answers), `[fake:hang-mid]` (goes silent after a few tokens),
//! `[fake:tokens=N]` (reply length), `[fake:tps=N]` (tokens per second) and `[fake:stamp]` (each token ends with
//! `@<epoch microseconds>` of the moment it was sent, for latency benchmarks), `[fake:timeline]` (the moments the
//! request came and its answer ended go to `/_fake/timeline`, with the fake SearXNG's for queries naming `timeline`:
//! one clock for the time a tool round adds, `bench/tools`). Function calling — Mistral's rules on
//! tools and on a history with calls, and calls made on request — is in [`super::fake_tools`], with a fake SearXNG
//! instance at `/_fake/searxng` for the web search tool.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use futures_util::StreamExt;
use serde_json::{Value, json};

/// How the fake behaves.
#[derive(Debug, Clone)]
pub struct FakeSettings {
    /// The key clients must send as `Authorization: Bearer …`.
    pub api_key: String,
    /// Default streaming rate.
    pub tokens_per_second: f64,
}

impl Default for FakeSettings {
    fn default() -> Self {
        Self {
            api_key: "fake-key".to_string(),
            tokens_per_second: 200.0,
        }
    }
}

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The JSON body.
    pub body: Value,
}

#[derive(Debug, Default)]
pub(super) struct Shared {
    settings: Option<FakeSettings>,
    requests: Mutex<Vec<RecordedRequest>>,
    embeddings: Mutex<Vec<Value>>,
    ocr: Mutex<Vec<Value>>,
    failures: Mutex<HashMap<String, u32>>,
    timeline: Mutex<Vec<Value>>,
}

impl Shared {
    /// Notes `event` at this microsecond on the timeline.
    pub(super) fn note(&self, event: &str, key: &str) {
        if let Ok(mut timeline) = self.timeline.lock() {
            timeline.push(json!({"at": now_micros() as u64, "event": event, "key": key}));
        }
    }
}

/// A running fake server.
#[derive(Debug)]
pub struct FakeMistral {
    /// Where it listens.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeMistral {
    /// Starts a fake on a free port of 127.0.0.1.
    pub async fn start(settings: FakeSettings) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            settings: Some(settings),
            ..Shared::default()
        });
        let app = router(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener.tap_io(no_delay), app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// The base URL to configure (`MISTRAL_BASE_URL`).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every chat request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The bodies of the OCR requests received so far (the document's URL cut to its first 40 characters).
    pub fn ocr_requests(&self) -> Vec<Value> {
        self.shared.ocr.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// The bodies of the embeddings requests received so far, oldest first.
    pub fn embedding_requests(&self) -> Vec<Value> {
        self.shared.embeddings.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for FakeMistral {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the fake on `listener` until the process ends (the `fake-mistral` command).
pub async fn serve(listener: tokio::net::TcpListener, settings: FakeSettings) -> std::io::Result<()> {
    let shared = Arc::new(Shared {
        settings: Some(settings),
        ..Shared::default()
    });
    axum::serve(listener.tap_io(no_delay), router(shared)).await
}

/// Sends each piece at once, as a real API does: without TCP_NODELAY, Nagle's algorithm holds a piece written soon
/// after another until the client acknowledges the first (delayed ACKs: some 40 ms).
fn no_delay(tcp: &mut tokio::net::TcpStream) {
    let _ = tcp.set_nodelay(true);
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(completions))
        .route("/v1/embeddings", post(embeddings))
        .route("/v1/ocr", post(ocr))
        .route("/_fake/requests", get(recorded))
        .route("/_fake/timeline", get(timeline))
        .route("/_fake/searxng/search", get(super::fake_tools::searxng))
        // Mistral takes eight images of 10 MB each in one request (axum's default would stop at 2 MB).
        .layer(axum::extract::DefaultBodyLimit::max(128 << 20))
        .with_state(shared)
}

/// Id, chat, vision.
const MODELS: &[(&str, bool, bool)] = &[
    ("mistral-small-latest", true, true),
    ("mistral-medium-latest", true, true),
    ("mistral-large-latest", true, true),
    ("codestral-latest", true, false),
    ("mistral-embed", false, false),
];

fn settings(shared: &Shared) -> FakeSettings {
    shared.settings.clone().unwrap_or_default()
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let expected = format!("Bearer {}", settings(shared).api_key);
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"message": "Unauthorized", "request_id": "fake"})),
    )
        .into_response()
}

async fn models(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !authorized(&shared, &headers) {
        return unauthorized();
    }
    let data: Vec<Value> = MODELS
        .iter()
        .map(|(id, chat, vision)| {
            json!({"id": id, "object": "model", "created": 1_700_000_000, "owned_by": "mistralai",
                   "max_context_length": 32768, "aliases": [], "deprecation": null,
                   "capabilities": {"completion_chat": chat, "function_calling": chat, "vision": vision},
                   "type": "base"})
        })
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}

/// The moments noted for `[fake:timeline]` requests and searches, oldest first.
async fn timeline(State(shared): State<Arc<Shared>>) -> Json<Vec<Value>> {
    Json(shared.timeline.lock().map(|t| t.clone()).unwrap_or_default())
}

async fn recorded(State(shared): State<Arc<Shared>>) -> Json<Vec<Value>> {
    let requests = shared.requests.lock().map(|r| r.clone()).unwrap_or_default();
    Json(requests.into_iter().map(|r| r.body).collect())
}

const TOP_LEVEL_KEYS: &[&str] = &[
    "model",
    "messages",
    "temperature",
    "top_p",
    "max_tokens",
    "stream",
    "stop",
    "random_seed",
    "safe_prompt",
    "response_format",
    "presence_penalty",
    "frequency_penalty",
    "n",
    "tools",
    "tool_choice",
    "prediction",
    "parallel_tool_calls",
];
/// The keys a message may have, by role: Mistral takes `name` on a tool's result only (an OpenAI client's `name` on
/// a user message is refused), and `prefix` on the assistant's.
fn message_keys(role: &str) -> &'static [&'static str] {
    match role {
        "tool" => &["role", "content", "tool_call_id", "name"],
        "assistant" => &["role", "content", "tool_calls", "prefix"],
        _ => &["role", "content"],
    }
}

/// Mistral's 422 for unknown keys, listing each offender.
fn extra_forbidden(body: &Value) -> Option<Response> {
    let mut offenders = Vec::new();
    if let Some(map) = body.as_object() {
        offenders.extend(map.keys().filter(|k| !TOP_LEVEL_KEYS.contains(&k.as_str())).cloned());
        for (i, message) in map
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(m) = message.as_object() {
                let allowed = message_keys(m.get("role").and_then(Value::as_str).unwrap_or_default());
                offenders.extend(
                    m.keys()
                        .filter(|k| !allowed.contains(&k.as_str()))
                        .map(|k| format!("messages.{i}.{k}")),
                );
            }
            // Chunks of an array content: only known types, each with exactly its keys.
            for (j, part) in message
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let allowed: &[&str] = match part.get("type").and_then(Value::as_str) {
                    Some("text") => &["type", "text"],
                    Some("image_url") => &["type", "image_url"],
                    _ => &[],
                };
                if let Some(map) = part.as_object() {
                    offenders.extend(
                        map.keys()
                            .filter(|k| !allowed.contains(&k.as_str()))
                            .map(|k| format!("messages.{i}.content.{j}.{k}")),
                    );
                }
                if let Some(Value::Object(image)) = part.get("image_url") {
                    offenders.extend(
                        image
                            .keys()
                            .filter(|k| !["url", "detail"].contains(&k.as_str()))
                            .map(|k| format!("messages.{i}.content.{j}.image_url.{k}")),
                    );
                }
            }
        }
    }
    (!offenders.is_empty()).then(|| {
        let detail: Vec<Value> = offenders
            .iter()
            .map(|k| json!({"type": "extra_forbidden", "loc": ["body", k], "msg": "Extra inputs are not permitted"}))
            .collect();
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"object": "error", "message": {"detail": detail}, "type": "invalid_request_message_error"})),
        )
            .into_response()
    })
}

/// Dimensions of the fake's embeddings.
pub const EMBEDDING_DIMENSIONS: usize = 64;

/// The fake's embedding of `text`: its words hashed into [`EMBEDDING_DIMENSIONS`] buckets, normalised — texts that
/// share words point the same way, as real embeddings of related texts do.
pub fn fake_embedding(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; EMBEDDING_DIMENSIONS];
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2) {
        let mut hash: u32 = 0x811c_9dc5;
        for byte in word.to_lowercase().bytes() {
            hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
        }
        v[hash as usize % EMBEDDING_DIMENSIONS] += 1.0;
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// `POST /v1/ocr` as Mistral answers it for a PDF given as a `data:` URL: one page of Markdown per page of the
/// document (counted from its page objects), numbered from 0, saying "Scanned page N".
async fn ocr(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    use base64::Engine;
    let error = |status: StatusCode, message: &str| {
        (
            status,
            Json(json!({"object": "error", "message": message, "type": "invalid_request_error"})),
        )
            .into_response()
    };
    let Ok(mut body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Invalid JSON body");
    };
    let url = body["document"]["document_url"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if let Ok(mut seen) = shared.ocr.lock() {
        let mut recorded = body.clone();
        recorded["document"]["document_url"] = json!(url.chars().take(40).collect::<String>());
        seen.push(recorded);
    }
    body["document"]["document_url"] = Value::Null;
    if !authorized(&shared, &headers) {
        return unauthorized();
    }
    if body.get("model").and_then(Value::as_str) != Some("mistral-ocr-latest") {
        return error(StatusCode::BAD_REQUEST, "Invalid model");
    }
    if body["document"]["type"] != "document_url" {
        return error(StatusCode::UNPROCESSABLE_ENTITY, "document.type must be document_url");
    }
    let Some(pdf) = url
        .strip_prefix("data:application/pdf;base64,")
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
    else {
        return error(StatusCode::BAD_REQUEST, "document_url must be a PDF data URL");
    };
    let count = |needle: &[u8]| pdf.windows(needle.len()).filter(|w| *w == needle).count();
    let pages = count(b"/Type /Page").saturating_sub(count(b"/Type /Pages"));
    let data: Vec<Value> = (0..pages)
        .map(|index| {
            json!({"index": index, "markdown": format!("Scanned page {} reads: the invoice total is 1234 euros.", index + 1),
                   "images": [], "dimensions": {"dpi": 200, "height": 2200, "width": 1700}})
        })
        .collect();
    Json(json!({
        "pages": data,
        "model": "mistral-ocr-2512",
        "document_annotation": null,
        "usage_info": {"pages_processed": pages, "doc_size_bytes": pdf.len()},
    }))
    .into_response()
}

/// `POST /v1/embeddings` as Mistral answers it: `mistral-embed` only, `input` a string or a list of strings.
async fn embeddings(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let error = |status: StatusCode, message: &str| {
        (
            status,
            Json(json!({"object": "error", "message": message, "type": "invalid_request_error"})),
        )
            .into_response()
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Invalid JSON body");
    };
    if let Ok(mut seen) = shared.embeddings.lock() {
        seen.push(body.clone());
    }
    if !authorized(&shared, &headers) {
        return unauthorized();
    }
    // OpenAI's fields that Mistral refuses.
    let offenders: Vec<Value> = ["dimensions", "user"]
        .iter()
        .filter(|k| body.get(**k).is_some())
        .map(|k| json!({"type": "extra_forbidden", "loc": ["body", k], "msg": "Extra inputs are not permitted"}))
        .collect();
    if !offenders.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"object": "error", "message": {"detail": offenders}, "type": "invalid_request_message_error"})),
        )
            .into_response();
    }
    if body.get("model").and_then(Value::as_str) != Some("mistral-embed") {
        return error(StatusCode::BAD_REQUEST, "Invalid model");
    }
    if body["input"].as_array().is_some_and(|items| items.len() > 512) {
        return error(
            StatusCode::BAD_REQUEST,
            "Too many inputs in request, split into more batches.",
        );
    }
    let inputs: Vec<String> = match body.get("input") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    if inputs.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"object": "error", "message": {"detail": [{"type": "missing", "loc": ["body", "input"]}]}})),
        )
            .into_response();
    }
    let tokens: usize = inputs.iter().map(|i| i.len().div_ceil(4)).sum();
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| json!({"object": "embedding", "embedding": fake_embedding(text), "index": index}))
        .collect();
    Json(json!({
        "id": "embd-fake",
        "object": "list",
        "data": data,
        "model": "mistral-embed",
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
    .into_response()
}

fn marker_number(prompt: &str, name: &str) -> Option<f64> {
    let start = prompt.find(&format!("[fake:{name}="))? + name.len() + 7;
    let end = prompt[start..].find(']')? + start;
    prompt[start..end].parse().ok()
}

async fn completions(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"object": "error", "message": "Invalid JSON body", "type": "invalid_request_error"})),
        )
            .into_response();
    };
    if let Ok(mut requests) = shared.requests.lock() {
        requests.push(RecordedRequest {
            authorization: headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            body: body.clone(),
        });
    }
    if !authorized(&shared, &headers) {
        return unauthorized();
    }
    if let Some(rejection) = extra_forbidden(&body) {
        return rejection;
    }
    if let Some(rejection) = super::fake_tools::check(&body) {
        return rejection;
    }
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let last_user = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"));
    let prompt = last_user.map(text_of).unwrap_or_default();
    // The key of a timed request: its prompt, and how many tool results it carries (its round).
    let timed = prompt.contains("[fake:timeline]").then(|| {
        let round = messages
            .iter()
            .filter(|m| m.get("role").and_then(Value::as_str) == Some("tool"))
            .count();
        format!("{prompt}#{round}")
    });
    if let Some(key) = &timed {
        shared.note("request", key);
    }
    let images = match check_images(&model, &messages) {
        Ok(images) => images,
        Err(rejection) => return *rejection,
    };

    if let Some(response) = planned_failure(&shared, &prompt) {
        return response;
    }
    if prompt.contains("[fake:hang]") {
        tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
    }
    if !MODELS.iter().any(|(id, chat, _)| *id == model && *chat) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"object": "error", "message": format!("Invalid model: {model}"), "type": "invalid_model"})),
        )
            .into_response();
    }

    let tps = marker_number(&prompt, "tps")
        .unwrap_or(settings(&shared).tokens_per_second)
        .max(0.1);
    if let Some(chunks) = super::fake_tools::reply(&model, &prompt, &body) {
        let interval = Duration::from_secs_f64(1.0 / tps);
        let stream = futures_util::stream::iter(chunks)
            .then(move |piece| async move {
                tokio::time::sleep(interval).await;
                Ok::<_, std::io::Error>(piece)
            })
            .chain(futures_util::stream::once(async move {
                if let Some(key) = timed {
                    shared.note("calls_sent", &key);
                }
                Ok(Bytes::from_static(b"data: [DONE]\n\n"))
            }));
        return event_stream(stream);
    }
    let mut tokens = reply_tokens(&prompt);
    if images > 0 {
        tokens.push(format!(" [saw {images} image(s)]"));
    }
    let prompt_tokens: usize = messages.iter().map(|m| text_of(m).split_whitespace().count()).sum();
    let cut = prompt.contains("[fake:cut]");
    let malformed = prompt.contains("[fake:malformed]");
    let hang_mid = prompt.contains("[fake:hang-mid]");
    let stamp = prompt.contains("[fake:stamp]");
    let interval = Duration::from_secs_f64(1.0 / tps);
    let total = tokens.len();

    let first = chunk(&model, json!({"role": "assistant", "content": ""}), None, None);
    let events = futures_util::stream::iter(tokens.into_iter().enumerate()).then(move |(i, token)| {
        let model = model.clone();
        async move {
            tokio::time::sleep(interval).await;
            if i == 3 && hang_mid {
                tokio::time::sleep(Duration::from_secs(24 * 3600)).await;
            }
            if i == 3 && cut {
                return Err(std::io::Error::other("cut"));
            }
            if i == 3 && malformed {
                return Ok(Bytes::from_static(b"data: {\"choices\": [{\"delta\": \n\n"));
            }
            // Benchmarks measure the delay to the browser from the moment each token leaves here.
            let token = if stamp {
                format!("{token}@{} ", now_micros())
            } else {
                token
            };
            let last = i + 1 == total;
            let usage = last.then(|| {
                json!({"prompt_tokens": prompt_tokens, "completion_tokens": total,
                       "total_tokens": prompt_tokens + total})
            });
            Ok(chunk(&model, json!({"content": token}), last.then_some("stop"), usage))
        }
    });
    let stream = futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) })
        .chain(events)
        .chain(futures_util::stream::once(async {
            Ok(Bytes::from_static(b"data: [DONE]\n\n"))
        }));
    event_stream(stream)
}

/// A `text/event-stream` answer of `stream`'s pieces.
fn event_stream<S>(stream: S) -> Response
where
    S: futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
{
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The text of a message: its content string, or its text chunks joined.
fn text_of(message: &Value) -> String {
    match message.get("content") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter(|p| p.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Mistral's rules for images: the object form or a string, a `data:` URL of PNG, JPEG, WEBP or GIF in valid base64
/// of at most 10 MB, at most 8 per request, and a model with vision. Returns how many images the request holds.
fn check_images(model: &str, messages: &[Value]) -> Result<usize, Box<Response>> {
    use base64::Engine;
    let bad = |message: String| {
        let body =
            json!({"object": "error", "message": message, "type": "invalid_request_message_error", "code": "3051"});
        Box::new((StatusCode::BAD_REQUEST, Json(body)).into_response())
    };
    let mut count = 0;
    for message in messages {
        for part in message.get("content").and_then(Value::as_array).into_iter().flatten() {
            if part.get("type").and_then(Value::as_str) != Some("image_url") {
                continue;
            }
            count += 1;
            let url = match part.get("image_url") {
                Some(Value::String(url)) => url.as_str(),
                Some(Value::Object(object)) => object.get("url").and_then(Value::as_str).unwrap_or_default(),
                _ => return Err(bad("image_url must be a string or an object".into())),
            };
            let Some(rest) = url.strip_prefix("data:") else {
                return Err(bad("the fake only takes data: URLs".into()));
            };
            let Some((media, data)) = rest.split_once(";base64,") else {
                return Err(bad("Invalid data URL".into()));
            };
            if !["image/png", "image/jpeg", "image/webp", "image/gif"].contains(&media) {
                return Err(bad(format!("Unsupported image type {media}")));
            }
            match base64::engine::general_purpose::STANDARD.decode(data) {
                Ok(bytes) if bytes.len() <= 10 << 20 => {}
                Ok(_) => return Err(bad("Image is larger than 10 MB".into())),
                Err(_) => return Err(bad("Invalid base64 in image".into())),
            }
        }
    }
    if count > 8 {
        return Err(bad(format!("Too many images in request. Max is 8, got {count}")));
    }
    if count > 0 && !MODELS.iter().any(|(id, _, vision)| *id == model && *vision) {
        return Err(bad(format!("Model {model} does not support image input")));
    }
    Ok(count)
}

fn now_micros() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or_default()
}

pub(super) fn chunk(model: &str, delta: Value, finish_reason: Option<&str>, usage: Option<Value>) -> Bytes {
    let mut value = json!({
        "id": "fake-cmpl", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        "p": "abcdefghij",
    });
    if let Some(usage) = usage {
        value["usage"] = usage;
    }
    Bytes::from(format!("data: {value}\n\n"))
}

/// The reply: "Fake reply to: <prompt>" word by word, or `[fake:tokens=N]` filler words.
fn reply_tokens(prompt: &str) -> Vec<String> {
    if let Some(n) = marker_number(prompt, "tokens") {
        const WORDS: &[&str] = &[
            "lorem",
            "ipsum",
            "dolor",
            "sit",
            "amet",
            "consectetur",
            "adipiscing",
            "elit",
        ];
        return (0..n.max(1.0) as usize)
            .map(|i| format!("{}{}", if i == 0 { "" } else { " " }, WORDS[i % WORDS.len()]))
            .collect();
    }
    let text = format!("Fake reply to: {prompt}");
    text.split_inclusive(' ').map(str::to_string).collect()
}

/// A failure asked for by a marker, if any.
fn planned_failure(shared: &Shared, prompt: &str) -> Option<Response> {
    for (marker, times) in [("fail-once", 1u32), ("fail-twice", 2)] {
        if let Some(start) = prompt.find(&format!("[fake:{marker}:")) {
            let end = prompt[start..].find(']')? + start;
            let key = prompt[start..=end].to_string();
            let code: u16 = prompt[start + marker.len() + 7..end].parse().ok()?;
            let mut failures = shared.failures.lock().ok()?;
            let count = failures.entry(key).or_insert(0);
            if *count < times {
                *count += 1;
                return Some(status_response(code));
            }
            return None;
        }
    }
    [401u16, 403, 404, 422, 429, 500, 502, 503]
        .into_iter()
        .find(|code| prompt.contains(&format!("[fake:{code}]")))
        .map(status_response)
}

fn status_response(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match code {
        401 => json!({"message": "Unauthorized", "request_id": "fake"}),
        422 => json!({"detail": [{"type": "value_error", "msg": "Prompt is not valid", "loc": ["body", "messages"]}]}),
        429 => json!({"object": "error", "message": "Rate limit exceeded", "type": "rate_limited", "code": "1300"}),
        _ => json!({"object": "error", "message": format!("fake error {code}"), "type": "api_error"}),
    };
    let mut response = (status, Json(body)).into_response();
    if code == 429
        && let Ok(value) = "1".parse()
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
