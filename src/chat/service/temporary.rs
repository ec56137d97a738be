//! The use cases of temporary chats (`chat::temporary`): whether one may or must be started, sending in one, and
//! reading one as the pages and the REST API read a stored conversation.

use crate::accounts::users::User;
use crate::admin::instance::{self, TemporaryChats};
use crate::chat::provider::{ChatRequest, WireMessage, fit_context};
use crate::chat::store::{Conversation, Message};
use crate::chat::types::{ConversationSummary, ConversationView, SentMessage};
use crate::core::error::AppError;
use crate::state::AppState;
use crate::text;

pub use crate::chat::temporary::is_temporary;

use super::turns::{
    DEFAULT_CONTEXT_TOKENS, SendOptions, check_content, check_rate, checked_model, content_type_of, history_with_files,
};
use super::views::{display_title, message_view, summary};

/// Whether a new conversation is temporary: when the instance enforces it, or when `requested` and allowed (asked
/// while they are off: a clear refusal rather than a conversation kept against the user's wish).
pub async fn wanted(state: &AppState, requested: bool) -> Result<bool, AppError> {
    match instance::temporary_chats(&state.db.pool).await? {
        TemporaryChats::Enforced => Ok(true),
        TemporaryChats::Allowed => Ok(requested),
        TemporaryChats::Off if requested => Err(AppError::invalid("temporary", text!(chat.temporary.disabled))),
        TemporaryChats::Off => Ok(false),
    }
}

/// The settings of a new temporary conversation.
#[derive(Debug, Clone, Default)]
pub struct NewTemporary {
    /// Its title ('' = the first message's beginning).
    pub title: String,
    /// Its model ('' = the user's preferred).
    pub model: String,
    /// Its system prompt.
    pub system_prompt: String,
}

/// Sends `content` in the user's temporary conversation `conversation_id`, or in a new one (`new`), and starts the
/// reply. Files and tools are not offered there: nothing of a temporary chat may reach the file store.
pub async fn send(
    state: &AppState,
    user: &User,
    conversation_id: Option<i64>,
    content: &str,
    options: SendOptions,
    new: NewTemporary,
) -> Result<SentMessage, AppError> {
    if !options.attachments.is_empty() {
        return Err(AppError::invalid("attachments", text!(chat.temporary.no_files)));
    }
    if options.parent_id.is_some() {
        return Err(AppError::invalid("parent_id", text!(chat.limit.no_such_message)));
    }
    let content = check_content(state, content)?;
    let content_type = content_type_of(options.content_type.as_deref())?;
    let requested = checked_model(state, options.model).await?;
    let temporary = &state.chat.temporary;
    // An existing chat is looked at first: another's, or one forgotten, is not found before anything is counted.
    let existing = match conversation_id {
        Some(id) => Some(temporary.get(user.id, id).ok_or(AppError::NotFound)?.0),
        None => None,
    };
    check_rate(state, user).await?;
    // A new chat's model is the one its settings name, else the one asked with its first message.
    let chat_model = match &existing {
        Some(c) => c.model.clone(),
        None if !new.model.trim().is_empty() => new.model.trim().to_string(),
        None => requested.clone().unwrap_or_default(),
    };
    let model = requested
        .or_else(|| Some(chat_model.clone()).filter(|m| !m.is_empty()))
        .unwrap_or_else(|| super::model_for(state, user, None));
    // Counted against the account's limits like any reply: the ledger's row holds the model and the tokens only.
    let prompt_estimate = crate::chat::quota::estimate_tokens(content.chars().count());
    let ledger = crate::chat::quota::begin_unstored(&state.db.pool, user.id, &model, prompt_estimate, "chat").await?;
    let id = match existing {
        Some(c) => c.id,
        None => {
            let title = Some(new.title.trim())
                .filter(|t| !t.is_empty())
                .map_or_else(|| crate::chat::generation::fallback_title(&content), str::to_string);
            temporary.create(user.id, title, chat_model, new.system_prompt)
        }
    };
    let started = match temporary.add_turn(user.id, id, content, content_type) {
        Ok(started) => started,
        Err(e) => {
            let _ = crate::chat::quota::end_unstored(&state.db.pool, ledger, "error", 0, 0, None).await;
            return Err(e);
        }
    };
    let context = state
        .chat
        .provider
        .models()
        .await
        .into_iter()
        .find(|m| m.id == model)
        .and_then(|m| m.max_context_length)
        .unwrap_or(DEFAULT_CONTEXT_TOKENS);
    let mut wire = Vec::new();
    if !started.system_prompt.trim().is_empty() {
        wire.push(WireMessage::text("system", started.system_prompt.clone()));
    }
    wire.extend(history_with_files(state, user.id, started.history.clone(), false, None).await?);
    let request = ChatRequest::new(model, fit_context(wire, context));
    let prompt_tokens =
        crate::chat::quota::estimate_tokens(request.messages.iter().map(WireMessage::cost).sum::<usize>());
    let ids = SentMessage {
        conversation_id: started.conversation_id,
        user_message_id: Some(started.user_message_id),
        assistant_message_id: started.assistant_message_id,
    };
    tokio::spawn(crate::chat::temporary::write_reply(
        state.clone(),
        started,
        request,
        ledger,
        prompt_tokens,
    ));
    Ok(ids)
}

/// The user's temporary conversation `id` with all its messages.
pub fn conversation_with_messages(
    state: &AppState,
    user: &User,
    id: i64,
) -> Result<(Conversation, Vec<Message>), AppError> {
    state.chat.temporary.get(user.id, id).ok_or(AppError::NotFound)
}

/// The user's temporary message `id`, with the conversation's messages.
pub fn message(state: &AppState, user: &User, id: i64) -> Result<(Message, Vec<Message>), AppError> {
    state.chat.temporary.message(user.id, id).ok_or(AppError::NotFound)
}

/// The user's temporary conversation `id` as the page shows it, and its line as a sidebar would list it.
pub fn view(state: &AppState, user: &User, id: i64) -> Result<(ConversationView, ConversationSummary), AppError> {
    let (conversation, messages) = conversation_with_messages(state, user, id)?;
    let path = super::views::branch(&messages, conversation.current_leaf_id);
    let view = ConversationView {
        id: conversation.id,
        title: display_title(&conversation.title),
        is_pinned: false,
        status: conversation.status.clone(),
        tags: Vec::new(),
        model: conversation.model.clone(),
        system_prompt: conversation.system_prompt.clone(),
        messages: path.iter().map(|m| message_view(m, &messages)).collect(),
        tools_html: String::new(),
        share_url: None,
        temporary: true,
    };
    Ok((view, summary(&conversation)))
}
