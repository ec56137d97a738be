//! Types shared by the chat server functions, routes and pages (both targets compile them).

use serde::{Deserialize, Serialize};

/// A conversation in the sidebar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    /// Primary key.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Pinned conversations come first.
    pub is_pinned: bool,
    /// `active` or `archived`.
    pub status: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Epoch ms of the last activity.
    pub last_activity: i64,
}

/// A message as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    /// Primary key.
    pub id: i64,
    /// The message it follows.
    pub parent_id: Option<i64>,
    /// `user` or `assistant`.
    pub role: String,
    /// Markdown source (shown while streaming and copied by "Copy").
    pub content: String,
    /// Sanitised HTML of `content`, rendered on the server.
    pub html: String,
    /// `pending`, `streaming`, `delivered`, `stopped`, `interrupted` or `error`.
    pub status: String,
    /// A user-facing error, when the reply failed.
    pub error: Option<crate::core::i18n::Text>,
    /// Model that wrote a reply.
    pub model: Option<String>,
    /// Tokens the reply took, when the provider said.
    pub tokens: Option<i64>,
    /// Milliseconds from the request to the reply's first token.
    pub first_token_ms: Option<i64>,
    /// Position among its siblings (1-based) and their number: branches from regenerating or editing.
    pub branch: (usize, usize),
    /// Sibling before and after this one, to switch branches.
    pub prev_sibling: Option<i64>,
    /// See `prev_sibling`.
    pub next_sibling: Option<i64>,
    /// The files it carries.
    pub attachments: Vec<crate::files::Attachment>,
    /// The document parts a reply quoted (retrieval), shown under it.
    #[serde(default)]
    pub sources: Vec<crate::files::Source>,
    /// A reply's tool calls, rendered on the server (`chat::steps_html`), shown above its text.
    #[serde(default)]
    pub steps_html: String,
    /// The pages its searches found, numbered, shown under its text.
    #[serde(default)]
    pub links_html: String,
}

impl MessageView {
    /// Whether the reply is still being written.
    pub fn is_generating(&self) -> bool {
        self.status == "pending" || self.status == "streaming"
    }
}

/// A conversation with the messages of the branch on screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationView {
    /// Primary key.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Pinned.
    pub is_pinned: bool,
    /// `active` or `archived`.
    pub status: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Model of new replies ('' = the user's preferred).
    pub model: String,
    /// System prompt.
    pub system_prompt: String,
    /// Messages of the current branch, oldest first.
    pub messages: Vec<MessageView>,
    /// Its composer's tools menu (`chat::tools_menu`), rendered on the server; empty when the instance has no tools.
    #[serde(default)]
    pub tools_html: String,
    /// Its public link, when it is shared (issue #29).
    #[serde(default)]
    pub share_url: Option<String>,
    /// Kept in the server's memory only, never stored (`chat::temporary`).
    #[serde(default)]
    pub temporary: bool,
}

/// Where the composer posts without JavaScript: a `multipart/form-data` body with the message and its files
/// (`chat::routes`).
pub const SEND_FORM_PATH: &str = "/chat/send";

/// Where the import page's form sends its file (`multipart/form-data`), with or without JavaScript (issue #29).
pub const IMPORT_FORM_PATH: &str = "/settings/import";

/// What the chat pages need besides a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatContext {
    /// The user's conversations (first page).
    pub conversations: Vec<ConversationSummary>,
    /// More conversations exist beyond this page.
    pub has_more: bool,
    /// Models to choose from.
    pub models: Vec<String>,
    /// Those of them that read images.
    #[serde(default)]
    pub vision_models: Vec<String>,
    /// The model used when a conversation names none.
    pub preferred_model: String,
    /// No real model is configured (the demo provider answers).
    pub demo: bool,
    /// The search the sidebar shows results of, if any.
    pub query: Option<String>,
    /// The server's clock when the list was read (epoch ms) and the user's offset from UTC in minutes (from the
    /// `tz` cookie the browser keeps): the sidebar groups by day with them, the same on both sides.
    pub now: i64,
    /// See `now`.
    pub utc_offset: i32,
    /// What to call the user in a greeting: their first name, else their username.
    pub greeting_name: String,
    /// The new chat's tools menu (the user's default tools), rendered on the server; empty without tools.
    #[serde(default)]
    pub tools_html: String,
    /// Temporary chats on this server: `off`, `allowed` or `enforced`.
    #[serde(default)]
    pub temporary_chats: String,
    /// Minutes after which an idle temporary chat is forgotten.
    #[serde(default)]
    pub temporary_idle_minutes: u64,
}

/// The rows created by a send, regenerate or edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    /// Conversation (new when the send created it).
    pub conversation_id: i64,
    /// The user message added, if any.
    pub user_message_id: Option<i64>,
    /// The reply being generated.
    pub assistant_message_id: i64,
}

/// What a send, regenerate or edit answers the page: the rows created, and the conversation as it now is (the reply
/// pending) with its sidebar line, so the page shows it and follows the reply's stream without another request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The rows created.
    #[serde(flatten)]
    pub ids: SentMessage,
    /// The conversation's current branch, ending with the pending reply.
    pub view: ConversationView,
    /// The conversation as the sidebar lists it.
    pub summary: ConversationSummary,
}

/// A public link to a snapshot of a conversation (issue #29), as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ShareLink {
    /// The link's secret part.
    pub token: String,
    /// The link, absolute (on `SITE_URL`).
    pub url: String,
    /// The conversation shared.
    pub conversation_id: i64,
    /// Its current title.
    pub title: String,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of the snapshot.
    pub updated_at: i64,
    /// The same as the pages show dates (`YYYY-MM-DD HH:MM`, UTC).
    pub updated_date: String,
}

