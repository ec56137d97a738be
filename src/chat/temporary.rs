//! Temporary chats (issue #29): conversations that live only in this process's memory, never in the database, the
//! file store, the search index, exports or backups. Only the token counts of their replies reach the usage ledger
//! (`quota::begin_unstored`), so quotas still hold.
//!
//! A temporary conversation and its messages use the same records as stored ones (`store::Conversation`,
//! `store::Message`), with negative ids drawn at random (a stored row's id is always positive), so the pages, the
//! streams and the REST API show them with the code they show any conversation; the service layer sends the calls
//! for such an id here, and nowhere else is one found. Each is its owner's only: every lookup takes the owner.
//!
//! One is forgotten when its owner discards it, when the tab that shows it is closed (the page says so as it goes,
//! and a reload within [`LEAVE_GRACE`] takes it back), after `TEMPORARY_CHAT_IDLE_MINUTES` without a look or a
//! message, or when the server stops. A reply in progress then stops and its tokens are counted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio::sync::{Notify, broadcast};

use crate::chat::generation::LiveEvent;
use crate::chat::provider::{ChatRequest, ProviderError, StreamEvent, WireMessage};
use crate::chat::store::{Conversation, Message};
use crate::core::db::now_millis;
use crate::core::error::AppError;

/// How long a chat whose tab was closed is kept for the same tab's reload.
pub const LEAVE_GRACE: Duration = Duration::from_secs(15);
/// Temporary chats one account keeps at once; a new one beyond that forgets the one left longest ago.
pub const MAX_PER_USER: usize = 10;
/// Messages a temporary chat holds at most (replies included).
pub const MAX_MESSAGES: usize = 400;
/// How often forgotten chats are looked for.
const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// Events kept for a slow reader of a reply; one further behind starts again from the text so far.
const LIVE_EVENTS: usize = 256;

/// Whether `id` names a temporary conversation or message (stored rows have positive ids).
pub fn is_temporary(id: i64) -> bool {
    id < 0
}

/// A new id: negative, at random among 2^52 (exact in JavaScript's numbers, which the REST API's clients use).
fn new_id() -> i64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut eight = [0u8; 8];
    eight.copy_from_slice(&bytes[..8]);
    -((i64::from_le_bytes(eight) & ((1 << 52) - 1)) + 1)
}

/// The temporary chats of this process.
#[derive(Clone)]
pub struct Temporary {
    chats: Arc<Mutex<HashMap<i64, Arc<Chat>>>>,
    idle: Duration,
}

impl std::fmt::Debug for Temporary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Temporary")
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

impl Default for Temporary {
    fn default() -> Self {
        Self::new(Duration::from_secs(30 * 60))
    }
}

struct Chat {
    owner: i64,
    inner: Mutex<Inner>,
    /// The reply being written, told to stop.
    stop: Notify,
    /// The events of the reply being written (text under `inner`'s lock, so a snapshot and the events after it never
    /// miss or repeat a piece).
    events: broadcast::Sender<LiveEvent>,
}

struct Inner {
    conversation: Conversation,
    messages: Vec<Message>,
    /// The last look or message.
    touched: Instant,
    /// When its tab said it was closing (a reload takes it back).
    leaving: Option<Instant>,
    /// Forgotten: a reply still running stops, and nothing is added any more.
    gone: bool,
}

