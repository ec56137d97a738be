//! Starting replies: sending a message (in a new conversation or not), regenerating, editing, stopping and
//! switching branches, with the checks that come first (content, rate).

use crate::accounts::users::User;
use crate::chat::generation::{self, Job};
use crate::chat::provider::{ChatRequest, WireMessage, fit_context};
use crate::chat::store::Conversation;
use crate::chat::store::{self, Turn};
use crate::chat::types::SentMessage;
use crate::core::db::now_millis;
use crate::core::error::AppError;
use crate::state::AppState;
use crate::text;

use super::edits::{ConversationEdit, changes_of};
use super::views::branch;
use super::{model_for, owned, stored_message};

/// Context window assumed when the provider does not say.
pub(super) const DEFAULT_CONTEXT_TOKENS: u64 = 32_768;

pub(crate) fn check_content(state: &AppState, content: &str) -> Result<String, AppError> {
    check_content_with(state, content, false)
}

/// [`check_content`], where a message that carries files may have no text of its own.
fn check_content_with(state: &AppState, content: &str, has_files: bool) -> Result<String, AppError> {
    let content = content.trim_end().to_string();
    if content.trim().is_empty() && !has_files {
        return Err(AppError::invalid("content", text!(chat.limit.write_first)));
    }
    let max = state.config.limits.max_message_chars;
    let count = content.chars().count();
    if count > max {
        return Err(AppError::invalid(
            "content",
            text!(chat.limit.message_too_long, max = max, len = count),
        ));
    }
    Ok(content)
}

pub(super) async fn check_rate(state: &AppState, user: &User) -> Result<(), AppError> {
    let limits = &state.config.limits;
    let now = now_millis();
    for (limit, window) in [
        (limits.rate_limit_messages_per_minute, 60_000),
        (limits.rate_limit_messages_per_day, 86_400_000),
    ] {
        if limit == 0 {
            continue;
        }
        let (stored, stored_oldest) = store::user_messages_since(&state.db.pool, user.id, now - window).await?;
        // Messages of temporary chats count too, while they are kept.
        let (kept, kept_oldest) = state.chat.temporary.user_messages_since(user.id, now - window);
        let count = stored + kept;
        let oldest = [stored_oldest, kept_oldest].into_iter().flatten().min();
        if count >= i64::from(limit) {
            let wait = oldest.map_or(window, |t| t + window - now);
            return Err(AppError::Throttled(u64::try_from(wait / 1000).unwrap_or(0).max(1)));
        }
    }
    Ok(())
}

/// The content types a message may declare (API `content_type`), by short name and MIME type; stored as MIME.
pub const CONTENT_TYPES: &[(&str, &str)] = &[
    ("text", "text/plain"),
    ("markdown", "text/markdown"),
    ("code", "text/x-code"),
];

/// What a message is stored as when it names no content type, or one we do not know.
const DEFAULT_CONTENT_TYPE: &str = "text/markdown";

/// Longest content type accepted (the original's column).
const MAX_CONTENT_TYPE_CHARS: usize = 50;

/// Optional parts of a message sent through the API.
#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    /// One of [`CONTENT_TYPES`]; anything else (at most 50 characters) means the default.
    pub content_type: Option<String>,
    /// A model for this reply only, or for the whole conversation when the message starts one (must be one the
    /// provider lists).
    pub model: Option<String>,
    /// The message to continue from instead of the branch on screen (a new branch when it is not the last one).
    pub parent_id: Option<i64>,
    /// The user's files the message carries (uploaded before), in order.
    pub attachments: Vec<i64>,
    /// The tools the conversation may call from now on (the composer's tools menu), when chosen with the message.
    pub tools: Option<Vec<String>>,
    /// The chosen tools also become the user's default for new conversations.
    pub tools_default: bool,
    /// A new conversation is temporary (`chat::temporary`): kept in memory only.
    pub temporary: bool,
}

