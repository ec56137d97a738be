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
    /// A reply's tool calls, in order (empty for other messages).
    pub steps: Vec<StepOut>,
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
            steps: Vec::new(),
        }
    }
}

impl MessageOut {
    /// The same message with its tool calls among `steps` (those of any replies).
    pub fn with_steps(mut self, steps: &[crate::chat::store::Step]) -> Self {
        self.steps = steps
            .iter()
            .filter(|s| s.message_id == self.id)
            .map(StepOut::from)
            .collect();
        self
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
    /// The last message of the branch on screen (`null` before the first message).
    pub current_leaf: Option<i64>,
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
    /// The tools its replies may call (names as `GET /api/chat/tools/` lists them).
    pub tools: Vec<String>,
    /// Present (`true`) on a temporary chat only: kept in the server's memory, never stored.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub temporary: bool,
}

impl ConversationOut {
    /// The shape of `c` with `messages` and, of them, the tool calls among `steps`; `tools` as the conversation chose
    /// them (callers that know the owner's default put the tools in effect instead).
    pub fn new(c: &Conversation, messages: Vec<Message>, steps: &[crate::chat::store::Step]) -> Self {
        Self {
            id: c.id,
            title: c.title.clone(),
            created_at: iso(c.created_at),
            updated_at: iso(c.updated_at),
            messages: messages
                .into_iter()
                .map(|m| MessageOut::from(m).with_steps(steps))
                .collect(),
            current_leaf: c.current_leaf_id,
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
            tools: c
                .tools
                .as_deref()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default(),
            temporary: crate::chat::temporary::is_temporary(c.id),
        }
    }
}

/// A tool call of a reply (issue #27), as the API, the exports and the live stream show it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct StepOut {
    /// Primary key.
    pub id: i64,
    /// The reply it belongs to.
    pub message_id: i64,
    /// The call's id, as an approval names it.
    pub call_id: String,
    /// The tool called.
    pub tool: String,
    /// The arguments the model wrote: JSON, or the text as written when it is not JSON.
    #[schema(value_type = Object)]
    pub arguments: serde_json::Value,
    /// `running`, `done`, `error`, `awaiting_approval`, `denied`, `expired` or `interrupted`.
    pub status: String,
    /// What the tool returned (`{"results": [...]}`, `{"page": {...}}`…), when it is done.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// RFC 3339.
    pub started_at: String,
    /// How long it ran, once ended.
    pub duration_ms: Option<i64>,
    /// The round of calls it belongs to (0 first); calls of one round ran in parallel.
    pub round: i64,
    /// RFC 3339: when a call waiting for approval expires.
    pub expires_at: Option<String>,
}

impl From<&crate::chat::store::Step> for StepOut {
    fn from(s: &crate::chat::store::Step) -> Self {
        Self {
            id: s.id,
            message_id: s.message_id,
            call_id: s.call_id.clone(),
            tool: s.tool.clone(),
            arguments: serde_json::from_str(&s.arguments)
                .unwrap_or_else(|_| serde_json::Value::String(s.arguments.clone())),
            status: s.status.clone(),
            result: s.result.as_deref().and_then(|r| serde_json::from_str(r).ok()),
            error: s.error.clone(),
            started_at: iso(s.started_at),
            duration_ms: s.duration_ms,
            round: s.round,
            expires_at: s.expires_at.map(iso),
        }
    }
}
