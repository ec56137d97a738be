//! Conversations that travel (issue #29): share links (a read-only snapshot of the branch on screen, readable by
//! anyone with the link), copying a shared conversation into one's account, and forking a branch into a new chat.

use serde::{Deserialize, Serialize};

use crate::accounts::users::User;
use crate::chat::json::StepOut;
use crate::chat::store::{self, CopiedMessage, NewConversation};
use crate::chat::types::{ShareLink, SharedFile, SharedMessage, SharedView};
use crate::core::error::AppError;
use crate::core::i18n::Lang;
use crate::files::Attachment;
use crate::state::AppState;
use crate::text;

use super::{owned, stored_message, views::branch};

/// What a link shows, as stored with it: the branch as it was when the link was made or last updated.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Snapshot {
    title: String,
    model: String,
    messages: Vec<SnapshotMessage>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SnapshotMessage {
    role: String,
    content: String,
    content_type: String,
    created_at: i64,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    attachments: Vec<Attachment>,
    #[serde(default)]
    steps: Vec<StepOut>,
}

/// Whether a message of the branch goes into a snapshot or a copy: finished, and with something to show.
fn finished(m: &store::Message, steps: &[StepOut]) -> bool {
    !matches!(m.status.as_str(), "pending" | "streaming")
        && matches!(m.role.as_str(), "user" | "assistant")
        && (!m.content.trim().is_empty()
            || !steps.is_empty()
            || !crate::files::service::attachments_of(&m.attachments).is_empty())
}

/// The branch on screen of the user's conversation `id`, finished messages only, with their tool calls.
async fn current_branch(
    state: &AppState,
    user: &User,
    id: i64,
    leaf: Option<i64>,
) -> Result<(store::Conversation, Vec<(store::Message, Vec<StepOut>)>), AppError> {
    let conversation = owned(state, user, id).await?;
    let messages = store::messages(&state.db.pool, id).await?;
    let path = branch(&messages, leaf.or(conversation.current_leaf_id));
    let ids: Vec<i64> = path.iter().map(|m| m.id).collect();
    let steps = store::steps_of(&state.db.pool, &ids).await?;
    let path = path
        .into_iter()
        .map(|m| {
            let own: Vec<StepOut> = steps
                .iter()
                .filter(|s| s.message_id == m.id)
                .map(StepOut::from)
                .collect();
            (m, own)
        })
        .filter(|(m, steps)| finished(m, steps))
        .collect();
    Ok((conversation, path))
}

/// The public address of the link `token` (on `SITE_URL`).
pub(crate) fn share_url(state: &AppState, token: &str) -> String {
    format!("{}/s/{token}", state.config.site_url.trim_end_matches('/'))
}

fn link_of(state: &AppState, share: &store::Share, title: String) -> ShareLink {
    ShareLink {
        url: share_url(state, &share.token),
        token: share.token.clone(),
        conversation_id: share.conversation_id,
        title: super::display_title(&title),
        created_at: share.created_at,
        updated_at: share.updated_at,
        updated_date: crate::core::time::minute(share.updated_at),
    }
}

/// Makes a public link to the branch on screen of the user's conversation `id`, or takes its snapshot again (the
/// link stays the same); whether the link is new. Refused when staff turned sharing off, or when the branch has
/// nothing finished to show.
pub async fn share(state: &AppState, user: &User, id: i64, client_addr: &str) -> Result<(ShareLink, bool), AppError> {
    if !crate::admin::instance::sharing_enabled(&state.db.pool).await? {
        return Err(AppError::invalid("share", text!(chat.share.disabled)));
    }
    let (conversation, path) = current_branch(state, user, id, None).await?;
    if path.is_empty() {
        return Err(AppError::invalid("share", text!(chat.share.empty)));
    }
    let leaf = path.last().map(|(m, _)| m.id);
    let snapshot = Snapshot {
        title: super::display_title(&conversation.title),
        model: conversation.model.clone(),
        messages: path
            .into_iter()
            .map(|(m, steps)| {
                let metadata: serde_json::Value = serde_json::from_str(&m.metadata).unwrap_or_default();
                SnapshotMessage {
                    model: metadata.get("model").and_then(|v| v.as_str()).map(str::to_string),
                    attachments: crate::files::service::attachments_of(&m.attachments),
                    role: m.role,
                    content: m.content,
                    content_type: m.content_type,
                    created_at: m.created_at,
                    steps,
                }
            })
            .collect(),
    };
    let json = serde_json::to_string(&snapshot).map_err(|e| {
        tracing::error!(error = %e, "could not write a share's snapshot");
        AppError::Internal
    })?;
    let token = crate::accounts::resets::new_token();
    let (share, created) = store::save_share(&state.db.pool, user.id, id, &token, leaf, &json, client_addr).await?;
    Ok((link_of(state, &share, conversation.title), created))
}

