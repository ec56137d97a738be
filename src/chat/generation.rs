//! Generating replies, independently of any request: a send commits the user message and a pending reply, then a
//! task started here streams the provider's answer into the database (at least every 500 ms or 200 characters) and
//! to whoever listens. Closing the tab or dropping the connection does not stop it; stopping is an explicit request
//! (seen here at once, or through the database from another instance). A killed process leaves the partial text,
//! which [`store::recover_interrupted`] marks as interrupted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};
use sqlx::AnyPool;
use tokio::sync::{Notify, broadcast};

use crate::chat::provider::{ChatRequest, Provider, ProviderError, StreamEvent, WireMessage};
use crate::chat::store;

/// Write the text at least this often while it grows (and no more often, so a thousand replies at once stay a
/// bounded load on the database).
const SAVE_EVERY: Duration = Duration::from_millis(500);
/// How often the lock is renewed (and a stop requested through the database noticed) while nothing new arrives.
const BEAT_EVERY: Duration = Duration::from_secs(1);

/// Events of a reply kept for its slowest reader. A reader further behind goes on from the database. The ring is
/// allocated whole when the reply starts: 1,024 slots cost 1,000 concurrent replies ≈ 50 MB (docs/BENCHMARKS.md).
const LIVE_EVENTS: usize = 128;

/// What listeners of a reply receive.
#[derive(Debug, Clone)]
pub enum LiveEvent {
    /// More text.
    Delta(String),
    /// A tool call started or ended: the step as the API shows it (`chat::json::StepOut`), as JSON text.
    Step(Arc<str>),
    /// The reply ended; its final row is in the database.
    Done,
}

struct Live {
    conversation_id: i64,
    /// The model asked, and the prompt's size in characters (for the usage estimate of a reply cut short).
    model: String,
    prompt_chars: usize,
    /// The document parts the prompt quoted (`retrieval::Source`s), kept in the reply's metadata.
    sources: Option<Value>,
    content: Mutex<String>,
    /// The latest event of each tool call so far (step id, `LiveEvent::Step` JSON), for viewers who join late;
    /// written under the `content` lock, like the text, so a snapshot and the events after it never miss or
    /// reorder one.
    steps: Mutex<Vec<(i64, Arc<str>)>>,
    events: broadcast::Sender<LiveEvent>,
    stop: Notify,
    /// New text for the saver.
    changed: Notify,
    /// New text for the publisher (PostgreSQL: other instances' followers).
    fresh: Notify,
    /// The generator is done; the saver must stop before the final write.
    ended: Notify,
    /// The generator is done; the publisher sends what is left and stops.
    flush: Notify,
}

impl Live {
    /// Tells the viewers of the reply that `step` started or ended.
    fn tell(&self, step: &store::Step) {
        let json: Arc<str> =
            Arc::from(serde_json::to_string(&crate::chat::json::StepOut::from(step)).unwrap_or_default());
        if let (Ok(_content), Ok(mut steps)) = (self.content.lock(), self.steps.lock()) {
            match steps.iter_mut().find(|(id, _)| *id == step.id) {
                Some(known) => known.1 = json.clone(),
                None => steps.push((step.id, json.clone())),
            }
            let _ = self.events.send(LiveEvent::Step(json));
        }
        // Followers on other instances read the steps from the database.
        self.fresh.notify_one();
    }
}

/// The tool calls of a reply, numbered in order and written as they start, and the sources its searches found
/// (numbered on across searches, so the answer's `[n]` names one page).
#[derive(Debug, Default)]
struct StepCounter {
    next: i64,
    sources: usize,
}

impl StepCounter {
    /// Stores the start of `call` — waiting for the user's approval until `expires` when given — (its id stays 0 when
    /// the write fails: the call still runs, unrecorded).
    async fn start(
        &mut self,
        pool: &AnyPool,
        message_id: i64,
        round: i64,
        call: &crate::chat::provider::ToolCall,
        expires: Option<i64>,
    ) -> store::Step {
        let status = if expires.is_some() {
            "awaiting_approval"
        } else {
            "running"
        };
        let position = self.next;
        self.next += 1;
        let started_at = crate::core::db::now_millis();
        let id = store::start_step(
            pool,
            message_id,
            position,
            round,
            &call.id,
            &call.name,
            &call.arguments,
            status,
            expires,
        )
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not save a tool call");
            0
        });
        store::Step {
            id,
            message_id,
            position,
            round,
            call_id: call.id.clone(),
            tool: call.name.clone(),
            arguments: call.arguments.clone(),
            status: status.to_string(),
            result: None,
            error: None,
            started_at,
            duration_ms: None,
            expires_at: expires,
        }
    }
}

