//! Settings of the instance that staff change at runtime (`instance_settings`, migration 000017): a JSON value per
//! key; a key without a row has its default. Read on every use (one indexed row), written by staff only, each change
//! audited. Server only.

use serde_json::json;
use sqlx::AnyPool;

use crate::admin::audit::{self, Entry};
use crate::admin::service::Actor;
use crate::core::error::AppError;

/// The key of the share-links switch.
const SHARING: &str = "sharing_enabled";
/// The key of the temporary chats' mode.
const TEMPORARY: &str = "temporary_chats";
/// The key of the OpenAI-compatible API's switch and model list.
const OPENAI_API: &str = "openai_api";

/// The OpenAI-compatible API under `/v1/` (issue #30): on or off, and the models it offers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OpenAiApi {
    /// Whether `/v1/` answers at all (default: yes; it needs a personal token either way).
    pub enabled: bool,
    /// The models it offers; empty: every model the provider lists (and the embeddings model).
    #[serde(default)]
    pub models: Vec<String>,
}

impl Default for OpenAiApi {
    fn default() -> Self {
        Self {
            enabled: true,
            models: Vec::new(),
        }
    }
}

impl OpenAiApi {
    /// Whether it offers `model` (of those the provider has).
    pub fn allows(&self, model: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|m| m == model)
    }

    /// The model list a form or an API body gives (names separated by commas, spaces or lines), trimmed, without
    /// repeats; a clear field error for a name no provider could have.
    pub fn models_from_field(text: &str) -> Result<Vec<String>, AppError> {
        let mut models: Vec<String> = Vec::new();
        for name in text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|n| !n.is_empty())
        {
            let valid = name.len() <= 100
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/' | b'@'));
            if !valid {
                return Err(AppError::invalid(
                    "openai_api_models",
                    crate::text!(core.field.invalid_choice, value = name.to_string()),
                ));
            }
            if !models.iter().any(|m| m == name) {
                models.push(name.to_string());
            }
        }
        Ok(models)
    }
}

/// The OpenAI-compatible API's setting (default: on, every model; off when what is stored cannot be read).
pub async fn openai_api<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>) -> Result<OpenAiApi, sqlx::Error> {
    Ok(match value(db, OPENAI_API).await? {
        None => OpenAiApi::default(),
        Some(v) => serde_json::from_value(v).unwrap_or(OpenAiApi {
            enabled: false,
            models: Vec::new(),
        }),
    })
}

/// Changes the OpenAI-compatible API's switch and/or models (what is `None` stays), audited (`settings.openai_api`)
/// when it changes anything. Read and written under the staff lock: two changes at once both apply.
pub async fn set_openai_api(
    pool: &AnyPool,
    actor: &Actor,
    enabled: Option<bool>,
    models: Option<Vec<String>>,
) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    crate::admin::service::lock_staff(&mut tx, actor).await?;
    let before = openai_api(&mut *tx).await?;
    let setting = OpenAiApi {
        enabled: enabled.unwrap_or(before.enabled),
        models: models.unwrap_or_else(|| before.models.clone()),
    };
    if before != setting {
        let (from, to) = (json!(before), json!(setting));
        write(&mut tx, actor, OPENAI_API, "settings.openai_api", from, to).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Whether users may start temporary chats (`chat::temporary`), must, or may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TemporaryChats {
    /// Never: the new chat's toggle is gone and a request for one is refused.
    Off,
    /// A toggle on the new-chat screen, and `temporary: true` through the API (the default).
    #[default]
    Allowed,
    /// Every new chat is temporary: nothing a user writes is kept.
    Enforced,
}

impl TemporaryChats {
    /// Its name in settings, forms and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Allowed => "allowed",
            Self::Enforced => "enforced",
        }
    }

    /// The mode a form or an API body names in field `temporary_chats`; a clear field error for anything else.
    pub fn from_field(name: &str) -> Result<Self, AppError> {
        Self::parse(name).ok_or_else(|| {
            AppError::invalid(
                "temporary_chats",
                crate::text!(core.field.invalid_choice, value = name.to_string()),
            )
        })
    }

    /// The mode named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim() {
            "off" => Some(Self::Off),
            "allowed" => Some(Self::Allowed),
            "enforced" => Some(Self::Enforced),
            _ => None,
        }
    }
}

/// The temporary chats' mode (default: allowed).
pub async fn temporary_chats<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
) -> Result<TemporaryChats, sqlx::Error> {
    Ok(value(db, TEMPORARY)
        .await?
        .and_then(|v| v.as_str().and_then(TemporaryChats::parse))
        .unwrap_or_default())
}

/// Whether users may make public share links of their conversations (default: yes). When off, no link is made and
/// every existing one answers 404; they come back as they were when it is turned on again.
pub async fn sharing_enabled<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>) -> Result<bool, sqlx::Error> {
    Ok(value(db, SHARING).await?.and_then(|v| v.as_bool()).unwrap_or(true))
}

async fn value<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    key: &str,
) -> Result<Option<serde_json::Value>, sqlx::Error> {
    let text: Option<String> = sqlx::query_scalar("SELECT value FROM instance_settings WHERE key = $1")
        .bind(key)
        .fetch_optional(db)
        .await?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

/// Turns share links on or off, audited (`settings.sharing`) when it changes anything.
pub async fn set_sharing(pool: &AnyPool, actor: &Actor, enabled: bool) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    crate::admin::service::lock_staff(&mut tx, actor).await?;
    // Staff writes are one at a time (`lock_staff`): the value read here is the one this change replaces.
    let before = sharing_enabled(&mut *tx).await?;
    if before != enabled {
        write(
            &mut tx,
            actor,
            SHARING,
            "settings.sharing",
            json!(before),
            json!(enabled),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets the temporary chats' mode, audited (`settings.temporary_chats`) when it changes anything.
pub async fn set_temporary_chats(pool: &AnyPool, actor: &Actor, mode: TemporaryChats) -> Result<(), AppError> {
    let mut tx = pool.begin().await?;
    crate::admin::service::lock_staff(&mut tx, actor).await?;
    let before = temporary_chats(&mut *tx).await?;
    if before != mode {
        let (from, to) = (json!(before.as_str()), json!(mode.as_str()));
        write(&mut tx, actor, TEMPORARY, "settings.temporary_chats", from, to).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Writes setting `key` (from `before` to `value`) and its audit entry `action`.
async fn write(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    actor: &Actor,
    key: &str,
    action: &'static str,
    before: serde_json::Value,
    value: serde_json::Value,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO instance_settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(key)
    .bind(value.to_string())
    .bind(crate::core::db::now_millis())
    .execute(&mut **tx)
    .await?;
    let entry = Entry {
        actor_id: actor.user.id,
        actor: actor.user.username.clone(),
        action,
        target_id: None,
        target: String::new(),
        details: json!({"from": before, "to": value}),
        client_addr: actor.addr.clone(),
    };
    audit::record(tx, &entry).await?;
    Ok(())
}
