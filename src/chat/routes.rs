//! Plain HTTP routes of chat: the live stream of a reply (Server-Sent Events, encoded by `chat::stream`),
//! conversation exports, the composer's form post without JavaScript (multipart, with its files), and the files of
//! shared conversations.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::accounts::auth::AuthSession;
use crate::chat::{service, store, stream};
use crate::core::error::{AppError, Refusal};
use crate::state::AppState;

pub use crate::chat::types::SEND_FORM_PATH;

/// `/chat/{id}/messages/{message_id}/events`, `/chat/{id}/export.{md|json}` and [`SEND_FORM_PATH`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(SEND_FORM_PATH, post(send_form))
        .route(crate::chat::types::IMPORT_FORM_PATH, post(import_form))
        .route("/chat/{conversation_id}/messages/{message_id}/events", get(events))
        .route("/chat/{conversation_id}/export/{format}", get(export))
        .route("/s/{token}/files/{n}", get(shared_file))
        .route("/chat/{conversation_id}/leave", post(leave))
}

/// The import page's file (`multipart/form-data`, field `file`): read and previewed (nothing stored yet), then the
/// preview's page — `/settings/import?preview={token}`, where the user confirms. A script (`Accept:
/// application/json`) gets `{"token": …}` or the API's field errors instead of redirects. Without JavaScript an error
/// comes back to the page in its URL, as a server function's would (Leptos' `__err`).
async fn import_form(State(state): State<AppState>, auth: AuthSession, request: axum::extract::Request) -> Response {
    let headers = request.headers().clone();
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let Some(user) = auth.user else {
        return AppError::Forbidden(Refusal::LoginRequired).into_html_for(&headers);
    };
    let lang = crate::core::i18n::from_headers(&headers);
    let outcome = match crate::api::imports::read_import_body(&state, request).await {
        Ok((bytes, _)) => service::preview_import(&state, &user, bytes).await,
        Err(e) => Err(e.into_app_error()),
    };
    match (outcome, wants_json) {
        (Ok(token), true) => axum::Json(serde_json::json!({ "token": token })).into_response(),
        (Ok(token), false) => {
            axum::response::Redirect::to(&format!("{}?preview={token}", crate::chat::types::IMPORT_FORM_PATH))
                .into_response()
        }
        (Err(e), true) => {
            // The messages in the page's language.
            let owner = leptos::prelude::Owner::new();
            owner.with(|| {
                leptos::prelude::provide_context(lang);
                crate::api::error::ApiError::from(e).into_response()
            })
        }
        (Err(e), false) => {
            use leptos::prelude::{Owner, provide_context};
            use leptos::server_fn::error::ServerFnUrlError;
            let owner = Owner::new();
            let url = owner.with(|| {
                provide_context(lang);
                ServerFnUrlError::new(crate::chat::types::IMPORT_FORM_PATH, e)
                    .to_url("http://thicode/settings/import")
                    .ok()
            });
            let target = url
                .and_then(|u| u.query().map(|q| format!("{}?{q}", u.path())))
                .unwrap_or_else(|| crate::chat::types::IMPORT_FORM_PATH.to_string());
            axum::response::Redirect::to(&target).into_response()
        }
    }
}

/// The tab showing a temporary chat is closing (`navigator.sendBeacon`): the chat is forgotten unless the same tab
/// comes back within seconds. 204 whatever the id (nothing to tell a page that is going away, or a stranger).
async fn leave(State(state): State<AppState>, auth: AuthSession, Path(conversation_id): Path<String>) -> Response {
    if let (Some(user), Ok(id)) = (auth.user, conversation_id.parse::<i64>())
        && crate::chat::temporary::is_temporary(id)
    {
        state.chat.temporary.leave(user.id, id);
    }
    axum::http::StatusCode::NO_CONTENT.into_response()
}

