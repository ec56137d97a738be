//! Replies written on another instance, followed as they grow. On PostgreSQL the instance generating a reply
//! publishes each new piece of its text (`NOTIFY thicode_reply`) and every instance listens (`LISTEN`), so a reader
//! connected elsewhere gets the text within milliseconds instead of at the writer's next save (every 500 ms) plus
//! the follower's next look (every 250 ms). The database stays the truth: a follower re-reads it on any gap, on the
//! end of the reply, and every 250 ms without news (SQLite, a lost connection).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use tokio::sync::broadcast;

/// The notification channel.
pub const CHANNEL: &str = "thicode_reply";
/// PostgreSQL's limit on a notification's payload is 8000 bytes; a bigger piece only says "read the database".
const MAX_PAYLOAD: usize = 7900;

/// What travels on the channel: a piece of a reply, or a follower's request for the whole text so far (it joined
/// after the first pieces went by).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum Notice {
    Piece(Piece),
    Resync {
        /// The reply.
        resync: i64,
    },
}

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

/// Pieces of a reply kept for its slowest follower (one behind that reads the database again). Allocated whole per
/// followed reply, like `generation`'s ring.
const PIECES_KEPT: usize = 128;

/// The pieces this instance hears, for its followers (each gets those of its own reply only, so a thousand
/// followers cost one look-up per piece, not a thousand wake-ups), and the requests for a whole text, for its
/// writers. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Followers {
    replies: Arc<Mutex<HashMap<i64, broadcast::Sender<Piece>>>>,
    resyncs: broadcast::Sender<i64>,
}

impl Default for Followers {
    fn default() -> Self {
        Self {
            replies: Arc::default(),
            resyncs: broadcast::channel(256).0,
        }
    }
}

/// The pieces of one reply, for as long as it is kept.
pub struct Subscription {
    id: i64,
    /// The pieces, in the order they were heard.
    pub pieces: broadcast::Receiver<Piece>,
    replies: Arc<Mutex<HashMap<i64, broadcast::Sender<Piece>>>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Ok(mut replies) = self.replies.lock()
            && replies.get(&self.id).is_some_and(|sender| sender.receiver_count() <= 1)
        {
            replies.remove(&self.id);
        }
    }
}

impl Followers {
    /// The pieces of reply `id` heard from now on.
    pub fn subscribe(&self, id: i64) -> Subscription {
        let pieces = match self.replies.lock() {
            Ok(mut replies) => replies
                .entry(id)
                .or_insert_with(|| broadcast::channel(PIECES_KEPT).0)
                .subscribe(),
            Err(_) => broadcast::channel(1).1,
        };
        Subscription {
            id,
            pieces,
            replies: self.replies.clone(),
        }
    }

    /// Every request for a reply's whole text heard from now on.
    pub fn resync_requests(&self) -> broadcast::Receiver<i64> {
        self.resyncs.subscribe()
    }

