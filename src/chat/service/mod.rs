//! The chat use cases, called by the server functions and pages here and by the REST API: every function takes the
//! session user and answers `NotFound` for anything that is not theirs.

use crate::accounts::users::User;
use crate::chat::store;
// The records the REST API renders; it reads them only through the functions below.
pub use crate::chat::store::{Conversation, ListQuery, Message, Ordering};
use crate::core::error::AppError;
use crate::state::AppState;

mod edits;
mod imports;
mod shares;
pub mod temporary;
mod turns;
mod views;

pub use edits::*;
pub use imports::*;
pub use shares::*;
pub use turns::*;
pub use views::*;

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

/// The tools a conversation's replies may call: the conversation's choice (its `tools`, a JSON list), else its
/// owner's default (the `tools` preference), else every built-in tool; of those, the ones the instance offers.
pub fn tools_for(state: &AppState, user: &User, conversation_tools: Option<&str>) -> Vec<String> {
    let names = |text: &str| serde_json::from_str::<Vec<String>>(text).ok();
    let preferences: serde_json::Value = serde_json::from_str(&user.preferences).unwrap_or_default();
    let chosen = conversation_tools
        .and_then(names)
        .or_else(|| serde_json::from_value::<Vec<String>>(preferences.get("tools")?.clone()).ok())
        .unwrap_or_else(|| state.chat.toolbox.default_names());
    state.chat.toolbox.chosen(&chosen).into_iter().map(|t| t.name).collect()
}

async fn owned(state: &AppState, user: &User, id: i64) -> Result<Conversation, AppError> {
    store::conversation(&state.db.pool, user.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The user's message `id`.
pub async fn stored_message(state: &AppState, user: &User, id: i64) -> Result<Message, AppError> {
    store::message(&state.db.pool, user.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The user's message `id`, stored or in a temporary chat (for reading only: changes go through the functions that
/// know which it is).
pub async fn any_message(state: &AppState, user: &User, id: i64) -> Result<Message, AppError> {
    if temporary::is_temporary(id) {
        return Ok(temporary::message(state, user, id)?.0);
    }
    stored_message(state, user, id).await
}