/// Sends `content` in the conversation (a new one when `conversation_id` is `None`), after the current branch's last
/// message — or after `options.parent_id` — with an optional content type and model. The user message is committed
/// before the provider is called; the reply is generated in the background.
pub async fn send_message_with(
    state: &AppState,
    user: &User,
    conversation_id: Option<i64>,
    content: &str,
    options: SendOptions,
) -> Result<SentMessage, AppError> {
    let _turn = state.chat.admit().await;
    let temporary = match conversation_id {
        Some(id) => super::temporary::is_temporary(id),
        None => super::temporary::wanted(state, options.temporary).await?,
    };
    if temporary {
        let new = super::temporary::NewTemporary::default();
        return super::temporary::send(state, user, conversation_id, content, options, new).await;
    }
    let files = crate::files::service::check_attachments(state, user, &options.attachments).await?;
    let content = check_content_with(state, content, !files.is_empty())?;
    let content_type = content_type_of(options.content_type.as_deref())?;
    let model = checked_model(state, options.model).await?;
    let tools = match &options.tools {
        Some(tools) => Some(super::edits::checked_tools(state, tools)?),
        None => None,
    };
    check_rate(state, user).await?;
    if let (Some(tools), true) = (&tools, options.tools_default) {
        let names: serde_json::Value = serde_json::from_str(tools).unwrap_or_default();
        crate::accounts::service::set_preference(&state.db.pool, user, "tools", names).await?;
    }
    let Some(id) = conversation_id else {
        // A new conversation and its first message are created together; a model chosen for it is its model.
        let new = store::NewConversation {
            title: title_of(&content, &files),
            model: model.unwrap_or_default(),
            tools,
            ..Default::default()
        };
        let mut turn = NewTurn::first(content, content_type);
        turn.files = files;
        return start(state, user, Target::New(new), turn).await;
    };
    let mut conversation = owned(state, user, id).await?;
    if tools.is_some() && tools != conversation.tools {
        let changes = store::ConversationChanges {
            tools: tools.clone(),
            ..Default::default()
        };
        store::update_conversation(&state.db.pool, user.id, id, &changes).await?;
        conversation.tools = tools;
    }
    let parent = match options.parent_id {
        Some(id) => {
            let m = store::message(&state.db.pool, user.id, id)
                .await?
                .filter(|m| m.conversation_id == conversation.id)
                .ok_or_else(|| AppError::invalid("parent_id", text!(chat.limit.no_such_message)))?;
            Some(m.id)
        }
        None => conversation.current_leaf_id,
    };
    let turn = NewTurn {
        user_content: Some(content),
        parent_id: parent,
        edit_count: 0,
        model,
        content_type,
        files,
    };
    start(state, user, Target::Existing(Box::new(conversation)), turn).await
}

/// The MIME type a message declares (API `content_type`). The original backend stored any content type it was sent
/// (clients send a model name there, for one): any text of at most 50 characters is accepted, and one we do not know
/// means the default.
pub(crate) fn content_type_of(kind: Option<&str>) -> Result<&'static str, AppError> {
    Ok(match kind.map(str::trim) {
        Some(kind) if kind.chars().count() > MAX_CONTENT_TYPE_CHARS => {
            return Err(AppError::invalid(
                "content_type",
                text!(core.field.too_long, max = MAX_CONTENT_TYPE_CHARS),
            ));
        }
        Some(kind) => CONTENT_TYPES
            .iter()
            .find(|(name, mime)| name.eq_ignore_ascii_case(kind) || mime.eq_ignore_ascii_case(kind))
            .map_or(DEFAULT_CONTENT_TYPE, |(_, mime)| *mime),
        None => DEFAULT_CONTENT_TYPE,
    })
}

/// A model asked for, trimmed: `None` when blank, a field error when the provider does not list it.
pub(super) async fn checked_model(state: &AppState, model: Option<String>) -> Result<Option<String>, AppError> {
    match model.map(|m| m.trim().to_string()).filter(|m| !m.is_empty()) {
        Some(model) if !state.chat.provider.models().await.iter().any(|m| m.id == model) => Err(AppError::invalid(
            "model",
            text!(chat.limit.unknown_model, model = model),
        )),
        other => Ok(other),
    }
}

