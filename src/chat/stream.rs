//! Following a reply while it is written, and the one encoding of its Server-Sent Events, used by the chat page and
//! the REST API alike: an optional first event, `snapshot` `{content}` (the text so far), `delta` `{text}`…, then
//! `done` with the finished message, which each caller renders in its own shape.
//!
//! It works wherever the reply is being generated: from memory when this process writes it, otherwise by following
//! the database (another instance, sharing the same PostgreSQL, is writing it).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::HeaderValue;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use crate::chat::generation::LiveEvent;
use crate::chat::markdown;
use crate::chat::store;
use crate::core::i18n::Lang;
use crate::state::AppState;

/// How often a reply generated elsewhere is re-read.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);

/// The item sent to a stream's reader.
pub enum ReplyEvent {
    /// The whole text so far.
    Snapshot(String),
    /// More text.
    Delta(String),
    /// A tool call started or ended (`chat::json::StepOut` as JSON).
    Step(Arc<str>),
    /// The reply is finished (saved).
    Done,
}

/// Feeds `tx` with the events of the reply `message_id` until it ends or the reader goes away. The caller has checked
/// that the reply is its user's.
pub async fn follow_reply(state: AppState, message_id: i64, tx: mpsc::Sender<ReplyEvent>) {
    if crate::chat::temporary::is_temporary(message_id) {
        follow_temporary(&state, message_id, &tx).await;
        return;
    }
    let send = |event| {
        let tx = tx.clone();
        async move { tx.send(event).await.is_ok() }
    };
    // The tool calls told so far, with the status told (the database is read for those not told live).
    let mut steps_told: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    if let Some((snapshot, steps, mut live)) = state.chat.subscribe(message_id) {
        if !send(ReplyEvent::Snapshot(snapshot)).await {
            return;
        }
        for step in steps {
            remember(&mut steps_told, &step);
            if !send(ReplyEvent::Step(step)).await {
                return;
            }
        }
        loop {
            match live.recv().await {
                Ok(LiveEvent::Delta(text)) => {
                    if !send(ReplyEvent::Delta(text)).await {
                        return;
                    }
                }
                Ok(LiveEvent::Step(step)) => {
                    remember(&mut steps_told, &step);
                    if !send(ReplyEvent::Step(step)).await {
                        return;
                    }
                }
                Ok(LiveEvent::Done) | Err(broadcast::error::RecvError::Closed) => break,
                // Too slow a reader: the database has the text; carry on from there.
                Err(broadcast::error::RecvError::Lagged(_)) => break,
            }
        }
    }
    // Follow the database: the generator (here or on another instance) saves at least every 500 ms. On PostgreSQL
    // its instance also publishes each new piece at once (`chat::followers`): those are passed on as they come, and
    // the database is read again on a gap, at the end, and after 250 ms without news.
    let mut news = state.chat.followers.subscribe(message_id);
    // The pieces that went by before now: the writer sends the whole text so far (its last save may be 500 ms old).
    if state.db.backend == crate::core::db::Backend::Postgres {
        crate::chat::followers::ask_resync(&state.db.pool, message_id).await;
    }
    let mut shown: Option<String> = None;
    loop {
        let message = match store::message_by_id(&state.db.pool, message_id).await {
            Ok(Some(m)) => m,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "could not follow a reply");
                tokio::time::sleep(FOLLOW_EVERY).await;
                continue;
            }
        };
        // A reply offered tools says so in its metadata: only then are its steps looked up.
        if message.metadata.contains("\"tools\"")
            && let Ok(steps) = store::steps_of(&state.db.pool, &[message_id]).await
        {
            for step in steps {
                if steps_told.get(&step.id) != Some(&step.status) {
                    steps_told.insert(step.id, step.status.clone());
                    let json = serde_json::to_string(&crate::chat::json::StepOut::from(&step)).unwrap_or_default();
                    if !send(ReplyEvent::Step(Arc::from(json))).await {
                        return;
                    }
                }
            }
        }
        let finished = !matches!(message.status.as_str(), "pending" | "streaming");
        if finished {
            // The end of the text the reader has not seen yet, then the end.
            if let Some(old) = &shown
                && message.content.len() > old.len()
                && message.content.starts_with(old.as_str())
                && !send(ReplyEvent::Delta(message.content[old.len()..].to_string())).await
            {
                return;
            }
            let _ = send(ReplyEvent::Done).await;
            return;
        }
        let event = match &shown {
            Some(old) if message.content.starts_with(old.as_str()) => {
                (message.content.len() > old.len()).then(|| ReplyEvent::Delta(message.content[old.len()..].to_string()))
            }
            // The pieces already shown are ahead of the last save.
            Some(old) if old.starts_with(message.content.as_str()) => None,
            _ => Some(ReplyEvent::Snapshot(message.content.clone())),
        };
        if let Some(event) = event
            && !send(event).await
        {
            return;
        }
        if shown
            .as_ref()
            .is_none_or(|old| !old.starts_with(message.content.as_str()))
        {
            shown = Some(message.content);
        }
        // Wait for news of this reply, passing on the pieces that continue what was shown. A piece further on means
        // earlier ones went by before this follower listened: it is kept, and the writer asked for the whole text.
        let mut ahead: std::collections::BTreeMap<usize, String> = std::collections::BTreeMap::new();
        let mut asked = false;
        loop {
            let piece = match tokio::time::timeout(FOLLOW_EVERY, news.pieces.recv()).await {
                Err(_) => break,
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => break,
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    tokio::time::sleep(FOLLOW_EVERY).await;
                    break;
                }
                Ok(Ok(piece)) => piece,
            };
            let (Some(more), false) = (piece.text, piece.done) else {
                break;
            };
            let text = shown.get_or_insert_with(String::new);
            if piece.at > text.len() {
                ahead.insert(piece.at, more);
                if !asked {
                    asked = true;
                    crate::chat::followers::ask_resync(&state.db.pool, message_id).await;
                }
                continue;
            }
            // From `at`, what goes beyond the text shown (a whole text sent again, or a piece that continues it).
            let mut at = piece.at;
            let mut pieces = vec![more];
            while let Some(next) = pieces.pop() {
                let end = at + next.len();
                if end > text.len() && next.is_char_boundary(text.len() - at) {
                    if !text.ends_with(&next[..text.len() - at]) && at < text.len() {
                        // The text diverged from what was shown (cannot happen with one writer): start over.
                        if !send(ReplyEvent::Snapshot(format!("{}{}", &text[..at], next))).await {
                            return;
                        }
                        text.truncate(at);
                        text.push_str(&next);
                    } else {
                        let extra = next[text.len() - at..].to_string();
                        text.push_str(&extra);
                        if !send(ReplyEvent::Delta(extra)).await {
                            return;
                        }
                    }
                }
                // Pieces kept for later that now continue the text.
                if let Some(entry) = ahead.first_entry()
                    && *entry.key() <= text.len()
                {
                    let (kept_at, kept) = entry.remove_entry();
                    at = kept_at;
                    pieces.push(kept);
                }
            }
        }
    }
}

