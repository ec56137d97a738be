//! The chat use cases, called by the server functions and pages here and by the REST API: every function takes the
//! session user and answers `NotFound` for anything that is not theirs.

use std::collections::HashMap;

use crate::accounts::users::User;
use crate::chat::generation::{self, Job};
use crate::chat::markdown::to_safe_html;
use crate::chat::provider::{ChatRequest, WireMessage, fit_context};
use crate::chat::store::{self, ConversationChanges, ListFilter, Turn};
// The records the REST API renders; it reads them only through the functions below.
pub use crate::chat::store::{Conversation, ListQuery, Message, Ordering};
use crate::chat::types::{
    ChatContext, ConversationSummary, ConversationView, MAX_SYSTEM_PROMPT_CHARS, MAX_TAG_CHARS, MAX_TAGS,
    MAX_TITLE_CHARS, MessageView, PAGE_SIZE, SentMessage,
};
use crate::core::db::now_millis;
use crate::core::error::AppError;
use crate::state::AppState;

/// Context window assumed when the provider does not say.
const DEFAULT_CONTEXT_TOKENS: u64 = 32_768;

/// The model used for `conversation` (or a new one) by `user`.
pub(crate) fn model_for(state: &AppState, user: &User, conversation: Option<&Conversation>) -> String {
    if let Some(c) = conversation.filter(|c| !c.model.is_empty()) {
        return c.model.clone();
    }
    crate::accounts::service::profile_of(
        user,
        &state.config.ai.default_model,
        Vec::new(),
        crate::core::i18n::Lang::En,
    )
    .ai_model
}