/// What [`start`] adds to a conversation.
struct NewTurn {
    user_content: Option<String>,
    parent_id: Option<i64>,
    edit_count: i64,
    /// A model for this reply instead of the conversation's.
    model: Option<String>,
    /// MIME type of the user message.
    content_type: &'static str,
    /// The files the user message carries.
    files: Vec<crate::files::store::FileRow>,
}

impl NewTurn {
    /// The first message of a new conversation.
    fn first(content: String, content_type: &'static str) -> Self {
        Self {
            user_content: Some(content),
            parent_id: None,
            edit_count: 0,
            model: None,
            content_type,
            files: Vec::new(),
        }
    }

    fn reply_to(parent_id: Option<i64>, user_content: Option<String>, edit_count: i64) -> Self {
        Self {
            user_content,
            parent_id,
            edit_count,
            model: None,
            content_type: DEFAULT_CONTENT_TYPE,
            files: Vec::new(),
        }
    }
}

/// Generates a new reply in place of the reply `message_id` (kept as a sibling), or a reply to the user message
/// `message_id` (after an error left it unanswered).
pub async fn regenerate(state: &AppState, user: &User, message_id: i64) -> Result<SentMessage, AppError> {
    let _turn = state.chat.admit().await;
    let m = stored_message(state, user, message_id).await?;
    let conversation = owned(state, user, m.conversation_id).await?;
    let parent = if m.role == "assistant" { m.parent_id } else { Some(m.id) };
    start(
        state,
        user,
        Target::Existing(Box::new(conversation)),
        NewTurn::reply_to(parent, None, 0),
    )
    .await
}

/// Sends an edited copy of the user message `message_id` as a new branch; the old branch stays reachable. The copy
/// carries `attachments` when given, else the files of the original.
pub async fn edit_message(
    state: &AppState,
    user: &User,
    message_id: i64,
    content: &str,
    attachments: Option<Vec<i64>>,
) -> Result<SentMessage, AppError> {
    let _turn = state.chat.admit().await;
    let m = stored_message(state, user, message_id).await?;
    if m.role != "user" {
        return Err(AppError::invalid("message", text!(chat.limit.own_messages_only)));
    }
    let ids = attachments.unwrap_or_else(|| {
        crate::files::service::attachments_of(&m.attachments)
            .iter()
            .map(|a| a.id)
            .collect()
    });
    let files = crate::files::service::check_attachments(state, user, &ids).await?;
    let content = check_content_with(state, content, !files.is_empty())?;
    check_rate(state, user).await?;
    let conversation = owned(state, user, m.conversation_id).await?;
    let mut turn = NewTurn::reply_to(m.parent_id, Some(content), m.edit_count + 1);
    turn.files = files;
    start(state, user, Target::Existing(Box::new(conversation)), turn).await
}

/// Where [`start`] adds a turn: a conversation of the user's, or one it creates in the same transaction.
enum Target {
    Existing(Box<Conversation>),
    New(store::NewConversation),
}