impl Chat {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A reply to write, as [`Temporary::add_turn`] started it.
pub struct Started {
    /// The conversation.
    pub conversation_id: i64,
    /// The user message added.
    pub user_message_id: i64,
    /// The pending reply.
    pub assistant_message_id: i64,
    /// The branch the reply continues, oldest first (the user message last).
    pub history: Vec<Message>,
    /// The conversation's system prompt and model ('' = the owner's preferred).
    pub system_prompt: String,
    /// See `system_prompt`.
    pub model: String,
}

impl Temporary {
    /// No chats yet; they are forgotten after `idle` without a look or a message.
    pub fn new(idle: Duration) -> Self {
        Self {
            chats: Arc::default(),
            idle,
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Arc<Chat>>> {
        self.chats.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The owner's chat `id`, looked at now (which takes back a tab's goodbye).
    fn chat(&self, owner: i64, id: i64) -> Option<Arc<Chat>> {
        let chat = self.map().get(&id).filter(|c| c.owner == owner).cloned()?;
        let mut inner = chat.lock();
        if inner.gone {
            return None;
        }
        inner.touched = Instant::now();
        inner.leaving = None;
        drop(inner);
        Some(chat)
    }

    /// The idle time after which a chat is forgotten.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// Starts a chat for `owner`; at most [`MAX_PER_USER`] are kept, so the one left longest ago may be forgotten.
    pub fn create(&self, owner: i64, title: String, model: String, system_prompt: String) -> i64 {
        let now = now_millis();
        let mut map = self.map();
        let mut id = new_id();
        while map.contains_key(&id) {
            id = new_id();
        }
        let mine: Vec<(Instant, i64)> = map
            .values()
            .filter(|c| c.owner == owner)
            .map(|c| {
                let inner = c.lock();
                (inner.touched, inner.conversation.id)
            })
            .collect();
        if mine.len() >= MAX_PER_USER
            && let Some((_, oldest)) = mine.into_iter().min()
            && let Some(chat) = map.remove(&oldest)
        {
            forget(&chat);
        }
        let conversation = Conversation {
            id,
            user_id: owner,
            slug: crate::chat::store::slugify(&title),
            title,
            summary: String::new(),
            tags: "[]".into(),
            category: String::new(),
            status: "active".into(),
            is_pinned: false,
            message_count: 0,
            last_message_at: None,
            created_at: now,
            updated_at: now,
            archived_at: None,
            additional_data: json!({"temporary": true}).to_string(),
            model,
            system_prompt,
            current_leaf_id: None,
            generating_id: None,
            tools: Some("[]".into()),
        };
        map.insert(
            id,
            Arc::new(Chat {
                owner,
                inner: Mutex::new(Inner {
                    conversation,
                    messages: Vec::new(),
                    touched: Instant::now(),
                    leaving: None,
                    gone: false,
                }),
                stop: Notify::new(),
                events: broadcast::channel(LIVE_EVENTS).0,
            }),
        );
        id
    }

    /// The owner's chat `id` with all its messages.
    pub fn get(&self, owner: i64, id: i64) -> Option<(Conversation, Vec<Message>)> {
        let chat = self.chat(owner, id)?;
        let inner = chat.lock();
        Some((inner.conversation.clone(), inner.messages.clone()))
    }

    /// The owner's message `id`, with its conversation and that conversation's messages.
    pub fn message(&self, owner: i64, id: i64) -> Option<(Conversation, Vec<Message>, Message)> {
        let chats: Vec<Arc<Chat>> = self.map().values().filter(|c| c.owner == owner).cloned().collect();
        for chat in chats {
            let found = {
                let inner = chat.lock();
                inner
                    .messages
                    .iter()
                    .find(|m| m.id == id)
                    .cloned()
                    .map(|m| (inner.conversation.id, m))
            };
            if let Some((conversation_id, m)) = found {
                let (conversation, messages) = self.get(owner, conversation_id)?;
                return Some((conversation, messages, m));
            }
        }
        None
    }

    /// Adds the user's `content` and a pending reply after the branch's last message. `Busy` while a reply is
    /// written, `NotFound` for a chat that is not the owner's (or forgotten).
    pub fn add_turn(&self, owner: i64, id: i64, content: String, content_type: &str) -> Result<Started, AppError> {
        let chat = self.chat(owner, id).ok_or(AppError::NotFound)?;
        let mut inner = chat.lock();
        if inner.conversation.generating_id.is_some() {
            return Err(AppError::Busy);
        }
        if inner.messages.len() + 2 > MAX_MESSAGES {
            return Err(AppError::invalid(
                "content",
                crate::text!(chat.temporary.full, max = MAX_MESSAGES),
            ));
        }
        let now = now_millis();
        let model = inner.conversation.model.clone();
        let message = |id: i64, parent_id: Option<i64>, role: &str, content: String, status: &str| Message {
            id,
            conversation_id: inner.conversation.id,
            parent_id,
            role: role.into(),
            content,
            content_type: content_type.into(),
            status: status.into(),
            is_edited: false,
            edit_count: 0,
            created_at: now,
            updated_at: now,
            delivered_at: (status == "delivered").then_some(now),
            additional_data: "{}".into(),
            metadata: "{}".into(),
            attachments: "[]".into(),
        };
        let (user_id, reply_id) = (new_id(), new_id());
        let parent = inner.conversation.current_leaf_id;
        let user_message = message(user_id, parent, "user", content, "delivered");
        let mut reply = message(reply_id, Some(user_id), "assistant", String::new(), "pending");
        reply.content_type = "text/markdown".into();
        inner.messages.push(user_message);
        inner.messages.push(reply);
        let c = &mut inner.conversation;
        c.current_leaf_id = Some(reply_id);
        c.generating_id = Some(reply_id);
        c.message_count += 2;
        c.last_message_at = Some(now);
        c.updated_at = now;
        let history = crate::chat::service::branch(&inner.messages, Some(user_id));
        Ok(Started {
            conversation_id: id,
            user_message_id: user_id,
            assistant_message_id: reply_id,
            history,
            system_prompt: inner.conversation.system_prompt.clone(),
            model,
        })
    }

    /// The text so far of reply `message_id` and its further events, while it is written; `None` once it is done
    /// (or for no such reply).
    pub fn subscribe(&self, message_id: i64) -> Option<(String, broadcast::Receiver<LiveEvent>)> {
        let chat = self.containing(message_id)?;
        let inner = chat.lock();
        if inner.conversation.generating_id != Some(message_id) {
            return None;
        }
        let text = inner.messages.iter().find(|m| m.id == message_id)?.content.clone();
        Some((text, chat.events.subscribe()))
    }

    fn containing(&self, message_id: i64) -> Option<Arc<Chat>> {
        self.map()
            .values()
            .find(|c| c.lock().messages.iter().any(|m| m.id == message_id))
            .cloned()
    }

    /// Stops the owner's reply `message_id` (what was written is kept).
    pub fn stop(&self, owner: i64, message_id: i64) -> Result<(), AppError> {
        let chat = self
            .containing(message_id)
            .filter(|c| c.owner == owner)
            .ok_or(AppError::NotFound)?;
        if chat.lock().conversation.generating_id == Some(message_id) {
            chat.stop.notify_one();
        }
        Ok(())
    }

    /// Forgets the owner's chat `id` at once.
    pub fn discard(&self, owner: i64, id: i64) -> bool {
        let mut map = self.map();
        if map.get(&id).is_some_and(|c| c.owner == owner) {
            if let Some(chat) = map.remove(&id) {
                forget(&chat);
            }
            true
        } else {
            false
        }
    }

    /// The tab showing the owner's chat `id` is closing: it is forgotten unless looked at again within
    /// [`LEAVE_GRACE`] (a reload of the same tab).
    pub fn leave(&self, owner: i64, id: i64) {
        if let Some(chat) = self.map().get(&id).filter(|c| c.owner == owner) {
            chat.lock().leaving = Some(Instant::now());
        }
    }

    /// User messages the owner sent in temporary chats since `since` (epoch ms), for the rate limits.
    pub fn user_messages_since(&self, owner: i64, since: i64) -> (i64, Option<i64>) {
        let chats: Vec<Arc<Chat>> = self.map().values().filter(|c| c.owner == owner).cloned().collect();
        let mut count = 0;
        let mut oldest: Option<i64> = None;
        for chat in chats {
            for m in chat
                .lock()
                .messages
                .iter()
                .filter(|m| m.role == "user" && m.created_at >= since)
            {
                count += 1;
                oldest = Some(oldest.map_or(m.created_at, |o| o.min(m.created_at)));
            }
        }
        (count, oldest)
    }

    /// How many chats are kept (all accounts).
    pub fn len(&self) -> usize {
        self.map().len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets the chats left idle too long, or whose tab closed more than [`LEAVE_GRACE`] ago.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut map = self.map();
        let expired: Vec<i64> = map
            .iter()
            .filter(|(_, chat)| {
                let inner = chat.lock();
                now.duration_since(inner.touched) >= self.idle
                    || inner.leaving.is_some_and(|at| now.duration_since(at) >= LEAVE_GRACE)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in expired {
            if let Some(chat) = map.remove(&id) {
                forget(&chat);
            }
        }
    }

    /// Sweeps every few seconds, for the life of the process.
    pub fn spawn_sweeper(&self) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            loop {
                every.tick().await;
                this.sweep();
            }
        })
    }
}

/// Marks `chat` forgotten and stops its reply.
fn forget(chat: &Chat) {
    let mut inner = chat.lock();
    inner.gone = true;
    inner.messages.clear();
    drop(inner);
    chat.stop.notify_one();
}

/// Writes the reply `started` asks for into its chat, as the provider streams it, and counts its tokens in the
/// ledger row `ledger` (begun by `quota::begin_unstored`).
pub async fn write_reply(
    state: crate::state::AppState,
    owner: i64,
    started: Started,
    request: ChatRequest,
    ledger: i64,
    prompt_tokens: i64,
) {
    let Some(chat) = state
        .chat
        .temporary
        .map()
        .get(&started.conversation_id)
        .filter(|c| c.owner == owner)
        .cloned()
    else {
        return;
    };
    let reply_id = started.assistant_message_id;
    let model = request.model.clone();
    let begun = Instant::now();
    let mut first_token: Option<i64> = None;
    let mut usage = None;
    let mut finish_reason: Option<String> = None;
    let mut stopped = false;
    let outcome: Result<(), ProviderError> = async {
        let mut stream = tokio::select! {
            stream = state.chat.provider.stream(&request) => stream?,
            () = chat.stop.notified() => {
                stopped = true;
                return Ok(());
            }
        };
        let mut finished = false;
        loop {
            let event = tokio::select! {
                event = stream.next() => event,
                () = chat.stop.notified() => {
                    stopped = true;
                    break;
                }
            };
            match event {
                None => break,
                Some(Ok(StreamEvent::Delta(text))) => {
                    first_token.get_or_insert_with(|| i64::try_from(begun.elapsed().as_millis()).unwrap_or(i64::MAX));
                    let mut inner = chat.lock();
                    if inner.gone {
                        stopped = true;
                        break;
                    }
                    if let Some(m) = inner.messages.iter_mut().find(|m| m.id == reply_id) {
                        m.content.push_str(&text);
                        m.status = "streaming".into();
                    }
                    let _ = chat.events.send(LiveEvent::Delta(text));
                }
                Some(Ok(StreamEvent::Finish {
                    usage: reported,
                    finish_reason: reason,
                })) => {
                    finished = true;
                    usage = reported;
                    finish_reason = reason;
                }
                // No tools are offered in a temporary chat.
                Some(Ok(StreamEvent::ToolCall(_))) => {}
                Some(Err(_)) if finished => break,
                Some(Err(e)) => return Err(e),
            }
        }
        Ok(())
    }
    .await;
    let (status, ledger_status) = match (&outcome, stopped) {
        (Err(_), _) => ("error", "error"),
        (Ok(()), true) => ("stopped", "stopped"),
        (Ok(()), false) => ("delivered", "delivered"),
    };
    let content = {
        let inner = chat.lock();
        inner
            .messages
            .iter()
            .find(|m| m.id == reply_id)
            .map(|m| m.content.clone())
            .unwrap_or_default()
    };
    // A reply the provider did not count (it failed, was stopped or cut off) counts by estimate.
    let (prompt, completion, counted) = match usage {
        Some(u) => (
            i64::try_from(u.prompt_tokens).unwrap_or(i64::MAX),
            i64::try_from(u.completion_tokens).unwrap_or(i64::MAX),
            true,
        ),
        None => (
            prompt_tokens,
            crate::chat::quota::estimate_tokens(content.chars().count()),
            false,
        ),
    };
    let mut metadata = json!({
        "model": model,
        "time_to_first_token_ms": first_token,
        "total_latency_ms": i64::try_from(begun.elapsed().as_millis()).unwrap_or(i64::MAX),
        "finish_reason": if stopped { Some("stopped".to_string()) } else { finish_reason },
    });
    if counted {
        metadata["prompt_tokens"] = json!(prompt);
        metadata["completion_tokens"] = json!(completion);
        metadata["total_tokens"] = json!(prompt.saturating_add(completion));
    } else {
        metadata["usage_estimate"] = json!({"prompt_tokens": prompt, "completion_tokens": completion});
    }
    if let Err(e) = &outcome {
        state.metrics.provider_error(e.code());
        metadata["error"] = e.to_metadata();
        tracing::warn!(code = e.code(), "temporary reply failed");
    }
    {
        let mut inner = chat.lock();
        let now = now_millis();
        if let Some(m) = inner.messages.iter_mut().find(|m| m.id == reply_id) {
            m.status = status.into();
            m.metadata = metadata.to_string();
            m.updated_at = now;
            m.delivered_at = Some(now);
        }
        inner.conversation.generating_id = None;
        inner.conversation.updated_at = now;
        let _ = chat.events.send(LiveEvent::Done);
    }
    let pool = &state.db.pool;
    if let Err(e) = crate::chat::quota::end_unstored(pool, ledger, ledger_status, prompt, completion, first_token).await
    {
        tracing::error!(error = %e, "temporary chat: usage not recorded");
    }
}

/// The messages of `history` as the model reads them, after the system prompt.
pub fn wire_of(system_prompt: &str, history: &[Message]) -> Vec<WireMessage> {
    let mut wire = Vec::with_capacity(history.len() + 1);
    if !system_prompt.trim().is_empty() {
        wire.push(WireMessage::text("system", system_prompt.to_string()));
    }
    for m in history {
        if (m.role == "user" || m.role == "assistant") && !m.content.trim().is_empty() {
            wire.push(WireMessage::text(&m.role, m.content.clone()));
        }
    }
    wire
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_negative_and_exact_in_javascript() {
        for _ in 0..1000 {
            let id = new_id();
            assert!(is_temporary(id));
            assert!(id >= -(1 << 52));
        }
    }

    #[test]
    fn a_chat_is_its_owners_only_and_an_eleventh_forgets_the_oldest() {
        let temporary = Temporary::new(Duration::from_secs(60));
        let first = temporary.create(1, "a".into(), String::new(), String::new());
        assert!(temporary.get(2, first).is_none());
        assert!(temporary.get(1, first).is_some());
        assert!(!temporary.discard(2, first));
        let started = temporary.add_turn(1, first, "hello".into(), "text/markdown").unwrap();
        assert!(matches!(
            temporary.add_turn(1, first, "again".into(), "text/markdown"),
            Err(AppError::Busy)
        ));
        assert!(temporary.message(2, started.user_message_id).is_none());
        assert_eq!(temporary.user_messages_since(1, 0).0, 1);
        for _ in 0..MAX_PER_USER {
            std::thread::sleep(Duration::from_millis(2));
            temporary.create(1, "b".into(), String::new(), String::new());
        }
        assert!(temporary.get(1, first).is_none(), "the oldest is forgotten");
        assert_eq!(temporary.len(), MAX_PER_USER);
    }

    #[test]
    fn a_closed_tab_is_forgotten_after_the_grace_and_a_reload_takes_it_back() {
        let temporary = Temporary::new(Duration::from_secs(60));
        let id = temporary.create(1, "a".into(), String::new(), String::new());
        temporary.leave(1, id);
        // The reload looks at it again.
        assert!(temporary.get(1, id).is_some());
        temporary.sweep();
        assert!(temporary.get(1, id).is_some());
        temporary.leave(1, id);
        if let Some(chat) = temporary.map().get(&id) {
            chat.lock().leaving = Some(Instant::now() - LEAVE_GRACE);
        }
        temporary.sweep();
        assert!(temporary.get(1, id).is_none());
        let idle = Temporary::new(Duration::ZERO);
        let id = idle.create(1, "a".into(), String::new(), String::new());
        idle.sweep();
        assert!(idle.get(1, id).is_none());
    }
}