/// A file of a shared conversation, through its link: only one the snapshot shows, while its owner still has it,
/// with the same headers as the owner's own downloads (`api::files::serve`).
async fn shared_file(
    State(state): State<AppState>,
    client: crate::core::client::ClientAddr,
    headers: HeaderMap,
    Path((token, n)): Path<(String, String)>,
) -> Response {
    let Ok(n) = n.parse::<usize>() else {
        return not_found(&headers);
    };
    match service::shared_file(&state, &token, n, &client.text()).await {
        Ok(file) => match crate::api::files::serve(&state, &file, &headers).await {
            Ok(response) => response,
            Err(e) => e.into_response(),
        },
        Err(e) => e.into_html_for(&headers),
    }
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
    match service::any_message(&state, &user, message_id).await {
        Ok(m) if m.conversation_id == conversation_id => {}
        Ok(_) => return not_found(&headers),
        Err(e) => return e.into_html_for(&headers),
    }
    // `done` carries the message as the page shows it, in the page's language: the page puts it in place of the
    // streamed text without asking for the conversation again.
    let lang = crate::core::i18n::from_headers(&headers);
    let csrf = crate::core::document::header_text(&headers, axum::http::header::COOKIE)
        .and_then(|cookies| crate::core::document::cookie_value(&cookies, "csrftoken").map(str::to_string))
        .unwrap_or_default();
    let preview = stream::Preview {
        lang,
        answering: crate::chat::steps_html::Answering { conversation_id, csrf },
    };
    stream::sse(state, message_id, None, Some(preview), move |state, id| {
        let user = user.clone();
        async move {
            let mut view = service::message(&state, &user, id, lang).await.ok()?;
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
    let steps = match service::steps_of(&state, &[conversation.id]).await {
        Ok(steps) => steps,
        Err(e) => return e.into_html_for(&headers),
    };
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
                text.push_str(&format!("## {who}\n\n"));
                // The tool calls that led to the answer, before it.
                for step in steps.iter().filter(|s| s.message_id == m.id) {
                    text.push_str(&format!(
                        "> Tool `{}` ({}): `{}`\n\n",
                        step.tool,
                        step.status,
                        step.arguments.replace('`', "'")
                    ));
                }
                text.push_str(&format!("{}\n\n", m.content.trim_end()));
                let files = crate::files::service::attachments_of(&m.attachments);
                if !files.is_empty() {
                    text.push_str("Attachments:\n\n");
                    for f in &files {
                        text.push_str(&format!(
                            "- {} ({}, {})\n",
                            f.name,
                            f.content_type,
                            crate::files::human_size(f.size.max(0) as u64)
                        ));
                    }
                    text.push('\n');
                }
            }
            (text, "text/markdown; charset=utf-8", "md")
        }
        // The REST API's shape, with the messages of the branch on screen.
        "json" => (
            serde_json::to_string_pretty(&service::conversation_out(
                &state,
                &user,
                &conversation,
                messages,
                &steps,
            ))
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

/// The composer's post without JavaScript (its Send button's `formaction`): the fields of the `send_message` server
/// function and the files of its file input, in one `multipart/form-data` body. The files are stored as they stream
/// in, then the message is sent as the server function sends it; the answer is a redirect to the conversation once
/// the reply is complete. On a refusal the browser goes back to the composer with the error where the server
/// function's form shows it (Leptos' `__err`), and the files it already uploaded come back as the composer's
/// attachments (`?attach=`), so nothing chosen is lost.
async fn send_form(State(state): State<AppState>, auth: AuthSession, request: axum::extract::Request) -> Response {
    let headers = request.headers().clone();
    let Some(user) = auth.user else {
        return AppError::Forbidden(Refusal::LoginRequired).into_html_for(&headers);
    };
    let lang = crate::core::i18n::from_headers(&headers);
    let (parts, body) = request.into_parts();
    let form = match crate::api::files::read_multipart(
        &state,
        &user,
        &parts.headers,
        body,
        state.files.config.max_files_per_message,
    )
    .await
    {
        Ok(form) => form,
        Err(e) => return back_with_error(None, &[], "", e.into_app_error(), lang),
    };
    let field = |name: &str| {
        form.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let conversation_id = field("conversation_id").and_then(|v| v.parse::<i64>().ok());
    // Files kept from a refused send (`attachments[0]`…, shown by the composer), then the new ones.
    let mut attachments: Vec<i64> = form
        .fields
        .iter()
        .filter(|(name, _)| name.starts_with("attachments"))
        .filter_map(|(_, v)| v.trim().parse().ok())
        .collect();
    attachments.extend(form.files.iter().map(|f| f.id));
    let content = form
        .fields
        .iter()
        .find(|(n, _)| n == "content")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    // The tools menu's boxes (`tools[0]`…), when the form had it.
    let tools: Vec<String> = form
        .fields
        .iter()
        .filter(|(name, _)| name.starts_with("tools["))
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let options = service::SendOptions {
        model: field("model").filter(|m| m != "default"),
        attachments: attachments.clone(),
        tools: field("tools_listed").map(|_| tools),
        tools_default: field("tools_default").is_some(),
        temporary: field("temporary").is_some(),
        ..Default::default()
    };
    match service::send_message_with(&state, &user, conversation_id, &content, options).await {
        Ok(sent) => {
            state
                .chat
                .wait(sent.assistant_message_id, std::time::Duration::from_secs(300))
                .await;
            axum::response::Redirect::to(&format!("/chat/{}", sent.conversation_id)).into_response()
        }
        Err(e) => {
            // The files it carried, stored (those it named and the new ones), go back to the composer.
            let kept = crate::files::service::check_attachments(&state, &user, &attachments)
                .await
                .unwrap_or_default();
            back_with_error(conversation_id, &kept, &content, e, lang)
        }
    }
}

/// Longest text a refused send puts back in the composer through the address (`?prompt=`).
const MAX_KEPT_TEXT: usize = 2000;

/// A redirect (303) back to the composer of `conversation_id` (a new chat when none), carrying `error` as the send
/// form's, the files to keep attached and the text (when short enough for an address).
fn back_with_error(
    conversation_id: Option<i64>,
    keep: &[crate::files::store::FileRow],
    text: &str,
    error: AppError,
    lang: crate::core::i18n::Lang,
) -> Response {
    use leptos::prelude::{Owner, provide_context};
    use leptos::server_fn::ServerFn;
    use leptos::server_fn::error::ServerFnUrlError;
    let mut page = match conversation_id {
        Some(id) => format!("http://thicode/chat/{id}"),
        None => "http://thicode/chat".to_string(),
    };
    let mut query = form_urlencoded::Serializer::new(String::new());
    if !keep.is_empty() {
        let kept: Vec<crate::files::Attachment> = keep.iter().map(|f| f.attachment()).collect();
        query.append_pair("attach", &serde_json::to_string(&kept).unwrap_or_default());
    }
    if !text.trim().is_empty() && text.len() <= MAX_KEPT_TEXT {
        query.append_pair("prompt", text);
    }
    let query = query.finish();
    if !query.is_empty() {
        page.push('?');
        page.push_str(&query);
    }
    // The error's texts are written in the page's language (they serialise in the current one).
    let owner = Owner::new();
    let url = owner.with(|| {
        provide_context(lang);
        ServerFnUrlError::new(crate::chat::server_fns::SendMessage::PATH, error)
            .to_url(&page)
            .ok()
    });
    let target = match url {
        Some(url) => match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        },
        None => "/chat".to_string(),
    };
    axum::response::Redirect::to(&target).into_response()
}
