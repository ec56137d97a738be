//! Importing conversations (issue #29): a file read into drafts (`chat::import`), compared with what the account
//! already has (`additional_data.import_source`, or for a ThiCode export the very conversation it came from), and —
//! unless it is a preview — the new ones stored, each whole in one transaction. Importing the same file again adds
//! nothing.

use std::sync::Arc;

use crate::accounts::users::User;
use crate::chat::import::{self, Found, LeftReason, ReadError};
use crate::chat::store;
use crate::chat::types::{ImportItem, ImportReport, NotCarried};
use crate::core::error::AppError;
use crate::core::time::iso;
use crate::state::AppState;
use crate::text;

/// Reads `bytes` as an export of ChatGPT, Open WebUI or ThiCode (on the blocking pool: a large file takes a while).
/// Errors name the `file` field.
pub async fn read_import(state: &AppState, bytes: Vec<u8>) -> Result<Arc<Found>, AppError> {
    let max = state.config.limits.max_import_bytes;
    if bytes.is_empty() {
        return Err(AppError::invalid("file", text!(chat.import.empty)));
    }
    if bytes.len() as u64 > max {
        return Err(too_large(max));
    }
    let read = tokio::task::spawn_blocking(move || import::read(&bytes, max))
        .await
        .map_err(|e| AppError::internal("import", e))?;
    match read {
        Ok(found) => Ok(Arc::new(found)),
        Err(ReadError::NotJson) => Err(AppError::invalid("file", text!(chat.import.not_json))),
        Err(ReadError::Unknown) => Err(AppError::invalid("file", text!(chat.import.unknown))),
        Err(ReadError::Archive) => Err(AppError::invalid(
            "file",
            text!(chat.import.archive, max = crate::files::human_size(max)),
        )),
        Err(ReadError::TooMany(n)) => Err(AppError::invalid(
            "file",
            text!(chat.import.too_many, count = n, max = import::MAX_CONVERSATIONS),
        )),
    }
}

/// The error of a file over `MAX_IMPORT_BYTES`.
pub fn too_large(max: u64) -> AppError {
    AppError::invalid(
        "file",
        text!(chat.import.too_large, max = crate::files::human_size(max)),
    )
}

/// What importing `found` into `user`'s account adds — and, unless `dry_run`, adds it. One import per account runs
/// at a time (a second one is refused with 400 until the first ends).
pub async fn import_found(
    state: &AppState,
    user: &User,
    found: &Found,
    dry_run: bool,
) -> Result<ImportReport, AppError> {
    let _running = state
        .chat
        .imports
        .start(user.id)
        .ok_or_else(|| AppError::BadRequest(text!(chat.import.running)))?;
    let sources = store::import_sources(&state.db.pool, user.id).await?;
    let mut in_file = std::collections::HashSet::new();
    let originals: Vec<(i64, i64)> = found.conversations.iter().filter_map(|d| d.original).collect();
    let here = store::still_there(&state.db.pool, user.id, &originals).await?;
    let mut report = ImportReport {
        format: found.format.as_str().to_string(),
        dry_run,
        found: found.conversations.len() + found.left.len(),
        imported: 0,
        already_imported: 0,
        left_out: found.left.len(),
        conversations: Vec::with_capacity(found.conversations.len() + found.left.len()),
        not_carried: NotCarried::default(),
    };
    for draft in &found.conversations {
        let known = sources
            .get(&draft.source)
            .copied()
            .or_else(|| draft.original.filter(|(id, _)| here.contains(id)).map(|(id, _)| id));
        let (outcome, id) = match known {
            Some(id) => {
                report.already_imported += 1;
                ("already_imported", Some(id))
            }
            // The same conversation twice in one file is added once.
            None if !in_file.insert(draft.source.as_str()) => {
                report.already_imported += 1;
                ("already_imported", None)
            }
            None if dry_run => {
                report.imported += 1;
                ("new", None)
            }
            None => match store::insert_draft(&state.db.pool, user.id, draft).await {
                Ok(id) => {
                    report.imported += 1;
                    ("imported", Some(id))
                }
                Err(e) => {
                    // One conversation the database refuses does not stop the others (nor lose them).
                    tracing::warn!(user_id = user.id, error = %e, "an imported conversation could not be stored");
                    report.left_out += 1;
                    ("failed", None)
                }
            },
        };
        if known.is_none() {
            report.not_carried.add(&draft.not_carried);
        }
        report.conversations.push(ImportItem {
            title: draft.title.clone(),
            created_at: iso(draft.created_at),
            messages: draft.messages.len(),
            branches: draft.branches(),
            outcome: outcome.to_string(),
            id,
            not_carried: draft.not_carried,
        });
    }
    for left in &found.left {
        report.conversations.push(ImportItem {
            title: left.title.chars().take(crate::chat::types::MAX_TITLE_CHARS).collect(),
            created_at: String::new(),
            messages: 0,
            branches: 0,
            outcome: match left.reason {
                LeftReason::Empty => "empty",
                LeftReason::TooLong => "too_long",
            }
            .to_string(),
            id: None,
            not_carried: NotCarried::default(),
        });
    }
    if !dry_run && report.imported > 0 {
        tracing::info!(user_id = user.id, format = %report.format, imported = report.imported, "conversations imported");
    }
    Ok(report)
}

/// Reads `bytes` and previews it for `user`: the preview, and the token the pages confirm it with.
pub async fn preview_import(state: &AppState, user: &User, bytes: Vec<u8>) -> Result<String, AppError> {
    let found = read_import(state, bytes).await?;
    let report = import_found(state, user, &found, true).await?;
    Ok(state.chat.imports.keep(user.id, found, report))
}

/// The preview `token` of `user` (or, once confirmed, what its import did).
pub fn import_preview(state: &AppState, user: &User, token: &str) -> Result<ImportReport, AppError> {
    state
        .chat
        .imports
        .get(user.id, token)
        .map(|p| p.report)
        .ok_or_else(|| AppError::invalid("token", text!(chat.import.expired)))
}

/// Imports the file previewed under `token`; confirming it again once it is done (a reload, a second post) adds
/// nothing and answers the same report (while it runs, a second confirmation is refused as "already running").
pub async fn confirm_import(state: &AppState, user: &User, token: &str) -> Result<ImportReport, AppError> {
    let pending = state
        .chat
        .imports
        .get(user.id, token)
        .ok_or_else(|| AppError::invalid("token", text!(chat.import.expired)))?;
    if !pending.report.dry_run {
        return Ok(pending.report);
    }
    let report = import_found(state, user, &pending.found, false).await?;
    state.chat.imports.done(token, report.clone());
    Ok(report)
}
