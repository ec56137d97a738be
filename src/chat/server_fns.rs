//! Server functions of chat. Each is a public POST endpoint under `/_server/`: it starts from the session user and
//! every lookup is scoped to them. They work as plain form posts too: a form post (no JavaScript) is answered with
//! a redirect to the conversation, after the reply is complete when a message was sent.

use leptos::prelude::*;

use crate::chat::types::{ChatContext, ConversationView, Sent};
use crate::core::error::AppError;

/// The sidebar (a page of conversations, or the results of the search `q`), the models on offer and whether a real
/// model is configured.
#[server]
pub async fn get_chat_context(archived: bool, offset: i64, q: Option<String>) -> Result<ChatContext, AppError> {
    let (state, user) = session().await?;
    let utc_offset = crate::core::document::request_header(axum::http::header::COOKIE)
        .map_or(0, |cookies| crate::core::document::utc_offset(&cookies));
    let mut context = crate::chat::service::chat_context(&state, &user, archived, offset, q, utc_offset).await?;
    context.tools_html =
        crate::chat::service::tools_menu(&state, &user, None, crate::core::i18n::Lang::current()).await;
    Ok(context)
}

/// A conversation and the messages of its current branch.
#[server]
pub async fn get_conversation(id: i64) -> Result<ConversationView, AppError> {
    let (state, user) = session().await?;
    let view = crate::chat::service::conversation_view(&state, &user, id, crate::core::i18n::Lang::current()).await?;
    Ok(localised(view))
}

pub use send::*;

/// The composer's send, in a module of its own: its form has eight fields, one more than clippy's limit for the
/// functions the server macro writes (an attribute on the function does not reach them).
#[allow(clippy::too_many_arguments)]
mod send {
    use super::*;

    /// Sends a message (in a new conversation when `conversation_id` is empty) and starts the reply.
    #[server]
    pub async fn send_message(
        conversation_id: Option<i64>,
        content: String,
        /// The model a new conversation uses (the picker of the new-chat screen); `default` or empty: the user's.
        #[server(default)]
        model: Option<String>,
        /// Files uploaded before (`/api/files/`) that the message carries.
        #[server(default)]
        attachments: Vec<i64>,
        /// Set by the composer's tools menu: the conversation's tools are those in `tools` (`tools[0]`…) from now on.
        #[server(default)]
        tools_listed: Option<String>,
        /// The tools ticked in the menu.
        #[server(default)]
        tools: Vec<String>,
        /// The ticked tools also become the user's default.
        #[server(default)]
        tools_default: Option<String>,
        /// Set by the new chat's toggle: a temporary chat (`chat::temporary`), kept in memory only.
        #[server(default)]
        temporary: Option<String>,
    ) -> Result<Sent, AppError> {
        let (state, user) = session().await?;
        let options = crate::chat::service::SendOptions {
            model: model.filter(|m| m != "default" && !m.trim().is_empty()),
            attachments,
            tools: tools_listed.is_some().then_some(tools),
            tools_default: tools_default.is_some(),
            temporary: temporary.is_some(),
            ..Default::default()
        };
        let sent = crate::chat::service::send_message_with(&state, &user, conversation_id, &content, options).await?;
        answer(&state, &user, sent).await
    }
}

/// Writes a new reply in place of `message_id` (the old one stays as a sibling).
#[server]
pub async fn regenerate(message_id: i64) -> Result<Sent, AppError> {
    let (state, user) = session().await?;
    let sent = crate::chat::service::regenerate(&state, &user, message_id).await?;
    answer(&state, &user, sent).await
}

