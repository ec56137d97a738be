//! Types shared by the server functions and the pages of accounts (both targets compile them).

use std::collections::BTreeMap;

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Key of errors that belong to the whole form rather than one field (Django's `__all__`).
pub const NON_FIELD: &str = "__all__";

/// Field-level problems of a form, and the non-secret values to show again next to them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormErrors {
    /// Messages per field name (`__all__` for the whole form).
    pub fields: BTreeMap<String, Vec<String>>,
    /// What the user typed, except passwords, so the form keeps it.
    pub values: BTreeMap<String, String>,
}

impl FormErrors {
    /// Adds a message to `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields.entry(field.to_string()).or_default().push(message.into());
    }

    /// Remembers a value to show again.
    pub fn keep(&mut self, field: &str, value: &str) {
        self.values.insert(field.to_string(), value.to_string());
    }

    /// Whether any message was added.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// What an account server function can answer instead of success. Never carries internal details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AccountError {
    /// The form has problems, listed per field.
    #[error("Please correct the errors below.")]
    Invalid(FormErrors),
    /// Too many attempts; the user must wait this many minutes.
    #[error("Too many attempts. Try again in {0} minutes.")]
    Throttled(i64),
    /// The action needs a logged-in user.
    #[error("Please log in to continue.")]
    Unauthenticated,
    /// The user may not do this (an admin page for someone who is not staff).
    #[error("You do not have permission to view this page.")]
    Forbidden,
    /// The request could not be handled (the cause is in the server log).
    #[error("Something went wrong on our side. Please try again.")]
    Server,
}

impl AccountError {
    /// The message for the user, in `lang` (form messages are translated by the server).
    pub fn message(&self, lang: crate::core::i18n::Lang) -> String {
        match self {
            Self::Invalid(_) => lang
                .t(
                    "Please correct the errors below.",
                    "Veuillez corriger les erreurs ci-dessous.",
                )
                .into(),
            Self::Throttled(minutes) => match lang {
                crate::core::i18n::Lang::En => format!("Too many attempts. Try again in {minutes} minutes."),
                crate::core::i18n::Lang::Fr => format!("Trop de tentatives. Réessayez dans {minutes} minutes."),
            },
            Self::Unauthenticated => lang
                .t("Please log in to continue.", "Connectez-vous pour continuer.")
                .into(),
            Self::Forbidden => lang
                .t(
                    "You do not have permission to view this page.",
                    "Vous n’avez pas la permission de voir cette page.",
                )
                .into(),
            Self::Server => lang
                .t(
                    "Something went wrong on our side. Please try again.",
                    "Un problème est survenu de notre côté. Veuillez réessayer.",
                )
                .into(),
        }
    }

    /// The form problems, if that is what this is.
    pub fn form(&self) -> Option<&FormErrors> {
        match self {
            Self::Invalid(errors) => Some(errors),
            Self::Throttled(_) | Self::Unauthenticated | Self::Forbidden | Self::Server => None,
        }
    }
}

impl FromServerFnError for AccountError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(error: ServerFnErrorErr) -> Self {
        // Arguments that could not be decoded are the caller's mistake (400, the field named); transport problems are
        // nothing the user can fix in the form.
        match crate::core::arguments::argument_error(&error) {
            Some(e) => {
                let mut errors = FormErrors::default();
                errors.add(e.field.as_deref().unwrap_or(NON_FIELD), e.message);
                Self::Invalid(errors)
            }
            None => Self::Server,
        }
    }
}

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
}

/// The API tokens page: the user's tokens, and a key just created (shown this once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensView {
    /// Newest first.
    pub tokens: Vec<TokenRow>,
    /// The key of the token created just before, shown once.
    pub new_key: Option<String>,
}

/// Lifetimes offered for a new token, in days (none = never expires), with their English and French labels.
pub const TOKEN_LIFETIMES: &[(&str, &str, &str)] = &[
    ("30", "30 days", "30 jours"),
    ("90", "90 days", "90 jours"),
    ("365", "1 year", "1 an"),
    ("", "Never", "Jamais"),
];