/// Sidebar, model list and provider state for the chat pages.
pub async fn chat_context(
    state: &AppState,
    user: &User,
    archived: bool,
    offset: i64,
    query: Option<String>,
) -> Result<ChatContext, AppError> {
    let query = query.map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    let (conversations, has_more) = match &query {
        Some(q) => {
            if q.chars().count() > 200 {
                return Err(AppError::invalid("q", "Search for at most 200 characters."));
            }
            let rows = store::search_conversations(&state.db, user.id, q, PAGE_SIZE).await?;
            (rows.iter().map(summary).collect(), false)
        }
        None => list(state, user, archived, offset).await?,
    };
    let models = state.chat.provider.models().await.into_iter().map(|m| m.id).collect();
    Ok(ChatContext {
        conversations,
        has_more,
        models,
        preferred_model: model_for(state, user, None),
        demo: state.chat.provider.is_demo(),
        query,
    })
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

async fn owned(state: &AppState, user: &User, id: i64) -> Result<Conversation, AppError> {
    store::conversation(&state.db.pool, user.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The conversation with the messages of its current branch.
pub async fn conversation_view(state: &AppState, user: &User, id: i64) -> Result<ConversationView, AppError> {
    Ok(conversation_with_summary(state, user, id).await?.0)
}

/// The conversation with the messages of its current branch, and its line in the sidebar.
pub async fn conversation_with_summary(
    state: &AppState,
    user: &User,
    id: i64,
) -> Result<(ConversationView, ConversationSummary), AppError> {
    let conversation = owned(state, user, id).await?;
    let messages = store::messages(&state.db.pool, id).await?;
    let path = branch(&messages, conversation.current_leaf_id);
    let views = path.iter().map(|m| message_view(m, &messages)).collect();
    let view = ConversationView {
        id: conversation.id,
        title: display_title(&conversation.title),
        is_pinned: conversation.is_pinned,
        status: conversation.status.clone(),
        tags: serde_json::from_str(&conversation.tags).unwrap_or_default(),
        model: conversation.model.clone(),
        system_prompt: conversation.system_prompt.clone(),
        messages: views,
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
            crate::core::error::escape_html(&m.content)
        } else {
            to_safe_html(&m.content)
        },
        status: m.status.clone(),
        error: generation::error_of(&m.metadata),
        model: metadata.get("model").and_then(|v| v.as_str()).map(str::to_string),
        branch: (index + 1, siblings.len().max(1)),
        prev_sibling: index.checked_sub(1).and_then(|i| siblings.get(i)).copied(),
        next_sibling: siblings.get(index + 1).copied(),
    }
}

/// A single message with its siblings, for streams and APIs.
pub async fn message(state: &AppState, user: &User, id: i64) -> Result<MessageView, AppError> {
    let m = stored_message(state, user, id).await?;
    let all = store::messages(&state.db.pool, m.conversation_id).await?;
    Ok(message_view(&m, &all))
}

pub(crate) fn check_content(state: &AppState, content: &str) -> Result<String, AppError> {
    let content = content.trim_end().to_string();
    if content.trim().is_empty() {
        return Err(AppError::invalid("content", "Write a message first."));
    }
    let max = state.config.limits.max_message_chars;
    let count = content.chars().count();
    if count > max {
        return Err(AppError::invalid(
            "content",
            format!("A message can have at most {max} characters (this one has {count})."),
        ));
    }
    Ok(content)
}

async fn check_rate(state: &AppState, user: &User) -> Result<(), AppError> {
    let limits = &state.config.limits;
    let now = now_millis();
    for (limit, window) in [
        (limits.rate_limit_messages_per_minute, 60_000),
        (limits.rate_limit_messages_per_day, 86_400_000),
    ] {
        if limit == 0 {
            continue;
        }
        let (count, oldest) = store::user_messages_since(&state.db.pool, user.id, now - window).await?;
        if count >= i64::from(limit) {
            let wait = oldest.map_or(window, |t| t + window - now);
            return Err(AppError::Throttled(u64::try_from(wait / 1000).unwrap_or(0).max(1)));
        }
    }
    Ok(())
}

/// Sends `content` in the conversation (a new one when `conversation_id` is `None`), after the current branch's last
/// message. The user message is committed before the provider is called; the reply is generated in the background.
pub async fn send_message(
    state: &AppState,
    user: &User,
    conversation_id: Option<i64>,
    content: &str,
) -> Result<SentMessage, AppError> {
    send_message_with(state, user, conversation_id, content, SendOptions::default()).await
}

/// The content types a message may declare (API `content_type`), by short name and MIME type; stored as MIME.
pub const CONTENT_TYPES: &[(&str, &str)] = &[
    ("text", "text/plain"),
    ("markdown", "text/markdown"),
    ("code", "text/x-code"),
];

/// What a message is stored as when it names no content type, or one we do not know.
const DEFAULT_CONTENT_TYPE: &str = "text/markdown";
/// Longest content type accepted (the original's column).
const MAX_CONTENT_TYPE_CHARS: usize = 50;

/// Optional parts of a message sent through the API.
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    /// One of [`CONTENT_TYPES`]; anything else (at most 50 characters) means the default.
    pub content_type: Option<String>,
    /// A model for this reply only (must be one the provider lists).
    pub model: Option<String>,
    /// The message to continue from instead of the branch on screen (a new branch when it is not the last one).
    pub parent_id: Option<i64>,
}

/// [`send_message`] with a content type, a model for this reply, or a parent message to branch from.
pub async fn send_message_with(
    state: &AppState,
    user: &User,
    conversation_id: Option<i64>,
    content: &str,
    options: SendOptions,
) -> Result<SentMessage, AppError> {
    let content = check_content(state, content)?;
    // The original backend stored any content type it was sent (clients send a model name there, for one): any text
    // of at most 50 characters is accepted, and one we do not know means the default.
    let content_type = match options.content_type.as_deref().map(str::trim) {
        Some(kind) if kind.chars().count() > MAX_CONTENT_TYPE_CHARS => {
            return Err(AppError::invalid(
                "content_type",
                format!("Ensure this field has no more than {MAX_CONTENT_TYPE_CHARS} characters."),
            ));
        }
        Some(kind) => CONTENT_TYPES
            .iter()
            .find(|(name, mime)| name.eq_ignore_ascii_case(kind) || mime.eq_ignore_ascii_case(kind))
            .map_or(DEFAULT_CONTENT_TYPE, |(_, mime)| *mime),
        None => DEFAULT_CONTENT_TYPE,
    };
    let model = match options.model.map(|m| m.trim().to_string()).filter(|m| !m.is_empty()) {
        Some(model) if !state.chat.provider.models().await.iter().any(|m| m.id == model) => {
            return Err(AppError::invalid(
                "model",
                format!("Unknown model \u{201c}{model}\u{201d}."),
            ));
        }
        other => other,
    };
    check_rate(state, user).await?;
    let Some(id) = conversation_id else {
        // A new conversation and its first message are created together.
        let new = store::NewConversation {
            title: generation::fallback_title(&content),
            ..Default::default()
        };
        return start(
            state,
            user,
            Target::New(new),
            NewTurn::first(content, model, content_type),
        )
        .await;
    };
    let conversation = owned(state, user, id).await?;
    let parent = match options.parent_id {
        Some(id) => {
            let m = store::message(&state.db.pool, user.id, id)
                .await?
                .filter(|m| m.conversation_id == conversation.id)
                .ok_or_else(|| AppError::invalid("parent_id", "No such message in this conversation."))?;
            Some(m.id)
        }
        None => conversation.current_leaf_id,
    };
    let turn = NewTurn {
        user_content: Some(content),
        parent_id: parent,
        edit_count: 0,
        model,
        content_type,
    };
    start(state, user, Target::Existing(Box::new(conversation)), turn).await
}

/// What [`start`] adds to a conversation.
struct NewTurn {
    user_content: Option<String>,
    parent_id: Option<i64>,
    edit_count: i64,
    /// A model for this reply instead of the conversation's.
    model: Option<String>,
    /// MIME type of the user message.
    content_type: &'static str,
}

impl NewTurn {
    /// The first message of a new conversation.
    fn first(content: String, model: Option<String>, content_type: &'static str) -> Self {
        Self {
            user_content: Some(content),
            parent_id: None,
            edit_count: 0,
            model,
            content_type,
        }
    }

    fn reply_to(parent_id: Option<i64>, user_content: Option<String>, edit_count: i64) -> Self {
        Self {
            user_content,
            parent_id,
            edit_count,
            model: None,
            content_type: DEFAULT_CONTENT_TYPE,
        }
    }
}

/// Generates a new reply in place of the reply `message_id` (kept as a sibling), or a reply to the user message
/// `message_id` (after an error left it unanswered).
pub async fn regenerate(state: &AppState, user: &User, message_id: i64) -> Result<SentMessage, AppError> {
    let m = stored_message(state, user, message_id).await?;
    let conversation = owned(state, user, m.conversation_id).await?;
    let parent = if m.role == "assistant" { m.parent_id } else { Some(m.id) };
    start(
        state,
        user,
        Target::Existing(Box::new(conversation)),
        NewTurn::reply_to(parent, None, 0),
    )
    .await
}

/// Sends an edited copy of the user message `message_id` as a new branch; the old branch stays reachable.
pub async fn edit_message(
    state: &AppState,
    user: &User,
    message_id: i64,
    content: &str,
) -> Result<SentMessage, AppError> {
    let content = check_content(state, content)?;
    let m = stored_message(state, user, message_id).await?;
    if m.role != "user" {
        return Err(AppError::invalid("message", "Only your own messages can be edited."));
    }
    check_rate(state, user).await?;
    let conversation = owned(state, user, m.conversation_id).await?;
    let turn = NewTurn::reply_to(m.parent_id, Some(content), m.edit_count + 1);
    start(state, user, Target::Existing(Box::new(conversation)), turn).await
}

/// Where [`start`] adds a turn: a conversation of the user's, or one it creates in the same transaction.
enum Target {
    Existing(Box<Conversation>),
    New(store::NewConversation),
}

async fn start(state: &AppState, user: &User, target: Target, new: NewTurn) -> Result<SentMessage, AppError> {
    let NewTurn {
        user_content,
        parent_id,
        edit_count,
        model,
        content_type,
    } = new;
    let model = model.unwrap_or_else(|| match &target {
        Target::Existing(conversation) => model_for(state, user, Some(conversation)),
        Target::New(new) if !new.model.is_empty() => new.model.clone(),
        Target::New(_) => model_for(state, user, None),
    });
    let mut turn = Turn {
        conversation_id: 0,
        user_id: user.id,
        user_content: user_content.clone(),
        user_content_type: content_type,
        parent_id,
        edit_count,
        reply_metadata: generation::pending_metadata(&model),
    };
    let (conversation, started) = match target {
        Target::Existing(conversation) => {
            turn.conversation_id = conversation.id;
            let started = store::start_turn(&state.db.pool, &turn).await?;
            (*conversation, started)
        }
        Target::New(new) => {
            let (id, started) = store::create_with_turn(&state.db.pool, &new, &turn).await?;
            (owned(state, user, id).await?, started)
        }
    };
    let conversation = &conversation;

    // The history of the branch the new reply continues, oldest first.
    let messages = store::messages(&state.db.pool, conversation.id).await?;
    let reply_parent = started.user_message_id.or(parent_id);
    let mut wire = Vec::new();
    if !conversation.system_prompt.trim().is_empty() {
        wire.push(WireMessage {
            role: "system".into(),
            content: conversation.system_prompt.clone(),
        });
    }
    wire.extend(
        branch(&messages, reply_parent)
            .into_iter()
            .filter(|m| (m.role == "user" || m.role == "assistant") && !m.content.trim().is_empty())
            .map(|m| WireMessage {
                role: m.role,
                content: m.content,
            }),
    );
    let context = state
        .chat
        .provider
        .models()
        .await
        .into_iter()
        .find(|m| m.id == model)
        .and_then(|m| m.max_context_length)
        .unwrap_or(DEFAULT_CONTEXT_TOKENS);
    let request = ChatRequest::new(model, fit_context(wire, context));
    // The first exchange names the conversation; only the automatic title (the first message's beginning) is
    // replaced, never one a user gave or renamed it to.
    let first_message = messages.iter().filter(|m| m.role == "user").count() == 1;
    let auto_title = user_content
        .as_deref()
        .filter(|_| first_message)
        .map(generation::fallback_title)
        .filter(|fallback| !fallback.is_empty() && *fallback == conversation.title);
    state.chat.spawn(
        state.db.pool.clone(),
        Job {
            conversation_id: conversation.id,
            message_id: started.assistant_message_id,
            request,
            auto_title,
        },
    );
    Ok(SentMessage {
        conversation_id: conversation.id,
        user_message_id: started.user_message_id,
        assistant_message_id: started.assistant_message_id,
    })
}

/// Starts a conversation with the given settings and its first message: the settings are checked and the rate limit
/// applied first, then the conversation and the message are created in one transaction (so a refused or failed start
/// leaves nothing behind), and the reply is generated in the background.
pub async fn start_conversation(
    state: &AppState,
    user: &User,
    first_message: &str,
    edit: ConversationEdit,
) -> Result<SentMessage, AppError> {
    let content = check_content(state, first_message)?;
    let changes = changes_of(state, edit).await?;
    check_rate(state, user).await?;
    let new = store::NewConversation {
        title: changes.title.unwrap_or_else(|| generation::fallback_title(&content)),
        model: changes.model.unwrap_or_default(),
        system_prompt: changes.system_prompt.unwrap_or_default(),
    };
    let turn = NewTurn::first(content, None, DEFAULT_CONTENT_TYPE);
    start(state, user, Target::New(new), turn).await
}

/// Stops the reply `message_id`; what was written so far is kept.
pub async fn stop(state: &AppState, user: &User, message_id: i64) -> Result<(), AppError> {
    let m = stored_message(state, user, message_id).await?;
    store::request_stop(&state.db.pool, m.id).await?;
    state.chat.stop(m.id);
    // A reply generated here is saved and its lock released before answering, so the next send is not refused.
    state.chat.wait(m.id, std::time::Duration::from_secs(3)).await;
    Ok(())
}

/// Shows the branch that goes through `message_id` (its newest continuation).
pub async fn select_branch(state: &AppState, user: &User, message_id: i64) -> Result<i64, AppError> {
    let m = stored_message(state, user, message_id).await?;
    let all = store::messages(&state.db.pool, m.conversation_id).await?;
    let mut leaf = m.id;
    while let Some(child) = all.iter().filter(|c| c.parent_id == Some(leaf)).map(|c| c.id).max() {
        leaf = child;
    }
    store::set_leaf(&state.db.pool, m.conversation_id, leaf).await?;
    Ok(m.conversation_id)
}

/// Changes a user may make to a conversation, unchecked.
#[derive(Debug, Clone, Default)]
pub struct ConversationEdit {
    /// New title.
    pub title: Option<String>,
    /// Pin.
    pub is_pinned: Option<bool>,
    /// Archive (true) or restore (false).
    pub archived: Option<bool>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Model ('' = preferred).
    pub model: Option<String>,
    /// System prompt.
    pub system_prompt: Option<String>,
    /// Category (at most 50 characters; the API's field).
    pub category: Option<String>,
    /// Summary (the API's field).
    pub summary: Option<String>,
}

/// Longest category.
const MAX_CATEGORY_CHARS: usize = 50;

/// Validates and applies `edit`.
pub async fn update_conversation(
    state: &AppState,
    user: &User,
    id: i64,
    edit: ConversationEdit,
) -> Result<(), AppError> {
    let changes = changes_of(state, edit).await?;
    if store::update_conversation(&state.db.pool, user.id, id, &changes).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The stored form of `edit`, or the first field that is wrong.
async fn changes_of(state: &AppState, edit: ConversationEdit) -> Result<ConversationChanges, AppError> {
    let mut changes = ConversationChanges::default();
    if let Some(title) = edit.title {
        let title = title.trim().to_string();
        if title.is_empty() {
            return Err(AppError::invalid("title", "The title may not be blank."));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(AppError::invalid(
                "title",
                format!("A title can have at most {MAX_TITLE_CHARS} characters."),
            ));
        }
        changes.title = Some(title);
    }
    if let Some(tags) = edit.tags {
        let mut clean: Vec<String> = Vec::new();
        for tag in tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
            if tag.chars().count() > MAX_TAG_CHARS {
                return Err(AppError::invalid(
                    "tags",
                    format!("A tag can have at most {MAX_TAG_CHARS} characters."),
                ));
            }
            if !clean.iter().any(|t| t == tag) {
                clean.push(tag.to_string());
            }
        }
        if clean.len() > MAX_TAGS {
            return Err(AppError::invalid(
                "tags",
                format!("A conversation can have at most {MAX_TAGS} tags."),
            ));
        }
        changes.tags = Some(serde_json::Value::from(clean).to_string());
    }
    if let Some(model) = edit.model {
        let model = model.trim().to_string();
        if !model.is_empty() && !state.chat.provider.models().await.iter().any(|m| m.id == model) {
            return Err(AppError::invalid("model", format!("Unknown model “{model}”.")));
        }
        changes.model = Some(model);
    }
    if let Some(prompt) = edit.system_prompt {
        if prompt.chars().count() > MAX_SYSTEM_PROMPT_CHARS {
            return Err(AppError::invalid(
                "system_prompt",
                format!("A system prompt can have at most {MAX_SYSTEM_PROMPT_CHARS} characters."),
            ));
        }
        changes.system_prompt = Some(prompt);
    }
    if let Some(category) = edit.category {
        if category.chars().count() > MAX_CATEGORY_CHARS {
            return Err(AppError::invalid(
                "category",
                format!("Ensure this field has no more than {MAX_CATEGORY_CHARS} characters."),
            ));
        }
        changes.category = Some(category);
    }
    changes.summary = edit.summary;
    changes.is_pinned = edit.is_pinned;
    changes.status = edit.archived.map(|a| if a { "archived" } else { "active" }.to_string());
    Ok(changes)
}

/// Deletes the conversation and its messages (a running reply is stopped first).
pub async fn delete_conversation(state: &AppState, user: &User, id: i64) -> Result<(), AppError> {
    let conversation = owned(state, user, id).await?;
    if let Some(generating) = conversation.generating_id {
        state.chat.stop(generating);
    }
    if store::delete_conversation(&state.db.pool, user.id, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
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
            out.push(crate::chat::json::ConversationOut::new(&c, messages));
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
    let conversation = owned(state, user, id).await?;
    let messages = store::messages(&state.db.pool, id).await?;
    Ok((conversation, messages))
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

/// The user's message `id`.
pub async fn stored_message(state: &AppState, user: &User, id: i64) -> Result<Message, AppError> {
    store::message(&state.db.pool, user.id, id)
        .await?
        .ok_or(AppError::NotFound)
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
    let m = stored_message(state, user, message_id).await?;
    if m.conversation_id != conversation_id {
        return Err(AppError::NotFound);
    }
    if m.role == "assistant" {
        return Ok(Some(m));
    }
    Ok(store::messages(&state.db.pool, conversation_id)
        .await?
        .into_iter()
        .filter(|c| c.parent_id == Some(m.id) && c.role == "assistant")
        .max_by_key(|c| c.id))
}
