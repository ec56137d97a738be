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
use crate::chat::provider::{ChatRequest, ProviderError, StreamEvent};
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
    registry: Arc<Mutex<Registry>>,
    idle: Duration,
}

/// Each owner's chats (a handful at most: every lookup takes the owner, so it reads only theirs), and the replies
/// being written (the streams that follow a reply look it up by its id alone, once its owner has been checked).
/// Locked before any chat's own lock.
#[derive(Default)]
struct Registry {
    by_owner: HashMap<i64, Vec<Arc<Chat>>>,
    writing: HashMap<i64, Arc<Chat>>,
}

impl Registry {
    fn chat(&self, owner: i64, id: i64) -> Option<&Arc<Chat>> {
        self.by_owner.get(&owner)?.iter().find(|c| c.id == id)
    }

    fn of(&self, owner: i64) -> &[Arc<Chat>] {
        self.by_owner.get(&owner).map_or(&[], Vec::as_slice)
    }
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
    id: i64,
    owner: i64,
    inner: Mutex<Inner>,
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
    /// Tells the reply being written to stop: one per reply, so a stop that comes as a reply ends cannot stop the
    /// next one.
    stop: Option<Arc<Notify>>,
}

impl Chat {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Looked at now, which takes back a tab's goodbye.
    fn touch(&self) -> std::sync::MutexGuard<'_, Inner> {
        let mut inner = self.lock();
        inner.touched = Instant::now();
        inner.leaving = None;
        inner
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
    /// The conversation's system prompt.
    pub system_prompt: String,
    chat: Arc<Chat>,
    stop: Arc<Notify>,
}