/// Feeds `tx` with the events of the temporary reply `message_id` (`chat::temporary`): the text so far, the live
/// deltas, then the end (at once when it is not being written).
async fn follow_temporary(state: &AppState, message_id: i64, tx: &mpsc::Sender<ReplyEvent>) {
    while let Some((text, mut live)) = state.chat.temporary.subscribe(message_id) {
        if tx.send(ReplyEvent::Snapshot(text)).await.is_err() {
            return;
        }
        loop {
            match live.recv().await {
                Ok(LiveEvent::Delta(text)) => {
                    if tx.send(ReplyEvent::Delta(text)).await.is_err() {
                        return;
                    }
                }
                Ok(LiveEvent::Step(_)) => {}
                Ok(LiveEvent::Done) | Err(broadcast::error::RecvError::Closed) => {
                    let _ = tx.send(ReplyEvent::Done).await;
                    return;
                }
                // Too slow a reader: the whole text again.
                Err(broadcast::error::RecvError::Lagged(_)) => break,
            }
        }
    }
    let _ = tx.send(ReplyEvent::Done).await;
}

/// Notes the status of the step a `LiveEvent::Step` tells (the database is then read only for news).
fn remember(told: &mut std::collections::HashMap<i64, String>, step: &str) {
    #[derive(serde::Deserialize)]
    struct Told {
        id: i64,
        status: String,
    }
    if let Ok(step) = serde_json::from_str::<Told>(step) {
        told.insert(step.id, step.status);
    }
}

