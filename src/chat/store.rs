//! Queries on `conversations` and `messages`. Every read and write that starts from a request is scoped to the
//! owner (`user_id`), so another user's id behaves exactly like a missing one.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, FromRow, Row};

use crate::core::db::{Backend, Db, now_millis};

/// A lock older than this is taken to belong to a dead process (writers renew it every second).
pub const STALE_LOCK_MS: i64 = 10_000;

/// A conversation as stored.
#[derive(Debug, Clone)]
pub struct Conversation {
    /// Primary key.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// Title (≤ 255 characters).
    pub title: String,
    /// URL-friendly form of the title.
    pub slug: String,
    /// Free text.
    pub summary: String,
    /// JSON list of strings.
    pub tags: String,
    /// Free text (≤ 50).
    pub category: String,
    /// `active`, `archived` or `deleted`.
    pub status: String,
    /// Shown first in lists.
    pub is_pinned: bool,
    /// Messages in every branch.
    pub message_count: i64,
    /// Epoch ms of the newest message.
    pub last_message_at: Option<i64>,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
    /// Epoch ms of archiving.
    pub archived_at: Option<i64>,
    /// JSON object.
    pub additional_data: String,
    /// Model for new replies ('' = the user's preferred model).
    pub model: String,
    /// Sent first to the model ('' = none).
    pub system_prompt: String,
    /// Last message of the branch on screen.
    pub current_leaf_id: Option<i64>,
    /// The assistant message being generated, if any.
    pub generating_id: Option<i64>,
}

impl FromRow<'_, AnyRow> for Conversation {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            title: row.try_get("title")?,
            slug: row.try_get("slug")?,
            summary: row.try_get("summary")?,
            tags: row.try_get("tags")?,
            category: row.try_get("category")?,
            status: row.try_get("status")?,
            is_pinned: row.try_get::<i64, _>("is_pinned")? != 0,
            message_count: row.try_get("message_count")?,
            last_message_at: row.try_get("last_message_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            archived_at: row.try_get("archived_at")?,
            additional_data: row.try_get("additional_data")?,
            model: row.try_get("model")?,
            system_prompt: row.try_get("system_prompt")?,
            current_leaf_id: row.try_get("current_leaf_id")?,
            generating_id: row.try_get("generating_id")?,
        })
    }
}

const CONVERSATION_COLUMNS: &str = "id, user_id, title, slug, summary, tags, category, status, is_pinned, \
    message_count, last_message_at, created_at, updated_at, archived_at, additional_data, model, system_prompt, \
    current_leaf_id, generating_id";

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
        })
    }
}

const MESSAGE_COLUMNS: &str = "id, conversation_id, parent_id, role, content, content_type, status, is_edited, \
    edit_count, created_at, updated_at, delivered_at, additional_data, metadata";

/// Which conversations a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFilter {
    /// Not archived, not deleted.
    Active,
    /// Archived only.
    Archived,
}

/// A new conversation.
#[derive(Debug, Clone, Default)]
pub struct NewConversation {
    /// Title ('' until the first exchange names it).
    pub title: String,
    /// Model ('' = the user's preferred).
    pub model: String,
    /// System prompt.
    pub system_prompt: String,
}

/// Creates a conversation for `user_id`.
pub async fn create_conversation(pool: &AnyPool, user_id: i64, new: &NewConversation) -> Result<i64, sqlx::Error> {
    insert_conversation(pool, user_id, new).await
}

async fn insert_conversation<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: i64,
    new: &NewConversation,
) -> Result<i64, sqlx::Error> {
    let now = now_millis();
    sqlx::query_scalar(
        "INSERT INTO conversations (user_id, title, slug, model, system_prompt, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(user_id)
    .bind(&new.title)
    .bind(slugify(&new.title))
    .bind(&new.model)
    .bind(&new.system_prompt)
    .bind(now)
    .fetch_one(executor)
    .await
}

/// Creates a conversation and starts its first turn (`turn`, whose `conversation_id` is ignored) in one transaction:
/// the conversation exists with its first message, or not at all.
pub async fn create_with_turn(pool: &AnyPool, new: &NewConversation, turn: &Turn) -> Result<(i64, Started), LockError> {
    let mut tx = pool.begin().await?;
    let id = insert_conversation(&mut *tx, turn.user_id, new).await?;
    let turn = Turn {
        conversation_id: id,
        ..turn.clone()
    };
    let started = start_turn_in(&mut tx, &turn).await?;
    tx.commit().await?;
    Ok((id, started))
}

/// The conversation `id` if `user_id` owns it and it is not deleted.
pub async fn conversation(pool: &AnyPool, user_id: i64, id: i64) -> Result<Option<Conversation>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id = $1 AND user_id = $2 AND status <> 'deleted'"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(pool)
    .await
}

