//! Replies written on another instance, followed as they grow. On PostgreSQL the instance generating a reply
//! publishes each new piece of its text (`NOTIFY thicode_reply`) and every instance listens (`LISTEN`), so a reader
//! connected elsewhere gets the text within milliseconds instead of at the writer's next save (every 500 ms) plus
//! the follower's next look (every 250 ms). The database stays the truth: a follower re-reads it on any gap, on the
//! end of the reply, and every 250 ms without news (SQLite, a lost connection).

use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use tokio::sync::broadcast;

/// The notification channel.
pub const CHANNEL: &str = "thicode_reply";
/// PostgreSQL's limit on a notification's payload is 8000 bytes; a bigger piece only says "read the database".
const MAX_PAYLOAD: usize = 7900;

/// News of a reply being written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Piece {
    /// The reply (message id).
    pub id: i64,
    /// Where `text` starts in the reply's text (bytes).
    pub at: usize,
    /// The new text; `None` when it did not fit (read the database).
    pub text: Option<String>,
    /// The reply has ended and its final row is saved.
    pub done: bool,
}

/// The pieces this instance hears, for its followers. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Followers {
    news: broadcast::Sender<Piece>,
}

impl Default for Followers {
    fn default() -> Self {
        Self {
            news: broadcast::channel(4096).0,
        }
    }
}

impl Followers {
    /// Every piece heard from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Piece> {
        self.news.subscribe()
    }

    /// Listens to `CHANNEL` on the PostgreSQL database at `url` for as long as the task runs (reconnecting after a
    /// failure), passing every piece to this instance's followers.
    pub fn spawn_listener(&self, url: String) -> tokio::task::JoinHandle<()> {
        let news = self.news.clone();
        tokio::spawn(async move {
            loop {
                let mut listener = match sqlx::postgres::PgListener::connect(&url).await {
                    Ok(listener) => listener,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for replies written elsewhere; polling meanwhile");
                        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                        continue;
                    }
                };
                if let Err(e) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %e, "cannot listen for replies written elsewhere; polling meanwhile");
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                    continue;
                }
                loop {
                    match listener.recv().await {
                        Ok(notification) => {
                            if let Ok(piece) = serde_json::from_str::<Piece>(notification.payload()) {
                                let _ = news.send(piece);
                            }
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "lost the reply notifications; reconnecting");
                            break;
                        }
                    }
                }
            }
        })
    }
}

/// Tells every instance about a piece of a reply (PostgreSQL only; the caller checks). Best effort: a follower that
/// misses it reads the database.
pub async fn publish(pool: &AnyPool, piece: Piece) {
    let mut payload = serde_json::to_string(&piece).unwrap_or_default();
    if payload.len() > MAX_PAYLOAD {
        payload = serde_json::to_string(&Piece { text: None, ..piece }).unwrap_or_default();
    }
    if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(pool)
        .await
    {
        tracing::debug!(error = %e, "could not publish a piece of a reply");
    }
}
