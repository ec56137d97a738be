//! Who calls the API. A request with an `Authorization` header is authenticated by it alone — `Token <key>` or
//! `Bearer <key>` with a personal API token, or `Bearer <access JWT>` — and is exempt from CSRF (a browser cannot
//! add that header cross-site without a CORS preflight we refuse). Otherwise the session shared with the web pages
//! is used and unsafe methods must pass CSRF (header `X-CSRFToken` equal to the `csrftoken` cookie, or a trusted
//! `Origin` — the global origin check has already refused untrusted ones).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::accounts::auth::AuthSession;
use crate::accounts::users::User;
use crate::api::error::ApiError;
use crate::core::state::AppState;

/// Name of the CSRF cookie (Django's).
pub const CSRF_COOKIE: &str = "csrftoken";

/// The authenticated caller of an API route.
pub struct ApiUser(pub User);

fn invalid(detail: &str) -> ApiError {
    ApiError::Detail(StatusCode::UNAUTHORIZED, detail.to_string())
}

/// The user named by the `Authorization` header, if there is one: `Some(Err)` when it is present but not valid.
pub async fn from_authorization(state: &AppState, headers: &HeaderMap) -> Option<Result<User, ApiError>> {
    let value = headers.get(header::AUTHORIZATION)?;
    Some(check_authorization(state, value.to_str().unwrap_or_default()).await)
}

async fn check_authorization(state: &AppState, value: &str) -> Result<User, ApiError> {
    use crate::accounts::{api_tokens, jwt};
    let mut parts = value.split_whitespace();
    let (scheme, key) = (parts.next().unwrap_or_default(), parts.next());
    let bearer = scheme.eq_ignore_ascii_case("bearer");
    if !bearer && !scheme.eq_ignore_ascii_case("token") {
        return Err(invalid(
            "Invalid authorization header. Use \"Token <key>\" or \"Bearer <key>\".",
        ));
    }
    let Some(key) = key else {
        return Err(invalid("Invalid token header. No credentials provided."));
    };
    if parts.next().is_some() {
        return Err(invalid("Invalid token header. Token string should not contain spaces."));
    }
    let pool = &state.db.pool;
    if key.starts_with(api_tokens::KEY_PREFIX) {
        return match api_tokens::authenticate(pool, key).await.map_err(ApiError::internal)? {
            Ok(user) => Ok(user),
            Err(api_tokens::Rejected::Expired) => Err(invalid("Token has expired.")),
            Err(api_tokens::Rejected::Inactive) => Err(invalid("User inactive or deleted.")),
            Err(api_tokens::Rejected::Invalid) => Err(invalid("Invalid token.")),
        };
    }
    if bearer {
        return match jwt::authenticate(pool, &state.jwt, key)
            .await
            .map_err(ApiError::internal)?
        {
            Ok(user) => Ok(user),
            Err(_) => Err(ApiError::Body(
                StatusCode::UNAUTHORIZED,
                serde_json::json!({"detail": "Given token not valid for any token type", "code": "token_not_valid"}),
            )),
        };
    }
    Err(invalid("Invalid token."))
}

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
        if let Some(result) = from_authorization(state, &parts.headers).await {
            return result.map(Self);
        }
        let session = AuthSession::from_request_parts(parts, state)
            .await
            .map_err(|(_, e)| ApiError::internal(e))?;
        let user = session.user.ok_or_else(ApiError::unauthenticated)?;
        csrf_ok(&parts.method, &parts.headers)?;
        Ok(Self(user))
    }
}

/// `GET /api/csrf/`: the CSRF token, also set as the `csrftoken` cookie (readable by scripts, SameSite=Lax).
#[utoipa::path(get, path = "/api/csrf/", tag = "accounts",
    responses((status = 200, body = crate::api::schema::CsrfOut, description = "Also set as the `csrftoken` cookie"),
        crate::api::schema::Throttled))]
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
    let body = crate::api::schema::CsrfOut { csrf_token: token };
    ([(header::SET_COOKIE, set)], axum::Json(body)).into_response()
}
