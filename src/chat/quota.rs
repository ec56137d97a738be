//! Usage and quotas: the ledger of replies (`usage_events`, migration 000010) and the limits an account may use per
//! day and per month — the instance's defaults and an override per account (0 is unlimited). A reply starts only
//! inside the transaction that counts the account's usage after locking the account's row, so concurrent sends, on
//! SQLite or on PostgreSQL with several instances, never pass a message limit; with a token limit, an account has one
//! reply generating at a time (its tokens are not known before it ends), so a token limit is passed by at most the
//! one reply that crossed it. Days and months are UTC. Server only.

use sqlx::{AnyPool, Row};

use crate::core::error::AppError;
use crate::text;

pub use crate::chat::types::{Quota, QuotaOverride, Usage};

const DAY_MS: i64 = 86_400_000;
/// An unstored reply (`ask-mistral`) still `pending` after this long belongs to a request that died.
const UNSTORED_TIMEOUT_MS: i64 = 10 * 60_000;

fn utc(millis: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn millis(t: time::OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(0)
}

/// The first instant (epoch milliseconds) of the UTC day of `now`.
pub fn day_start(now: i64) -> i64 {
    now - now.rem_euclid(DAY_MS)
}

/// The first instant of the UTC month of `now`.
pub fn month_start(now: i64) -> i64 {
    let t = utc(now);
    millis(t.replace_day(1).unwrap_or(t).replace_time(time::Time::MIDNIGHT))
}

/// The first instant of the UTC month after the one of `now`.
pub fn next_month(now: i64) -> i64 {
    let t = utc(month_start(now));
    let (year, month) = if t.month() == time::Month::December {
        (t.year() + 1, time::Month::January)
    } else {
        (t.year(), t.month().next())
    };
    t.replace_day(1)
        .and_then(|t| t.replace_month(month))
        .and_then(|t| t.replace_year(year))
        .map_or(now + 31 * DAY_MS, millis)
}

/// The instance's default limits.
pub async fn defaults<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>) -> Result<Quota, sqlx::Error> {
    let row = sqlx::query("SELECT messages_per_day, tokens_per_day, tokens_per_month FROM quota_defaults WHERE id = 1")
        .fetch_optional(db)
        .await?;
    Ok(match row {
        Some(row) => Quota {
            messages_per_day: row.try_get(0)?,
            tokens_per_day: row.try_get(1)?,
            tokens_per_month: row.try_get(2)?,
        },
        None => Quota::default(),
    })
}