/// What the chat page's stream renders for it: in its language, and a call waiting for approval answerable from the
/// conversation's page.
#[derive(Debug, Clone)]
pub struct Preview {
    /// The page's language.
    pub lang: Lang,
    /// For the Allow and Deny forms.
    pub answering: crate::chat::steps_html::Answering,
}

/// How often, at most, the page's stream sends the rendering of the text so far.
const PREVIEW_EVERY: Duration = Duration::from_millis(100);

/// The Server-Sent Events of the reply `message_id` (already checked to be the caller's): `first` if given, then its
/// text so far, live deltas, and `done` with the data `done` renders for the finished message (no `done` event when
/// it renders nothing, e.g. the message was deleted meanwhile). With `preview` (the chat page, in its language), the
/// snapshot and at most every 100 ms a delta also carry `html`: the whole text so far as sanitised Markdown, rendered
/// exactly as the finished reply will be, so the page never shows raw Markdown.
pub fn sse<F, Fut>(
    state: AppState,
    message_id: i64,
    first: Option<Event>,
    preview: Option<Preview>,
    done: F,
) -> Response
where
    F: Fn(AppState, i64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<String>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(256);
    // The reply is followed inside the response's own task, not a task of its own: a token goes from the generator to
    // the reader's connection in one wake-up (under a burst every hop waits its turn on a busy worker), and a reader
    // who leaves drops the follower with the response.
    let follower = futures_util::stream::once(follow_reply(state.clone(), message_id, tx))
        .filter_map(|()| std::future::ready(None::<ReplyEvent>));
    let done = Arc::new(done);
    let mut so_far = String::new();
    let mut rendered_at: Option<Instant> = None;
    let mut steps: Vec<crate::chat::json::StepOut> = Vec::new();
    // What the page's events carry beside the data: `html` (the text so far, rendered), and for a step the steps'
    // and their links' rendering (`html`, `links`).
    let mut render = move |event: &ReplyEvent| -> Option<serde_json::Value> {
        let Preview { lang, answering } = preview.clone()?;
        let due = match event {
            ReplyEvent::Snapshot(content) => {
                so_far.clone_from(content);
                true
            }
            ReplyEvent::Delta(text) => {
                so_far.push_str(text);
                rendered_at.is_none_or(|at| at.elapsed() >= PREVIEW_EVERY)
            }
            ReplyEvent::Step(step) => {
                let step: crate::chat::json::StepOut = serde_json::from_str(step).ok()?;
                match steps.iter_mut().find(|s| s.id == step.id) {
                    Some(known) => *known = step,
                    None => steps.push(step),
                }
                return Some(json!({
                    "html": crate::chat::steps_html::steps_html(&steps, lang, &answering),
                    "links": crate::chat::steps_html::links_html(&steps, lang),
                }));
            }
            ReplyEvent::Done => false,
        };
        due.then(|| {
            rendered_at = Some(Instant::now());
            json!({ "html": markdown::localise(markdown::to_safe_html(&so_far), lang) })
        })
    };
    let events = futures_util::stream::select(ReceiverStream::new(rx), follower)
        .map(move |event| {
            let extra = render(&event);
            (event, extra)
        })
        .then(move |(event, extra)| {
            let (state, done) = (state.clone(), done.clone());
            let with_extra = move |mut data: serde_json::Value| {
                if let (Some(serde_json::Value::Object(extra)), Some(map)) = (extra, data.as_object_mut()) {
                    map.extend(extra);
                }
                data.to_string()
            };
            async move {
                match event {
                    ReplyEvent::Snapshot(content) => Some(
                        Event::default()
                            .event("snapshot")
                            .data(with_extra(json!({ "content": content }))),
                    ),
                    ReplyEvent::Delta(text) => Some(
                        Event::default()
                            .event("delta")
                            .data(with_extra(json!({ "text": text }))),
                    ),
                    ReplyEvent::Step(step) => Some(
                        Event::default()
                            .event("step")
                            .data(with_extra(serde_json::from_str(&step).unwrap_or_default())),
                    ),
                    ReplyEvent::Done => done(state, message_id)
                        .await
                        .map(|data| Event::default().event("done").data(data)),
                }
            }
        })
        .filter_map(std::future::ready);
    let stream = futures_util::stream::iter(first).chain(events).map(Ok::<_, Infallible>);
    let mut response = Sse::new(stream).keep_alive(KeepAlive::default()).into_response();
    // Proxies must not buffer the stream.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
