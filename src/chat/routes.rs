//! Plain HTTP routes of chat: the live stream of a reply (Server-Sent Events) and conversation exports.
//!
//! The stream of a reply starts with a `snapshot` (the text so far), then `delta` events, then `done` with the saved
//! message. It works wherever the reply is being generated: from memory when this process writes it, otherwise by
//! following the database (another instance, sharing the same PostgreSQL, is writing it).

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use crate::accounts::auth::AuthSession;
use crate::accounts::users::User;
use crate::chat::generation::LiveEvent;
use crate::chat::types::{ChatError, MessageView};
use crate::chat::{service, store};
use crate::core::error::AppError;
use crate::state::AppState;

/// How often a reply generated elsewhere is re-read.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);

/// `/chat/{id}/messages/{message_id}/events` and `/chat/{id}/export.{md|json}`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/chat/{conversation_id}/messages/{message_id}/events", get(events))
        .route("/chat/{conversation_id}/export/{format}", get(export))
}

fn not_found(headers: &HeaderMap) -> Response {
    AppError::NotFound.into_html_for(headers)
}

fn chat_error(e: ChatError, headers: &HeaderMap) -> Response {
    match e {
        ChatError::NotFound => not_found(headers),
        _ => AppError::Internal(e.to_string()).into_html_for(headers),
    }
}

/// The item sent to a stream's reader.
pub enum ReplyEvent {
    /// The whole text so far.
    Snapshot(String),
    /// More text.
    Delta(String),
    /// The final message.
    Done(Box<MessageView>),
}

/// Feeds `tx` with the events of the reply `message_id` until it ends or the reader goes away.
pub async fn follow_reply(state: AppState, user: User, message_id: i64, tx: mpsc::Sender<ReplyEvent>) {
    let send = |event| {
        let tx = tx.clone();
        async move { tx.send(event).await.is_ok() }
    };
    if let Some((snapshot, mut live)) = state.chat.subscribe(message_id) {
        if !send(ReplyEvent::Snapshot(snapshot)).await {
            return;
        }
        loop {
            match live.recv().await {
                Ok(LiveEvent::Delta(text)) => {
                    if !send(ReplyEvent::Delta(text)).await {
                        return;
                    }
                }
                Ok(LiveEvent::Done) | Err(broadcast::error::RecvError::Closed) => break,
                // Too slow a reader: the database has the text; carry on from there.
                Err(broadcast::error::RecvError::Lagged(_)) => break,
            }
        }
    }
    // Follow the database: the generator (here or on another instance) saves at least every 500 ms.
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
        let finished = !matches!(message.status.as_str(), "pending" | "streaming");
        if finished {
            if let Ok(view) = service::message(&state, &user, message_id).await {
                let _ = send(ReplyEvent::Done(Box::new(view))).await;
            }
            return;
        }
        let event = match &shown {
            Some(old) if message.content.starts_with(old.as_str()) => {
                (message.content.len() > old.len()).then(|| ReplyEvent::Delta(message.content[old.len()..].to_string()))
            }
            _ => Some(ReplyEvent::Snapshot(message.content.clone())),
        };
        if let Some(event) = event
            && !send(event).await
        {
            return;
        }
        shown = Some(message.content);
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

async fn events(
    State(state): State<AppState>,
    auth: AuthSession,
    headers: HeaderMap,
    Path((conversation_id, message_id)): Path<(String, String)>,
) -> Response {
    let Some(user) = auth.user else {
        return AppError::Forbidden("Please log in to continue.".into()).into_html_for(&headers);
    };
    let (Ok(conversation_id), Ok(message_id)) = (conversation_id.parse::<i64>(), message_id.parse::<i64>()) else {
        return not_found(&headers);
    };
    match store::message(&state.db.pool, user.id, message_id).await {
        Ok(Some(m)) if m.conversation_id == conversation_id => {}
        Ok(_) => return not_found(&headers),
        Err(e) => return chat_error(service::internal("stream lookup", e), &headers),
    }
    let (tx, rx) = mpsc::channel(256);
    tokio::spawn(follow_reply(state, user, message_id, tx));
    let stream = futures_util::StreamExt::map(ReceiverStream::new(rx), |event| {
        let event = match event {
            ReplyEvent::Snapshot(content) => Event::default()
                .event("snapshot")
                .data(json!({"content": content}).to_string()),
            ReplyEvent::Delta(text) => Event::default().event("delta").data(json!({"text": text}).to_string()),
            ReplyEvent::Done(view) => Event::default()
                .event("done")
                .data(serde_json::to_string(&view).unwrap_or_default()),
        };
        Ok::<_, Infallible>(event)
    });
    let mut response = Sse::new(stream).keep_alive(KeepAlive::default()).into_response();
    // Proxies must not buffer the stream.
    response
        .headers_mut()
        .insert("x-accel-buffering", header::HeaderValue::from_static("no"));
    response
}

/// The conversation (current branch) as Markdown or JSON.
async fn export(
    State(state): State<AppState>,
    auth: AuthSession,
    headers: HeaderMap,
    Path((conversation_id, format)): Path<(String, String)>,
) -> Response {
    let Some(user) = auth.user else {
        return AppError::Forbidden("Please log in to continue.".into()).into_html_for(&headers);
    };
    let Ok(id) = conversation_id.parse::<i64>() else {
        return not_found(&headers);
    };
    let view = match service::conversation_view(&state, &user, id).await {
        Ok(view) => view,
        Err(e) => return chat_error(e, &headers),
    };
    let stem = {
        let slug = store::slugify(&view.title);
        if slug.is_empty() {
            format!("conversation-{id}")
        } else {
            slug
        }
    };
    let (body, mime, ext) = match format.as_str() {
        "md" => {
            let mut text = format!("# {}\n\n", view.title);
            if !view.system_prompt.is_empty() {
                text.push_str(&format!("> System: {}\n\n", view.system_prompt.replace('\n', "\n> ")));
            }
            for m in &view.messages {
                let who = if m.role == "user" { "You" } else { "Assistant" };
                text.push_str(&format!("## {who}\n\n{}\n\n", m.content.trim_end()));
            }
            (text, "text/markdown; charset=utf-8", "md")
        }
        "json" => {
            let messages: Vec<_> = view
                .messages
                .iter()
                .map(|m| {
                    json!({"id": m.id, "parent_id": m.parent_id, "role": m.role, "content": m.content,
                                "status": m.status, "model": m.model, "error": m.error})
                })
                .collect();
            let document = json!({"id": view.id, "title": view.title, "tags": view.tags, "model": view.model,
                                  "system_prompt": view.system_prompt, "messages": messages});
            (
                serde_json::to_string_pretty(&document).unwrap_or_default(),
                "application/json",
                "json",
            )
        }
        _ => return not_found(&headers),
    };
    (
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{stem}.{ext}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}
