//! The one JSON rendering of a conversation and its messages: the REST API's shapes (../shared/API.md, with the
//! fields ThiCode adds), also used by the exports of a conversation and of a user's data.

use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

use crate::chat::store::{Conversation, Message};
use crate::core::time::iso;

/// A stored JSON object written out as it is (checked, not rebuilt); `{}` if the stored text is not JSON.
fn raw_object(text: &str) -> Box<RawValue> {
    RawValue::from_string(text.to_string())
        .ok()
        .filter(|raw| raw.get().starts_with('{'))
        .unwrap_or_else(|| RawValue::from_string("{}".to_string()).unwrap_or_default())
}

/// A chat message.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOut {
    /// Primary key.
    pub id: i64,
    /// `user`, `assistant` or `system`.
    pub role: String,
    /// The text (Markdown).
    pub content: String,
    /// MIME type of `content`: text/plain, text/markdown or text/x-code.
    pub content_type: String,
    /// RFC 3339.
    pub created_at: String,
    /// Free-form data.
    #[schema(value_type = Object)]
    pub additional_data: Box<RawValue>,
    /// `pending`, `streaming`, `delivered`, `stopped`, `interrupted` or `error`.
    pub status: String,
    /// The message this one follows (messages form a tree: regenerated replies and edits are siblings).
    pub parent: Option<i64>,
    /// Replies: `model`, `prompt_tokens`, `completion_tokens`, `finish_reason`, `error`…
    #[schema(value_type = Object)]
    pub metadata: Box<RawValue>,
    /// Whether the user edited it (an edit is a new sibling; this one is the edited copy).
    pub is_edited: bool,
    /// The files it carries, in the order they were sent (bytes at `/api/files/{id}/content/`).
    pub attachments: Vec<crate::files::Attachment>,
}

impl From<Message> for MessageOut {
    fn from(m: Message) -> Self {
        Self {
            additional_data: raw_object(&m.additional_data),
            metadata: raw_object(&m.metadata),
            created_at: iso(m.created_at),
            id: m.id,
            role: m.role,
            content: m.content,
            content_type: m.content_type,
            status: m.status,
            parent: m.parent_id,
            is_edited: m.is_edited,
            attachments: crate::files::service::attachments_of(&m.attachments),
        }
    }
}

impl From<&Message> for MessageOut {
    fn from(m: &Message) -> Self {
        Self::from(m.clone())
    }
}

/// A conversation with all its messages, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConversationOut {
    /// Primary key.
    pub id: i64,
    /// Title (≤ 255 characters).
    pub title: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
    /// Every message of every branch, oldest first.
    pub messages: Vec<MessageOut>,
    /// Free-form data.
    #[schema(value_type = Object)]
    pub additional_data: Box<RawValue>,
    /// `active` or `archived`.
    pub status: String,
    /// Summary text.
    pub summary: String,
    /// Category (≤ 50 characters).
    pub category: String,
    /// Tags (≤ 20, each ≤ 50 characters).
    pub tags: Vec<String>,
    /// Pinned conversations come first in the app.
    pub is_pinned: bool,
    /// Number of messages.
    pub message_count: i64,
    /// RFC 3339.
    pub last_message_at: Option<String>,
    /// RFC 3339.
    pub archived_at: Option<String>,
    /// Model of this conversation ("" = the user's preferred one).
    pub model: String,
    /// System prompt sent first to the model.
    pub system_prompt: String,
}

impl ConversationOut {
    /// The shape of `c` with `messages`.
    pub fn new(c: &Conversation, messages: Vec<Message>) -> Self {
        Self {
            id: c.id,
            title: c.title.clone(),
            created_at: iso(c.created_at),
            updated_at: iso(c.updated_at),
            messages: messages.into_iter().map(MessageOut::from).collect(),
            additional_data: raw_object(&c.additional_data),
            status: c.status.clone(),
            summary: c.summary.clone(),
            category: c.category.clone(),
            tags: serde_json::from_str(&c.tags).unwrap_or_default(),
            is_pinned: c.is_pinned,
            message_count: c.message_count,
            last_message_at: c.last_message_at.map(iso),
            archived_at: c.archived_at.map(iso),
            model: c.model.clone(),
            system_prompt: c.system_prompt.clone(),
        }
    }
}
