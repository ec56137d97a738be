//! What the pages and the API read: the sidebar, a conversation and its current branch, single messages, the
//! API's lists and searches, and the personal-data export.

use std::collections::HashMap;

use crate::accounts::users::User;
use crate::chat::generation::{self};
use crate::chat::markdown::to_safe_html;
use crate::chat::store::{self, ListFilter};
use crate::chat::store::{Conversation, ListQuery, Message};
use crate::chat::types::{ChatContext, ConversationSummary, ConversationView, MessageView, PAGE_SIZE};
use crate::core::error::AppError;
use crate::state::AppState;

use super::{model_for, owned, stored_message};

/// Sidebar, model list and provider state for the chat pages.
pub async fn chat_context(
    state: &AppState,
    user: &User,
    archived: bool,
    offset: i64,
    query: Option<String>,
    utc_offset: i32,
) -> Result<ChatContext, AppError> {
    let query = query.map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    let (conversations, has_more) = match &query {
        Some(q) => {
            if q.chars().count() > 200 {
                return Err(AppError::invalid("q", crate::text!(chat.limit.search_too_long)));
            }
            let rows = store::search_conversations(&state.db, user.id, q, PAGE_SIZE).await?;
            (rows.iter().map(summary).collect(), false)
        }
        None => list(state, user, archived, offset).await?,
    };
    let all = state.chat.provider.models().await;
    let vision_models = all.iter().filter(|m| m.vision).map(|m| m.id.clone()).collect();
    let models = all.into_iter().map(|m| m.id).collect();
    Ok(ChatContext {
        conversations,
        has_more,
        models,
        vision_models,
        preferred_model: model_for(state, user, None),
        demo: state.chat.provider.is_demo(),
        query,
        now: crate::core::db::now_millis(),
        utc_offset,
        greeting_name: if user.first_name.trim().is_empty() {
            user.username.clone()
        } else {
            user.first_name.trim().to_string()
        },
        tools_html: String::new(),
        temporary_chats: crate::admin::instance::temporary_chats(&state.db.pool)
            .await?
            .as_str()
            .to_string(),
        temporary_idle_minutes: state.chat.temporary.idle().as_secs() / 60,
    })
}

/// The composer's tools menu for `conversation` (the new chat when `None`: the user's default tools), in `lang`.
pub async fn tools_menu(
    state: &AppState,
    user: &User,
    conversation: Option<&Conversation>,
    lang: crate::core::i18n::Lang,
) -> String {
    let offered = state.chat.toolbox.tools();
    if offered.is_empty() {
        return String::new();
    }
    let model = model_for(state, user, conversation);
    let calls_functions = state
        .chat
        .provider
        .models()
        .await
        .iter()
        .find(|m| m.id == model)
        .is_some_and(|m| state.chat.toolbox.model_calls_functions(&m.id, m.function_calling));
    let enabled = super::tools_for(state, user, conversation.and_then(|c| c.tools.as_deref()));
    crate::chat::tools_menu::tools_menu_html(&offered, &enabled, &model, calls_functions, lang)
}

/// A page of the user's conversations, and whether more follow.
pub async fn list(
    state: &AppState,
    user: &User,
    archived: bool,
    offset: i64,
) -> Result<(Vec<ConversationSummary>, bool), AppError> {
    let filter = if archived {
        ListFilter::Archived
    } else {
        ListFilter::Active
    };
    let mut rows = store::list_conversations(&state.db.pool, user.id, filter, PAGE_SIZE + 1, offset.max(0)).await?;
    let has_more = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    Ok((rows.iter().map(summary).collect(), has_more))
}

/// A conversation as the sidebar shows it.
pub fn summary(c: &Conversation) -> ConversationSummary {
    ConversationSummary {
        id: c.id,
        title: display_title(&c.title),
        is_pinned: c.is_pinned,
        status: c.status.clone(),
        tags: serde_json::from_str(&c.tags).unwrap_or_default(),
        last_activity: c.last_message_at.unwrap_or(c.created_at),
    }
}

/// The title as pages show it ("New conversation" until it has one).
pub fn display_title(title: &str) -> String {
    if title.is_empty() {
        "New conversation".to_string()
    } else {
        title.to_string()
    }
}

/// The conversation with the messages of its current branch (their tool calls written in `lang`).
pub async fn conversation_view(
    state: &AppState,
    user: &User,
    id: i64,
    lang: crate::core::i18n::Lang,
) -> Result<ConversationView, AppError> {
    Ok(conversation_with_summary(state, user, id, lang).await?.0)
}