/// Waits for the user's answer to step `id` (set by `store::decide_step`, on any instance): `running` (allowed),
/// `denied`, or `expired` once `expires` (epoch ms) has passed — then it is written so.
async fn wait_for_answer(pool: &AnyPool, id: i64, expires: i64) -> &'static str {
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        match store::step_status(pool, id).await {
            Ok(Some(status)) if status == "running" => return "running",
            Ok(Some(status)) if status == "denied" => return "denied",
            Ok(Some(status)) if status == "awaiting_approval" && crate::core::db::now_millis() <= expires => {}
            Ok(_) => return "expired",
            // A passing database error: ask again.
            Err(_) => {}
        }
    }
}

/// The tokens of a reply's rounds: the provider's counts, and an estimate of the rounds it did not count.
#[derive(Debug, Default)]
struct Tokens {
    prompt: u64,
    completion: u64,
    estimated: bool,
}

impl Tokens {
    /// Adds a round: the provider's `usage`, or (none) an estimate from its prompt's size and its text.
    fn add(&mut self, usage: Option<crate::chat::provider::Usage>, prompt_chars: usize, text: &str) {
        match usage {
            Some(u) => {
                self.prompt += u.prompt_tokens;
                self.completion += u.completion_tokens;
            }
            None => {
                self.estimated = true;
                self.prompt += crate::chat::quota::estimate_tokens(prompt_chars).unsigned_abs();
                self.completion += crate::chat::quota::estimate_tokens(text.chars().count()).unsigned_abs();
            }
        }
    }

    /// The provider's counts (prompt, completion) when it counted every round.
    fn reported(&self) -> Option<(u64, u64)> {
        (!self.estimated).then_some((self.prompt, self.completion))
    }

    /// The counts as an estimate (`usage_estimate`).
    fn estimate(&self) -> Value {
        json!({"prompt_tokens": self.prompt, "completion_tokens": self.completion})
    }
}

/// The provider and the replies being generated by this process.
#[derive(Clone)]
pub struct Engine {
    /// The configured AI provider.
    pub provider: Provider,
    metrics: crate::core::metrics::Metrics,
    /// Whether replies are published to other instances (PostgreSQL).
    publishes: bool,
    /// What this instance hears of replies written elsewhere.
    pub followers: crate::chat::followers::Followers,
    /// Sends the pieces of the replies written here to the other instances (started with the first reply).
    publisher: Arc<std::sync::OnceLock<crate::chat::followers::Publisher>>,
    /// Writes the text of the replies in progress (started with the first reply).
    saves: Arc<std::sync::OnceLock<Saves>>,
    live: Arc<Mutex<HashMap<i64, Arc<Live>>>>,
    /// The tools replies may call, and the limits of their use.
    pub toolbox: crate::tools::Toolbox,
    /// Sends taken in at once ([`Engine::admit`]).
    admission: Arc<tokio::sync::Semaphore>,
    /// The temporary chats, kept in memory only (`chat::temporary`).
    pub temporary: crate::chat::temporary::Temporary,
    /// The imports running and the previews waiting for a confirmation (`chat::import`).
    pub imports: crate::chat::import::Imports,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("provider", &self.provider)
            .finish_non_exhaustive()
    }
}

/// One reply to generate.
#[derive(Debug, Clone)]
pub struct Job {
    /// The conversation's owner (tool calls count against their quota).
    pub user_id: i64,
    /// Conversation (its lock is held for `message_id`).
    pub conversation_id: i64,
    /// The pending assistant message.
    pub message_id: i64,
    /// What to send (with the tools on offer, if any: the engine runs the model's calls of them).
    pub request: ChatRequest,
    /// When set, the conversation still has this automatic title and the first exchange should name it.
    pub auto_title: Option<String>,
    /// The document parts the prompt quotes (`files::retrieval::Source`s), shown under the reply.
    pub sources: Option<Value>,
}