async fn start(state: &AppState, user: &User, target: Target, new: NewTurn) -> Result<SentMessage, AppError> {
    let NewTurn {
        user_content,
        parent_id,
        edit_count,
        model,
        content_type,
        files,
    } = new;
    let model = model.unwrap_or_else(|| match &target {
        Target::Existing(conversation) => model_for(state, user, Some(conversation)),
        Target::New(new) if !new.model.is_empty() => new.model.clone(),
        Target::New(_) => model_for(state, user, None),
    });
    let models = state.chat.provider.models().await;
    let reads_images = models.iter().find(|m| m.id == model).is_some_and(|m| m.vision);
    // An image is never dropped silently: a model that cannot read it refuses the send, naming one that can.
    if !reads_images && files.iter().any(|f| f.kind == "image") {
        return Err(AppError::invalid(
            "attachments",
            match models.iter().find(|m| m.vision) {
                Some(other) => text!(
                    files.refuse.vision_needed,
                    model = model.clone(),
                    suggestion = other.id.clone()
                ),
                None => text!(files.refuse.vision_unavailable, model = model.clone()),
            },
        ));
    }
    // Tools are offered to a model that calls functions, in a conversation that enables them.
    let calls_functions = models
        .iter()
        .find(|m| m.id == model)
        .is_some_and(|m| state.chat.toolbox.model_calls_functions(&m.id, m.function_calling));
    let tools = if calls_functions {
        let chosen = match &target {
            Target::Existing(conversation) => conversation.tools.as_deref(),
            Target::New(new) => new.tools.as_deref(),
        };
        state.chat.toolbox.chosen(&super::tools_for(state, user, chosen))
    } else {
        Vec::new()
    };
    let tool_names: Vec<String> = tools.iter().map(|t| t.name.clone()).collect();
    let mut turn = Turn {
        conversation_id: 0,
        user_id: user.id,
        user_content: user_content.clone(),
        user_content_type: content_type,
        parent_id,
        edit_count,
        reply_metadata: generation::pending_metadata(&model, &tool_names),
        attachments: files.iter().map(|f| f.id).collect(),
        model: model.clone(),
        quota: crate::chat::quota::effective(&state.db.pool, user.id).await?,
    };
    let (conversation, started) = match target {
        Target::Existing(conversation) => {
            turn.conversation_id = conversation.id;
            let started = store::start_turn(&state.db.pool, &turn).await?;
            (*conversation, started)
        }
        Target::New(new) => {
            let (id, started) = store::create_with_turn(&state.db.pool, &new, &turn).await?;
            (owned(state, user, id).await?, started)
        }
    };
    let conversation = &conversation;

    // The history of the branch the new reply continues, oldest first.
    let messages = store::messages(&state.db.pool, conversation.id).await?;
    let reply_parent = started.user_message_id.or(parent_id);
    let mut wire = Vec::new();
    if !conversation.system_prompt.trim().is_empty() {
        wire.push(WireMessage::text("system", conversation.system_prompt.clone()));
    }
    let history = branch(&messages, reply_parent);
    let context = models
        .into_iter()
        .find(|m| m.id == model)
        .and_then(|m| m.max_context_length)
        .unwrap_or(DEFAULT_CONTEXT_TOKENS);
    let system_cost = wire.iter().map(WireMessage::cost).sum();
    let (history, sources) = history_for(
        state,
        user.id,
        history,
        reads_images,
        context_chars(context).saturating_sub(system_cost),
    )
    .await?;
    wire.extend(history);
    let sources = if sources.is_empty() {
        None
    } else {
        let sources = serde_json::to_value(&sources).unwrap_or_default();
        // Shown under the reply while it is written, and kept with it.
        let mut metadata = serde_json::json!({ "model": model, "sources": sources });
        if !tool_names.is_empty() {
            metadata["tools"] = serde_json::json!(tool_names);
        }
        let metadata = metadata.to_string();
        crate::chat::store::set_pending_metadata(&state.db.pool, started.assistant_message_id, &metadata).await?;
        Some(sources)
    };
    let request = ChatRequest::new(model, fit_context(wire, context)).with_tools(
        tools
            .iter()
            .map(|t| crate::chat::provider::ToolSpec::function(&t.name, &t.description, t.parameters.clone()))
            .collect(),
    );
    // The first exchange names the conversation; only the automatic title (the first message's beginning) is
    // replaced, never one a user gave or renamed it to.
    let first_message = messages.iter().filter(|m| m.role == "user").count() == 1;
    let auto_title = user_content
        .as_deref()
        .filter(|_| first_message)
        .map(|content| title_of(content, &files))
        .filter(|fallback| !fallback.is_empty() && *fallback == conversation.title);
    state.chat.spawn(
        state.db.pool.clone(),
        Job {
            user_id: user.id,
            conversation_id: conversation.id,
            message_id: started.assistant_message_id,
            request,
            auto_title,
            sources,
        },
    );
    Ok(SentMessage {
        conversation_id: conversation.id,
        user_message_id: started.user_message_id,
        assistant_message_id: started.assistant_message_id,
    })
}

