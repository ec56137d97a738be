//! The audit log (`audit_log`, migration 000009): written by every admin action inside the action's own transaction,
//! read page by page, never changed — there is no function here that updates or deletes, and the database refuses
//! both. Server only.

use sqlx::{AnyPool, Row};

use crate::admin::types::AuditRow;
use crate::core::db::now_millis;

/// One action to record.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The staff account that acted.
    pub actor_id: i64,
    /// Its username at the time.
    pub actor: String,
    /// What was done, as `object.verb` (`user.deactivate`, `user.delete` …).
    pub action: &'static str,
    /// The account acted on, if any.
    pub target_id: Option<i64>,
    /// Its username at the time.
    pub target: String,
    /// More about the action (a JSON object).
    pub details: serde_json::Value,
    /// The client address the action came from.
    pub client_addr: String,
}

/// Appends `entry`, in the caller's transaction.
pub async fn record(tx: &mut sqlx::Transaction<'static, sqlx::Any>, entry: &Entry) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, actor, action, target_id, target, details, client_addr) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now_millis())
    .bind(entry.actor_id)
    .bind(&entry.actor)
    .bind(entry.action)
    .bind(entry.target_id)
    .bind(&entry.target)
    .bind(entry.details.to_string())
    .bind(&entry.client_addr)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Page `page` (from 1) of `size` entries, newest first, and the number of entries.
pub async fn page(pool: &AnyPool, page: i64, size: i64) -> Result<(Vec<AuditRow>, i64), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, at, actor_id, actor, action, target_id, target, details, client_addr FROM audit_log \
         ORDER BY id DESC LIMIT $1 OFFSET $2",
    )
    .bind(size)
    .bind((page.clamp(1, 1_000_000) - 1) * size)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let at: i64 = row.try_get("at")?;
        out.push(AuditRow {
            id: row.try_get("id")?,
            at,
            at_iso: crate::core::time::iso(at),
            at_text: crate::core::time::minute(at),
            actor_id: row.try_get("actor_id")?,
            actor: row.try_get("actor")?,
            action: row.try_get("action")?,
            target_id: row.try_get("target_id")?,
            target: row.try_get("target")?,
            details: row.try_get("details")?,
            client_addr: row.try_get("client_addr")?,
        });
    }
    let count = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(pool)
        .await?;
    Ok((out, count))
}
