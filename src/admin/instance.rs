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
        sqlx::query(
            "INSERT INTO instance_settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(SHARING)
        .bind(json!(enabled).to_string())
        .bind(crate::core::db::now_millis())
        .execute(&mut *tx)
        .await?;
        let entry = Entry {
            actor_id: actor.user.id,
            actor: actor.user.username.clone(),
            action: "settings.sharing",
            target_id: None,
            target: String::new(),
            details: json!({"from": before, "to": enabled}),
            client_addr: actor.addr.clone(),
        };
        audit::record(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(())
}