/// The context window in characters, as `fit_context` counts it (a quarter is left for the reply).
fn context_chars(context_tokens: u64) -> usize {
    (context_tokens.saturating_mul(3) / 4).saturating_mul(4) as usize
}

/// The branch as the model reads it ([`history_with_files`]), with its documents whole when everything fits
/// `budget` characters; otherwise each document is only named where it was attached and the parts of all of them
/// relevant to the latest message are quoted with that message (`files::retrieval`). Returns the sources quoted.
async fn history_for(
    state: &AppState,
    owner_id: i64,
    history: Vec<crate::chat::store::Message>,
    reads_images: bool,
    budget: usize,
) -> Result<(Vec<WireMessage>, Vec<crate::files::retrieval::Source>), AppError> {
    use crate::files::retrieval;
    let whole = history_with_files(state, owner_id, history.clone(), reads_images, None).await?;
    let cost: usize = whole.iter().map(WireMessage::cost).sum();
    let mut documents: Vec<i64> = Vec::new();
    for m in &history {
        for a in crate::files::service::attachments_of(&m.attachments) {
            if !a.is_image() && !documents.contains(&a.id) {
                documents.push(a.id);
            }
        }
    }
    if cost <= budget || documents.is_empty() {
        return Ok((whole, Vec::new()));
    }
    let question = history
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| m.content.clone())
        .unwrap_or_default();
    let excerpts = retrieval::retrieve(state, &documents, &question, (budget / 3).clamp(2_000, 24_000)).await?;
    let block = retrieval::excerpts_block(&excerpts);
    let wire = history_with_files(state, owner_id, history, reads_images, Some(block)).await?;
    Ok((wire, retrieval::sources(&excerpts)))
}

/// The messages of a branch as the model reads them: each user message's documents before its text (delimited and
/// named), its images as parts — the newest images first, at most the per-request limit, and only for a model that
/// reads them (an older image the model cannot see is named in the text instead). With `excerpts`, documents are only
/// named and the excerpts go before the latest user message's text.
pub(super) async fn history_with_files(
    state: &AppState,
    owner_id: i64,
    history: Vec<crate::chat::store::Message>,
    reads_images: bool,
    mut excerpts: Option<String>,
) -> Result<Vec<WireMessage>, AppError> {
    use crate::files::service::{MAX_IMAGES_PER_REQUEST, attachments_of, prompt_files};
    let whole_documents = excerpts.is_none();
    let mut images_left = if reads_images { MAX_IMAGES_PER_REQUEST } else { 0 };
    let mut out = Vec::with_capacity(history.len());
    for m in history.into_iter().rev() {
        if m.role != "user" && m.role != "assistant" {
            continue;
        }
        // The latest user message carries the excerpts.
        let quoted = if m.role == "user" { excerpts.take() } else { None };
        let attachments = attachments_of(&m.attachments);
        if attachments.is_empty() && quoted.is_none() {
            if !m.content.trim().is_empty() {
                out.push(WireMessage::text(&m.role, m.content));
            }
            continue;
        }
        let images = attachments.iter().filter(|a| a.is_image()).count();
        let with_images = images > 0 && images <= images_left;
        if with_images {
            images_left -= images;
        }
        let files = prompt_files(state, owner_id, &attachments, with_images, whole_documents).await?;
        let mut content = files.documents;
        if let Some(quoted) = quoted {
            content.push_str(&quoted);
        }
        if !with_images {
            for image in attachments.iter().filter(|a| a.is_image()) {
                content.push_str(&format!("[image “{}” not shown to this model]\n\n", image.name));
            }
        }
        content.push_str(&m.content);
        out.push(WireMessage {
            role: m.role,
            content,
            images: files.images,
            ..WireMessage::default()
        });
    }
    out.reverse();
    Ok(out)
}

