//! The REST API under `/api/`, the contract of the original backend (../shared/API.md): DRF-shaped errors, session
//! authentication with CSRF, and routes that call the same services as the pages. Server only.

pub mod accounts;
pub mod auth;
pub mod chat;
pub mod error;
pub mod limits;

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::api::error::ApiError;
use crate::core::state::AppState;

/// Every API route, with CORS, DRF-shaped 405s, and the per-address limit on the anonymous ones.
pub fn routes(state: &AppState) -> Router<AppState> {
    let anonymous = Router::new()
        .route("/api/csrf/", get(auth::csrf))
        .merge(accounts::anonymous_routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), limits::anonymous));
    Router::new()
        .merge(anonymous)
        .merge(accounts::routes())
        .merge(chat::routes())
        .layer(middleware::from_fn(method_not_allowed))
        .layer(cors(state))
}

/// CORS for the configured origins: credentials allowed, `X-CSRFToken` and `Authorization` accepted, preflight
/// answers cached for a day.
fn cors(state: &AppState) -> CorsLayer {
    let origins: Vec<_> = state
        .config
        .security
        .cors_allowed_origins
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::ACCEPT,
            header::HeaderName::from_static("x-csrftoken"),
            header::HeaderName::from_static("x-requested-with"),
        ])
        .expose_headers([header::LOCATION, header::RETRY_AFTER, header::WWW_AUTHENTICATE])
        .max_age(std::time::Duration::from_secs(86_400))
}

/// axum answers a known path with the wrong method by an empty 405 carrying `Allow`; API clients get DRF's body.
async fn method_not_allowed(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let res = next.run(req).await;
    if res.status() != StatusCode::METHOD_NOT_ALLOWED {
        return res;
    }
    let allow = res.headers().get(header::ALLOW).cloned();
    let mut out = ApiError::Detail(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("Method \"{method}\" not allowed."),
    )
    .into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}