impl Engine {
    /// An engine for `provider`, counted in `metrics`; `publishes` (PostgreSQL) sends the text of the replies it
    /// writes to the followers of other instances as it arrives.
    pub fn new(provider: Provider, metrics: crate::core::metrics::Metrics, publishes: bool) -> Self {
        Self {
            provider,
            metrics,
            publishes,
            followers: crate::chat::followers::Followers::default(),
            publisher: Arc::default(),
            saves: Arc::default(),
            live: Arc::default(),
            toolbox: crate::tools::Toolbox::default(),
            admission: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            )),
            temporary: crate::chat::temporary::Temporary::default(),
            imports: crate::chat::import::Imports::default(),
        }
    }

    /// The same engine, keeping temporary chats in `temporary`.
    pub fn with_temporary(self, temporary: crate::chat::temporary::Temporary) -> Self {
        Self { temporary, ..self }
    }

    /// Waits for a turn to take in a send (validate it, store it, start its reply): as many at once as there are
    /// CPUs, first come first served. Under a burst of sends the replies already streaming keep their pace instead of
    /// queueing behind the intake on the runtime's workers (`bench/chat`).
    pub async fn admit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.admission.acquire().await.ok()
    }

    /// The same engine, running the calls of `toolbox`'s tools.
    pub fn with_toolbox(self, toolbox: crate::tools::Toolbox) -> Self {
        Self { toolbox, ..self }
    }

    /// Starts generating `job` in the background.
    pub fn spawn(&self, pool: AnyPool, job: Job) {
        let live = Arc::new(Live {
            conversation_id: job.conversation_id,
            model: job.request.model.clone(),
            prompt_chars: job.request.messages.iter().map(WireMessage::cost).sum(),
            sources: job.sources.clone(),
            content: Mutex::new(String::new()),
            steps: Mutex::default(),
            events: broadcast::channel(LIVE_EVENTS).0,
            stop: Notify::new(),
            changed: Notify::new(),
            fresh: Notify::new(),
            ended: Notify::new(),
            flush: Notify::new(),
        });
        if let Ok(mut map) = self.live.lock() {
            map.insert(job.message_id, live.clone());
        }
        let engine = self.clone();
        tokio::spawn(async move {
            let id = job.message_id;
            engine.run(&pool, job, &live).await;
            if let Ok(mut map) = engine.live.lock() {
                map.remove(&id);
            }
            let _ = live.events.send(LiveEvent::Done);
        });
    }

    /// The text so far of a reply generated by this process, its tool calls so far (`LiveEvent::Step` JSON), and
    /// its further events. `None` when it is not generated here (finished, or running on another instance: follow
    /// the database then).
    pub fn subscribe(&self, message_id: i64) -> Option<(String, Vec<Arc<str>>, broadcast::Receiver<LiveEvent>)> {
        let live = self.live.lock().ok()?.get(&message_id)?.clone();
        // Taking the snapshot and subscribing under the same lock the writer appends under: nothing is lost or doubled.
        let content = live.content.lock().ok()?;
        let steps = live.steps.lock().ok()?.iter().map(|(_, json)| json.clone()).collect();
        Some((content.clone(), steps, live.events.subscribe()))
    }

    /// Tells a local generator to stop now (the database flag set by the caller covers other instances).
    pub fn stop(&self, message_id: i64) {
        if let Some(live) = self.live.lock().ok().and_then(|map| map.get(&message_id).cloned()) {
            live.stop.notify_one();
        }
    }

    /// Waits until the reply `message_id` generated here has ended, or waits for the user's approval of a call (no-
    /// JavaScript sends show the whole reply, or the question).
    pub async fn wait(&self, message_id: i64, limit: Duration) {
        if crate::chat::temporary::is_temporary(message_id) {
            if let Some((_, mut events)) = self.temporary.subscribe(message_id) {
                let _ = tokio::time::timeout(limit, async {
                    while !matches!(
                        events.recv().await,
                        Ok(LiveEvent::Done) | Err(broadcast::error::RecvError::Closed)
                    ) {}
                })
                .await;
            }
            return;
        }
        let Some((_, steps, mut events)) = self.subscribe(message_id) else {
            return;
        };
        let asks = |step: &str| step.contains(r#""status":"awaiting_approval""#);
        if steps.iter().any(|s| asks(s)) {
            return;
        }
        let _ = tokio::time::timeout(limit, async {
            loop {
                match events.recv().await {
                    Ok(LiveEvent::Done) | Err(broadcast::error::RecvError::Closed) => break,
                    Ok(LiveEvent::Step(step)) if asks(&step) => break,
                    _ => {}
                }
            }
        })
        .await;
    }

    /// Saves every reply generated here as interrupted, with its text so far (graceful shutdown).
    pub async fn interrupt_all(&self, pool: &AnyPool) {
        let running: Vec<(i64, Arc<Live>)> = match self.live.lock() {
            Ok(map) => map.iter().map(|(id, live)| (*id, live.clone())).collect(),
            Err(_) => return,
        };
        for (id, live) in running {
            let content = live.content.lock().map(|c| c.clone()).unwrap_or_default();
            let mut metadata = json!({
                "model": live.model,
                "finish_reason": "interrupted",
                "usage_estimate": usage_estimate(live.prompt_chars, &content),
            });
            if let Some(sources) = &live.sources {
                metadata["sources"] = sources.clone();
            }
            let metadata = metadata.to_string();
            if let Err(e) = store::finish(pool, live.conversation_id, id, &content, "interrupted", &metadata).await {
                tracing::warn!(error = %e, "could not save an interrupted reply");
            }
        }
    }

    async fn run(&self, pool: &AnyPool, job: Job, live: &Arc<Live>) {
        // Live until the stream ends (naming the conversation afterwards is not the reply).
        let counted = self.metrics.reply_started();
        let started = Instant::now();
        let model = job.request.model.clone();
        // Counted from the start: a crash before the end still leaves the prompt in the usage ledger.
        let prompt_tokens = crate::chat::quota::estimate_tokens(live.prompt_chars);
        if let Err(e) = crate::chat::quota::record_prompt_estimate(pool, job.message_id, prompt_tokens).await {
            tracing::warn!(error = %e, "could not record the prompt's estimate");
        }
        // Saving runs beside the stream, so a busy database never delays the tokens on their way to readers.
        let saver = tokio::spawn(save_while_streaming(
            self.saves.get_or_init(|| Saves::start(pool.clone())).clone(),
            job.conversation_id,
            job.message_id,
            live.clone(),
        ));
        let sender = self.publishes.then(|| {
            self.publisher
                .get_or_init(|| crate::chat::followers::Publisher::start(pool.clone()))
                .clone()
        });
        let publisher = sender.clone().map(|sender| {
            tokio::spawn(publish_while_streaming(
                sender,
                pool.clone(),
                job.conversation_id,
                job.message_id,
                live.clone(),
                self.followers.resync_requests(),
            ))
        });
        let mut first_token_ms: Option<u128> = None;
        let mut finish_reason: Option<String>;
        let mut error: Option<ProviderError> = None;
        let mut stopped = false;
        // Rounds: the model answers, or calls tools whose results go back to it, until it answers or the rounds
        // run out (then it is asked to answer without tools).
        let mut request = job.request.clone();
        let offered: Vec<String> = request.tools.iter().map(|t| t.function.name.clone()).collect();
        let mut tokens = Tokens::default();
        let mut calls_made = 0usize;
        let mut rounds = 0u32;
        let mut steps = StepCounter::default();
        let tool_deadline = Instant::now() + self.toolbox.limits.reply_budget;
        loop {
            let round_start = live.content.lock().map(|c| c.len()).unwrap_or(0);
            let mut calls = crate::chat::provider::ToolCalls::default();
            let mut usage = None;
            finish_reason = None;
            let opened = tokio::select! {
                opened = self.provider.stream(&request) => Some(opened),
                () = live.stop.notified() => None,
            };
            match opened {
                None => stopped = true,
                Some(Err(e)) => error = Some(e),
                Some(Ok(mut stream)) => loop {
                    tokio::select! {
                        item = stream.next() => match item {
                            None => break,
                            Some(Ok(StreamEvent::Delta(text))) => {
                                self.metrics.token_streamed();
                                if first_token_ms.is_none() {
                                    self.metrics.first_token(started.elapsed().as_secs_f64());
                                }
                                first_token_ms.get_or_insert_with(|| started.elapsed().as_millis());
                                if let Ok(mut shared) = live.content.lock() {
                                    // The text of a round after tool calls starts a new paragraph.
                                    let text = if rounds > 0 && shared.len() == round_start && !shared.is_empty()
                                        && !shared.ends_with("\n\n")
                                    {
                                        format!("\n\n{}", text.trim_start())
                                    } else {
                                        text
                                    };
                                    shared.push_str(&text);
                                    let _ = live.events.send(LiveEvent::Delta(text));
                                }
                                live.changed.notify_one();
                                live.fresh.notify_one();
                            }
                            Some(Ok(StreamEvent::Finish { finish_reason: reason, usage: reported })) => {
                                finish_reason = reason;
                                usage = reported;
                            }
                            // Calls are taken only of tools on offer (a model may call when none are).
                            Some(Ok(StreamEvent::ToolCall(delta))) => {
                                if !offered.is_empty() {
                                    calls.push(delta);
                                }
                            }
                            // A connection closed after the finish chunk lost nothing.
                            Some(Err(_)) if finish_reason.is_some() => break,
                            Some(Err(e)) => { error = Some(e); break; }
                        },
                        () = live.stop.notified() => { stopped = true; break; }
                    }
                },
            }
            let round_text = live
                .content
                .lock()
                .map(|c| c.get(round_start..).unwrap_or_default().to_string())
                .unwrap_or_default();
            let prompt_chars: usize = request.messages.iter().map(WireMessage::cost).sum();
            tokens.add(usage, prompt_chars, &round_text);
            let asked_without_tools = request.tool_choice == Some("none");
            if stopped || error.is_some() || calls.is_empty() || asked_without_tools {
                break;
            }
            let calls = calls.finish(rounds as usize);
            let ran = self
                .run_calls(pool, &job, live, &calls, rounds, &mut steps, &offered, tool_deadline)
                .await;
            calls_made += calls.len();
            let Some(results) = ran else {
                stopped = true;
                break;
            };
            request
                .messages
                .push(WireMessage::calls(round_text.trim().to_string(), calls.clone()));
            for (call, result) in calls.iter().zip(results) {
                request.messages.push(WireMessage::tool_result(call, result));
            }
            rounds += 1;
            if rounds >= self.toolbox.limits.max_rounds || Instant::now() >= tool_deadline {
                // The last word is the model's, without tools.
                request.tool_choice = Some("none");
            }
        }
        let usage = tokens.reported();
        live.ended.notify_one();
        live.flush.notify_one();
        let _ = saver.await;
        if let Some(publisher) = publisher {
            // Its last piece goes out before the reply's end is told.
            let _ = tokio::time::timeout(Duration::from_secs(2), publisher).await;
        }
        let content = live.content.lock().map(|c| c.clone()).unwrap_or_default();

        let status = if stopped {
            "stopped"
        } else if error.is_some() {
            "error"
        } else {
            "delivered"
        };
        let mut metadata = json!({
            "model": model,
            "time_to_first_token_ms": first_token_ms.map(|ms| ms as u64),
            "total_latency_ms": started.elapsed().as_millis() as u64,
            "finish_reason": if stopped { Some("stopped".to_string()) } else { finish_reason },
        });
        if let Some((prompt, completion)) = usage {
            metadata["prompt_tokens"] = json!(prompt);
            metadata["completion_tokens"] = json!(completion);
            metadata["total_tokens"] = json!(prompt + completion);
        } else {
            // A reply stopped, cut off or failed before the provider counted it still used tokens: the usage ledger
            // counts an estimate (the provider's counts of the rounds it did count, plus an estimate of the rest),
            // so stopping early never escapes a token limit.
            metadata["usage_estimate"] = tokens.estimate();
        }
        if !offered.is_empty() {
            metadata["tools"] = json!(offered);
        }
        if calls_made > 0 {
            metadata["tool_calls"] = json!(calls_made);
            metadata["tool_rounds"] = json!(rounds);
        }
        if let Some(sources) = &job.sources {
            metadata["sources"] = sources.clone();
        }
        if let Some(e) = &error {
            self.metrics.provider_error(e.code());
            metadata["error"] = e.to_metadata();
            tracing::warn!(code = e.code(), conversation = job.conversation_id, "reply failed");
        }
        // No longer generating (ended before its final write, so whoever sees that write sees it ended).
        drop(counted);
        // The final write must not be lost to a passing database hiccup.
        for attempt in 0..5u64 {
            match store::finish(
                pool,
                job.conversation_id,
                job.message_id,
                &content,
                status,
                &metadata.to_string(),
            )
            .await
            {
                Ok(()) => break,
                Err(e) => {
                    tracing::error!(error = %e, attempt, "could not save a finished reply");
                    tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await;
                }
            }
        }
        if let Some(sender) = sender {
            sender.send(crate::chat::followers::Piece {
                id: job.message_id,
                at: content.len(),
                text: Some(String::new()),
                done: true,
            });
        }
        if status == "delivered"
            && let Some(fallback) = &job.auto_title
        {
            self.name_conversation(pool, &job, fallback, &content).await;
        }
    }

    /// Runs one round of the model's `calls` in parallel, each stored as a step when it starts and when it ends and
    /// told to every viewer: a tool not `offered`, a call beyond the day's limit, one that fails or runs out of time
    /// gets an error result, and the reply goes on. Returns what the model reads of each call, in order; `None` when
    /// the reply was stopped meanwhile (open calls are then marked interrupted).
    #[allow(clippy::too_many_arguments)]
    async fn run_calls(
        &self,
        pool: &AnyPool,
        job: &Job,
        live: &Arc<Live>,
        calls: &[crate::chat::provider::ToolCall],
        round: u32,
        steps: &mut StepCounter,
        offered: &[String],
        deadline: Instant,
    ) -> Option<Vec<String>> {
        use crate::tools::builtin::Outcome;
        let limits = self.toolbox.limits;
        let now = crate::core::db::now_millis();
        let allowed = if limits.calls_per_day == 0 {
            usize::MAX
        } else {
            let used = crate::chat::quota::tool_calls_today(pool, job.user_id, now)
                .await
                .unwrap_or(0);
            usize::try_from((i64::from(limits.calls_per_day) - used).max(0)).unwrap_or(0)
        };
        let counted = calls.len().min(allowed);
        if counted > 0
            && let Err(e) = crate::chat::quota::record_tool_calls(pool, job.message_id, counted as i64).await
        {
            tracing::warn!(error = %e, "could not count tool calls");
        }
        // Tools marked "ask first" wait for the user's answer before they run.
        let asking: Vec<String> = self
            .toolbox
            .tools()
            .into_iter()
            .filter(|t| t.ask_first)
            .map(|t| t.name)
            .collect();
        // Each search numbers its results after the reply's earlier ones; searches of one round, which run
        // together, each keep room for a full page of results.
        let mut first_sources = Vec::with_capacity(calls.len());
        let mut next_source = steps.sources + 1;
        for call in calls {
            first_sources.push(next_source);
            if call.name == crate::tools::builtin::WEB_SEARCH {
                next_source += crate::tools::builtin::SEARCH_RESULTS;
            }
        }
        let mut started = Vec::with_capacity(calls.len());
        for (i, call) in calls.iter().enumerate() {
            let ask = i < allowed && offered.contains(&call.name) && asking.contains(&call.name);
            let expires = ask.then(|| now + i64::try_from(limits.approval_wait.as_millis()).unwrap_or(i64::MAX));
            let step = steps.start(pool, job.message_id, i64::from(round), call, expires).await;
            live.tell(&step);
            started.push(step);
        }
        let runs = calls.iter().zip(started).enumerate().map(|(i, (call, mut step))| {
            let toolbox = &self.toolbox;
            let first_source = first_sources[i];
            async move {
                let mut began = Instant::now();
                // The user's answer, when the call waits for one: `Some(outcome)` when it is not to run.
                let refused = match step.expires_at {
                    Some(expires) => {
                        let answer = wait_for_answer(pool, step.id, expires).await;
                        step.status = answer.to_string();
                        began = Instant::now();
                        match answer {
                            "running" => {
                                step.expires_at = None;
                                live.tell(&step);
                                None
                            }
                            "denied" => Some(Outcome::failed(&call.name, "the user denied this call")),
                            _ => Some(Outcome::failed(&call.name, "the user did not answer in time")),
                        }
                    }
                    None => None,
                };
                let outcome = if let Some(refused) = refused {
                    refused
                } else if !offered.contains(&call.name) {
                    Outcome::failed(&call.name, format!("there is no tool named {}", call.name))
                } else if i >= allowed {
                    Outcome::failed(
                        &call.name,
                        format!("the daily limit of {} tool calls is reached", limits.calls_per_day),
                    )
                } else {
                    let time = limits.call_timeout.min(deadline.saturating_duration_since(began));
                    match tokio::time::timeout(time, toolbox.call(&call.name, &call.arguments, first_source)).await {
                        Ok(outcome) => outcome,
                        Err(_) => Outcome::failed(
                            &call.name,
                            format!("the tool did not answer within {} s", time.as_secs().max(1)),
                        ),
                    }
                };
                if !matches!(step.status.as_str(), "denied" | "expired") {
                    step.status = if outcome.ok { "done" } else { "error" }.to_string();
                }
                step.duration_ms = Some(i64::try_from(began.elapsed().as_millis()).unwrap_or(i64::MAX));
                if outcome.ok {
                    step.result = Some(outcome.for_page.to_string());
                } else {
                    step.error = outcome
                        .for_page
                        .get("error")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                }
                if step.id > 0
                    && let Err(e) = store::end_step(
                        pool,
                        step.id,
                        &step.status,
                        step.result.as_deref(),
                        step.error.as_deref(),
                        step.duration_ms.unwrap_or(0),
                    )
                    .await
                {
                    tracing::warn!(error = %e, "could not save a tool call's outcome");
                }
                live.tell(&step);
                // The highest source number the call gave.
                let last_source = outcome.for_page["results"]
                    .as_array()
                    .and_then(|r| r.last())
                    .and_then(|r| r["n"].as_u64())
                    .and_then(|n| usize::try_from(n).ok())
                    .unwrap_or(0);
                (outcome.for_model, last_source)
            }
        });
        let all = futures_util::future::join_all(runs);
        tokio::select! {
            results = all => {
                let last = results.iter().map(|(_, last)| *last).max().unwrap_or(0);
                steps.sources = steps.sources.max(last);
                Some(results.into_iter().map(|(for_model, _)| for_model).collect())
            }
            () = live.stop.notified() => {
                if let Err(e) = store::interrupt_steps(pool, job.message_id).await {
                    tracing::warn!(error = %e, "could not mark stopped tool calls");
                }
                None
            }
        }
    }

    /// Asks the model for a short title after the first exchange; keeps the fallback on any failure.
    async fn name_conversation(&self, pool: &AnyPool, job: &Job, fallback: &str, reply: &str) {
        if self.provider.is_demo() {
            return;
        }
        let prompt = job
            .request
            .messages
            .iter()
            .rev()
            .find(|m| m.role == "user")
            .map(|m| m.content.chars().take(2000).collect::<String>())
            .unwrap_or_default();
        let reply: String = reply.chars().take(2000).collect();
        let mut request = ChatRequest::new(
            job.request.model.clone(),
            vec![
                WireMessage {
                    role: "system".into(),
                    content: "Write a title of at most six words for this conversation. Answer with the title only."
                        .into(),
                    ..Default::default()
                },
                WireMessage {
                    role: "user".into(),
                    content: format!("User: {prompt}\n\nAssistant: {reply}"),
                    ..Default::default()
                },
            ],
        );
        request.max_tokens = Some(24);
        let prompt_chars = request.messages.iter().map(WireMessage::cost).sum();
        let mut title = String::new();
        let mut usage = None;
        let mut failed = false;
        match self.provider.stream(&request).await {
            Err(_) => failed = true,
            Ok(mut stream) => loop {
                match tokio::time::timeout(Duration::from_secs(20), stream.next()).await {
                    Ok(Some(Ok(StreamEvent::Delta(text)))) => title.push_str(&text),
                    Ok(Some(Ok(StreamEvent::Finish { usage: reported, .. }))) => usage = reported,
                    // Titles are asked for without tools.
                    Ok(Some(Ok(StreamEvent::ToolCall(_)))) => {}
                    Ok(None) => break,
                    Ok(Some(Err(_))) | Err(_) => {
                        failed = usage.is_none();
                        break;
                    }
                }
            },
        }
        // Naming the conversation costs tokens too: they go into the usage ledger (as the provider counted them, or
        // by estimate), though not as a reply.
        let (prompt_tokens, completion_tokens) = match usage {
            Some(u) => (
                i64::try_from(u.prompt_tokens).unwrap_or(i64::MAX),
                i64::try_from(u.completion_tokens).unwrap_or(i64::MAX),
            ),
            None => (
                crate::chat::quota::estimate_tokens(prompt_chars),
                crate::chat::quota::estimate_tokens(title.chars().count()),
            ),
        };
        let status = if failed { "error" } else { "delivered" };
        if let Err(e) = crate::chat::quota::record_title(
            pool,
            job.conversation_id,
            &request.model,
            status,
            prompt_tokens,
            completion_tokens,
        )
        .await
        {
            tracing::warn!(error = %e, "could not record a title's usage");
        }
        let title = clean_title(&title);
        if title.is_empty() {
            return;
        }
        if let Err(e) = store::set_title_if(pool, job.conversation_id, fallback, &title).await {
            tracing::warn!(error = %e, "could not save a generated title");
        }
    }
}