/// The automatic title of a conversation started with `content` and `files`: the text's beginning, or the first
/// file's name when there is no text.
fn title_of(content: &str, files: &[crate::files::store::FileRow]) -> String {
    match files.first() {
        Some(file) if content.trim().is_empty() => generation::fallback_title(&file.name),
        _ => generation::fallback_title(content),
    }
}

/// Starts a conversation with the given settings and its first message: the settings are checked and the rate limit
/// applied first, then the conversation and the message are created in one transaction (so a refused or failed start
/// leaves nothing behind), and the reply is generated in the background.
pub async fn start_conversation(
    state: &AppState,
    user: &User,
    first_message: &str,
    edit: ConversationEdit,
    attachments: &[i64],
    temporary: bool,
) -> Result<SentMessage, AppError> {
    if super::temporary::wanted(state, temporary).await? {
        let _turn = state.chat.admit().await;
        let changes = changes_of(state, edit).await?;
        let new = super::temporary::NewTemporary {
            title: changes.title.unwrap_or_default(),
            model: changes.model.unwrap_or_default(),
            system_prompt: changes.system_prompt.unwrap_or_default(),
        };
        let options = SendOptions {
            attachments: attachments.to_vec(),
            ..Default::default()
        };
        return super::temporary::send(state, user, None, first_message, options, new).await;
    }
    let files = crate::files::service::check_attachments(state, user, attachments).await?;
    let content = check_content_with(state, first_message, !files.is_empty())?;
    let changes = changes_of(state, edit).await?;
    check_rate(state, user).await?;
    let new = store::NewConversation {
        title: changes.title.unwrap_or_else(|| title_of(&content, &files)),
        model: changes.model.unwrap_or_default(),
        system_prompt: changes.system_prompt.unwrap_or_default(),
        tools: changes.tools,
    };
    let mut turn = NewTurn::first(content, DEFAULT_CONTENT_TYPE);
    turn.files = files;
    start(state, user, Target::New(new), turn).await
}

/// Stops the reply `message_id`; what was written so far is kept.
pub async fn stop(state: &AppState, user: &User, message_id: i64) -> Result<(), AppError> {
    if super::temporary::is_temporary(message_id) {
        state.chat.temporary.stop(user.id, message_id)?;
    } else {
        let m = stored_message(state, user, message_id).await?;
        store::request_stop(&state.db.pool, m.id).await?;
        state.chat.stop(m.id);
    }
    // A reply generated here is saved and its lock released before answering, so the next send is not refused.
    state.chat.wait(message_id, std::time::Duration::from_secs(3)).await;
    Ok(())
}

/// Shows the branch that goes through `message_id` (its newest continuation).
pub async fn select_branch(state: &AppState, user: &User, message_id: i64) -> Result<i64, AppError> {
    let m = stored_message(state, user, message_id).await?;
    let all = store::messages(&state.db.pool, m.conversation_id).await?;
    let mut leaf = m.id;
    while let Some(child) = all.iter().filter(|c| c.parent_id == Some(leaf)).map(|c| c.id).max() {
        leaf = child;
    }
    store::set_leaf(&state.db.pool, m.conversation_id, leaf).await?;
    Ok(m.conversation_id)
}

/// The user's answer to a tool call of the reply `message_id` (in conversation `conversation_id`) that waits for
/// approval: `allow` runs it, otherwise the model is told the user refused. An error when the reply is not the user's,
/// or the call is not waiting (any more).
pub async fn decide_call(
    state: &AppState,
    user: &User,
    conversation_id: i64,
    message_id: i64,
    call_id: &str,
    allow: bool,
) -> Result<(), AppError> {
    let m = stored_message(state, user, message_id).await?;
    if m.conversation_id != conversation_id || m.role != "assistant" {
        return Err(AppError::NotFound);
    }
    if store::decide_step(&state.db.pool, m.id, call_id.trim(), allow).await? {
        Ok(())
    } else {
        Err(AppError::invalid("call_id", text!(chat.tools.not_waiting)))
    }
}