/// A shared conversation as anyone with its link reads it: nothing in it names the owner or an internal id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedView {
    /// The link's secret part (the page's own address).
    pub token: String,
    /// Title at the time of the snapshot.
    pub title: String,
    /// The conversation's model, if it had one of its own.
    pub model: String,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of the snapshot.
    pub updated_at: i64,
    /// The same as the pages show dates (`YYYY-MM-DD HH:MM`, UTC).
    pub snapshot_date: String,
    /// The branch, oldest first.
    pub messages: Vec<SharedMessage>,
    /// Whether the reader is signed in (and may copy it into their account).
    pub signed_in: bool,
}

/// A message of a [`SharedView`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedMessage {
    /// `user` or `assistant`.
    pub role: String,
    /// Its text (Markdown for replies).
    pub content: String,
    /// Rendered and sanitised.
    pub html: String,
    /// Epoch ms.
    pub created_at: i64,
    /// The model that wrote a reply.
    pub model: Option<String>,
    /// Its files, served through the link.
    pub files: Vec<SharedFile>,
    /// Its tool calls, rendered (read-only).
    pub steps_html: String,
    /// The pages its searches found, rendered.
    pub links_html: String,
}

/// A file of a shared message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedFile {
    /// Its name.
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// `image` or `document`.
    pub kind: String,
    /// Where the link serves it (`/s/{token}/files/{n}`).
    pub url: String,
}

/// Most tags a conversation may have, and their longest length.
pub const MAX_TAGS: usize = 20;
/// See [`MAX_TAGS`].
pub const MAX_TAG_CHARS: usize = 50;
/// Longest title.
pub const MAX_TITLE_CHARS: usize = 255;
/// Longest system prompt.
pub const MAX_SYSTEM_PROMPT_CHARS: usize = 8000;
/// Conversations per sidebar page.
pub const PAGE_SIZE: i64 = 50;

/// Limits of an account (0: unlimited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Quota {
    /// Replies per UTC day.
    pub messages_per_day: i64,
    /// Prompt and completion tokens per UTC day.
    pub tokens_per_day: i64,
    /// Prompt and completion tokens per UTC month.
    pub tokens_per_month: i64,
}

impl Quota {
    /// Whether nothing is limited.
    pub fn is_unlimited(self) -> bool {
        self.messages_per_day == 0 && self.tokens_per_day == 0 && self.tokens_per_month == 0
    }
}

/// An account's own limits; `None` takes the instance's default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QuotaOverride {
    /// Replies per UTC day.
    pub messages_per_day: Option<i64>,
    /// Tokens per UTC day.
    pub tokens_per_day: Option<i64>,
    /// Tokens per UTC month.
    pub tokens_per_month: Option<i64>,
    /// Megabytes of files the account may keep (`None`: the instance's `MAX_FILE_STORAGE_PER_USER`; 0: unlimited).
    #[serde(default)]
    pub storage_mb: Option<i64>,
}

/// What an account used in the current day and month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Replies asked today.
    pub messages_today: i64,
    /// Tokens used today.
    pub tokens_today: i64,
    /// Tokens used this month.
    pub tokens_this_month: i64,
}

/// What the usage page shows: the account's usage, its limits and when they reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageView {
    /// Used today and this month.
    pub usage: Usage,
    /// The limits that apply (0: unlimited).
    pub limits: Quota,
    /// When the daily limits reset (`YYYY-MM-DD HH:MM` UTC).
    pub day_resets: String,
    /// When the monthly limit resets.
    pub month_resets: String,
}

/// What an imported file had that ThiCode does not carry (issue #29), counted so the report can say so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotCarried {
    /// Pictures (sent by the user or made by a tool).
    pub images: u32,
    /// Other files attached to messages.
    pub files: u32,
    /// Tool calls of another app (searches, code runs…); the answers written after them are kept.
    pub tool_calls: u32,
    /// Reasoning the other app showed apart from the answer.
    pub reasoning: u32,
    /// Anything else not shown as a message (system errors, unknown content).
    pub other: u32,
}

impl NotCarried {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &NotCarried) {
        self.images += other.images;
        self.files += other.files;
        self.tool_calls += other.tool_calls;
        self.reasoning += other.reasoning;
        self.other += other.other;
    }

    /// Whether nothing was left out.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// One conversation of an imported file, as the preview and the report list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportItem {
    /// Its title (as it will be stored).
    pub title: String,
    /// RFC 3339.
    pub created_at: String,
    /// Messages of every branch.
    pub messages: usize,
    /// Branches (edits and regenerations of the other app).
    pub branches: usize,
    /// `new` (a preview), `imported`, `already_imported` (nothing added: in the account, or earlier in the file),
    /// `empty` or `too_long` (left out), `failed` (the database refused it; the others are imported).
    pub outcome: String,
    /// The conversation made, once imported (or the one it already is).
    pub id: Option<i64>,
    /// What it had that is not carried.
    pub not_carried: NotCarried,
}

/// What an import found, and — unless it was a preview — what it added (issue #29).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportReport {
    /// `chatgpt`, `openwebui` or `thicode`.
    pub format: String,
    /// A preview: nothing was stored.
    pub dry_run: bool,
    /// Conversations in the file.
    pub found: usize,
    /// Conversations added (in a preview: that would be added).
    pub imported: usize,
    /// Conversations already in the account (imported before): left as they are.
    pub already_imported: usize,
    /// Conversations left out (empty, or too long).
    pub left_out: usize,
    /// Every conversation of the file, in its order.
    pub conversations: Vec<ImportItem>,
    /// Totals of what is not carried.
    pub not_carried: NotCarried,
}