/// The conversation with the messages of its current branch, and its line in the sidebar.
pub async fn conversation_with_summary(
    state: &AppState,
    user: &User,
    id: i64,
    lang: crate::core::i18n::Lang,
) -> Result<(ConversationView, ConversationSummary), AppError> {
    if super::temporary::is_temporary(id) {
        return super::temporary::view(state, user, id);
    }
    let conversation = owned(state, user, id).await?;
    let messages = store::messages(&state.db.pool, id).await?;
    let path = branch(&messages, conversation.current_leaf_id);
    let steps = store::steps_of_conversations(&state.db.pool, &[id]).await?;
    let views = path
        .iter()
        .map(|m| with_steps(message_view(m, &messages), id, &steps, lang))
        .collect();
    let view = ConversationView {
        id: conversation.id,
        title: display_title(&conversation.title),
        is_pinned: conversation.is_pinned,
        status: conversation.status.clone(),
        tags: serde_json::from_str(&conversation.tags).unwrap_or_default(),
        model: conversation.model.clone(),
        system_prompt: conversation.system_prompt.clone(),
        messages: views,
        tools_html: tools_menu(state, user, Some(&conversation), lang).await,
        share_url: store::share_token_of(&state.db.pool, user.id, id)
            .await?
            .map(|token| super::share_url(state, &token)),
        temporary: false,
    };
    Ok((view, summary(&conversation)))
}

/// The messages from the first one to `leaf`, following parents.
pub fn branch(messages: &[Message], leaf: Option<i64>) -> Vec<Message> {
    let by_id: HashMap<i64, &Message> = messages.iter().map(|m| (m.id, m)).collect();
    let mut path = Vec::new();
    let mut next = leaf;
    while let Some(id) = next {
        let Some(m) = by_id.get(&id) else { break };
        path.push((*m).clone());
        next = m.parent_id;
        if path.len() > messages.len() {
            break;
        }
    }
    path.reverse();
    path
}

/// A stored message as the page shows it; `all` gives its siblings.
pub fn message_view(m: &Message, all: &[Message]) -> MessageView {
    let siblings: Vec<i64> = all
        .iter()
        .filter(|o| o.parent_id == m.parent_id && o.role == m.role)
        .map(|o| o.id)
        .collect();
    let index = siblings.iter().position(|id| *id == m.id).unwrap_or(0);
    let metadata: serde_json::Value = serde_json::from_str(&m.metadata).unwrap_or_default();
    MessageView {
        id: m.id,
        parent_id: m.parent_id,
        role: m.role.clone(),
        content: m.content.clone(),
        // What users write is shown as they wrote it; replies are Markdown, sanitised.
        html: if m.role == "user" {
            crate::chat::markdown::user_html(&m.content)
        } else {
            to_safe_html(&m.content)
        },
        status: m.status.clone(),
        error: generation::error_of(&m.metadata),
        model: metadata.get("model").and_then(|v| v.as_str()).map(str::to_string),
        tokens: metadata.get("completion_tokens").and_then(serde_json::Value::as_i64),
        first_token_ms: metadata
            .get("time_to_first_token_ms")
            .and_then(serde_json::Value::as_i64),
        branch: (index + 1, siblings.len().max(1)),
        prev_sibling: index.checked_sub(1).and_then(|i| siblings.get(i)).copied(),
        next_sibling: siblings.get(index + 1).copied(),
        attachments: crate::files::service::attachments_of(&m.attachments),
        sources: metadata
            .get("sources")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default(),
        steps_html: String::new(),
        links_html: String::new(),
    }
}

/// A single message with its siblings (and its tool calls, written in `lang`), for streams and APIs.
pub async fn message(
    state: &AppState,
    user: &User,
    id: i64,
    lang: crate::core::i18n::Lang,
) -> Result<MessageView, AppError> {
    if super::temporary::is_temporary(id) {
        let (m, all) = super::temporary::message(state, user, id)?;
        return Ok(message_view(&m, &all));
    }
    let m = stored_message(state, user, id).await?;
    let all = store::messages(&state.db.pool, m.conversation_id).await?;
    let steps = store::steps_of(&state.db.pool, &[m.id]).await?;
    Ok(with_steps(message_view(&m, &all), m.conversation_id, &steps, lang))
}

/// `view` with its tool calls among `steps`, rendered in `lang`.
fn with_steps(
    mut view: MessageView,
    conversation_id: i64,
    steps: &[store::Step],
    lang: crate::core::i18n::Lang,
) -> MessageView {
    let own: Vec<crate::chat::json::StepOut> = steps
        .iter()
        .filter(|s| s.message_id == view.id)
        .map(crate::chat::json::StepOut::from)
        .collect();
    let answering = crate::chat::steps_html::Answering {
        conversation_id,
        csrf: crate::core::csrf::token(),
    };
    view.steps_html = crate::chat::steps_html::steps_html(&own, lang, &answering);
    view.links_html = crate::chat::steps_html::links_html(&own, lang);
    view
}

