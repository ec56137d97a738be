//! Sessions stored in the app's own database (SQLite or PostgreSQL), so several server instances share them.
//!
//! tower-sessions' published sqlx stores need a concrete `SqlitePool`/`PgPool`; ours is an `AnyPool`, so this small
//! store implements the same trait on it. Records are JSON; expired rows are never loaded and are purged hourly.

use std::time::Duration;

use sqlx::AnyPool;

use crate::core::db::now_millis;
use time::OffsetDateTime;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};

/// The session store on the application pool.
#[derive(Debug, Clone)]
pub struct DbSessionStore {
    pool: AnyPool,
}

impl DbSessionStore {
    /// A store using `pool` (the `sessions` table comes with the migrations).
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// Deletes expired sessions every hour, for as long as the returned task runs.
    pub fn spawn_cleanup(&self) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        tokio::spawn(async move {
            let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
            loop {
                every_hour.tick().await;
                if let Err(e) = store.delete_expired().await {
                    tracing::warn!(error = %e, "expired-session cleanup failed");
                }
            }
        })
    }
}

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// Where axum-login keeps the logged-in user in a session record.
const LOGIN_KEY: &str = "axum-login.data";

/// A record as stored: id, data as JSON, expiry (epoch milliseconds) and whose login it is.
fn encode(record: &Record) -> session_store::Result<(String, String, i64, Option<i64>)> {
    let data = serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let expires = i64::try_from(record.expiry_date.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    let user_id = record
        .data
        .get(LOGIN_KEY)
        .and_then(|login| login.get("user_id"))
        .and_then(serde_json::Value::as_i64);
    Ok((record.id.to_string(), data, expires, user_id))
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A fresh id that collides with a stored one gets another id, never the other session's row.
        loop {
            let (id, data, expires, user_id) = encode(record)?;
            let inserted = sqlx::query(
                "INSERT INTO sessions (id, data, expires_at, user_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(id)
            .bind(data)
            .bind(expires)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            if inserted.rows_affected() == 1 {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    /// Updates a stored session; never inserts. A session whose row was deleted while a request held it (logged out
    /// elsewhere, its account deactivated or its password changed) stays deleted: an upsert here used to bring the
    /// row back when that request ended, alive again on reactivation. New sessions come through [`Self::create`].
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let (id, data, expires, user_id) = encode(record)?;
        sqlx::query("UPDATE sessions SET data = $2, expires_at = $3, user_id = $4 WHERE id = $1")
            .bind(id)
            .bind(data)
            .bind(expires)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(id.to_string())
                .bind(now_millis())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        let Some((data, expires)) = row else { return Ok(None) };
        let data = serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp_nanos(i128::from(expires) * 1_000_000)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_millis())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }
}