/// Revokes the link of the user's conversation `id`: it answers 404 from now on. `NotFound` when it has none.
pub async fn revoke_share(state: &AppState, user: &User, id: i64, client_addr: &str) -> Result<(), AppError> {
    owned(state, user, id).await?;
    if store::delete_share(&state.db.pool, user.id, id, client_addr).await? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The user's links, newest snapshot first.
pub async fn shares(state: &AppState, user: &User) -> Result<Vec<ShareLink>, AppError> {
    Ok(store::shares_of(&state.db.pool, user.id)
        .await?
        .into_iter()
        .map(|(share, title)| link_of(state, &share, title))
        .collect())
}

/// Whether `token` can be a link's token at all (64 hex digits): anything else is a miss without a query.
fn plausible(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The link `token` for anyone who has it: `NotFound` when there is no such link (revoked, its conversation or owner
/// deleted, the owner deactivated, sharing turned off). Misses are counted per address and refused past
/// [`throttle::SHARE_MISSES_PER_IP`](crate::accounts::throttle::SHARE_MISSES_PER_IP).
async fn open(state: &AppState, token: &str, client_addr: &str) -> Result<(store::Share, Snapshot), AppError> {
    use crate::accounts::throttle::SHARE_MISSES_PER_IP;
    let pool = &state.db.pool;
    if let Some(wait) = SHARE_MISSES_PER_IP.blocked(pool, client_addr).await? {
        return Err(AppError::Throttled(wait));
    }
    let found = if plausible(token) && crate::admin::instance::sharing_enabled(pool).await? {
        store::share_by_token(pool, token).await?
    } else {
        None
    };
    let Some(share) = found else {
        SHARE_MISSES_PER_IP.record(pool, client_addr).await?;
        return Err(AppError::NotFound);
    };
    let snapshot = serde_json::from_str(&share.snapshot).unwrap_or_default();
    Ok((share, snapshot))
}

/// The shared conversation `token` as anyone with the link reads it, in `lang`; `signed_in` says whether the reader
/// may copy it into their account.
pub async fn shared(
    state: &AppState,
    token: &str,
    client_addr: &str,
    signed_in: bool,
    lang: Lang,
) -> Result<SharedView, AppError> {
    let (share, snapshot) = open(state, token, client_addr).await?;
    let mut n = 0;
    let messages = snapshot
        .messages
        .into_iter()
        .map(|m| {
            let files = m
                .attachments
                .iter()
                .map(|a| {
                    n += 1;
                    SharedFile {
                        name: a.name.clone(),
                        content_type: a.content_type.clone(),
                        size: a.size,
                        kind: a.kind.clone(),
                        url: format!("/s/{}/files/{n}", share.token),
                    }
                })
                .collect();
            // Read-only: a call that was waiting for approval shows as such, without the owner's buttons.
            let answering = crate::chat::steps_html::Answering {
                conversation_id: 0,
                csrf: String::new(),
            };
            let steps: Vec<StepOut> = m
                .steps
                .into_iter()
                .map(|mut s| {
                    if s.status == "awaiting_approval" {
                        s.status = "interrupted".to_string();
                    }
                    s
                })
                .collect();
            SharedMessage {
                html: if m.role == "user" {
                    crate::chat::markdown::user_html(&m.content)
                } else {
                    crate::chat::markdown::to_safe_html(&m.content)
                },
                steps_html: crate::chat::steps_html::steps_html(&steps, lang, &answering),
                links_html: crate::chat::steps_html::links_html(&steps, lang),
                role: m.role,
                content: m.content,
                created_at: m.created_at,
                model: m.model,
                files,
            }
        })
        .collect();
    Ok(SharedView {
        token: share.token,
        title: snapshot.title,
        model: snapshot.model,
        created_at: share.created_at,
        updated_at: share.updated_at,
        snapshot_date: crate::core::time::minute(share.updated_at),
        messages,
        signed_in,
    })
}

/// The file `n` (from 1, in the snapshot's order) of the shared conversation `token`, and its owner's row for it:
/// only a file the snapshot shows, and only while its owner still has it.
pub async fn shared_file(
    state: &AppState,
    token: &str,
    n: usize,
    client_addr: &str,
) -> Result<crate::files::store::FileRow, AppError> {
    let (share, snapshot) = open(state, token, client_addr).await?;
    let attachment = snapshot
        .messages
        .iter()
        .flat_map(|m| m.attachments.iter())
        .nth(n.checked_sub(1).ok_or(AppError::NotFound)?)
        .ok_or(AppError::NotFound)?;
    crate::files::store::file(&state.db.pool, share.user_id, attachment.id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Copies the shared conversation `token` into a new conversation of `user` (the reader), and returns its id. The
/// owner's files stay theirs: the copy names them in its messages instead.
pub async fn continue_shared(state: &AppState, user: &User, token: &str, client_addr: &str) -> Result<i64, AppError> {
    let (_, snapshot) = open(state, token, client_addr).await?;
    let messages: Vec<CopiedMessage> = snapshot
        .messages
        .iter()
        .map(|m| {
            let mut content = m.content.clone();
            if !m.attachments.is_empty() {
                let names: Vec<&str> = m.attachments.iter().map(|a| a.name.as_str()).collect();
                content = format!("{content}\n\n[{}]", names.join(", "));
            }
            CopiedMessage {
                role: m.role.clone(),
                content,
                content_type: m.content_type.clone(),
                created_at: m.created_at,
                metadata: serde_json::json!({ "model": m.model }).to_string(),
                files: Vec::new(),
                steps: Vec::new(),
            }
        })
        .collect();
    let new = NewConversation {
        title: snapshot
            .title
            .chars()
            .take(crate::chat::types::MAX_TITLE_CHARS)
            .collect(),
        model: snapshot.model.clone(),
        ..Default::default()
    };
    let origin = serde_json::json!({ "copied_from": "share" });
    Ok(store::insert_copy(&state.db.pool, user.id, &new, &origin, &messages).await?)
}

/// Branches the user's conversation into a new one holding the branch through `message_id` (that message included),
/// titled after the original, with its model, system prompt and tools; the original is unchanged. Returns its id.
pub async fn fork(state: &AppState, user: &User, message_id: i64) -> Result<i64, AppError> {
    let m = stored_message(state, user, message_id).await?;
    let (conversation, path) = current_branch(state, user, m.conversation_id, Some(m.id)).await?;
    if path.is_empty() {
        return Err(AppError::invalid("message_id", text!(chat.share.empty)));
    }
    let messages: Vec<CopiedMessage> = path
        .iter()
        .map(|(m, steps)| CopiedMessage {
            steps: steps
                .iter()
                .filter_map(|s| serde_json::to_value(s).ok())
                .map(|s| crate::chat::import::step_of_export(&s, m.created_at))
                .collect(),
            role: m.role.clone(),
            content: m.content.clone(),
            content_type: m.content_type.clone(),
            created_at: m.created_at,
            metadata: m.metadata.clone(),
            files: crate::files::service::attachments_of(&m.attachments)
                .iter()
                .map(|a| a.id)
                .collect(),
        })
        .collect();
    let title = text!(chat.share.fork_title, title = super::display_title(&conversation.title))
        .get(Lang::current())
        .chars()
        .take(crate::chat::types::MAX_TITLE_CHARS)
        .collect();
    let new = NewConversation {
        title,
        model: conversation.model.clone(),
        system_prompt: conversation.system_prompt.clone(),
        tools: conversation.tools.clone(),
    };
    let origin = serde_json::json!({ "forked_from": { "conversation_id": conversation.id, "message_id": m.id } });
    Ok(store::insert_copy(&state.db.pool, user.id, &new, &origin, &messages).await?)
}
