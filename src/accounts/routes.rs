//! Plain HTTP routes of accounts: the language switch.

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;

use crate::accounts::auth::AuthSession;
use crate::core::document::safe_next;
use crate::core::i18n::Lang;
use crate::state::AppState;

/// `POST /language`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/language", post(set_language))
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
