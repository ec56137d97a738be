//! The personal-data export (`/settings/export`): everything ThiCode stores about the logged-in user — the account
//! from accounts, the conversations from chat — as one JSON download. It sits above both features, beside the router
//! that mounts it.

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

/// `GET /settings/export`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/settings/export", get(export))
}

/// Everything ThiCode stores about the logged-in user, as a JSON download.
async fn export(State(state): State<AppState>, auth: AuthSession) -> Response {
    let Some(user) = auth.user else {
        return Redirect::to("/login?next=/settings/export").into_response();
    };
    let conversations = match chat::service::export_all(&state.db.pool, user.id).await {
        Ok(list) => list,
        Err(e) => return AppError::internal("export", e).into_html(),
    };
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
    });
    let filename = format!("attachment; filename=\"thicode-{}.json\"", user.username);
    (
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_DISPOSITION, filename),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        serde_json::to_string_pretty(&document).unwrap_or_default(),
    )
        .into_response()
}