/// Writes the text of a reply in progress at most every [`SAVE_EVERY`] while it grows, and renews the lock every
/// [`BEAT_EVERY`] while it does not; a stop requested through the database (the write finds the reply no longer
/// streaming) is passed to the generator.
async fn save_while_streaming(saves: Saves, conversation_id: i64, message_id: i64, live: Arc<Live>) {
    loop {
        tokio::select! {
            () = live.ended.notified() => return,
            () = live.changed.notified() => {}
            () = tokio::time::sleep(BEAT_EVERY) => {}
        }
        let content = live.content.lock().map(|c| c.clone()).unwrap_or_default();
        match saves.save(conversation_id, message_id, content).await {
            Ok(true) => {}
            Ok(false) => {
                live.stop.notify_one();
                return;
            }
            Err(e) => tracing::warn!(error = %e, "could not save a reply in progress"),
        }
        tokio::select! {
            () = live.ended.notified() => return,
            () = tokio::time::sleep(SAVE_EVERY) => {}
        }
    }
}

/// One save of a reply in progress, and where to say whether it was still streaming.
type SaveRequest = ((i64, i64, String), tokio::sync::oneshot::Sender<Result<bool, String>>);

/// The writer of the replies in progress: the saves that arrive while one transaction runs are written together in
/// the next (at most [`SAVES_AT_ONCE`]). Alone, a save is its own transaction, as before; under a burst of streaming
/// replies the pool sees one writer instead of one per reply (`bench/chat`).
#[derive(Clone)]
struct Saves(tokio::sync::mpsc::UnboundedSender<SaveRequest>);

