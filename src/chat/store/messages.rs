//! The `messages` table: a conversation's messages, one message of the user's, and the count behind the rate limit.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, FromRow, Row};

use crate::core::db::{Backend, Db};

/// A message as stored.
#[derive(Debug, Clone)]
pub struct Message {
    /// Primary key.
    pub id: i64,
    /// Its conversation.
    pub conversation_id: i64,
    /// The message it follows (None for the first).
    pub parent_id: Option<i64>,
    /// `user`, `assistant` or `system`.
    pub role: String,
    /// Markdown text.
    pub content: String,
    /// MIME type of `content`.
    pub content_type: String,
    /// `pending`, `streaming`, `delivered`, `stopped`, `interrupted` or `error`.
    pub status: String,
    /// Written by editing an earlier message.
    pub is_edited: bool,
    /// How many edits led to it.
    pub edit_count: i64,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
    /// Epoch ms when complete.
    pub delivered_at: Option<i64>,
    /// JSON object.
    pub additional_data: String,
    /// JSON object: model, tokens, timings, finish_reason, error.
    pub metadata: String,
    /// JSON array of the files it carries (`files::Attachment`).
    pub attachments: String,
}

impl FromRow<'_, AnyRow> for Message {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            conversation_id: row.try_get("conversation_id")?,
            parent_id: row.try_get("parent_id")?,
            role: row.try_get("role")?,
            content: row.try_get("content")?,
            content_type: row.try_get("content_type")?,
            status: row.try_get("status")?,
            is_edited: row.try_get::<i64, _>("is_edited")? != 0,
            edit_count: row.try_get("edit_count")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            delivered_at: row.try_get("delivered_at")?,
            additional_data: row.try_get("additional_data")?,
            metadata: row.try_get("metadata")?,
            attachments: row.try_get("attachments")?,
        })
    }
}

pub(super) const MESSAGE_COLUMNS: &str = "id, conversation_id, parent_id, role, content, content_type, status, is_edited, \
    edit_count, created_at, updated_at, delivered_at, additional_data, metadata, attachments";

/// Every message of a conversation (all branches), oldest first.
pub async fn messages(pool: &AnyPool, conversation_id: i64) -> Result<Vec<Message>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 ORDER BY id"
    ))
    .bind(conversation_id)
    .fetch_all(pool)
    .await
}

/// Every message of these conversations, oldest first. The database builds one JSON array per conversation, so the
/// answer is one row per conversation instead of one per message: sqlx's SQLite driver hands rows over one at a time
/// from its worker thread, and 200 small rows cost several times more than 20 larger ones (bench/api).
pub async fn messages_of(db: &Db, conversation_ids: &[i64]) -> Result<Vec<Message>, sqlx::Error> {
    if conversation_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=conversation_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {} FROM conversations c WHERE c.id IN ({})",
        messages_json_sql(db.backend, "c.id"),
        placeholders.join(", ")
    );
    let mut query = sqlx::query_scalar::<_, String>(&sql);
    for id in conversation_ids {
        query = query.bind(*id);
    }
    let mut out = Vec::new();
    for array in query.fetch_all(&db.pool).await? {
        out.extend(parse_messages(&array)?);
    }
    out.sort_by_key(|m| m.id);
    Ok(out)
}

/// A message as the JSON of [`messages_of`] carries it: an array of [`MESSAGE_COLUMNS`] (flags as 0/1, as stored).
#[derive(serde::Deserialize)]
pub(super) struct MessageJson {
    id: i64,
    conversation_id: i64,
    parent_id: Option<i64>,
    role: String,
    content: String,
    content_type: String,
    status: String,
    is_edited: i64,
    edit_count: i64,
    created_at: i64,
    updated_at: i64,
    delivered_at: Option<i64>,
    additional_data: String,
    metadata: String,
    attachments: String,
}

impl From<MessageJson> for Message {
    fn from(m: MessageJson) -> Self {
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            parent_id: m.parent_id,
            role: m.role,
            content: m.content,
            content_type: m.content_type,
            status: m.status,
            is_edited: m.is_edited != 0,
            edit_count: m.edit_count,
            created_at: m.created_at,
            updated_at: m.updated_at,
            delivered_at: m.delivered_at,
            additional_data: m.additional_data,
            metadata: m.metadata,
            attachments: m.attachments,
        }
    }
}

/// One message, if its conversation belongs to `user_id`.
pub async fn message(pool: &AnyPool, user_id: i64, id: i64) -> Result<Option<Message>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {cols} FROM messages m WHERE m.id = $1 AND EXISTS (SELECT 1 FROM conversations c \
         WHERE c.id = m.conversation_id AND c.user_id = $2 AND c.status <> 'deleted')",
        cols = MESSAGE_COLUMNS
            .split(", ")
            .map(|c| format!("m.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(pool)
    .await
}

/// A message by id whoever owns it (for the generator, which already holds the lock).
pub async fn message_by_id(pool: &AnyPool, id: i64) -> Result<Option<Message>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// How many messages the user sent since `since` (epoch ms), and when the oldest of them was sent (rate limits).
pub async fn user_messages_since(pool: &AnyPool, user_id: i64, since: i64) -> Result<(i64, Option<i64>), sqlx::Error> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, MIN(m.created_at) AS oldest FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id \
         WHERE c.user_id = $1 AND m.role = 'user' AND m.created_at >= $2",
    )
    .bind(user_id)
    .bind(since)
    .fetch_one(pool)
    .await?;
    Ok((row.try_get("n")?, row.try_get("oldest")?))
}

/// SQL for the JSON array (text) of every message of the conversation `id_expr`, each message an array of
/// [`MESSAGE_COLUMNS`] in that order (no keys to write, match or skip), in no particular order: [`parse_messages`]
/// puts them oldest first, so SQLite needs no sorter for the aggregate (it walks the index in id order anyway).
pub(super) fn messages_json_sql(backend: Backend, id_expr: &str) -> String {
    let columns: Vec<String> = MESSAGE_COLUMNS
        .split(", ")
        .map(|c| format!("m.{c}", c = c.trim()))
        .collect();
    let columns = columns.join(", ");
    match backend {
        Backend::Sqlite => format!(
            "COALESCE((SELECT json_group_array(json_array({columns})) FROM messages m \
             WHERE m.conversation_id = {id_expr}), '[]')"
        ),
        Backend::Postgres => format!(
            "COALESCE((SELECT json_agg(json_build_array({columns})) FROM messages m \
             WHERE m.conversation_id = {id_expr}), '[]')::text"
        ),
    }
}

/// The messages of a [`messages_json_sql`] array, oldest first.
pub(super) fn parse_messages(array: &str) -> Result<Vec<Message>, sqlx::Error> {
    let mut rows: Vec<MessageJson> = serde_json::from_str(array).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    rows.sort_unstable_by_key(|m| m.id);
    Ok(rows.into_iter().map(Message::from).collect())
}
