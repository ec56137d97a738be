//! The `message_steps` table: the tool calls of a reply, in order (issue #27). A step is written when its call
//! starts and again when it ends, so the steps survive a reload, a restart or a killed process like the text does.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, FromRow, Row};

use crate::core::db::now_millis;

/// One tool call of a reply, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Primary key.
    pub id: i64,
    /// The reply.
    pub message_id: i64,
    /// Its order within the reply.
    pub position: i64,
    /// The round of calls it belongs to (0 first).
    pub round: i64,
    /// The call's id in the model's history.
    pub call_id: String,
    /// The tool called.
    pub tool: String,
    /// The arguments as the model wrote them (JSON text).
    pub arguments: String,
    /// `running`, `done`, `error`, `awaiting_approval`, `denied`, `expired` or `interrupted`.
    pub status: String,
    /// The result (JSON), when done.
    pub result: Option<String>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Epoch ms.
    pub started_at: i64,
    /// How long it took, once ended.
    pub duration_ms: Option<i64>,
    /// When waiting for approval ends.
    pub expires_at: Option<i64>,
}

const COLUMNS: &str = "id, message_id, position, round, call_id, tool, arguments, status, result, error, started_at, \
                       duration_ms, expires_at";

impl FromRow<'_, AnyRow> for Step {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            message_id: row.try_get("message_id")?,
            position: row.try_get("position")?,
            round: row.try_get("round")?,
            call_id: row.try_get("call_id")?,
            tool: row.try_get("tool")?,
            arguments: row.try_get("arguments")?,
            status: row.try_get("status")?,
            result: row.try_get("result")?,
            error: row.try_get("error")?,
            started_at: row.try_get("started_at")?,
            duration_ms: row.try_get("duration_ms")?,
            expires_at: row.try_get("expires_at")?,
        })
    }
}

/// A call that starts now: written as `status` (`running`, or `awaiting_approval` until `expires_at`). Returns its id.
#[allow(clippy::too_many_arguments)]
pub async fn start_step(
    pool: &AnyPool,
    message_id: i64,
    position: i64,
    round: i64,
    call_id: &str,
    tool: &str,
    arguments: &str,
    status: &str,
    expires_at: Option<i64>,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO message_steps (message_id, position, round, call_id, tool, arguments, status, started_at, \
         expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(message_id)
    .bind(position)
    .bind(round)
    .bind(call_id)
    .bind(tool)
    .bind(arguments)
    .bind(status)
    .bind(now_millis())
    .bind(expires_at)
    .fetch_one(pool)
    .await?;
    row.try_get("id")
}

/// A call's outcome: `status` (`done`, `error`, `denied`, `expired`) with its result or error, and its duration.
pub async fn end_step(
    pool: &AnyPool,
    step_id: i64,
    status: &str,
    result: Option<&str>,
    error: Option<&str>,
    duration_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE message_steps SET status = $1, result = $2, error = $3, duration_ms = $4 WHERE id = $5")
        .bind(status)
        .bind(result)
        .bind(error)
        .bind(duration_ms)
        .bind(step_id)
        .execute(pool)
        .await?;
    Ok(())
}

/// The steps of `message_ids`, by reply and in order.
pub async fn steps_of(pool: &AnyPool, message_ids: &[i64]) -> Result<Vec<Step>, sqlx::Error> {
    steps_where(pool, "s.message_id", message_ids).await
}

/// The steps whose `column` (of the step `s` or its message `m`) is one of `ids`, by reply and in order.
async fn steps_where(pool: &AnyPool, column: &str, ids: &[i64]) -> Result<Vec<Step>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let columns: Vec<String> = COLUMNS.split(", ").map(|c| format!("s.{c}")).collect();
    let sql = format!(
        "SELECT {} FROM message_steps s JOIN messages m ON m.id = s.message_id WHERE {column} IN ({}) \
         ORDER BY s.message_id, s.position",
        columns.join(", "),
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(pool).await?.iter().map(Step::from_row).collect()
}

/// Marks the steps of replies that stopped generating while their calls ran (a killed process) as interrupted, and
/// approvals whose time ran out as expired. Returns how many steps changed.
pub async fn recover_steps(pool: &AnyPool) -> Result<u64, sqlx::Error> {
    let interrupted = sqlx::query(
        "UPDATE message_steps SET status = 'interrupted' WHERE status IN ('running', 'awaiting_approval') \
         AND message_id IN (SELECT id FROM messages WHERE status NOT IN ('pending', 'streaming'))",
    )
    .execute(pool)
    .await?
    .rows_affected();
    let expired = sqlx::query(
        "UPDATE message_steps SET status = 'expired' WHERE status = 'awaiting_approval' AND expires_at < $1",
    )
    .bind(now_millis())
    .execute(pool)
    .await?
    .rows_affected();
    Ok(interrupted + expired)
}

/// Marks the calls of reply `message_id` still running as interrupted (the reply was stopped meanwhile).
pub async fn interrupt_steps(pool: &AnyPool, message_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE message_steps SET status = 'interrupted', error = 'stopped' \
         WHERE message_id = $1 AND status IN ('running', 'awaiting_approval')",
    )
    .bind(message_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// The steps of every reply in `conversation_ids`, by reply and in order.
pub async fn steps_of_conversations(pool: &AnyPool, conversation_ids: &[i64]) -> Result<Vec<Step>, sqlx::Error> {
    steps_where(pool, "m.conversation_id", conversation_ids).await
}

/// The user's answer to the call `call_id` of reply `message_id` waiting for approval: it runs (`allow`) or is denied.
/// False when that call is not waiting (any more): answered already, expired, or no such call.
pub async fn decide_step(pool: &AnyPool, message_id: i64, call_id: &str, allow: bool) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE message_steps SET status = $1, error = $2 WHERE message_id = $3 AND call_id = $4 \
         AND status = 'awaiting_approval' AND expires_at >= $5",
    )
    .bind(if allow { "running" } else { "denied" })
    .bind((!allow).then_some("the user denied this call"))
    .bind(message_id)
    .bind(call_id)
    .bind(now_millis())
    .execute(pool)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// The status of step `id`.
pub async fn step_status(pool: &AnyPool, id: i64) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM message_steps WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await
}