/// Most saves written in one transaction.
const SAVES_AT_ONCE: usize = 256;

impl Saves {
    fn start(pool: AnyPool) -> Self {
        let (sender, mut queue) = tokio::sync::mpsc::unbounded_channel::<SaveRequest>();
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(SAVES_AT_ONCE);
            while queue.recv_many(&mut batch, SAVES_AT_ONCE).await > 0 {
                let (saves, answers): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
                match store::save_progress_all(&pool, &saves).await {
                    Ok(streaming) => {
                        for (answer, streaming) in answers.into_iter().zip(streaming) {
                            let _ = answer.send(Ok(streaming));
                        }
                    }
                    Err(e) => {
                        for answer in answers {
                            let _ = answer.send(Err(e.to_string()));
                        }
                    }
                }
            }
        });
        Self(sender)
    }

    /// Saves `content` as the text so far of reply `message_id`; `false` when it is no longer streaming.
    async fn save(&self, conversation_id: i64, message_id: i64, content: String) -> Result<bool, String> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.0
            .send(((conversation_id, message_id, content), answer))
            .map_err(|_| "the writer of replies in progress has stopped".to_string())?;
        answered
            .await
            .map_err(|_| "the writer of replies in progress has stopped".to_string())?
    }
}

/// Publishes the text of a reply as it grows (PostgreSQL): each wake sends what arrived since the last piece, so the
/// followers of other instances are as current as this one's (pieces coalesce while a send is under way). A follower
/// that joined late asks for the whole text, and gets it as a piece from the start (or, too long for a notification,
/// a save and a "read the database").
async fn publish_while_streaming(
    sender: crate::chat::followers::Publisher,
    pool: AnyPool,
    conversation_id: i64,
    message_id: i64,
    live: Arc<Live>,
    mut resyncs: broadcast::Receiver<i64>,
) {
    use crate::chat::followers::Piece;
    let mut published = 0;
    let mut last = false;
    while !last {
        let whole = tokio::select! {
            () = live.fresh.notified() => false,
            () = live.flush.notified() => {
                last = true;
                false
            }
            asked = resyncs.recv() => match asked {
                Ok(id) => id == message_id,
                Err(broadcast::error::RecvError::Lagged(_)) => true,
                Err(broadcast::error::RecvError::Closed) => false,
            },
        };
        let (at, text) = match live.content.lock() {
            Ok(content) if whole => (0, content.clone()),
            Ok(content) if content.len() > published => (published, content[published..].to_string()),
            _ => continue,
        };
        published = published.max(at + text.len());
        if whole && text.len() > 7000 {
            // Too long to send: saved now, so the database has it all.
            let _ = store::save_progress(&pool, conversation_id, message_id, &text).await;
            sender.send(Piece {
                id: message_id,
                at: 0,
                text: None,
                done: false,
            });
            continue;
        }
        sender.send(Piece {
            id: message_id,
            at,
            text: Some(text),
            done: false,
        });
    }
}

