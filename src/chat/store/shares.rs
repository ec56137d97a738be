//! The `shares` and `share_events` tables (migration 000017): a conversation's public link and its snapshot, and what
//! the owner did with their links. Every write is scoped to the owner; reading by token is the only unscoped read,
//! and answers nothing for a conversation whose owner is inactive.

use sqlx::{AnyPool, Row};

use crate::core::db::now_millis;

/// A share link as stored.
#[derive(Debug, Clone)]
pub struct Share {
    /// The link's secret part.
    pub token: String,
    /// The owner.
    pub user_id: i64,
    /// The conversation shared.
    pub conversation_id: i64,
    /// The last message of the snapshot's branch.
    pub leaf_message_id: Option<i64>,
    /// The snapshot, as JSON (`chat::shares::Snapshot`).
    pub snapshot: String,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms of the last snapshot.
    pub updated_at: i64,
}

const COLUMNS: &str =
    "s.token, s.user_id, s.conversation_id, s.leaf_message_id, s.snapshot, s.created_at, s.updated_at";

fn share_of(row: &sqlx::any::AnyRow) -> Result<Share, sqlx::Error> {
    Ok(Share {
        token: row.try_get(0)?,
        user_id: row.try_get(1)?,
        conversation_id: row.try_get(2)?,
        leaf_message_id: row.try_get(3)?,
        snapshot: row.try_get(4)?,
        created_at: row.try_get(5)?,
        updated_at: row.try_get(6)?,
    })
}

/// The token of the link of the user's conversation `conversation_id`, if it has one (read with every view of the
/// conversation: the token only, never the snapshot).
pub async fn share_token_of(pool: &AnyPool, user_id: i64, conversation_id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT token FROM shares WHERE user_id = $1 AND conversation_id = $2")
        .bind(user_id)
        .bind(conversation_id)
        .fetch_optional(pool)
        .await
}

/// The link `token`, when its owner's account is active (anyone may ask: the token is the credential).
pub async fn share_by_token(pool: &AnyPool, token: &str) -> Result<Option<Share>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM shares s JOIN users u ON u.id = s.user_id \
         WHERE s.token = $1 AND u.is_active = 1"
    ))
    .bind(token)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(share_of).transpose()
}

/// The user's links with their conversations' current titles, newest snapshot first.
pub async fn shares_of(pool: &AnyPool, user_id: i64) -> Result<Vec<(Share, String)>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS}, c.title FROM shares s JOIN conversations c ON c.id = s.conversation_id \
         WHERE s.user_id = $1 ORDER BY s.updated_at DESC, s.id DESC"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|row| Ok((share_of(row)?, row.try_get(7)?))).collect()
}

/// What a link's owner did, for [`record_event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareAction {
    /// The link was made.
    Create,
    /// Its snapshot was taken again.
    Update,
    /// It was revoked.
    Revoke,
}

impl ShareAction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Create => "share.create",
            Self::Update => "share.update",
            Self::Revoke => "share.revoke",
        }
    }
}

/// Makes the link of `conversation_id` with `token`, or takes its snapshot again (keeping its token), and records
/// which in the owner's share events. Returns the link and whether it is new.
pub async fn save_share(
    pool: &AnyPool,
    user_id: i64,
    conversation_id: i64,
    token: &str,
    leaf_message_id: Option<i64>,
    snapshot: &str,
    client_addr: &str,
) -> Result<(Share, bool), sqlx::Error> {
    let now = now_millis();
    let mut tx = pool.begin().await?;
    // Inserted first: of two first shares at once, the second waits for the first and then updates its row.
    let created = sqlx::query(
        "INSERT INTO shares (token, user_id, conversation_id, leaf_message_id, snapshot, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (conversation_id) DO NOTHING",
    )
    .bind(token)
    .bind(user_id)
    .bind(conversation_id)
    .bind(leaf_message_id)
    .bind(snapshot)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    if !created {
        sqlx::query(
            "UPDATE shares SET leaf_message_id = $1, snapshot = $2, updated_at = $3 \
             WHERE user_id = $4 AND conversation_id = $5",
        )
        .bind(leaf_message_id)
        .bind(snapshot)
        .bind(now)
        .bind(user_id)
        .bind(conversation_id)
        .execute(&mut *tx)
        .await?;
    }
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM shares s WHERE s.user_id = $1 AND s.conversation_id = $2"
    ))
    .bind(user_id)
    .bind(conversation_id)
    .fetch_one(&mut *tx)
    .await?;
    let share = share_of(&row)?;
    let action = if created {
        ShareAction::Create
    } else {
        ShareAction::Update
    };
    record_event(&mut tx, user_id, action, conversation_id, &share.token, client_addr).await?;
    tx.commit().await?;
    Ok((share, created))
}

/// Revokes the link of the user's conversation `conversation_id`; whether there was one.
pub async fn delete_share(
    pool: &AnyPool,
    user_id: i64,
    conversation_id: i64,
    client_addr: &str,
) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let token: Option<String> =
        sqlx::query_scalar("DELETE FROM shares WHERE user_id = $1 AND conversation_id = $2 RETURNING token")
            .bind(user_id)
            .bind(conversation_id)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(token) = &token {
        record_event(
            &mut tx,
            user_id,
            ShareAction::Revoke,
            conversation_id,
            token,
            client_addr,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(token.is_some())
}

/// How many characters of a token the share events keep: enough to tell links apart, far too few to open one.
pub const TOKEN_PREFIX_CHARS: usize = 6;

async fn record_event(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: i64,
    action: ShareAction,
    conversation_id: i64,
    token: &str,
    client_addr: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO share_events (user_id, at, action, conversation_id, token_prefix, client_addr) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(user_id)
    .bind(now_millis())
    .bind(action.as_str())
    .bind(conversation_id)
    .bind(token.chars().take(TOKEN_PREFIX_CHARS).collect::<String>())
    .bind(client_addr)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One of the owner's share events, for their data export.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ShareEvent {
    /// Epoch ms.
    pub at: i64,
    /// `share.create`, `share.update` or `share.revoke`.
    pub action: String,
    /// The conversation (it may be gone since).
    pub conversation_id: Option<i64>,
    /// The link's first characters.
    pub token_prefix: String,
    /// The address it came from.
    pub client_addr: String,
}

/// The user's share events, oldest first.
pub async fn share_events(pool: &AnyPool, user_id: i64) -> Result<Vec<ShareEvent>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT at, action, conversation_id, token_prefix, client_addr FROM share_events \
         WHERE user_id = $1 ORDER BY id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ShareEvent {
                at: row.try_get(0)?,
                action: row.try_get(1)?,
                conversation_id: row.try_get(2)?,
                token_prefix: row.try_get(3)?,
                client_addr: row.try_get(4)?,
            })
        })
        .collect()
}
