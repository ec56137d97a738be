//! Server functions of chat. Each is a public POST endpoint under `/_server/`: it starts from the session user and
//! every lookup is scoped to them. They work as plain form posts too: a form post (no JavaScript) is answered with
//! a redirect to the conversation, after the reply is complete when a message was sent.

use leptos::prelude::*;

use crate::chat::types::{ChatContext, ConversationView, SentMessage};
use crate::core::error::AppError;

/// The sidebar (a page of conversations, or the results of the search `q`), the models on offer and whether a real
/// model is configured.
#[server]
pub async fn get_chat_context(archived: bool, offset: i64, q: Option<String>) -> Result<ChatContext, AppError> {
    let (state, user) = session().await?;
    crate::chat::service::chat_context(&state, &user, archived, offset, q).await
}

/// A conversation and the messages of its current branch.
#[server]
pub async fn get_conversation(id: i64) -> Result<ConversationView, AppError> {
    let (state, user) = session().await?;
    let mut view = crate::chat::service::conversation_view(&state, &user, id).await?;
    // Failed replies keep the provider's explanation in English; pages show it in their language.
    let lang = crate::core::i18n::Lang::current();
    for message in &mut view.messages {
        message.html = crate::chat::markdown::localise(std::mem::take(&mut message.html), lang);
        if let Some(error) = &mut message.error {
            *error = crate::core::i18n::translate(lang, error);
        }
    }
    Ok(view)
}

/// Sends a message (in a new conversation when `conversation_id` is empty) and starts the reply.
#[server]
pub async fn send_message(conversation_id: Option<i64>, content: String) -> Result<SentMessage, AppError> {
    let (state, user) = session().await?;
    let sent = crate::chat::service::send_message(&state, &user, conversation_id, &content).await?;
    finish_form_post(&state, &sent).await;
    Ok(sent)
}

/// Writes a new reply in place of `message_id` (the old one stays as a sibling).
#[server]
pub async fn regenerate(message_id: i64) -> Result<SentMessage, AppError> {
    let (state, user) = session().await?;
    let sent = crate::chat::service::regenerate(&state, &user, message_id).await?;
    finish_form_post(&state, &sent).await;
    Ok(sent)
}

/// Sends an edited copy of the user message `message_id` as a new branch.
#[server]
pub async fn edit_message(message_id: i64, content: String) -> Result<SentMessage, AppError> {
    let (state, user) = session().await?;
    let sent = crate::chat::service::edit_message(&state, &user, message_id, &content).await?;
    finish_form_post(&state, &sent).await;
    Ok(sent)
}

/// Stops the reply `message_id`, keeping its text so far.
#[server]
pub async fn stop_reply(conversation_id: i64, message_id: i64) -> Result<(), AppError> {
    let (state, user) = session().await?;
    crate::chat::service::stop(&state, &user, message_id).await?;
    redirect_form_post(&format!("/chat/{conversation_id}"));
    Ok(())
}

/// Shows the branch through `message_id`.
#[server]
pub async fn select_branch(message_id: i64) -> Result<(), AppError> {
    let (state, user) = session().await?;
    let conversation_id = crate::chat::service::select_branch(&state, &user, message_id).await?;
    redirect_form_post(&format!("/chat/{conversation_id}"));
    Ok(())
}

/// Renames, pins, archives or restores, tags, or changes the model or system prompt of a conversation. Fields left
/// empty are not changed (`tags` is a comma-separated list; `model` "default" means the user's preferred model).
#[server]
#[allow(clippy::too_many_arguments)]
pub async fn update_conversation(
    id: i64,
    title: Option<String>,
    pinned: Option<bool>,
    archived: Option<bool>,
    tags: Option<String>,
    model: Option<String>,
    system_prompt: Option<String>,
) -> Result<(), AppError> {
    let (state, user) = session().await?;
    let edit = crate::chat::service::ConversationEdit {
        title,
        is_pinned: pinned,
        archived,
        tags: tags.map(|t| t.split(',').map(|s| s.trim().to_string()).collect()),
        model: model.map(|m| if m == "default" { String::new() } else { m }),
        system_prompt,
        ..Default::default()
    };
    crate::chat::service::update_conversation(&state, &user, id, edit).await?;
    redirect_form_post(&format!("/chat/{id}"));
    Ok(())
}

/// Deletes a conversation and its messages.
#[server]
pub async fn delete_conversation(id: i64) -> Result<(), AppError> {
    let (state, user) = session().await?;
    crate::chat::service::delete_conversation(&state, &user, id).await?;
    redirect_form_post("/chat");
    Ok(())
}

/// The state and the session's user, or `Unauthenticated` (401 for scripts).
#[cfg(feature = "ssr")]
async fn session() -> Result<(crate::state::AppState, crate::accounts::users::User), AppError> {
    let (user, _) = crate::accounts::server_fns::require_user().await?;
    Ok((expect_context::<crate::state::AppState>(), user))
}

#[cfg(feature = "ssr")]
fn redirect_form_post(path: &str) {
    if crate::core::server_fn::is_form_post() {
        leptos_axum::redirect(path);
    }
}

/// A form post waits for the reply, so the page it lands on shows it complete.
#[cfg(feature = "ssr")]
async fn finish_form_post(state: &crate::state::AppState, sent: &SentMessage) {
    if crate::core::server_fn::is_form_post() {
        state
            .chat
            .wait(sent.assistant_message_id, std::time::Duration::from_secs(300))
            .await;
        leptos_axum::redirect(&format!("/chat/{}", sent.conversation_id));
    }
}

/// The page the forms of these server functions are on (`core::security::FormPages`): the chat.
#[cfg(feature = "ssr")]
pub fn form_pages() -> Vec<(&'static str, &'static str)> {
    use leptos::server_fn::ServerFn;
    [
        SendMessage::PATH,
        Regenerate::PATH,
        EditMessage::PATH,
        StopReply::PATH,
        SelectBranch::PATH,
        UpdateConversation::PATH,
        DeleteConversation::PATH,
    ]
    .into_iter()
    .map(|path| (path, "/chat"))
    .collect()
}