/// The account's own limits (all `None` when it has none).
pub async fn override_of<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: i64,
) -> Result<QuotaOverride, sqlx::Error> {
    let row = sqlx::query(
        "SELECT messages_per_day, tokens_per_day, tokens_per_month, storage_mb FROM user_quotas WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?;
    Ok(match row {
        Some(row) => QuotaOverride {
            messages_per_day: row.try_get(0)?,
            tokens_per_day: row.try_get(1)?,
            tokens_per_month: row.try_get(2)?,
            storage_mb: row.try_get(3)?,
        },
        None => QuotaOverride::default(),
    })
}

/// The limits that apply to the account: its own where it has them, else the defaults.
pub async fn effective(pool: &AnyPool, user_id: i64) -> Result<Quota, sqlx::Error> {
    // One round trip for every send: the defaults' row with the account's own limits beside it.
    let row = sqlx::query(
        "SELECT COALESCE(o.messages_per_day, d.messages_per_day), COALESCE(o.tokens_per_day, d.tokens_per_day), \
         COALESCE(o.tokens_per_month, d.tokens_per_month) \
         FROM quota_defaults d LEFT JOIN user_quotas o ON o.user_id = $1 WHERE d.id = 1",
    )
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    if let Some(row) = row {
        return Ok(Quota {
            messages_per_day: row.try_get(0)?,
            tokens_per_day: row.try_get(1)?,
            tokens_per_month: row.try_get(2)?,
        });
    }
    let (base, own) = (Quota::default(), override_of(pool, user_id).await?);
    Ok(Quota {
        messages_per_day: own.messages_per_day.unwrap_or(base.messages_per_day),
        tokens_per_day: own.tokens_per_day.unwrap_or(base.tokens_per_day),
        tokens_per_month: own.tokens_per_month.unwrap_or(base.tokens_per_month),
    })
}

/// Replaces the defaults, in the caller's transaction.
pub async fn set_defaults(tx: &mut sqlx::Transaction<'static, sqlx::Any>, quota: Quota) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE quota_defaults SET messages_per_day = $1, tokens_per_day = $2, tokens_per_month = $3 WHERE id = 1",
    )
    .bind(quota.messages_per_day)
    .bind(quota.tokens_per_day)
    .bind(quota.tokens_per_month)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Locks the default limits' row until the transaction ends and reads them.
pub async fn lock_defaults(tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<Quota, sqlx::Error> {
    sqlx::query("UPDATE quota_defaults SET messages_per_day = messages_per_day WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    defaults(&mut **tx).await
}

/// Replaces the account's own limits, in the caller's transaction.
pub async fn set_override(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: i64,
    quota: QuotaOverride,
) -> Result<(), sqlx::Error> {
    if quota == QuotaOverride::default() {
        sqlx::query("DELETE FROM user_quotas WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut **tx)
            .await?;
    } else {
        sqlx::query(
            "INSERT INTO user_quotas (user_id, messages_per_day, tokens_per_day, tokens_per_month, storage_mb) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id) DO UPDATE SET messages_per_day = excluded.messages_per_day, \
             tokens_per_day = excluded.tokens_per_day, tokens_per_month = excluded.tokens_per_month, \
             storage_mb = excluded.storage_mb",
        )
        .bind(user_id)
        .bind(quota.messages_per_day)
        .bind(quota.tokens_per_day)
        .bind(quota.tokens_per_month)
        .bind(quota.storage_mb)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// What the account used in the day and month of `now`.
pub async fn usage<'e, E>(executor: E, user_id: i64, now: i64) -> Result<Usage, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(CASE WHEN created_at >= $2 AND kind = 'reply' THEN 1 ELSE 0 END), 0) AS BIGINT), \
                CAST(COALESCE(SUM(CASE WHEN created_at >= $2 THEN prompt_tokens + completion_tokens ELSE 0 END), 0) \
                     AS BIGINT), \
                CAST(COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS BIGINT) \
         FROM usage_events WHERE user_id = $1 AND created_at >= $3",
    )
    .bind(user_id)
    .bind(day_start(now))
    .bind(month_start(now))
    .fetch_one(executor)
    .await?;
    Ok(Usage {
        messages_today: row.try_get(0)?,
        tokens_today: row.try_get(1)?,
        tokens_this_month: row.try_get(2)?,
    })
}

/// Why a reply may not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exceeded {
    /// The replies of the day are used up; more at `resets`.
    MessagesPerDay { limit: i64, resets: i64 },
    /// The tokens of the day are used up.
    TokensPerDay { limit: i64, resets: i64 },
    /// The tokens of the month are used up.
    TokensPerMonth { limit: i64, resets: i64 },
    /// Under a token limit, another reply of the account is still being generated.
    OneAtATime,
}

impl Exceeded {
    /// The error a person or a script gets: 429 with the time the limit resets.
    pub fn error(&self, now: i64) -> AppError {
        let retry = |resets: i64| u64::try_from((resets - now).max(1000) / 1000).unwrap_or(1);
        let when = |resets: i64| format!("{} UTC", crate::core::time::minute(resets));
        match *self {
            Self::MessagesPerDay { limit, resets } => AppError::OverQuota {
                message: text!(chat.quota.messages_per_day, limit = limit, resets = when(resets)),
                retry_after: retry(resets),
            },
            Self::TokensPerDay { limit, resets } => AppError::OverQuota {
                message: text!(chat.quota.tokens_per_day, limit = limit, resets = when(resets)),
                retry_after: retry(resets),
            },
            Self::TokensPerMonth { limit, resets } => AppError::OverQuota {
                message: text!(chat.quota.tokens_per_month, limit = limit, resets = when(resets)),
                retry_after: retry(resets),
            },
            Self::OneAtATime => AppError::OverQuota {
                message: text!(chat.quota.one_at_a_time),
                retry_after: 5,
            },
        }
    }
}

/// Checks `quota` for the account inside the transaction that starts a reply, after locking the account's row (so
/// that the account's other starts wait for this one to commit). `Ok(Err(..))` when a limit is reached.
pub async fn check_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
    quota: Quota,
    now: i64,
) -> Result<Result<(), Exceeded>, sqlx::Error> {
    if quota.is_unlimited() {
        return Ok(Ok(()));
    }
    sqlx::query("UPDATE users SET date_modified = date_modified WHERE id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    let used = usage(&mut **tx, user_id, now).await?;
    let tomorrow = day_start(now) + DAY_MS;
    if quota.messages_per_day > 0 && used.messages_today >= quota.messages_per_day {
        return Ok(Err(Exceeded::MessagesPerDay {
            limit: quota.messages_per_day,
            resets: tomorrow,
        }));
    }
    if quota.tokens_per_day > 0 && used.tokens_today >= quota.tokens_per_day {
        return Ok(Err(Exceeded::TokensPerDay {
            limit: quota.tokens_per_day,
            resets: tomorrow,
        }));
    }
    if quota.tokens_per_month > 0 && used.tokens_this_month >= quota.tokens_per_month {
        return Ok(Err(Exceeded::TokensPerMonth {
            limit: quota.tokens_per_month,
            resets: next_month(now),
        }));
    }
    if quota.tokens_per_day > 0 || quota.tokens_per_month > 0 {
        // Stored replies still generating, and unstored ones (`ask-mistral`) begun in the last minutes and not ended.
        let running: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM usage_events u JOIN messages m ON m.id = u.message_id \
                     WHERE u.user_id = $1 AND m.status IN ('pending', 'streaming')) \
                  + (SELECT COUNT(*) FROM usage_events WHERE user_id = $1 AND message_id IS NULL \
                     AND status = 'pending' AND created_at > $2)",
        )
        .bind(user_id)
        .bind(now - UNSTORED_TIMEOUT_MS)
        .fetch_one(&mut **tx)
        .await?;
        if running > 0 {
            return Ok(Err(Exceeded::OneAtATime));
        }
    }
    Ok(Ok(()))
}

/// Records a reply that starts, in its starting transaction.
pub async fn record_start(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
    conversation_id: i64,
    message_id: i64,
    model: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO usage_events (user_id, conversation_id, message_id, model, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(user_id)
    .bind(conversation_id)
    .bind(message_id)
    .bind(model)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Completes the ledger row of a reply from its final status and metadata (tokens, time to first token).
pub async fn record_end(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    message_id: i64,
    status: &str,
    metadata: &str,
) -> Result<(), sqlx::Error> {
    let meta: serde_json::Value = serde_json::from_str(metadata).unwrap_or_default();
    // The provider's counts, or the estimate of a reply it never counted (stopped, cut off, failed).
    let number = |key: &str| {
        meta.get(key)
            .or_else(|| meta.get("usage_estimate").and_then(|e| e.get(key)))
            .and_then(serde_json::Value::as_i64)
    };
    sqlx::query(
        "UPDATE usage_events SET status = $1, prompt_tokens = $2, completion_tokens = $3, \
         time_to_first_token_ms = $4 WHERE message_id = $5",
    )
    .bind(status)
    .bind(number("prompt_tokens").unwrap_or(0))
    .bind(number("completion_tokens").unwrap_or(0))
    .bind(number("time_to_first_token_ms"))
    .bind(message_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Starts a reply that is not stored (the API's `ask-mistral`, a call of the OpenAI-compatible API: `source` is
/// `chat` or `v1`): the account's limits are checked and its ledger row written in one transaction, as for a stored
/// reply. Returns the row's id, for [`end_unstored`].
pub async fn begin_unstored(
    pool: &AnyPool,
    user_id: i64,
    model: &str,
    prompt_tokens: i64,
    source: &str,
) -> Result<i64, AppError> {
    let quota = effective(pool, user_id).await?;
    begin_unstored_under(pool, user_id, quota, model, prompt_tokens, source).await
}

/// [`begin_unstored`] with the account's limits already read (`quota`).
pub async fn begin_unstored_under(
    pool: &AnyPool,
    user_id: i64,
    quota: Quota,
    model: &str,
    prompt_tokens: i64,
    source: &str,
) -> Result<i64, AppError> {
    let now = crate::core::db::now_millis();
    let mut tx = pool.begin().await?;
    if let Err(exceeded) = check_in(&mut tx, user_id, quota, now).await? {
        return Err(exceeded.error(now));
    }
    let id = insert_unstored(&mut *tx, user_id, model, prompt_tokens, source, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// Writes the ledger row of a reply that is not stored, without checking limits: for an account that has none
/// (nothing to check, so the row need not be written before the call starts).
pub async fn insert_unstored<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    user_id: i64,
    model: &str,
    prompt_tokens: i64,
    source: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO usage_events (user_id, model, created_at, prompt_tokens, source) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id",
    )
    .bind(user_id)
    .bind(model)
    .bind(now)
    .bind(prompt_tokens)
    .bind(source)
    .fetch_one(db)
    .await
}

/// Completes the ledger row of a reply that is not stored: its status and its tokens (the provider's count, or the
/// estimate of a call it never counted).
pub async fn end_unstored(
    pool: &AnyPool,
    id: i64,
    status: &str,
    prompt_tokens: i64,
    completion_tokens: i64,
    time_to_first_token_ms: Option<i64>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE usage_events SET status = $1, prompt_tokens = $2, completion_tokens = $3, \
         time_to_first_token_ms = $4 WHERE id = $5",
    )
    .bind(status)
    .bind(prompt_tokens)
    .bind(completion_tokens)
    .bind(time_to_first_token_ms)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Ends ledger rows left `pending` by replies that no longer run (a crash, a conversation deleted mid-reply, an
/// `ask-mistral` request that died), marked `interrupted`. They keep the prompt's estimate written when the reply
/// began ([`record_prompt_estimate`]) and count the text saved so far by estimate (about four characters a token),
/// as a stopped reply does: a crash never gives tokens back.
pub async fn recover(tx: &mut sqlx::Transaction<'_, sqlx::Any>, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE usage_events SET status = 'interrupted', completion_tokens = CASE WHEN completion_tokens > 0 \
           THEN completion_tokens ELSE COALESCE((SELECT (length(m.content) + 3) / 4 FROM messages m \
           WHERE m.id = usage_events.message_id), 0) END \
         WHERE status IN ('pending', 'streaming') AND ( \
           (message_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = usage_events.message_id \
              AND m.status IN ('pending', 'streaming'))) \
           OR (message_id IS NULL AND created_at < $1))",
    )
    .bind(now - UNSTORED_TIMEOUT_MS)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Tokens estimated from text: about four characters a token.
pub fn estimate_tokens(chars: usize) -> i64 {
    i64::try_from(chars.div_ceil(4)).unwrap_or(i64::MAX)
}

/// Writes the estimated size of a reply's prompt into its ledger row as soon as the reply begins, so a reply cut off
/// by a crash still counts its prompt ([`recover`]); the provider's count replaces it when the reply ends.
pub async fn record_prompt_estimate(pool: &AnyPool, message_id: i64, prompt_tokens: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE usage_events SET prompt_tokens = $1 WHERE message_id = $2 AND status = 'pending'")
        .bind(prompt_tokens)
        .bind(message_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Counts `calls` more tool calls of reply `message_id` in its ledger row, as they start (so deleting the
/// conversation later does not give them back).
pub async fn record_tool_calls(pool: &AnyPool, message_id: i64, calls: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE usage_events SET tool_calls = tool_calls + $1 WHERE message_id = $2")
        .bind(calls)
        .bind(message_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The tool calls the account made in the day of `now` (UTC), from the usage ledger.
pub async fn tool_calls_today(pool: &AnyPool, user_id: i64, now: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(tool_calls), 0) AS BIGINT) FROM usage_events WHERE user_id = $1 AND created_at >= $2",
    )
    .bind(user_id)
    .bind(day_start(now))
    .fetch_one(pool)
    .await
}

/// Records the generation of a conversation's title (not a reply: it counts tokens, not messages).
pub async fn record_title(
    pool: &AnyPool,
    conversation_id: i64,
    model: &str,
    status: &str,
    prompt_tokens: i64,
    completion_tokens: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO usage_events (user_id, conversation_id, model, created_at, status, prompt_tokens, \
                                   completion_tokens, kind) \
         SELECT user_id, id, $2, $3, $4, $5, $6, 'title' FROM conversations WHERE id = $1",
    )
    .bind(conversation_id)
    .bind(model)
    .bind(crate::core::db::now_millis())
    .bind(status)
    .bind(prompt_tokens)
    .bind(completion_tokens)
    .execute(pool)
    .await?;
    Ok(())
}

/// Checks limits given by staff: whole numbers, 0 or more.
pub fn check_limit(field: &str, value: i64) -> Result<(), AppError> {
    if value < 0 {
        return Err(AppError::invalid(field, text!(chat.quota.not_negative)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{day_start, month_start, next_month};

    #[test]
    fn days_and_months_are_utc() {
        // 2026-12-02T17:06:09Z
        let now = 1_796_231_169_000;
        assert_eq!(day_start(now), 1_796_169_600_000);
        assert_eq!(month_start(now), 1_796_083_200_000);
        // 2027-01-01T00:00:00Z
        assert_eq!(next_month(now), 1_798_761_600_000);
        // 2026-02-10 → 2026-03-01
        assert_eq!(next_month(1_770_681_600_000), 1_772_323_200_000);
    }
}
