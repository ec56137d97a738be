//! A turn of the conversation: the generation lock and the rows a send, regenerate or edit inserts, then the writes of
//! the reply as it streams and when it ends, and the recovery of replies a stopped process left behind.

use sqlx::AnyPool;

use super::conversations::{NewConversation, insert_conversation};
use crate::core::db::now_millis;

/// A lock older than this is taken to belong to a dead process (writers renew it every second).
pub const STALE_LOCK_MS: i64 = 10_000;

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
    /// A usage limit of the account is reached.
    #[error("over quota")]
    OverQuota(crate::chat::quota::Exceeded, i64),
    /// A file to attach is not the user's (any more).
    #[error("no such file")]
    NoSuchFile(i64),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

impl From<LockError> for crate::core::error::AppError {
    fn from(error: LockError) -> Self {
        match error {
            LockError::NotFound | LockError::BadParent => Self::NotFound,
            LockError::Busy => Self::Busy,
            LockError::OverQuota(exceeded, now) => exceeded.error(now),
            LockError::NoSuchFile(id) => Self::invalid("attachments", crate::text!(files.refuse.no_such_file, id = id)),
            LockError::Db(e) => e.into(),
        }
    }
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
    /// The user's files that user message carries, in order.
    pub attachments: Vec<i64>,
    /// Parent of the first inserted message (the user message, or the reply when regenerating).
    pub parent_id: Option<i64>,
    /// Edit count of the new user message (edits of an earlier one).
    pub edit_count: i64,
    /// Metadata of the pending reply (its model).
    pub reply_metadata: String,
    /// The model asked, for the usage ledger.
    pub model: String,
    /// The account's limits, checked in the starting transaction.
    pub quota: crate::chat::quota::Quota,
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
    if let Err(exceeded) = crate::chat::quota::check_in(tx, turn.user_id, turn.quota, now).await? {
        return Err(LockError::OverQuota(exceeded, now));
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
        if !turn.attachments.is_empty()
            && let Err(missing) = crate::files::store::attach(tx, turn.user_id, id, &turn.attachments).await?
        {
            return Err(LockError::NoSuchFile(missing));
        }
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
    crate::chat::quota::record_start(
        tx,
        turn.user_id,
        turn.conversation_id,
        assistant_message_id,
        &turn.model,
        now,
    )
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
    let saved = save_progress_all(pool, &[(conversation_id, message_id, content.to_string())]).await?;
    Ok(saved.first().copied().unwrap_or(false))
}

/// [`save_progress`] for several replies in one transaction: `(conversation, reply, text)` each; whether each reply
/// was still streaming. One commit for all of them, so a burst of streaming replies leaves the pool to the sends.
pub async fn save_progress_all(pool: &AnyPool, saves: &[(i64, i64, String)]) -> Result<Vec<bool>, sqlx::Error> {
    let now = now_millis();
    let mut tx = pool.begin().await?;
    let mut streaming = Vec::with_capacity(saves.len());
    for (conversation_id, message_id, content) in saves {
        let updated = sqlx::query(
            "UPDATE messages SET content = $1, status = 'streaming', updated_at = $2 \
             WHERE id = $3 AND status IN ('pending', 'streaming')",
        )
        .bind(content)
        .bind(now)
        .bind(message_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE conversations SET generating_beat_at = $1 WHERE id = $2 AND generating_id = $3")
            .bind(now)
            .bind(conversation_id)
            .bind(message_id)
            .execute(&mut *tx)
            .await?;
        streaming.push(updated == 1);
    }
    tx.commit().await?;
    Ok(streaming)
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

/// Replaces the metadata of reply `message_id` while it is still pending (before its generation starts).
pub async fn set_pending_metadata(pool: &AnyPool, message_id: i64, metadata: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE messages SET metadata = $1 WHERE id = $2 AND status = 'pending'")
        .bind(metadata)
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
    crate::chat::quota::record_end(&mut tx, message_id, status, metadata).await?;
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
    crate::chat::quota::recover(&mut tx, now).await?;
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
