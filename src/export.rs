//! The personal-data export: everything ThiCode stores about the logged-in user — the account from accounts, the
//! conversations from chat, the files, the share links and what was done with them — as one JSON download
//! (`/settings/export`: the files described, with the text read from them), or as a ZIP archive of that JSON and
//! every file as uploaded (`/settings/export.zip`); and the conversations alone, to import elsewhere
//! (`/settings/export/conversations.json`). It sits above the features, beside the router that mounts it.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde_json::json;

use crate::accounts::auth::AuthSession;
use crate::chat;
use crate::core::db::now_millis;
use crate::core::error::AppError;
use crate::core::time::iso;
use crate::state::AppState;

/// `GET /settings/export` and `GET /settings/export.zip`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/export", get(export))
        .route("/settings/export.zip", get(export_zip))
        .route("/settings/export/conversations.json", get(export_conversations))
}

/// Every conversation of the logged-in user (active and archived, every branch, tool calls included) as one JSON
/// download that `/settings/import` — here or on another ThiCode — takes back exactly (issue #29).
async fn export_conversations(State(state): State<AppState>, auth: AuthSession) -> Response {
    let Some(user) = auth.user else {
        return Redirect::to("/login?next=/settings/export/conversations.json").into_response();
    };
    let conversations = match chat::service::export_all(&state.db.pool, user.id).await {
        Ok(conversations) => conversations,
        Err(e) => return AppError::internal("export", e).into_html(),
    };
    let document = json!({
        "format": "thicode-conversations-1",
        "exported_at": iso(now_millis()),
        "conversations": conversations,
    });
    json_download(&format!("thicode-{}-conversations.json", user.username), &document)
}

/// `document` as a JSON download named `name`, never cached.
fn json_download(name: &str, document: &serde_json::Value) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        serde_json::to_string_pretty(document).unwrap_or_default(),
    )
        .into_response()
}

/// Everything ThiCode stores about the logged-in user, as a JSON download.
async fn export(State(state): State<AppState>, auth: AuthSession) -> Response {
    let Some(user) = auth.user else {
        return Redirect::to("/login?next=/settings/export").into_response();
    };
    let document = match document(&state, &user, None).await {
        Ok(document) => document,
        Err(e) => return e.into_html(),
    };
    json_download(&format!("thicode-{}.json", user.username), &document)
}

/// Where a file goes in the archive: `files/<id>-<name>` (the name has no path in it).
fn archive_name(file: &crate::files::store::FileRow) -> String {
    format!("files/{}-{}", file.id, file.name.replace(['/', '\\'], "_"))
}

/// The JSON export and every file as uploaded, in a ZIP archive built in a spool file (never whole in memory) and
/// sent from it.
async fn export_zip(State(state): State<AppState>, auth: AuthSession) -> Response {
    let Some(user) = auth.user else {
        return Redirect::to("/login?next=/settings/export.zip").into_response();
    };
    match build_zip(&state, &user).await {
        Ok(spool) => {
            let filename = format!("attachment; filename=\"thicode-{}.zip\"", user.username);
            (
                [
                    (header::CONTENT_TYPE, "application/zip".to_string()),
                    (header::CONTENT_DISPOSITION, filename),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                axum::body::Body::from_stream(read_spool(spool)),
            )
                .into_response()
        }
        Err(e) => e.into_html(),
    }
}

async fn build_zip(
    state: &AppState,
    user: &crate::accounts::users::User,
) -> Result<crate::files::storage::Spool, AppError> {
    use std::io::Write;
    let fail = |e: &dyn std::fmt::Display| AppError::internal("export archive", e);
    let files = crate::files::store::all_of(&state.db.pool, user.id).await?;
    let document = document(state, user, Some(&files)).await?;
    let mut spool = state.files.storage.spool().await.map_err(|e| fail(&e))?;
    spool.close().await.map_err(|e| fail(&e))?;
    let path = spool.path.clone();
    let json = serde_json::to_vec_pretty(&document).unwrap_or_default();
    let name = format!("thicode-{}.json", user.username);
    // Each entry is written on the blocking pool; the writer goes there and back.
    let mut writer = tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new().write(true).truncate(true).open(&path)?;
        let mut writer = zip::ZipWriter::new(file);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        writer.start_file(name, options)?;
        writer.write_all(&json)?;
        Ok::<_, zip::result::ZipError>(writer)
    })
    .await
    .map_err(|e| fail(&e))?
    .map_err(|e| fail(&e))?;
    for file in files {
        let bytes = state
            .files
            .storage
            .read(&file.storage_key)
            .await
            .map_err(|e| fail(&e))?;
        let entry = archive_name(&file);
        writer = tokio::task::spawn_blocking(move || {
            // Stored as they are: images and PDFs are compressed already.
            let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
            writer.start_file(entry, options)?;
            writer.write_all(&bytes)?;
            Ok::<_, zip::result::ZipError>(writer)
        })
        .await
        .map_err(|e| fail(&e))?
        .map_err(|e| fail(&e))?;
    }
    tokio::task::spawn_blocking(move || writer.finish().map(drop))
        .await
        .map_err(|e| fail(&e))?
        .map_err(|e| fail(&e))?;
    Ok(spool)
}