/// Marks replies of dead processes as interrupted now and every few seconds (see [`store::recover_interrupted`]).
pub fn spawn_recovery(pool: AnyPool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(store::STALE_LOCK_MS as u64 / 2));
        loop {
            every.tick().await;
            match store::recover_interrupted(&pool).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(replies = n, "marked replies of a stopped process as interrupted"),
                Err(e) => tracing::warn!(error = %e, "interrupted-reply recovery failed"),
            }
            // Their tool calls too, and approvals whose time ran out.
            if let Err(e) = store::recover_steps(&pool).await {
                tracing::warn!(error = %e, "tool-step recovery failed");
            }
        }
    })
}

/// What a reply the provider never counted (stopped, cut off, failed, interrupted) is counted as: about four
/// characters a token, of the prompt and of the text so far.
fn usage_estimate(prompt_chars: usize, content: &str) -> Value {
    json!({
        "prompt_tokens": crate::chat::quota::estimate_tokens(prompt_chars),
        "completion_tokens": crate::chat::quota::estimate_tokens(content.chars().count()),
    })
}

/// A model-written title without quotes, Markdown or a trailing period, at most 80 characters.
fn clean_title(raw: &str) -> String {
    let line = raw.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    let trimmed = line
        .trim()
        .trim_start_matches(['#', '*', ' '])
        .trim_start_matches("Title:")
        .trim()
        .trim_matches(['"', '\'', '*', '“', '”', '`'])
        .trim_end_matches('.')
        .trim();
    trimmed.chars().take(80).collect()
}

