//! Changing a conversation: its title, pin, status, tags, model, system prompt, category and summary; deleting it.

use crate::accounts::users::User;
use crate::chat::store::{self, ConversationChanges};
use crate::chat::types::{MAX_SYSTEM_PROMPT_CHARS, MAX_TAG_CHARS, MAX_TAGS, MAX_TITLE_CHARS};
use crate::core::error::AppError;
use crate::state::AppState;
use crate::text;

use super::owned;

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
    /// The tools its replies may call, by name (each one the instance offers).
    pub tools: Option<Vec<String>>,
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
pub(super) async fn changes_of(state: &AppState, edit: ConversationEdit) -> Result<ConversationChanges, AppError> {
    let mut changes = ConversationChanges::default();
    if let Some(title) = edit.title {
        let title = title.trim().to_string();
        if title.is_empty() {
            return Err(AppError::invalid("title", text!(chat.limit.title_blank)));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(AppError::invalid(
                "title",
                text!(chat.limit.title_too_long, max = MAX_TITLE_CHARS),
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
                    text!(chat.limit.tag_too_long, max = MAX_TAG_CHARS),
                ));
            }
            if !clean.iter().any(|t| t == tag) {
                clean.push(tag.to_string());
            }
        }
        if clean.len() > MAX_TAGS {
            return Err(AppError::invalid(
                "tags",
                text!(chat.limit.too_many_tags, max = MAX_TAGS),
            ));
        }
        changes.tags = Some(serde_json::Value::from(clean).to_string());
    }
    if let Some(model) = edit.model {
        changes.model = Some(
            super::turns::checked_model(state, Some(model))
                .await?
                .unwrap_or_default(),
        );
    }
    if let Some(prompt) = edit.system_prompt {
        if prompt.chars().count() > MAX_SYSTEM_PROMPT_CHARS {
            return Err(AppError::invalid(
                "system_prompt",
                text!(chat.limit.system_prompt_too_long, max = MAX_SYSTEM_PROMPT_CHARS),
            ));
        }
        changes.system_prompt = Some(prompt);
    }
    if let Some(category) = edit.category {
        if category.chars().count() > MAX_CATEGORY_CHARS {
            return Err(AppError::invalid(
                "category",
                text!(core.field.too_long, max = MAX_CATEGORY_CHARS),
            ));
        }
        changes.category = Some(category);
    }
    if let Some(tools) = edit.tools {
        changes.tools = Some(checked_tools(state, &tools)?);
    }
    changes.summary = edit.summary;
    changes.is_pinned = edit.is_pinned;
    changes.status = edit.archived.map(|a| if a { "archived" } else { "active" }.to_string());
    Ok(changes)
}

/// `tools` as a conversation stores them (a JSON list, without blanks or repeats), or a field error naming the first
/// one the instance does not offer.
pub(crate) fn checked_tools(state: &AppState, tools: &[String]) -> Result<String, AppError> {
    let offered = state.chat.toolbox.tools();
    let mut clean: Vec<String> = Vec::new();
    for name in tools.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if !offered.iter().any(|t| t.name == name) {
            return Err(AppError::invalid("tools", text!(chat.tools.unknown, name = name)));
        }
        if !clean.iter().any(|t| t == name) {
            clean.push(name.to_string());
        }
    }
    Ok(serde_json::Value::from(clean).to_string())
}

/// Deletes the conversation and its messages (a running reply is stopped first).
pub async fn delete_conversation(state: &AppState, user: &User, id: i64) -> Result<(), AppError> {
    if super::temporary::is_temporary(id) {
        // A temporary chat is forgotten at once.
        return if state.chat.temporary.discard(user.id, id) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        };
    }
    let conversation = owned(state, user, id).await?;
    if let Some(generating) = conversation.generating_id {
        state.chat.stop(generating);
    }
    if store::delete_conversation(&state.db.pool, user.id, id).await? {
        crate::files::service::sweep_soon(state);
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