/// A page of the user's conversations: pinned first, then by last activity.
pub async fn list_conversations(
    pool: &AnyPool,
    user_id: i64,
    filter: ListFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<Conversation>, sqlx::Error> {
    let status = match filter {
        ListFilter::Active => "active",
        ListFilter::Archived => "archived",
    };
    sqlx::query_as(&format!(
        "SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE user_id = $1 AND status = $2 \
         ORDER BY is_pinned DESC, COALESCE(last_message_at, created_at) DESC, id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(user_id)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await
}

/// The user's conversations whose title or any message matches `query` (every word, as a prefix), newest
/// activity first.
pub async fn search_conversations(
    db: &crate::core::db::Db,
    user_id: i64,
    query: &str,
    limit: i64,
) -> Result<Vec<Conversation>, sqlx::Error> {
    use crate::core::db::Backend;
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let like = format!("%{}%", query.trim().to_lowercase().replace(['%', '_'], ""));
    let (matcher, text_query) = match db.backend {
        // FTS5: every word must occur, as a prefix ("rust"* matches "rustacean").
        Backend::Sqlite => (
            "c.id IN (SELECT m.conversation_id FROM messages_fts f JOIN messages m ON m.id = f.rowid \
             WHERE messages_fts MATCH $3)",
            words.iter().map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" "),
        ),
        Backend::Postgres => (
            "c.id IN (SELECT m.conversation_id FROM messages m WHERE m.search @@ to_tsquery('simple', $3))",
            words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & "),
        ),
    };
    sqlx::query_as(&format!(
        "SELECT {cols} FROM conversations c WHERE c.user_id = $1 AND c.status <> 'deleted' \
         AND (lower(c.title) LIKE $2 OR {matcher}) \
         ORDER BY COALESCE(c.last_message_at, c.created_at) DESC, c.id DESC LIMIT $4",
        cols = CONVERSATION_COLUMNS
            .split(", ")
            .map(|c| format!("c.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(user_id)
    .bind(like)
    .bind(text_query)
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}

/// How the API orders conversation lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ordering {
    /// `updated_at` (the default, newest first).
    UpdatedAt,
    /// `created_at`.
    CreatedAt,
    /// `last_message_at`.
    LastMessageAt,
}

/// What an API list asks for.
#[derive(Debug, Clone)]
pub struct ListQuery {
    /// `active` or `archived`.
    pub status: String,
    /// Only this category, when not empty.
    pub category: String,
    /// Sort key.
    pub ordering: Ordering,
    /// Newest first.
    pub descending: bool,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
    /// Whether to count every match (for a page); otherwise the total is the number of rows returned.
    pub count: bool,
}

/// A page of the user's conversations as `query` asks, each with all its messages (oldest first), and the total
/// number matching. One query: the database adds each conversation's messages as a JSON array (see [`messages_of`]).
pub async fn api_list(
    db: &Db,
    user_id: i64,
    query: &ListQuery,
) -> Result<(Vec<(Conversation, Vec<Message>)>, i64), sqlx::Error> {
    let (status, category, limit, offset) = (&query.status, &query.category, query.limit, query.offset);
    let column = match query.ordering {
        Ordering::UpdatedAt => "updated_at",
        Ordering::CreatedAt => "created_at",
        Ordering::LastMessageAt => "COALESCE(last_message_at, created_at)",
    };
    let direction = if query.descending { "DESC" } else { "ASC" };
    let filter = "user_id = $1 AND status = $2 AND ($3 = '' OR category = $3)";
    let messages = messages_json_sql(db.backend, "c.id");
    let rows = sqlx::query(&format!(
        "SELECT {CONVERSATION_COLUMNS}, {messages} AS messages_json FROM conversations c WHERE {filter} \
         ORDER BY {column} {direction}, id {direction} LIMIT $4 OFFSET $5"
    ))
    .bind(user_id)
    .bind(status)
    .bind(category)
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let conversation = Conversation::from_row(&row)?;
        let messages = parse_messages(&row.try_get::<String, _>("messages_json")?)?;
        out.push((conversation, messages));
    }
    if !query.count {
        let total = i64::try_from(out.len()).unwrap_or(i64::MAX);
        return Ok((out, total));
    }
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM conversations WHERE {filter}"))
        .bind(user_id)
        .bind(status)
        .bind(category)
        .fetch_one(&db.pool)
        .await?;
    Ok((out, total))
}

/// SQL for the JSON array (text) of every message of the conversation `id_expr`, oldest first.
fn messages_json_sql(backend: Backend, id_expr: &str) -> String {
    let pairs: Vec<String> = MESSAGE_COLUMNS
        .split(", ")
        .map(|c| format!("'{c}', m.{c}", c = c.trim()))
        .collect();
    let pairs = pairs.join(", ");
    match backend {
        Backend::Sqlite => format!(
            "COALESCE((SELECT json_group_array(json_object({pairs}) ORDER BY m.id) FROM messages m \
             WHERE m.conversation_id = {id_expr}), '[]')"
        ),
        Backend::Postgres => format!(
            "COALESCE((SELECT json_agg(json_build_object({pairs}) ORDER BY m.id) FROM messages m \
             WHERE m.conversation_id = {id_expr}), '[]')::text"
        ),
    }
}

fn parse_messages(array: &str) -> Result<Vec<Message>, sqlx::Error> {
    let rows: Vec<MessageJson> = serde_json::from_str(array).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    Ok(rows.into_iter().map(Message::from).collect())
}

/// The version of the user's conversation list (see migration 000008): it changes with every write the API's list
/// shows, except the text of a reply being streamed.
pub async fn list_version(pool: &AnyPool, user_id: i64) -> Result<i64, sqlx::Error> {
    let version: Option<i64> = sqlx::query_scalar("SELECT version FROM list_versions WHERE user_id = $1")
        .bind(user_id)
        .fetch_optional(pool)
        .await?;
    Ok(version.unwrap_or(0))
}

/// How many conversations and messages exist, of every user (the admin overview).
pub async fn totals(pool: &AnyPool) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as("SELECT (SELECT COUNT(*) FROM conversations), (SELECT COUNT(*) FROM messages)")
        .fetch_one(pool)
        .await
}

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

/// A message as the JSON of [`messages_of`] carries it (flags as 0/1, as stored).
#[derive(serde::Deserialize)]
struct MessageJson {
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

/// Why a generation could not start.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// No such conversation for this user.
    #[error("not found")]
    NotFound,
    /// A reply is already being generated.
    #[error("busy")]
    Busy,
    /// The parent message is not in this conversation.
    #[error("bad parent")]
    BadParent,
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What to insert when a generation starts.
#[derive(Debug, Clone)]
pub struct Turn {
    /// Conversation.
    pub conversation_id: i64,
    /// Owner (checked).
    pub user_id: i64,
    /// The user message to add first, if any (`None` when regenerating).
    pub user_content: Option<String>,
    /// MIME type of that user message.
    pub user_content_type: &'static str,
    /// Parent of the first inserted message (the user message, or the reply when regenerating).
    pub parent_id: Option<i64>,
    /// Edit count of the new user message (edits of an earlier one).
    pub edit_count: i64,
    /// Metadata of the pending reply (its model).
    pub reply_metadata: String,
}

/// The rows a started generation created.
#[derive(Debug, Clone, Copy)]
pub struct Started {
    /// The new user message, if one was added.
    pub user_message_id: Option<i64>,
    /// The pending assistant message.
    pub assistant_message_id: i64,
}

/// Takes the conversation's generation lock and inserts the user message (if any) and a pending reply, all in one
/// transaction: the lock is a conditional UPDATE, so two concurrent sends cannot both win on either backend.
pub async fn start_turn(pool: &AnyPool, turn: &Turn) -> Result<Started, LockError> {
    let mut tx = pool.begin().await?;
    let started = start_turn_in(&mut tx, turn).await?;
    tx.commit().await?;
    Ok(started)
}

async fn start_turn_in(tx: &mut sqlx::Transaction<'_, sqlx::Any>, turn: &Turn) -> Result<Started, LockError> {
    let now = now_millis();
    let locked = sqlx::query(
        "UPDATE conversations SET generating_id = 0, generating_beat_at = $1 \
         WHERE id = $2 AND user_id = $3 AND status <> 'deleted' \
         AND (generating_id IS NULL OR generating_beat_at IS NULL OR generating_beat_at < $4)",
    )
    .bind(now)
    .bind(turn.conversation_id)
    .bind(turn.user_id)
    .bind(now - STALE_LOCK_MS)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if locked == 0 {
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM conversations WHERE id = $1 AND user_id = $2 AND status <> 'deleted'")
                .bind(turn.conversation_id)
                .bind(turn.user_id)
                .fetch_optional(&mut **tx)
                .await?;
        return Err(if exists.is_some() {
            LockError::Busy
        } else {
            LockError::NotFound
        });
    }
    if let Some(parent) = turn.parent_id {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM messages WHERE id = $1 AND conversation_id = $2")
            .bind(parent)
            .bind(turn.conversation_id)
            .fetch_optional(&mut **tx)
            .await?;
        if found.is_none() {
            return Err(LockError::BadParent);
        }
    }
    let mut parent = turn.parent_id;
    let mut user_message_id = None;
    let mut added = 1;
    if let Some(content) = &turn.user_content {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO messages (conversation_id, parent_id, role, content, status, is_edited, edit_count, \
             created_at, updated_at, delivered_at, content_type) \
             VALUES ($1, $2, 'user', $3, 'delivered', $4, $5, $6, $6, $6, $7) RETURNING id",
        )
        .bind(turn.conversation_id)
        .bind(parent)
        .bind(content)
        .bind(i64::from(turn.edit_count > 0))
        .bind(turn.edit_count)
        .bind(now)
        .bind(turn.user_content_type)
        .fetch_one(&mut **tx)
        .await?;
        parent = Some(id);
        user_message_id = Some(id);
        added += 1;
    }
    let assistant_message_id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (conversation_id, parent_id, role, content, status, created_at, updated_at, metadata) \
         VALUES ($1, $2, 'assistant', '', 'pending', $3, $3, $4) RETURNING id",
    )
    .bind(turn.conversation_id)
    .bind(parent)
    .bind(now)
    .bind(&turn.reply_metadata)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE conversations SET generating_id = $1, current_leaf_id = $1, message_count = message_count + $2, \
         last_message_at = $3, updated_at = $3 WHERE id = $4",
    )
    .bind(assistant_message_id)
    .bind(added)
    .bind(now)
    .bind(turn.conversation_id)
    .execute(&mut **tx)
    .await?;
    Ok(Started {
        user_message_id,
        assistant_message_id,
    })
}

/// Writes the text so far while streaming. Returns false when the message is no longer being generated (stopped
/// by a request, possibly on another instance), which tells the generator to stop.
pub async fn save_progress(
    pool: &AnyPool,
    conversation_id: i64,
    message_id: i64,
    content: &str,
) -> Result<bool, sqlx::Error> {
    let now = now_millis();
    let updated = sqlx::query(
        "UPDATE messages SET content = $1, status = 'streaming', updated_at = $2 \
         WHERE id = $3 AND status IN ('pending', 'streaming')",
    )
    .bind(content)
    .bind(now)
    .bind(message_id)
    .execute(pool)
    .await?
    .rows_affected();
    heartbeat(pool, conversation_id, message_id).await?;
    Ok(updated == 1)
}

/// Renews the generation lock.
pub async fn heartbeat(pool: &AnyPool, conversation_id: i64, message_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE conversations SET generating_beat_at = $1 WHERE id = $2 AND generating_id = $3")
        .bind(now_millis())
        .bind(conversation_id)
        .bind(message_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Writes the final state of a reply and releases the lock.
pub async fn finish(
    pool: &AnyPool,
    conversation_id: i64,
    message_id: i64,
    content: &str,
    status: &str,
    metadata: &str,
) -> Result<(), sqlx::Error> {
    let now = now_millis();
    let mut tx = pool.begin().await?;
    sqlx::query(
        "UPDATE messages SET content = $1, status = $2, metadata = $3, updated_at = $4, \
         delivered_at = CASE WHEN $2 = 'delivered' THEN $4 ELSE delivered_at END WHERE id = $5",
    )
    .bind(content)
    .bind(status)
    .bind(metadata)
    .bind(now)
    .bind(message_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE conversations SET generating_id = NULL, generating_beat_at = NULL, last_message_at = $1, \
         updated_at = $1 WHERE id = $2 AND generating_id = $3",
    )
    .bind(now)
    .bind(conversation_id)
    .bind(message_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// Asks a running generation to stop (it notices at its next save). True if a reply was running.
pub async fn request_stop(pool: &AnyPool, message_id: i64) -> Result<bool, sqlx::Error> {
    let updated = sqlx::query(
        "UPDATE messages SET status = 'stopped', updated_at = $1 WHERE id = $2 AND status IN ('pending', 'streaming')",
    )
    .bind(now_millis())
    .bind(message_id)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Marks replies whose writer died (lock not renewed for [`STALE_LOCK_MS`]) as interrupted and frees their
/// conversations. Run at start-up and periodically; safe with several instances on one database.
pub async fn recover_interrupted(pool: &AnyPool) -> Result<u64, sqlx::Error> {
    let now = now_millis();
    let stale = now - STALE_LOCK_MS;
    let mut tx = pool.begin().await?;
    let marked = sqlx::query(
        "UPDATE messages SET status = 'interrupted', updated_at = $1 \
         WHERE status IN ('pending', 'streaming') AND updated_at < $2 AND NOT EXISTS (SELECT 1 FROM conversations c \
         WHERE c.generating_id = messages.id AND c.generating_beat_at >= $2)",
    )
    .bind(now)
    .bind(stale)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query(
        "UPDATE conversations SET generating_id = NULL, generating_beat_at = NULL \
         WHERE generating_id IS NOT NULL AND (generating_beat_at IS NULL OR generating_beat_at < $1)",
    )
    .bind(stale)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(marked)
}

/// Changes which branch is on screen.
pub async fn set_leaf(pool: &AnyPool, conversation_id: i64, leaf_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE conversations SET current_leaf_id = $1 WHERE id = $2")
        .bind(leaf_id)
        .bind(conversation_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Fields a user may change on a conversation; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct ConversationChanges {
    /// New title.
    pub title: Option<String>,
    /// Pin or unpin.
    pub is_pinned: Option<bool>,
    /// `active` or `archived`.
    pub status: Option<String>,
    /// JSON list.
    pub tags: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// System prompt.
    pub system_prompt: Option<String>,
    /// JSON object.
    pub additional_data: Option<String>,
}

/// Applies `changes` to the user's conversation; false if it is not theirs.
pub async fn update_conversation(
    pool: &AnyPool,
    user_id: i64,
    id: i64,
    changes: &ConversationChanges,
) -> Result<bool, sqlx::Error> {
    let now = now_millis();
    let archived_at = changes
        .status
        .as_deref()
        .map(|s| if s == "archived" { Some(now) } else { None });
    let updated = sqlx::query(
        "UPDATE conversations SET title = COALESCE($1, title), slug = COALESCE($2, slug), \
         is_pinned = COALESCE($3, is_pinned), status = COALESCE($4, status), tags = COALESCE($5, tags), \
         category = COALESCE($6, category), summary = COALESCE($7, summary), model = COALESCE($8, model), \
         system_prompt = COALESCE($9, system_prompt), additional_data = COALESCE($10, additional_data), \
         archived_at = CASE WHEN $11 = 1 THEN $12 ELSE archived_at END, updated_at = $13 \
         WHERE id = $14 AND user_id = $15 AND status <> 'deleted'",
    )
    .bind(changes.title.as_deref())
    .bind(changes.title.as_deref().map(slugify))
    .bind(changes.is_pinned.map(i64::from))
    .bind(changes.status.as_deref())
    .bind(changes.tags.as_deref())
    .bind(changes.category.as_deref())
    .bind(changes.summary.as_deref())
    .bind(changes.model.as_deref())
    .bind(changes.system_prompt.as_deref())
    .bind(changes.additional_data.as_deref())
    .bind(i64::from(archived_at.is_some()))
    .bind(archived_at.flatten())
    .bind(now)
    .bind(id)
    .bind(user_id)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Sets the title if it is still the one given (auto titles never overwrite a rename).
pub async fn set_title_if(pool: &AnyPool, id: i64, expected: &str, title: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE conversations SET title = $1, slug = $2 WHERE id = $3 AND title = $4")
        .bind(title)
        .bind(slugify(title))
        .bind(id)
        .bind(expected)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes the user's conversation and its messages; false if it is not theirs.
pub async fn delete_conversation(pool: &AnyPool, user_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let deleted = sqlx::query("DELETE FROM conversations WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted == 1)
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

/// Lower-case ASCII words joined by dashes, at most 50 characters.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 50 {
            break;
        }
    }
    slug.trim_end_matches('-').to_string()
}