/// The spool file's bytes as a body stream; the file is removed once the stream is done with (the spool dropped).
fn read_spool(
    spool: crate::files::storage::Spool,
) -> impl futures_util::Stream<Item = Result<axum::body::Bytes, std::io::Error>> {
    futures_util::stream::unfold((spool, None::<tokio::fs::File>), |(spool, file)| async move {
        use tokio::io::AsyncReadExt;
        let mut file = match file {
            Some(file) => file,
            None => match tokio::fs::File::open(&spool.path).await {
                Ok(file) => file,
                Err(e) => return Some((Err(e), (spool, None))),
            },
        };
        let mut buffer = vec![0u8; 64 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(axum::body::Bytes::from(buffer)), (spool, Some(file))))
            }
            Err(e) => Some((Err(e), (spool, Some(file)))),
        }
    })
}

/// The export document: the profile, the conversations and the files (described, with their text; the archive
/// holds their bytes under `archive_path`).
async fn document(
    state: &AppState,
    user: &crate::accounts::users::User,
    files: Option<&[crate::files::store::FileRow]>,
) -> Result<serde_json::Value, AppError> {
    let conversations = chat::service::export_all(&state.db.pool, user.id)
        .await
        .map_err(|e| AppError::internal("export", e))?;
    let ids: Vec<i64> = match files {
        Some(files) => files.iter().map(|f| f.id).collect(),
        None => crate::files::store::all_of(&state.db.pool, user.id)
            .await?
            .iter()
            .map(|f| f.id)
            .collect(),
    };
    let files: Vec<serde_json::Value> = crate::files::store::with_text(&state.db.pool, user.id, &ids)
        .await?
        .into_iter()
        .map(|(f, text)| {
            json!({
                "id": f.id,
                "name": f.name,
                "type": f.content_type,
                "kind": f.kind,
                "size": f.size,
                "sha256": f.sha256,
                "pages": f.pages,
                "width": f.width,
                "height": f.height,
                "created_at": iso(f.created_at),
                "text": text,
                "archive_path": archive_name(&f),
            })
        })
        .collect();
    // The links the user shares now, and what they did with links (made, updated, revoked).
    let shares: Vec<serde_json::Value> = chat::service::shares(state, user)
        .await?
        .into_iter()
        .map(|link| {
            json!({
                "url": link.url,
                "conversation_id": link.conversation_id,
                "title": link.title,
                "created_at": iso(link.created_at),
                "updated_at": iso(link.updated_at),
            })
        })
        .collect();
    let share_events: Vec<serde_json::Value> = chat::store::share_events(&state.db.pool, user.id)
        .await?
        .into_iter()
        .map(|e| {
            json!({
                "at": iso(e.at),
                "action": e.action,
                "conversation_id": e.conversation_id,
                "link_starts_with": e.token_prefix,
                "client_addr": e.client_addr,
            })
        })
        .collect();
    let preferences: serde_json::Value = serde_json::from_str(&user.preferences).unwrap_or_else(|_| json!({}));
    let document = json!({
        "format": "thicode-export-1",
        "exported_at": iso(now_millis()),
        "profile": {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "bio": user.bio,
            "preferences": preferences,
            "date_joined": iso(user.date_joined),
            "date_modified": iso(user.date_modified),
            "last_login": user.last_login.map(iso),
        },
        "conversations": conversations,
        "files": files,
        "shares": shares,
        "share_events": share_events,
    });
    Ok(document)
}
