//! The `conversations` table: creating, reading (scoped to the owner), listing for the sidebar, editing and deleting
//! a user's conversations, and the list version that kept API answers follow.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, FromRow, Row};

use crate::core::db::now_millis;

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
    /// The tools its replies may call (a JSON list of names); `None`: the owner's default.
    pub tools: Option<String>,
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
            tools: row.try_get("tools")?,
        })
    }
}

pub(super) const CONVERSATION_COLUMNS: &str = "id, user_id, title, slug, summary, tags, category, status, is_pinned, \
    message_count, last_message_at, created_at, updated_at, archived_at, additional_data, model, system_prompt, \
    current_leaf_id, generating_id, tools";

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
    /// The tools its replies may call (a JSON list of names); `None`: the owner's default.
    pub tools: Option<String>,
}

/// Creates a conversation for `user_id` on `executor` (a transaction: its first turn comes with it).
pub(super) async fn insert_conversation<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: i64,
    new: &NewConversation,
) -> Result<i64, sqlx::Error> {
    let now = now_millis();
    sqlx::query_scalar(
        "INSERT INTO conversations (user_id, title, slug, model, system_prompt, tools, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
    )
    .bind(user_id)
    .bind(&new.title)
    .bind(slugify(&new.title))
    .bind(&new.model)
    .bind(&new.system_prompt)
    .bind(new.tools.as_deref())
    .bind(now)
    .fetch_one(executor)
    .await
}

/// A message of a conversation made as a copy ([`insert_copy`]).
#[derive(Debug, Clone)]
pub struct CopiedMessage {
    /// `user` or `assistant`.
    pub role: String,
    /// Its text.
    pub content: String,
    /// MIME type of the text.
    pub content_type: String,
    /// Epoch ms of the original.
    pub created_at: i64,
    /// JSON object: the original's model, tokens and timings.
    pub metadata: String,
    /// The owner's files it carries, in order (attached again: they must be the new conversation's owner's).
    pub files: Vec<i64>,
    /// A reply's tool calls, copied with it.
    pub steps: Vec<crate::chat::import::DraftStep>,
}

/// Creates a conversation for `user_id` holding `messages` as one branch, its current one, in one transaction; its
/// `additional_data` says where it came from. Files the user no longer has are left out of their message.
pub async fn insert_copy(
    pool: &AnyPool,
    user_id: i64,
    new: &NewConversation,
    additional_data: &serde_json::Value,
    messages: &[CopiedMessage],
) -> Result<i64, sqlx::Error> {
    let now = now_millis();
    let mut tx = pool.begin().await?;
    let id = insert_conversation(&mut *tx, user_id, new).await?;
    let mut parent: Option<i64> = None;
    for m in messages {
        let message_id: i64 = sqlx::query_scalar(
            "INSERT INTO messages (conversation_id, parent_id, role, content, status, created_at, updated_at, \
             delivered_at, content_type, metadata) VALUES ($1, $2, $3, $4, 'delivered', $5, $6, $6, $7, $8) RETURNING id",
        )
        .bind(id)
        .bind(parent)
        .bind(&m.role)
        .bind(&m.content)
        .bind(m.created_at)
        .bind(now)
        .bind(&m.content_type)
        .bind(&m.metadata)
        .fetch_one(&mut *tx)
        .await?;
        super::imports::insert_steps(&mut tx, message_id, &m.steps).await?;
        if !m.files.is_empty() {
            let mut kept = Vec::with_capacity(m.files.len());
            for file in &m.files {
                let mine: Option<i64> = sqlx::query_scalar("SELECT id FROM files WHERE id = $1 AND user_id = $2")
                    .bind(file)
                    .bind(user_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                kept.extend(mine);
            }
            // Every file was just found in this transaction: attaching them cannot miss one.
            let _ = crate::files::store::attach(&mut tx, user_id, message_id, &kept).await?;
        }
        parent = Some(message_id);
    }
    sqlx::query(
        "UPDATE conversations SET current_leaf_id = $1, message_count = $2, last_message_at = $3, \
         additional_data = $4 WHERE id = $5",
    )
    .bind(parent)
    .bind(i64::try_from(messages.len()).unwrap_or(i64::MAX))
    .bind(parent.map(|_| now))
    .bind(additional_data.to_string())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
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
    /// The tools its replies may call (a JSON list of names).
    pub tools: Option<String>,
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
         archived_at = CASE WHEN $11 = 1 THEN $12 ELSE archived_at END, updated_at = $13, \
         tools = COALESCE($16, tools) WHERE id = $14 AND user_id = $15 AND status <> 'deleted'",
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
    .bind(changes.tools.as_deref())
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
