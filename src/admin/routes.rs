//! Plain HTTP routes of the admin area: a file of an account, opened by staff from the conversation view
//! (`/admin/users/{id}/files/{file}`), with the same safe headers as the owner's own file route and an audit entry.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::accounts::auth::AuthSession;
use crate::core::client::ClientAddr;
use crate::core::error::{AppError, Refusal};
use crate::state::AppState;

/// `/admin/users/{user_id}/files/{file_id}`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/admin/users/{user_id}/files/{file_id}", get(file))
}

/// One of the account's files, for staff. Read (and recorded as read) only when the request came from this site: a
/// link or an image on another site cannot make a staff member open a user's file.
async fn file(
    State(state): State<AppState>,
    auth: AuthSession,
    client: ClientAddr,
    headers: HeaderMap,
    Path((user_id, file_id)): Path<(String, String)>,
) -> Response {
    let refuse = |e: AppError| e.into_html_for(&headers);
    let Some(actor) = auth.user else {
        return refuse(AppError::Forbidden(Refusal::LoginRequired));
    };
    if !(actor.is_staff && actor.is_active) {
        return refuse(AppError::Forbidden(Refusal::Permission));
    }
    let (Ok(user_id), Ok(file_id)) = (user_id.parse::<i64>(), file_id.parse::<i64>()) else {
        return refuse(AppError::NotFound);
    };
    if !crate::core::security::came_from_this_site(&state.config, &headers) {
        return refuse(AppError::Forbidden(Refusal::Csrf(
            "Open the file from the conversation's page.".to_string(),
        )));
    }
    let actor = crate::admin::service::Actor {
        user: actor,
        addr: client.text(),
    };
    let row = match crate::admin::service::open_file(&state.db, &actor, user_id, file_id).await {
        Ok(row) => row,
        Err(e) => return refuse(e),
    };
    match crate::api::files::serve(&state, &row, &headers).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

/// The audit entry's details of a file opened by staff.
pub fn details(row: &crate::files::store::FileRow) -> serde_json::Value {
    json!({"file": row.id, "name": row.name, "type": row.content_type, "size": row.size})
}