/// Every conversation of the user (all statuses, all branches) as JSON, for the personal data export.
pub async fn export_all(
    pool: &sqlx::AnyPool,
    user_id: i64,
) -> Result<Vec<crate::chat::json::ConversationOut>, sqlx::Error> {
    let mut out = Vec::new();
    for filter in [ListFilter::Active, ListFilter::Archived] {
        for c in store::list_conversations(pool, user_id, filter, i64::MAX, 0).await? {
            let messages = store::messages(pool, c.id).await?;
            let steps = store::steps_of_conversations(pool, &[c.id]).await?;
            out.push(crate::chat::json::ConversationOut::new(&c, messages, &steps));
        }
    }
    Ok(out)
}

// The records themselves, for the REST API (it renders them in the original backend's shapes).

/// The user's conversation `id` (any status) with all its messages, oldest first.
pub async fn conversation_with_messages(
    state: &AppState,
    user: &User,
    id: i64,
) -> Result<(Conversation, Vec<Message>), AppError> {
    if super::temporary::is_temporary(id) {
        return super::temporary::conversation_with_messages(state, user, id);
    }
    let conversation = owned(state, user, id).await?;
    let messages = store::messages(&state.db.pool, id).await?;
    Ok((conversation, messages))
}

/// The tool calls of the replies in `conversation_ids` (conversations the caller has checked are the user's).
pub async fn steps_of(state: &AppState, conversation_ids: &[i64]) -> Result<Vec<store::Step>, AppError> {
    let mut steps = Vec::new();
    // A bounded number of bound parameters per query, whatever the page size.
    for ids in conversation_ids.chunks(500) {
        steps.extend(store::steps_of_conversations(&state.db.pool, ids).await?);
    }
    Ok(steps)
}

/// The REST shape of the user's conversation `c` with `messages` and their tool calls among `steps`, its `tools`
/// being those in effect (its own choice, or the user's default).
pub fn conversation_out(
    state: &AppState,
    user: &User,
    c: &Conversation,
    messages: Vec<Message>,
    steps: &[store::Step],
) -> crate::chat::json::ConversationOut {
    let mut out = crate::chat::json::ConversationOut::new(c, messages, steps);
    out.tools = super::tools_for(state, user, c.tools.as_deref());
    out
}

/// A number that changes whenever anything in the user's conversation list changes (kept answers use it).
pub async fn list_version(state: &AppState, user: &User) -> Result<i64, AppError> {
    Ok(store::list_version(&state.db.pool, user.id).await?)
}

/// A page of the user's conversations with their messages, and the total when `query.count` asks for it.
pub async fn list_with_messages(
    state: &AppState,
    user: &User,
    query: &ListQuery,
) -> Result<(Vec<(Conversation, Vec<Message>)>, i64), AppError> {
    Ok(store::api_list(&state.db, user.id, query).await?)
}

/// The user's conversations of `status` whose title or messages contain `search`, with their messages.
pub async fn search_with_messages(
    state: &AppState,
    user: &User,
    search: &str,
    status: &str,
) -> Result<Vec<(Conversation, Vec<Message>)>, AppError> {
    let rows: Vec<Conversation> = store::search_conversations(&state.db, user.id, search, 500)
        .await?
        .into_iter()
        .filter(|c| c.status == status)
        .collect();
    let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
    let mut by_conversation: HashMap<i64, Vec<Message>> = HashMap::new();
    for m in store::messages_of(&state.db, &ids).await? {
        by_conversation.entry(m.conversation_id).or_default().push(m);
    }
    Ok(rows
        .into_iter()
        .map(|c| {
            let messages = by_conversation.remove(&c.id).unwrap_or_default();
            (c, messages)
        })
        .collect())
}

/// The reply that answers message `message_id` of conversation `conversation_id`: the message itself when it is an
/// assistant reply, else its newest assistant child (`None` while there is none). Not the user's, or not in that
/// conversation: `NotFound`.
pub async fn reply_of(
    state: &AppState,
    user: &User,
    conversation_id: i64,
    message_id: i64,
) -> Result<Option<Message>, AppError> {
    let (m, all) = if super::temporary::is_temporary(message_id) {
        let (m, all) = super::temporary::message(state, user, message_id)?;
        (m, Some(all))
    } else {
        (stored_message(state, user, message_id).await?, None)
    };
    if m.conversation_id != conversation_id {
        return Err(AppError::NotFound);
    }
    if m.role == "assistant" {
        return Ok(Some(m));
    }
    let all = match all {
        Some(all) => all,
        None => store::messages(&state.db.pool, conversation_id).await?,
    };
    Ok(all
        .into_iter()
        .filter(|c| c.parent_id == Some(m.id) && c.role == "assistant")
        .max_by_key(|c| c.id))
}
