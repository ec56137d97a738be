//! Routes every deployment has, whatever the features: health checks, the theme switch, the JSON 404 of the API,
//! and the cache policy of responses.

use axum::Router;
use axum::extract::{Form, FromRef, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use serde::Deserialize;
use serde_json::json;

use crate::core::db::{self, Db};
use crate::core::document::safe_next;
use crate::core::error::AppError;
use crate::core::theme::Theme;

/// `/healthz`, `/readyz`, `POST /theme` and the API fallback, for any router state that holds the database.
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Db: FromRef<S>,
{
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/theme", post(set_theme))
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
}

/// Liveness: the process answers.
async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

/// Readiness: the database answers too.
async fn readyz(State(db): State<Db>) -> Response {
    if db::ping(&db).await {
        axum::Json(json!({ "status": "ready", "database": "ok" })).into_response()
    } else {
        tracing::warn!("readiness check failed: database unreachable");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({ "status": "unavailable", "database": "unreachable" })),
        )
            .into_response()
    }
}

/// Unknown API routes answer like DRF, not with the HTML 404 page.
async fn api_not_found() -> AppError {
    AppError::NotFound
}

/// The no-JavaScript path of the theme switch: stores the choice in a cookie and goes back to the page.
#[derive(Deserialize)]
struct ThemeForm {
    theme: String,
    #[serde(default)]
    next: String,
}

async fn set_theme(Form(form): Form<ThemeForm>) -> Response {
    let Some(theme) = Theme::parse(&form.theme) else {
        return (StatusCode::BAD_REQUEST, "theme must be system, light or dark").into_response();
    };
    let mut res = Redirect::to(safe_next(&form.next)).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&theme.cookie()) {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    res
}

/// Cache policy: hashed client bundles forever, other static files for a day, pages never (they may be personal).
pub async fn cache_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let mut res = next.run(req).await;
    if res.status() != StatusCode::OK || res.headers().contains_key(header::CACHE_CONTROL) {
        return res;
    }
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let policy = if is_html || path.starts_with("/api/") || path.starts_with("/_server/") {
        "no-store"
    } else if path.starts_with("/pkg/") && is_hashed_name(&path) {
        "public, max-age=31536000, immutable"
    } else if path.starts_with("/pkg/") {
        "no-cache"
    } else if path == "/healthz" || path == "/readyz" || path == "/metrics" {
        "no-store"
    } else {
        "public, max-age=86400"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    res
}

/// `thicode.Ab12Cd34.wasm`: cargo-leptos puts a content hash between the name and the extension.
fn is_hashed_name(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    file.split('.').count() >= 3
}

#[cfg(test)]
mod tests {
    use super::is_hashed_name;

    #[test]
    fn hashed_bundle_names() {
        assert!(is_hashed_name("/pkg/thicode.tJhDBk_W66I-eLjjGGJFOw.wasm"));
        assert!(!is_hashed_name("/pkg/thicode.wasm"));
        assert!(!is_hashed_name("/favicon.ico"));
    }
}
