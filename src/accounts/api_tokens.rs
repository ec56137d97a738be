//! Personal API tokens: keys a user creates to script the REST API (`Authorization: Token <key>` or `Bearer <key>`).
//! A key is shown once, when it is made; only its SHA-256 is stored, with a short prefix to tell keys apart, an
//! optional expiry and the time it was last used.

use serde::Serialize;
use sqlx::AnyPool;

use crate::accounts::resets::{new_token, sha256_hex};
use crate::accounts::users::{self, User};
use crate::core::db::now_millis;
use crate::core::error::{AppError, FormErrors};

/// What every key starts with, so a leaked one is easy to recognise (and to tell from a JWT).
pub const KEY_PREFIX: &str = "thc_";
/// Characters of the key kept in clear for lists.
const SHOWN_CHARS: usize = 12;
/// Longest token name.
pub const NAME_MAX: usize = 100;
/// Most tokens one user may hold.
pub const PER_USER_MAX: i64 = 50;
/// Longest lifetime that can be asked for, in days.
pub const MAX_DAYS: i64 = 3650;
/// `last_used_at` is written at most this often per token (one write per request would cost every call a write).
const LAST_USED_GRANULARITY_MILLIS: i64 = 60_000;

/// A token as its owner sees it (never the key, except once in [`Created`]).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiToken {
    /// Token id.
    pub id: i64,
    /// The owner's label.
    pub name: String,
    /// The first characters of the key.
    pub prefix: String,
    /// Creation time, epoch milliseconds.
    pub created_at: i64,
    /// Expiry, epoch milliseconds; none = never.
    pub expires_at: Option<i64>,
    /// Last authenticated use, epoch milliseconds (to the minute).
    pub last_used_at: Option<i64>,
    /// What it may call: `all` (the REST API and the OpenAI-compatible `/v1/`) or `v1` (`/v1/` only).
    pub scope: String,
}

/// What a token may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// The REST API and the OpenAI-compatible API.
    #[default]
    All,
    /// Only the OpenAI-compatible API under `/v1/`.
    V1,
}

impl Scope {
    /// Its name in the database, forms and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::V1 => "v1",
        }
    }

    /// The scope named `name` (`all` or `v1`), if any.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim() {
            "all" => Some(Self::All),
            "v1" => Some(Self::V1),
            _ => None,
        }
    }
}

/// A new token and its key, which is never shown again.
#[derive(Debug, Clone)]
pub struct Created {
    /// The stored token.
    pub token: ApiToken,
    /// The secret key.
    pub key: String,
}

/// Why a key did not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// No such key (or revoked).
    Invalid,
    /// The key is past its expiry.
    Expired,
    /// The owner's account is disabled.
    Inactive,
}

const COLUMNS: &str = "id, name, prefix, created_at, expires_at, last_used_at, scope";

/// The user's tokens, newest first.
pub async fn list(pool: &AnyPool, user_id: i64) -> Result<Vec<ApiToken>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY id DESC"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await
}

/// Checks a name and lifetime (days, none = never expires); field errors as the forms show them.
pub fn check(name: &str, expires_in_days: Option<i64>) -> Result<(), FormErrors> {
    let mut errors = FormErrors::default();
    errors.keep("name", name);
    let name = name.trim();
    if name.is_empty() {
        errors.add("name", crate::text!(core.field.blank));
    } else if name.chars().count() > NAME_MAX {
        errors.add("name", crate::text!(core.field.too_long, max = NAME_MAX));
    }
    if let Some(days) = expires_in_days
        && !(1..=MAX_DAYS).contains(&days)
    {
        errors.add(
            "expires_in_days",
            crate::text!(accounts.field.token_lifetime_range, max = MAX_DAYS),
        );
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Creates a token for `user`; the caller shows [`Created::key`] once. `Unauthenticated` when the account is no
/// longer active: the check and the insert hold the account's row, so a token cannot be made while a deactivation
/// (which deletes every token in the same way) is under way, and outlive it.
pub async fn create(
    pool: &AnyPool,
    user: &User,
    name: &str,
    expires_in_days: Option<i64>,
    scope: Scope,
) -> Result<Created, AppError> {
    if let Err(errors) = check(name, expires_in_days) {
        return Err(AppError::Invalid(errors));
    }
    let mut tx = pool.begin().await?;
    let active = sqlx::query("UPDATE users SET is_active = is_active WHERE id = $1 AND is_active = 1")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    if active.rows_affected() == 0 {
        return Err(AppError::Unauthenticated);
    }
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_tokens WHERE user_id = $1")
        .bind(user.id)
        .fetch_one(&mut *tx)
        .await?;
    if count >= PER_USER_MAX {
        let mut errors = FormErrors::default();
        errors.keep("name", name);
        errors.add(
            "name",
            crate::text!(accounts.field.too_many_tokens, count = PER_USER_MAX),
        );
        return Err(AppError::Invalid(errors));
    }
    let key = format!("{KEY_PREFIX}{}", new_token());
    let now = now_millis();
    let expires_at = expires_in_days.map(|days| now + days * 86_400_000);
    let prefix: String = key.chars().take(SHOWN_CHARS).collect();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO api_tokens (user_id, name, prefix, key_hash, created_at, expires_at, scope) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(user.id)
    .bind(name.trim())
    .bind(&prefix)
    .bind(sha256_hex(&key))
    .bind(now)
    .bind(expires_at)
    .bind(scope.as_str())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let token = ApiToken {
        id,
        name: name.trim().to_string(),
        prefix,
        created_at: now,
        expires_at,
        last_used_at: None,
        scope: scope.as_str().to_string(),
    };
    tracing::info!(user_id = user.id, token_id = id, "api token created");
    Ok(Created { token, key })
}

/// Deletes one of the user's tokens; false when it is not theirs (or gone).
pub async fn revoke(pool: &AnyPool, user_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(pool)
        .await?;
    if done.rows_affected() > 0 {
        tracing::info!(user_id, token_id = id, "api token revoked");
    }
    Ok(done.rows_affected() > 0)
}

/// A token as authentication reads it: id, owner, expiry, scope, last use.
type TokenRow = (i64, i64, Option<i64>, String, Option<i64>);

/// The active user a key belongs to, and what the key may call; records the use (to the minute).
pub async fn authenticate(pool: &AnyPool, key: &str) -> Result<Result<(User, Scope), Rejected>, sqlx::Error> {
    if !key.starts_with(KEY_PREFIX) {
        return Ok(Err(Rejected::Invalid));
    }
    let row: Option<TokenRow> =
        sqlx::query_as("SELECT id, user_id, expires_at, scope, last_used_at FROM api_tokens WHERE key_hash = $1")
            .bind(sha256_hex(key))
            .fetch_optional(pool)
            .await?;
    let Some((id, user_id, expires_at, scope, last_used_at)) = row else {
        return Ok(Err(Rejected::Invalid));
    };
    let now = now_millis();
    if expires_at.is_some_and(|at| at <= now) {
        return Ok(Err(Rejected::Expired));
    }
    let Some(user) = users::by_id(pool, user_id).await? else {
        return Ok(Err(Rejected::Invalid));
    };
    if !user.is_active {
        return Ok(Err(Rejected::Inactive));
    }
    // A write only when the recorded use is a minute old: most calls of a busy script write nothing.
    if last_used_at.is_none_or(|at| at < now - LAST_USED_GRANULARITY_MILLIS) {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(now)
        .bind(id)
        .bind(now - LAST_USED_GRANULARITY_MILLIS)
        .execute(pool)
        .await?;
    }
    Ok(Ok((user, Scope::parse(&scope).unwrap_or(Scope::V1))))
}
