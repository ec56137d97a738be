//! Types shared by the chat server functions, routes and pages (both targets compile them).

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
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
    pub error: Option<String>,
    /// Model that wrote a reply.
    pub model: Option<String>,
    /// Position among its siblings (1-based) and their number: branches from regenerating or editing.
    pub branch: (usize, usize),
    /// Sibling before and after this one, to switch branches.
    pub prev_sibling: Option<i64>,
    /// See `prev_sibling`.
    pub next_sibling: Option<i64>,
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
}

/// What the chat pages need besides a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatContext {
    /// The user's conversations (first page).
    pub conversations: Vec<ConversationSummary>,
    /// More conversations exist beyond this page.
    pub has_more: bool,
    /// Models to choose from.
    pub models: Vec<String>,
    /// The model used when a conversation names none.
    pub preferred_model: String,
    /// No real model is configured (the demo provider answers).
    pub demo: bool,
    /// The search the sidebar shows results of, if any.
    pub query: Option<String>,
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

/// What a chat server function can answer instead of success. Never carries internal details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum ChatError {
    /// A field is wrong.
    #[error("{message}")]
    Invalid {
        /// Field name.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The request itself is malformed (a missing or non-numeric field).
    #[error("Invalid request: {0}")]
    BadRequest(String),
    /// No such conversation or message for this user.
    #[error("Not found.")]
    NotFound,
    /// A reply is already being generated in this conversation.
    #[error("A reply is already being generated in this conversation. Wait for it or stop it first.")]
    Busy,
    /// Too many messages; wait this many seconds.
    #[error("You are sending messages too fast. Try again in {0} s.")]
    RateLimited(i64),
    /// The action needs a logged-in user.
    #[error("Please log in to continue.")]
    Unauthenticated,
    /// The request could not be handled (the cause is in the server log).
    #[error("Something went wrong on our side. Please try again.")]
    Server,
}

impl ChatError {
    /// The message for the user, in `lang` (field messages are translated by the server).
    pub fn message(&self, lang: crate::core::i18n::Lang) -> String {
        use crate::core::i18n::Lang;
        match (self, lang) {
            (Self::Invalid { message, .. }, _) => message.clone(),
            (Self::BadRequest(detail), Lang::En) => format!("Invalid request: {detail}"),
            (Self::BadRequest(_), Lang::Fr) => {
                "Requête invalide : un champ n’a pas le bon type ou ne peut pas être lu.".into()
            }
            (Self::RateLimited(seconds), Lang::En) => {
                format!("You are sending messages too fast. Try again in {seconds} s.")
            }
            (Self::RateLimited(seconds), Lang::Fr) => {
                format!("Vous envoyez des messages trop vite. Réessayez dans {seconds} s.")
            }
            (Self::NotFound, lang) => lang.t("Not found.", "Introuvable.").into(),
            (Self::Busy, lang) => lang
                .t(
                    "A reply is already being generated in this conversation. Wait for it or stop it first.",
                    "Une réponse est déjà en cours dans cette conversation. Attendez-la ou arrêtez-la d’abord.",
                )
                .into(),
            (Self::Unauthenticated, lang) => lang
                .t("Please log in to continue.", "Connectez-vous pour continuer.")
                .into(),
            (Self::Server, lang) => lang
                .t(
                    "Something went wrong on our side. Please try again.",
                    "Un problème est survenu de notre côté. Veuillez réessayer.",
                )
                .into(),
        }
    }

    /// A field error.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl FromServerFnError for ChatError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        match crate::core::arguments::argument_error(&error) {
            Some(e) => match e.field {
                Some(field) => Self::Invalid {
                    field,
                    message: e.message,
                },
                None => Self::BadRequest(e.message),
            },
            None => Self::Server,
        }
    }
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
