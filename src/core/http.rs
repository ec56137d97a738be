//! The HTTP surface: [`router`] builds the whole app (pages, health checks, middleware) for a given state, and
//! [`serve`] runs it with graceful shutdown. Tests call `router` directly.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use serde::Deserialize;
use serde_json::json;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::app::{App, shell};
use crate::core::error::AppError;
use crate::core::security::{self, safe_next};
use crate::core::state::AppState;
use crate::core::theme::Theme;
use crate::core::{db, telemetry};

/// The complete application for `state`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            leptos::nonce::provide_nonce();
        }
    };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/theme", post(set_theme))
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .layer(
            // Outermost first: every request gets an id before it is traced, and every answer (errors included)
            // carries the security headers and is compressed.
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(telemetry::request_span)
                        .on_response(
                            DefaultOnResponse::new()
                                .level(tracing::Level::INFO)
                                .latency_unit(tower_http::LatencyUnit::Micros),
                        ),
                )
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    security::security_headers,
                ))
                .layer(middleware::from_fn(cache_headers))
                .layer(CompressionLayer::new())
                .layer(middleware::from_fn_with_state(state.clone(), security::limit_body))
                .layer(middleware::from_fn_with_state(state.clone(), security::check_origin)),
        )
        .with_state(state)
}

/// Liveness: the process answers.
async fn healthz() -> impl IntoResponse {
    axum::Json(json!({ "status": "ok" }))
}

/// Readiness: the database answers too.
async fn readyz(State(state): State<AppState>) -> Response {
    if db::ping(&state.db).await {
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
async fn cache_headers(req: Request, next: Next) -> Response {
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
    } else if path == "/healthz" || path == "/readyz" {
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

/// Binds `addr` and serves until SIGINT or SIGTERM; requests in flight are allowed to finish.
pub async fn serve(state: AppState) -> Result<(), String> {
    let addr = state.config.site_addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("LEPTOS_SITE_ADDR: cannot listen on {addr}: {e}"))?;
    let pool = state.db.pool.clone();
    let app = router(state);
    tracing::info!("ThiCode listening on http://{addr}");
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;
    tokio::time::timeout(Duration::from_secs(5), pool.close()).await.ok();
    tracing::info!("ThiCode stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