/// Sends an edited copy of the user message `message_id` as a new branch. It keeps the message's files, unless the
/// form lists them (`files_listed`): then only those in `keep` (`keep[0]`…) go with the edit.
#[server]
pub async fn edit_message(
    message_id: i64,
    content: String,
    #[server(default)] files_listed: Option<String>,
    #[server(default)] keep: Vec<i64>,
) -> Result<Sent, AppError> {
    let (state, user) = session().await?;
    let attachments = files_listed.is_some().then_some(keep);
    let sent = crate::chat::service::edit_message(&state, &user, message_id, &content, attachments).await?;
    answer(&state, &user, sent).await
}

/// Answers a tool call of the reply `message_id` waiting for approval: `allow` is `1` to run it, anything else denies
/// it (the model is told).
#[server]
pub async fn decide_call(
    conversation_id: i64,
    message_id: i64,
    call_id: String,
    allow: String,
) -> Result<(), AppError> {
    let (state, user) = session().await?;
    let allow = matches!(allow.trim(), "1" | "true" | "yes" | "on");
    crate::chat::service::decide_call(&state, &user, conversation_id, message_id, &call_id, allow).await?;
    redirect_form_post(&format!("/chat/{conversation_id}"));
    Ok(())
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

/// The answer to a send, regenerate or edit. A script gets the conversation as it now is, so the page needs no other
/// request before it follows the reply; a form post waits for the reply and goes to the conversation, which then
/// shows it complete.
#[cfg(feature = "ssr")]
async fn answer(
    state: &crate::state::AppState,
    user: &crate::accounts::users::User,
    ids: crate::chat::types::SentMessage,
) -> Result<Sent, AppError> {
    if crate::core::server_fn::is_form_post() {
        state
            .chat
            .wait(ids.assistant_message_id, std::time::Duration::from_secs(300))
            .await;
        leptos_axum::redirect(&format!("/chat/{}", ids.conversation_id));
    }
    let (view, summary) = crate::chat::service::conversation_with_summary(
        state,
        user,
        ids.conversation_id,
        crate::core::i18n::Lang::current(),
    )
    .await?;
    Ok(Sent {
        ids,
        view: localised(view),
        summary,
    })
}

/// The conversation in the page's language: failed replies keep the provider's explanation in English, and the
/// code blocks' buttons are labelled in English by the Markdown renderer.
#[cfg(feature = "ssr")]
fn localised(mut view: ConversationView) -> ConversationView {
    let lang = crate::core::i18n::Lang::current();
    for message in &mut view.messages {
        crate::chat::markdown::localise_message(message, lang);
    }
    view
}

/// Makes a public link to the branch on screen of conversation `id`, or takes its snapshot again.
#[server]
pub async fn share_conversation(id: i64) -> Result<crate::chat::types::ShareLink, AppError> {
    let (state, user) = session().await?;
    let addr = crate::accounts::server_fns::client_address().await;
    let (link, _) = crate::chat::service::share(&state, &user, id, &addr).await?;
    redirect_form_post(&crate::core::dialog::open_link(&format!("/chat/{id}"), "share"));
    Ok(link)
}

/// Revokes the link of conversation `id`; a form post goes back to the list of links when `back` is `shares`.
#[server]
pub async fn revoke_share(id: i64, #[server(default)] back: Option<String>) -> Result<(), AppError> {
    let (state, user) = session().await?;
    let addr = crate::accounts::server_fns::client_address().await;
    crate::chat::service::revoke_share(&state, &user, id, &addr).await?;
    if back.as_deref() == Some("shares") {
        redirect_form_post("/settings/shares");
    } else {
        redirect_form_post(&crate::core::dialog::open_link(&format!("/chat/{id}"), "share"));
    }
    Ok(())
}

/// The user's share links (`/settings/shares`).
#[server]
pub async fn my_shares() -> Result<Vec<crate::chat::types::ShareLink>, AppError> {
    let (state, user) = session().await?;
    crate::chat::service::shares(&state, &user).await
}

/// Branches the conversation into a new one through the message `message_id`; returns the new conversation's id.
#[server]
pub async fn fork_message(message_id: i64) -> Result<i64, AppError> {
    let (state, user) = session().await?;
    let id = crate::chat::service::fork(&state, &user, message_id).await?;
    redirect_form_post(&format!("/chat/{id}"));
    Ok(id)
}

/// A shared conversation, for anyone with its link (`/s/{token}`).
#[server]
pub async fn shared_conversation(token: String) -> Result<crate::chat::types::SharedView, AppError> {
    let state = expect_context::<crate::state::AppState>();
    let signed_in = crate::accounts::server_fns::auth_session().await?.user.is_some();
    let addr = crate::accounts::server_fns::client_address().await;
    let lang = crate::core::i18n::Lang::current();
    crate::chat::service::shared(&state, &token, &addr, signed_in, lang).await
}

/// Copies the shared conversation `token` into a new conversation of the reader; returns its id.
#[server]
pub async fn continue_shared(token: String) -> Result<i64, AppError> {
    let (state, user) = session().await?;
    let addr = crate::accounts::server_fns::client_address().await;
    let id = crate::chat::service::continue_shared(&state, &user, &token, &addr).await?;
    redirect_form_post(&format!("/chat/{id}"));
    Ok(id)
}

/// The page the forms of these server functions are on (`core::security::FormPages`): the chat, and the import page.
#[cfg(feature = "ssr")]
pub fn form_pages() -> Vec<(&'static str, &'static str)> {
    use leptos::server_fn::ServerFn;
    [
        SendMessage::PATH,
        Regenerate::PATH,
        EditMessage::PATH,
        StopReply::PATH,
        DecideCall::PATH,
        SelectBranch::PATH,
        UpdateConversation::PATH,
        DeleteConversation::PATH,
        ShareConversation::PATH,
        RevokeShare::PATH,
        ForkMessage::PATH,
        ContinueShared::PATH,
    ]
    .into_iter()
    .map(|path| (path, "/chat"))
    .chain([(ConfirmImport::PATH, crate::chat::types::IMPORT_FORM_PATH)])
    .collect()
}

/// The import previewed under `token` (or, once confirmed, what it did); `None` without a token (`/settings/import`).
#[server]
pub async fn import_state(token: Option<String>) -> Result<Option<crate::chat::types::ImportReport>, AppError> {
    let (state, user) = session().await?;
    match token.filter(|t| !t.is_empty()) {
        Some(token) => crate::chat::service::import_preview(&state, &user, &token).map(Some),
        None => Ok(None),
    }
}

/// Imports the file previewed under `token` and answers how many conversations it added; the page then reads the
/// report again ([`import_state`]), and a form post comes back to the preview's page, which shows it.
#[server]
pub async fn confirm_import(token: String) -> Result<usize, AppError> {
    let (state, user) = session().await?;
    let report = crate::chat::service::confirm_import(&state, &user, &token).await?;
    let back = format!(
        "{}?preview={}",
        crate::chat::types::IMPORT_FORM_PATH,
        token_in_url(&token)
    );
    redirect_form_post(&back);
    Ok(report.imported)
}

/// `token` as a URL's query value (a preview token is hex: anything else is left out).
#[cfg(feature = "ssr")]
fn token_in_url(token: &str) -> String {
    token.chars().filter(char::is_ascii_alphanumeric).collect()
}

/// The logged-in user's usage today and this month, their limits and when those reset (`/settings/usage`).
#[server]
pub async fn my_usage() -> Result<crate::chat::types::UsageView, AppError> {
    use crate::chat::quota;
    let (state, user) = session().await?;
    let now = crate::core::db::now_millis();
    let pool = &state.db.pool;
    Ok(crate::chat::types::UsageView {
        usage: quota::usage(pool, user.id, now).await?,
        limits: quota::effective(pool, user.id).await?,
        day_resets: crate::core::time::minute(quota::day_start(now) + 86_400_000),
        month_resets: crate::core::time::minute(quota::next_month(now)),
    })
}