    /// Listens to `CHANNEL` on the PostgreSQL database at `url` for as long as the task runs (reconnecting after a
    /// failure), passing every piece to this instance's followers.
    pub fn spawn_listener(&self, url: String) -> tokio::task::JoinHandle<()> {
        let (replies, resyncs) = (self.replies.clone(), self.resyncs.clone());
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
                        Ok(notification) => match serde_json::from_str::<Notice>(notification.payload()) {
                            Ok(Notice::Piece(piece)) => {
                                if let Ok(replies) = replies.lock()
                                    && let Some(followers) = replies.get(&piece.id)
                                {
                                    let _ = followers.send(piece);
                                }
                            }
                            Ok(Notice::Resync { resync }) => {
                                let _ = resyncs.send(resync);
                            }
                            Err(_) => {}
                        },
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

/// The pieces of every reply this instance writes, sent to the other instances in batches: one statement carries
/// the pieces that queued while the last one was sent, so a thousand replies at once cost a few statements a
/// second, not one per token, and never hold more than one pooled connection. Pieces of a reply keep their order.
#[derive(Debug, Clone)]
pub struct Publisher {
    queue: tokio::sync::mpsc::Sender<Piece>,
}

/// Pieces sent in one statement at most.
const BATCH: usize = 64;

impl Publisher {
    /// Starts the sending task on `pool` (PostgreSQL).
    pub fn start(pool: AnyPool) -> Self {
        let (queue, mut pieces) = tokio::sync::mpsc::channel::<Piece>(8192);
        tokio::spawn(async move {
            // A connection of its own while there is news to send, so pieces never wait behind the pool's other work.
            let mut connection: Option<sqlx::pool::PoolConnection<sqlx::Any>> = None;
            while let Some(first) = pieces.recv().await {
                let mut batch = vec![first];
                while batch.len() < BATCH {
                    match pieces.try_recv() {
                        Ok(piece) => batch.push(piece),
                        Err(_) => break,
                    }
                }
                let payloads: Vec<String> = merge(batch).into_iter().map(payload).collect();
                let calls: Vec<String> = (0..payloads.len())
                    .map(|i| format!("pg_notify($1, ${})", i + 2))
                    .collect();
                let sql = format!("SELECT {}", calls.join(", "));
                let mut query = sqlx::query(&sql).bind(CHANNEL);
                for payload in payloads {
                    query = query.bind(payload);
                }
                if connection.is_none() {
                    connection = pool.acquire().await.ok();
                }
                let Some(conn) = connection.as_mut() else { continue };
                if let Err(e) = query.execute(&mut **conn).await {
                    tracing::debug!(error = %e, "could not publish pieces of replies");
                    connection = None;
                }
                if pieces.is_empty() {
                    // Quiet again: the connection goes back to the pool.
                    connection = None;
                }
            }
        });
        Self { queue }
    }

    /// Queues a piece; a full queue drops it (its followers find the gap and ask for the whole text).
    pub fn send(&self, piece: Piece) {
        let _ = self.queue.try_send(piece);
    }
}

/// Consecutive pieces of one reply, one after the other in the text, as one.
fn merge(batch: Vec<Piece>) -> Vec<Piece> {
    let mut merged: Vec<Piece> = Vec::with_capacity(batch.len());
    for piece in batch {
        if let Some(last) = merged.iter_mut().rev().find(|p| p.id == piece.id)
            && let (Some(text), Some(more), false, false) = (&mut last.text, &piece.text, last.done, piece.done)
            && last.at + text.len() == piece.at
            && text.len() + more.len() < MAX_PAYLOAD / 2
        {
            text.push_str(more);
            continue;
        }
        merged.push(piece);
    }
    merged
}

/// A piece as a notification's payload (a piece too long only says "read the database").
fn payload(piece: Piece) -> String {
    let text = serde_json::to_string(&piece).unwrap_or_default();
    if text.len() <= MAX_PAYLOAD {
        return text;
    }
    serde_json::to_string(&Piece { text: None, ..piece }).unwrap_or_default()
}

/// Asks the instance writing reply `id` for its whole text so far (a follower that joined after the first pieces).
pub async fn ask_resync(pool: &AnyPool, id: i64) {
    notify(
        pool,
        serde_json::to_string(&Notice::Resync { resync: id }).unwrap_or_default(),
    )
    .await;
}

async fn notify(pool: &AnyPool, payload: String) {
    if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
        .bind(CHANNEL)
        .bind(payload)
        .execute(pool)
        .await
    {
        tracing::debug!(error = %e, "could not publish a piece of a reply");
    }
}

#[cfg(test)]
mod tests {
    use super::{Piece, merge};

    fn piece(id: i64, at: usize, text: &str) -> Piece {
        Piece {
            id,
            at,
            text: Some(text.into()),
            done: false,
        }
    }

    #[test]
    fn consecutive_pieces_of_a_reply_merge_and_keep_their_order() {
        let merged = merge(vec![
            piece(1, 0, "ab"),
            piece(2, 0, "x"),
            piece(1, 2, "cd"),
            piece(1, 9, "z"),
        ]);
        assert_eq!(merged, vec![piece(1, 0, "abcd"), piece(2, 0, "x"), piece(1, 9, "z")]);
        let done = Piece {
            done: true,
            ..piece(1, 4, "")
        };
        assert_eq!(
            merge(vec![piece(1, 0, "ab"), done.clone()]),
            vec![piece(1, 0, "ab"), done]
        );
    }
}
