//! Who calls the API. A request whose `Authorization` is `Token <key>` or `Bearer <key>` (a personal API token, or an
//! access JWT) is authenticated by it alone: [`authenticate_token`] checks it before the session layer, removes the
//! session cookie so the session plays no part, and exempts the request from CSRF (no browser attaches such a header
//! by itself, and CORS refuses a cross-site script that tries). Any other `Authorization` scheme (the Basic
//! credentials a browser attaches behind HTTP authentication) is ignored, as DRF's token authentication does: the
//! session shared with the web pages is used, and unsafe methods must pass CSRF (header `X-CSRFToken` equal to the
//! `csrftoken` cookie, or a trusted `Origin` — the global origin check has already refused untrusted ones).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::accounts::auth::AuthSession;
use crate::accounts::service::User;
use crate::api::error::ApiError;
use crate::state::AppState;

pub use crate::core::security::CSRF_COOKIE;

/// The authenticated caller of an API route.
pub struct ApiUser(pub User);

/// The user a valid `Token`/`Bearer` credential named, found by [`authenticate_token`].
#[derive(Clone)]
struct TokenCaller(User);

/// Whether `Authorization` uses one of our schemes (`Token`, `Bearer`), valid or not.
fn has_token_scheme(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_whitespace().next())
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer"))
}

/// Middleware outside the session layer and the cross-origin check: an `/api/` request carrying a valid
/// `Token`/`Bearer` credential is authenticated by it alone — its session cookie is removed before the session layer
/// reads it — and is marked [`CsrfExempt`](crate::core::security::CsrfExempt). Every other request goes on as it
/// came, to the cross-origin check; an invalid credential is answered 401 by [`ApiUser`].
pub async fn authenticate_token(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // The OpenAI-compatible API reads its bearer key itself and never a session: no cookie goes on, so none can act.
    if req.uri().path().starts_with(crate::api::openai::PREFIX) || req.uri().path() == "/v1" {
        remove_cookie(req.headers_mut(), crate::accounts::auth::SESSION_COOKIE);
        req.extensions_mut().insert(crate::core::security::CsrfExempt);
        return next.run(req).await;
    }
    if req.uri().path().starts_with("/api/")
        && has_token_scheme(req.headers())
        && let Some(Ok(user)) = from_authorization(&state, req.headers()).await
    {
        remove_cookie(req.headers_mut(), crate::accounts::auth::SESSION_COOKIE);
        req.extensions_mut().insert(TokenCaller(user));
        req.extensions_mut().insert(crate::core::security::CsrfExempt);
    }
    next.run(req).await
}

/// Drops cookie `name` from the request's `Cookie` headers, keeping the others byte for byte.
fn remove_cookie(headers: &mut HeaderMap, name: &str) {
    let kept: Vec<&[u8]> = headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b';'))
        .map(<[u8]>::trim_ascii)
        .filter(|pair| {
            !pair.is_empty() && pair.split(|b| *b == b'=').next().map(<[u8]>::trim_ascii) != Some(name.as_bytes())
        })
        .collect();
    let joined = kept.join(&b"; "[..]);
    headers.remove(header::COOKIE);
    if let Ok(value) = axum::http::HeaderValue::from_bytes(&joined)
        && !joined.is_empty()
    {
        headers.insert(header::COOKIE, value);
    }
}

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
        return match api_tokens::authenticate(pool, key).await? {
            Ok((user, api_tokens::Scope::All)) => Ok(user),
            Ok((_, api_tokens::Scope::V1)) => Err(ApiError::Detail(
                StatusCode::FORBIDDEN,
                "This token may only be used with the OpenAI-compatible API under /v1/.".into(),
            )),
            Err(api_tokens::Rejected::Expired) => Err(invalid("Token has expired.")),
            Err(api_tokens::Rejected::Inactive) => Err(invalid("User inactive or deleted.")),
            Err(api_tokens::Rejected::Invalid) => Err(invalid("Invalid token.")),
        };
    }
    if bearer {
        return match jwt::authenticate(pool, &state.jwt, key).await? {
            Ok(user) => Ok(user),
            Err(_) => Err(ApiError::Body(
                StatusCode::UNAUTHORIZED,
                serde_json::json!({"detail": "Given token not valid for any token type", "code": "token_not_valid"}),
            )),
        };
    }
    Err(invalid("Invalid token."))
}

use crate::core::security::request_cookie as cookie;

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
        if let Some(TokenCaller(user)) = parts.extensions.get::<TokenCaller>() {
            return Ok(Self(user.clone()));
        }
        // Our scheme, but not a valid credential: say what is wrong with it (never fall back to the session).
        if has_token_scheme(&parts.headers) {
            return match from_authorization(state, &parts.headers).await {
                Some(result) => result.map(Self),
                None => Err(ApiError::unauthenticated()),
            };
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
        .filter(|t| crate::core::security::is_csrf_token(t))
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_string);
    let set = crate::core::security::csrf_cookie(&state.config, &token);
    let body = crate::api::schema::CsrfOut { csrf_token: token };
    ([(header::SET_COOKIE, set)], axum::Json(body)).into_response()
}
