//! Imported conversations (issue #29): which ones an account already has, and storing a draft whole — the
//! conversation, its message tree and its tool calls — in one transaction.

use std::collections::{HashMap, HashSet};

use sqlx::{AnyPool, Row};

use crate::chat::import::Draft;

/// The `import_source` of every conversation of `user_id` that was imported (deleted ones excepted: importing again
/// brings them back).
pub async fn import_sources(pool: &AnyPool, user_id: i64) -> Result<HashMap<String, i64>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, additional_data FROM conversations WHERE user_id = $1 AND status <> 'deleted' \
         AND additional_data LIKE '%import_source%'",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    let mut out = HashMap::new();
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let data: String = row.try_get("additional_data")?;
        if let Some(source) = serde_json::from_str::<serde_json::Value>(&data)
            .ok()
            .and_then(|d| d.get("import_source")?.as_str().map(str::to_string))
        {
            out.insert(source, id);
        }
    }
    Ok(out)
}

/// Of `originals` (id, creation time), those `user_id` still has as they were: a ThiCode export brought back to
/// the account it came from.
pub async fn still_there(pool: &AnyPool, user_id: i64, originals: &[(i64, i64)]) -> Result<HashSet<i64>, sqlx::Error> {
    let mut out = HashSet::new();
    for chunk in originals.chunks(400) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT id, created_at FROM conversations WHERE user_id = $1 AND status <> 'deleted' AND id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql).bind(user_id);
        for (id, _) in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(pool).await? {
            let id: i64 = row.try_get("id")?;
            let created: i64 = row.try_get("created_at")?;
            if chunk.iter().any(|(i, c)| *i == id && *c == created) {
                out.insert(id);
            }
        }
    }
    Ok(out)
}

/// Stores `draft` as a conversation of `user_id` (its `additional_data` naming its `import_source`), in one
/// transaction: all of it or nothing. Returns its id.
pub async fn insert_draft(pool: &AnyPool, user_id: i64, draft: &Draft) -> Result<i64, sqlx::Error> {
    let mut additional = draft.additional_data.clone();
    additional.insert(
        "import_source".to_string(),
        serde_json::Value::String(draft.source.clone()),
    );
    let mut tx = pool.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO conversations (user_id, title, slug, summary, tags, category, status, is_pinned, created_at, \
         updated_at, archived_at, additional_data, model, system_prompt, tools) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
    )
    .bind(user_id)
    .bind(&draft.title)
    .bind(super::slugify(&draft.title))
    .bind(&draft.summary)
    .bind(serde_json::to_string(&draft.tags).unwrap_or_else(|_| "[]".to_string()))
    .bind(&draft.category)
    .bind(&draft.status)
    .bind(i64::from(draft.is_pinned))
    .bind(draft.created_at)
    .bind(draft.updated_at)
    .bind(draft.archived_at)
    .bind(serde_json::Value::Object(additional).to_string())
    .bind(&draft.model)
    .bind(&draft.system_prompt)
    .bind(
        draft
            .tools
            .as_ref()
            .map(|t| serde_json::to_string(t).unwrap_or_default()),
    )
    .fetch_one(&mut *tx)
    .await?;
    let mut ids: Vec<i64> = Vec::with_capacity(draft.messages.len());
    for m in &draft.messages {
        let message_id: i64 = sqlx::query_scalar(
            "INSERT INTO messages (conversation_id, parent_id, role, content, content_type, status, is_edited, \
             edit_count, created_at, updated_at, delivered_at, additional_data, metadata) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(id)
        .bind(m.parent.and_then(|p| ids.get(p).copied()))
        .bind(&m.role)
        .bind(&m.content)
        .bind(&m.content_type)
        .bind(&m.status)
        .bind(i64::from(m.is_edited))
        .bind(m.edit_count)
        .bind(m.created_at)
        .bind(m.updated_at)
        .bind(m.delivered_at)
        .bind(&m.additional_data)
        .bind(&m.metadata)
        .fetch_one(&mut *tx)
        .await?;
        insert_steps(&mut tx, message_id, &m.steps).await?;
        ids.push(message_id);
    }
    let last = draft.messages.iter().map(|m| m.created_at).max();
    sqlx::query(
        "UPDATE conversations SET current_leaf_id = $1, message_count = $2, last_message_at = $3 WHERE id = $4",
    )
    .bind(draft.current_leaf.and_then(|i| ids.get(i).copied()))
    .bind(i64::try_from(ids.len()).unwrap_or(i64::MAX))
    .bind(last)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Writes `steps` as the tool calls of `message_id`, in order.
pub(super) async fn insert_steps(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    message_id: i64,
    steps: &[crate::chat::import::DraftStep],
) -> Result<(), sqlx::Error> {
    for (position, step) in steps.iter().enumerate() {
        sqlx::query(
            "INSERT INTO message_steps (message_id, position, round, call_id, tool, arguments, status, result, \
             error, started_at, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(message_id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(step.round)
        .bind(&step.call_id)
        .bind(&step.tool)
        .bind(&step.arguments)
        .bind(&step.status)
        .bind(step.result.as_deref())
        .bind(step.error.as_deref())
        .bind(step.started_at)
        .bind(step.duration_ms)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