impl Temporary {
    /// No chats yet; they are forgotten after `idle` without a look or a message.
    pub fn new(idle: Duration) -> Self {
        Self {
            registry: Arc::default(),
            idle,
        }
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The idle time after which a chat is forgotten.
    pub fn idle(&self) -> Duration {
        self.idle
    }

    /// Starts a chat for `owner`; at most [`MAX_PER_USER`] are kept, so the one left longest ago may be forgotten.
    pub fn create(&self, owner: i64, title: String, model: String, system_prompt: String) -> i64 {
        let now = now_millis();
        let mut registry = self.registry();
        let mine = registry.by_owner.entry(owner).or_default();
        if mine.len() >= MAX_PER_USER
            && let Some(oldest) = (0..mine.len()).min_by_key(|&i| mine[i].lock().touched)
        {
            forget(&mine.remove(oldest));
        }
        let mut id = new_id();
        while mine.iter().any(|c| c.id == id) {
            id = new_id();
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
        mine.push(Arc::new(Chat {
            id,
            owner,
            inner: Mutex::new(Inner {
                conversation,
                messages: Vec::new(),
                touched: Instant::now(),
                leaving: None,
                gone: false,
                stop: None,
            }),
            events: broadcast::channel(LIVE_EVENTS).0,
        }));
        id
    }

    /// The owner's chat `id` with all its messages (a look: it takes back a tab's goodbye).
    pub fn get(&self, owner: i64, id: i64) -> Option<(Conversation, Vec<Message>)> {
        let chat = self.registry().chat(owner, id)?.clone();
        let inner = chat.touch();
        Some((inner.conversation.clone(), inner.messages.clone()))
    }

    /// The owner's message `id`, and all the messages of its chat.
    pub fn message(&self, owner: i64, id: i64) -> Option<(Message, Vec<Message>)> {
        let registry = self.registry();
        registry.of(owner).iter().find_map(|chat| {
            let inner = chat.lock();
            let m = inner.messages.iter().find(|m| m.id == id)?.clone();
            Some((m, inner.messages.clone()))
        })
    }

    /// Adds the user's `content` (of MIME type `content_type`) and a pending reply after the branch's last message.
    /// `Busy` while a reply is written, `NotFound` for a chat that is not the owner's (or forgotten).
    pub fn add_turn(&self, owner: i64, id: i64, content: String, content_type: &str) -> Result<Started, AppError> {
        let mut registry = self.registry();
        let chat = registry.chat(owner, id).ok_or(AppError::NotFound)?.clone();
        let mut inner = chat.touch();
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
        let message = |id: i64, parent_id: Option<i64>, role: &str, content: String, content_type: &str| Message {
            id,
            conversation_id: inner.conversation.id,
            parent_id,
            role: role.into(),
            content,
            content_type: content_type.into(),
            status: if role == "user" { "delivered" } else { "pending" }.into(),
            is_edited: false,
            edit_count: 0,
            created_at: now,
            updated_at: now,
            delivered_at: (role == "user").then_some(now),
            additional_data: "{}".into(),
            metadata: "{}".into(),
            attachments: "[]".into(),
        };
        let (user_id, reply_id) = (new_id(), new_id());
        let parent = inner.conversation.current_leaf_id;
        let user_message = message(user_id, parent, "user", content, content_type);
        let reply = message(reply_id, Some(user_id), "assistant", String::new(), "text/markdown");
        inner.messages.push(user_message);
        inner.messages.push(reply);
        let stop = Arc::new(Notify::new());
        inner.stop = Some(stop.clone());
        let c = &mut inner.conversation;
        c.current_leaf_id = Some(reply_id);
        c.generating_id = Some(reply_id);
        c.message_count += 2;
        c.last_message_at = Some(now);
        c.updated_at = now;
        let history = crate::chat::service::branch(&inner.messages, Some(user_id));
        let system_prompt = inner.conversation.system_prompt.clone();
        drop(inner);
        registry.writing.insert(reply_id, chat.clone());
        Ok(Started {
            conversation_id: id,
            user_message_id: user_id,
            assistant_message_id: reply_id,
            history,
            system_prompt,
            chat,
            stop,
        })
    }

    /// The text so far of reply `message_id` and its further events, while it is written; `None` once it is done
    /// (or for no such reply). The caller has checked that the reply is its user's.
    pub fn subscribe(&self, message_id: i64) -> Option<(String, broadcast::Receiver<LiveEvent>)> {
        let chat = self.registry().writing.get(&message_id)?.clone();
        let inner = chat.lock();
        if inner.conversation.generating_id != Some(message_id) {
            return None;
        }
        let text = inner.messages.iter().find(|m| m.id == message_id)?.content.clone();
        Some((text, chat.events.subscribe()))
    }

    /// Stops the owner's reply `message_id` if it is being written (what was written is kept).
    pub fn stop(&self, owner: i64, message_id: i64) -> Result<(), AppError> {
        let writing = self
            .registry()
            .writing
            .get(&message_id)
            .filter(|c| c.owner == owner)
            .cloned();
        match writing {
            Some(chat) => {
                if let Some(stop) = &chat.lock().stop {
                    stop.notify_one();
                }
                Ok(())
            }
            None => self.message(owner, message_id).map(|_| ()).ok_or(AppError::NotFound),
        }
    }

    /// Forgets the owner's chat `id` at once.
    pub fn discard(&self, owner: i64, id: i64) -> bool {
        let mut registry = self.registry();
        let Some(mine) = registry.by_owner.get_mut(&owner) else {
            return false;
        };
        let Some(at) = mine.iter().position(|c| c.id == id) else {
            return false;
        };
        forget(&mine.remove(at));
        true
    }

    /// The tab showing the owner's chat `id` is closing: it is forgotten unless looked at again within
    /// [`LEAVE_GRACE`] (a reload of the same tab).
    pub fn leave(&self, owner: i64, id: i64) {
        if let Some(chat) = self.registry().chat(owner, id) {
            chat.lock().leaving = Some(Instant::now());
        }
    }

    /// User messages the owner sent in temporary chats since `since` (epoch ms), and the oldest of them, for the rate
    /// limits.
    pub fn user_messages_since(&self, owner: i64, since: i64) -> (i64, Option<i64>) {
        let registry = self.registry();
        let mut count = 0;
        let mut oldest: Option<i64> = None;
        for chat in registry.of(owner) {
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
        self.registry().by_owner.values().map(Vec::len).sum()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets the chats left idle too long, or whose tab closed more than [`LEAVE_GRACE`] ago.
    pub fn sweep(&self) {
        let now = Instant::now();
        let mut registry = self.registry();
        for mine in registry.by_owner.values_mut() {
            mine.retain(|chat| {
                let inner = chat.lock();
                let expired = now.duration_since(inner.touched) >= self.idle
                    || inner.leaving.is_some_and(|at| now.duration_since(at) >= LEAVE_GRACE);
                drop(inner);
                if expired {
                    forget(chat);
                }
                !expired
            });
        }
        registry.by_owner.retain(|_, mine| !mine.is_empty());
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

    /// Reply `message_id` is no longer written.
    fn written(&self, message_id: i64) {
        self.registry().writing.remove(&message_id);
    }
}

/// Marks `chat` forgotten and stops its reply.
fn forget(chat: &Chat) {
    let mut inner = chat.lock();
    inner.gone = true;
    inner.messages.clear();
    if let Some(stop) = &inner.stop {
        stop.notify_one();
    }
}

/// Writes the reply `started` asks for into its chat, as the provider streams it, and counts its tokens in the
/// ledger row `ledger` (begun by `quota::begin_unstored`).
pub async fn write_reply(
    state: crate::state::AppState,
    started: Started,
    request: ChatRequest,
    ledger: i64,
    prompt_tokens: i64,
) {
    let Started { chat, stop, .. } = &started;
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
            () = stop.notified() => {
                stopped = true;
                return Ok(());
            }
        };
        let mut finished = false;
        loop {
            let event = tokio::select! {
                event = stream.next() => event,
                () = stop.notified() => {
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
    let status = match (&outcome, stopped) {
        (Err(_), _) => "error",
        (Ok(()), true) => "stopped",
        (Ok(()), false) => "delivered",
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
        inner.stop = None;
        let _ = chat.events.send(LiveEvent::Done);
    }
    state.chat.temporary.written(reply_id);
    let pool = &state.db.pool;
    if let Err(e) = crate::chat::quota::end_unstored(pool, ledger, status, prompt, completion, first_token).await {
        tracing::error!(error = %e, "temporary chat: usage not recorded");
    }
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
        if let Some(chat) = temporary.registry().chat(1, id) {
            chat.lock().leaving = Some(Instant::now() - LEAVE_GRACE);
        }
        temporary.sweep();
        assert!(temporary.get(1, id).is_none());
        let idle = Temporary::new(Duration::ZERO);
        let id = idle.create(1, "a".into(), String::new(), String::new());
        idle.sweep();
        assert!(idle.get(1, id).is_none());
    }

    #[tokio::test]
    async fn a_stop_that_comes_as_a_reply_ends_does_not_stop_the_next_one() {
        let temporary = Temporary::new(Duration::from_secs(60));
        let id = temporary.create(1, "a".into(), String::new(), String::new());
        let first = temporary.add_turn(1, id, "one".into(), "text/markdown").unwrap();
        // The reply ends as `write_reply` ends it, then its stop arrives.
        {
            let mut inner = first.chat.lock();
            inner.conversation.generating_id = None;
            inner.stop = None;
        }
        temporary.written(first.assistant_message_id);
        assert!(temporary.subscribe(first.assistant_message_id).is_none());
        temporary.stop(1, first.assistant_message_id).unwrap();
        assert!(matches!(
            temporary.stop(2, first.assistant_message_id),
            Err(AppError::NotFound)
        ));
        let next = temporary.add_turn(1, id, "two".into(), "text/markdown").unwrap();
        let stopped = tokio::time::timeout(Duration::from_millis(20), next.stop.notified()).await;
        assert!(stopped.is_err(), "the next reply is not told to stop");
        assert!(temporary.subscribe(next.assistant_message_id).is_some());
        temporary.stop(1, next.assistant_message_id).unwrap();
        tokio::time::timeout(Duration::from_millis(20), next.stop.notified())
            .await
            .unwrap();
    }
}
