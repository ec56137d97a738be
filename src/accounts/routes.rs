//! Plain HTTP routes of accounts: the personal data export (a file download, not a page) and the language switch.

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::accounts::auth::AuthSession;
use crate::core::i18n::Lang;
use crate::core::security::safe_next;
use crate::core::state::AppState;

/// `/settings/export` and `POST /language`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/export", get(export))
        .route("/language", post(set_language))
}

/// The footer's language switch.
#[derive(Deserialize)]
struct LanguageForm {
    #[serde(default)]
    lang: String,
    #[serde(default)]
    next: String,
}

/// Remembers the language in a cookie — and in the account's preferences when logged in, so it follows the user to
/// other browsers — then goes back to the page, which the server renders in the new language.
async fn set_language(State(state): State<AppState>, auth: AuthSession, Form(form): Form<LanguageForm>) -> Response {
    let Some(lang) = Lang::parse(&form.lang) else {
        return (StatusCode::BAD_REQUEST, "lang must be en or fr").into_response();
    };
    if let Some(user) = &auth.user
        && crate::accounts::service::set_language(&state.db.pool, user, lang)
            .await
            .is_err()
    {
        // Logged by the service; the cookie still switches this browser.
        tracing::warn!(user_id = user.id, "language preference not saved");
    }
    let mut res = Redirect::to(safe_next(&form.next)).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&lang.cookie()) {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    res
}

/// Epoch milliseconds as RFC 3339 (UTC).
pub fn iso(millis: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// Epoch milliseconds as `YYYY-MM-DD HH:MM` (UTC), as the pages show dates.
pub fn minute(millis: i64) -> String {
    iso(millis).chars().take(16).collect::<String>().replace('T', " ")
}

/// Everything ThiCode stores about the logged-in user, as a JSON download.
async fn export(State(state): State<AppState>, auth: AuthSession) -> Response {
    let Some(user) = auth.user else {
        return Redirect::to("/login?next=/settings/export").into_response();
    };
    let conversations = match crate::chat::service::export_all(&state.db.pool, user.id).await {
        Ok(list) => list,
        Err(e) => {
            tracing::error!(error = %e, "export failed");
            return crate::core::error::AppError::Internal(e.to_string()).into_html();
        }
    };
    let preferences: serde_json::Value = serde_json::from_str(&user.preferences).unwrap_or_else(|_| json!({}));
    let document = json!({
        "format": "thicode-export-1",
        "exported_at": iso(crate::core::db::now_millis()),
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
