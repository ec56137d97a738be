//! Plain HTTP routes of chat: the live stream of a reply (Server-Sent Events, encoded by `chat::stream`) and
//! conversation exports.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::accounts::auth::AuthSession;
use crate::chat::{service, store, stream};
use crate::core::error::{AppError, Refusal};
use crate::state::AppState;

/// `/chat/{id}/messages/{message_id}/events` and `/chat/{id}/export.{md|json}`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/chat/{conversation_id}/messages/{message_id}/events", get(events))
        .route("/chat/{conversation_id}/export/{format}", get(export))
}

fn not_found(headers: &HeaderMap) -> Response {
    AppError::NotFound.into_html_for(headers)
}

async fn events(
    State(state): State<AppState>,
    auth: AuthSession,
    headers: HeaderMap,
    Path((conversation_id, message_id)): Path<(String, String)>,
) -> Response {
    let Some(user) = auth.user else {
        return AppError::Forbidden(Refusal::LoginRequired).into_html_for(&headers);
    };
    let (Ok(conversation_id), Ok(message_id)) = (conversation_id.parse::<i64>(), message_id.parse::<i64>()) else {
        return not_found(&headers);
    };
    match service::stored_message(&state, &user, message_id).await {
        Ok(m) if m.conversation_id == conversation_id => {}
        Ok(_) => return not_found(&headers),
        Err(e) => return e.into_html_for(&headers),
    }
    // `done` carries the message as the page shows it, in the page's language: the page puts it in place of the
    // streamed text without asking for the conversation again.
    let lang = crate::core::i18n::from_headers(&headers);
    stream::sse(state, message_id, None, Some(lang), move |state, id| {
        let user = user.clone();
        async move {
            let mut view = service::message(&state, &user, id).await.ok()?;
            crate::chat::markdown::localise_message(&mut view, lang);
            serde_json::to_string(&view).ok()
        }
    })
}

/// The conversation (current branch) as Markdown or JSON.
async fn export(
    State(state): State<AppState>,
    auth: AuthSession,
    headers: HeaderMap,
    Path((conversation_id, format)): Path<(String, String)>,
) -> Response {
    let Some(user) = auth.user else {
        return AppError::Forbidden(Refusal::LoginRequired).into_html_for(&headers);
    };
    let Ok(id) = conversation_id.parse::<i64>() else {
        return not_found(&headers);
    };
    let (conversation, all) = match service::conversation_with_messages(&state, &user, id).await {
        Ok(found) => found,
        Err(e) => return e.into_html_for(&headers),
    };
    let title = service::display_title(&conversation.title);
    let messages = service::branch(&all, conversation.current_leaf_id);
    let stem = {
        let slug = store::slugify(&title);
        if slug.is_empty() {
            format!("conversation-{id}")
        } else {
            slug
        }
    };
    let (body, mime, ext) = match format.as_str() {
        "md" => {
            let mut text = format!("# {title}\n\n");
            if !conversation.system_prompt.is_empty() {
                text.push_str(&format!(
                    "> System: {}\n\n",
                    conversation.system_prompt.replace('\n', "\n> ")
                ));
            }
            for m in &messages {
                let who = if m.role == "user" { "You" } else { "Assistant" };
                text.push_str(&format!("## {who}\n\n{}\n\n", m.content.trim_end()));
            }
            (text, "text/markdown; charset=utf-8", "md")
        }
        // The REST API's shape, with the messages of the branch on screen.
        "json" => (
            serde_json::to_string_pretty(&crate::chat::json::ConversationOut::new(&conversation, messages))
                .unwrap_or_default(),
            "application/json",
            "json",
        ),
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