/// The automatic title before the model names a conversation: the first 50 characters of the first message.
pub fn fallback_title(first_message: &str) -> String {
    let flat = first_message.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= 50 {
        flat
    } else {
        flat.chars().take(49).collect::<String>() + "…"
    }
}

/// The metadata of a pending reply: its model, and the tools on offer when there are any (so followers of the reply
/// on other instances know to look for its steps).
pub fn pending_metadata(model: &str, tools: &[String]) -> String {
    if tools.is_empty() {
        json!({ "model": model }).to_string()
    } else {
        json!({ "model": model, "tools": tools }).to_string()
    }
}

/// The user-facing error stored in a message's metadata, if any.
pub fn error_of(metadata: &str) -> Option<crate::core::i18n::Text> {
    let value: Value = serde_json::from_str(metadata).ok()?;
    ProviderError::of_metadata(value.get("error")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_cleaned_and_fallbacks_cut() {
        assert_eq!(
            clean_title("\"Rust lifetimes explained.\"\nmore"),
            "Rust lifetimes explained"
        );
        assert_eq!(clean_title("Title: **Soup**"), "Soup");
        assert_eq!(fallback_title("short   one\n"), "short one");
        assert_eq!(fallback_title(&"x".repeat(80)).chars().count(), 50);
    }
}
