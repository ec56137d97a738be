//! Types shared by the server functions and the pages of accounts (both targets compile them).

use serde::{Deserialize, Serialize};

/// The logged-in user as pages see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    /// Primary key.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// May use the admin pages.
    pub is_staff: bool,
}

/// Models offered until the provider's own list is fetched (the chat feature asks the provider and caches it).
pub const FALLBACK_MODELS: &[&str] = &[
    "mistral-small-latest",
    "mistral-medium-latest",
    "mistral-large-latest",
    "codestral-latest",
    "open-mistral-nemo",
];

/// Display modes a user may choose.
pub const DISPLAY_MODES: &[&str] = &["system", "light", "dark"];

/// The editable profile and preferences of the logged-in user, as the settings page shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// Login name (not editable here).
    pub username: String,
    /// Email address.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Free text, at most 500 characters.
    pub bio: String,
    /// Preferred AI model.
    pub ai_model: String,
    /// system, light or dark.
    pub display_mode: String,
    /// en or fr.
    pub language: String,
    /// Models to choose from.
    pub models: Vec<String>,
}

/// A personal API token as the settings page lists it (never the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    /// Token id.
    pub id: i64,
    /// The owner's label.
    pub name: String,
    /// The first characters of the key.
    pub prefix: String,
    /// Creation date (UTC, `YYYY-MM-DD HH:MM`).
    pub created: String,
    /// Expiry date, if any.
    pub expires: Option<String>,
    /// Whether it has expired.
    pub expired: bool,
    /// Last use, if any.
    pub last_used: Option<String>,
    /// Limited to the OpenAI-compatible API under `/v1/`.
    pub v1_only: bool,
}

/// The API tokens page: the user's tokens, and a key just created (shown this once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensView {
    /// Newest first.
    pub tokens: Vec<TokenRow>,
    /// The key of the token created just before, shown once.
    pub new_key: Option<String>,
    /// The base URL of the OpenAI-compatible API (`SITE_URL` + `/v1`).
    pub v1_base_url: String,
}

/// Lifetimes offered for a new token, in days (empty = never expires).
pub const TOKEN_LIFETIMES: &[&str] = &["30", "90", "365", ""];
