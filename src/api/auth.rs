//! Who calls the API: the session shared with the web pages, checked against CSRF on unsafe methods (header
//! `X-CSRFToken` equal to the `csrftoken` cookie, or a trusted `Origin` — the global origin check has already refused
//! untrusted ones). Token and JWT schemes join here.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::accounts::auth::AuthSession;
use crate::accounts::users::User;
use crate::api::error::ApiError;
use crate::core::state::AppState;

/// Name of the CSRF cookie (Django's).
pub const CSRF_COOKIE: &str = "csrftoken";

/// The authenticated caller of an API route.
pub struct ApiUser(pub User);

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether an unsafe session request passes CSRF: a matching `X-CSRFToken`, or an `Origin` (already checked).
pub fn csrf_ok(method: &Method, headers: &HeaderMap) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE) {
        return Ok(());
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin.is_some_and(|o| o != "null") {
        return Ok(());
    }
    let token = headers.get("x-csrftoken").and_then(|v| v.to_str().ok());
    match (token, cookie(headers, CSRF_COOKIE)) {
        (Some(token), Some(expected)) if !token.is_empty() && token == expected => Ok(()),
        (None, _) => Err(ApiError::Detail(
            StatusCode::FORBIDDEN,
            "CSRF Failed: CSRF token missing.".into(),
        )),
        _ => Err(ApiError::Detail(
            StatusCode::FORBIDDEN,
            "CSRF Failed: CSRF token incorrect.".into(),
        )),
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session = AuthSession::from_request_parts(parts, state)
            .await
            .map_err(|(_, e)| ApiError::internal(e))?;
        let user = session.user.ok_or_else(ApiError::unauthenticated)?;
        csrf_ok(&parts.method, &parts.headers)?;
        Ok(Self(user))
    }
}

/// `GET /api/csrf/`: the CSRF token, also set as the `csrftoken` cookie (readable by scripts, SameSite=Lax).
pub async fn csrf(axum::extract::State(state): axum::extract::State<AppState>, headers: HeaderMap) -> Response {
    let token = cookie(&headers, CSRF_COOKIE)
        .filter(|t| t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit()))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_string);
    let secure = if state.config.security.session_cookie_secure {
        "; Secure"
    } else {
        ""
    };
    let set = format!("{CSRF_COOKIE}={token}; Path=/; Max-Age=31449600; SameSite=Lax{secure}");
    ([(header::SET_COOKIE, set)], axum::Json(json!({ "csrfToken": token }))).into_response()
}
