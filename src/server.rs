//! The HTTP server: [`router`] composes the app of every feature with the middleware stack for a given state, and
//! [`serve`] runs it with graceful shutdown. Tests call `router` directly.

use std::net::SocketAddr;
use std::sync::LazyLock;
use std::time::Duration;

use axum::Router;
use axum::middleware;
use axum::serve::ListenerExt;
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::app::{App, shell};
use crate::core::{client, routes, security, telemetry};
use crate::export;
use crate::state::AppState;
use crate::{accounts, admin, api, chat};

/// The app's page routes, computed once per process. Generating them switches resource loading off process-wide for
/// a moment (leptos issue #4773), which would leave a page being rendered at that moment waiting forever; so no
/// router built later (tests build many) may generate them again.
static PAGE_ROUTES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(App));

/// The complete application for `state`.
pub fn router(state: AppState) -> Router {
    let leptos_routes = PAGE_ROUTES.clone();
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            security::provide_page_nonce();
        }
    };
    Router::new()
        .merge(routes::routes())
        .merge(crate::core::metrics::routes())
        .merge(accounts::routes::routes())
        .merge(export::routes())
        .merge(chat::routes::routes())
        .merge(admin::routes::routes())
        .merge(api::routes(&state))
        .leptos_routes_with_context(&state, leptos_routes, context.clone(), {
            let options = state.leptos.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        // Inside the session layer below, so it knows the user.
        .layer(middleware::from_fn(admin::guard::require_login))
        .layer(
            // Outermost first: every request gets an id before it is traced, and every answer (errors included)
            // carries the security headers and is compressed. Sessions sit inside the CSRF check, so a refused
            // cross-site request never touches the session.
            ServiceBuilder::new()
                .layer(middleware::from_fn_with_state(
                    state.metrics.clone(),
                    crate::core::metrics::track,
                ))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(middleware::from_fn(security::isolate_reactive_owner))
                .layer(middleware::from_fn_with_state(
                    state.config.clone(),
                    client::resolve_client,
                ))
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
                    state.config.clone(),
                    security::security_headers,
                ))
                .layer(middleware::from_fn(routes::cache_headers))
                .layer(CompressionLayer::new())
                .layer(middleware::from_fn_with_state(
                    (
                        state.config.clone(),
                        security::UploadRoutes::new(
                            api::files::UPLOAD_ROUTES
                                .iter()
                                .copied()
                                .chain([chat::routes::SEND_FORM_PATH]),
                        )
                        .with_imports([api::imports::IMPORT_PATH, chat::types::IMPORT_FORM_PATH])
                        .with_json([api::openai::COMPLETIONS_PATH, api::openai::EMBEDDINGS_PATH]),
                    ),
                    security::limit_body,
                ))
                .layer(middleware::from_fn_with_state(
                    (state.config.clone(), form_pages()),
                    security::safe_referer,
                ))
                // A valid API token is checked before the cross-origin check (which it is exempt from) and before the
                // session layer (which must not see the session cookie of a token-authenticated request).
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    api::auth::authenticate_token,
                ))
                .layer(middleware::from_fn_with_state(
                    state.config.clone(),
                    security::check_origin,
                ))
                .layer(middleware::from_fn_with_state(
                    state.config.clone(),
                    security::ensure_csrf_cookie,
                ))
                .layer(accounts::auth::layer(&state)),
        )
        .with_state(state)
}

/// The page of every server function's form, for redirects back to it.
fn form_pages() -> security::FormPages {
    security::FormPages::new(
        accounts::server_fns::form_pages()
            .into_iter()
            .chain(chat::server_fns::form_pages())
            .chain(admin::server_fns::form_pages()),
    )
}

/// Binds `addr` and serves until SIGINT or SIGTERM; requests in flight are allowed to finish.
pub async fn serve(state: AppState) -> Result<(), String> {
    let addr = state.config.site_addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("LEPTOS_SITE_ADDR: cannot listen on {addr}: {e}"))?
        // Pages stream in several chunks; without TCP_NODELAY, Nagle's algorithm and delayed ACKs hold the later
        // chunks back by tens of milliseconds on keep-alive connections.
        .tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
    let pool = state.db.pool.clone();
    let cleanup = accounts::sessions::DbSessionStore::new(pool.clone()).spawn_cleanup();
    let recovery = chat::generation::spawn_recovery(pool.clone());
    // The MCP servers' tools, read now and every few seconds (staff may change them on another instance).
    let mcp = state.chat.toolbox.spawn_refresh(pool.clone());
    let trimmer = crate::core::memory::spawn_trimmer();
    // Files nothing refers to any more, and uploads never sent, are removed in the background.
    let sweeper = crate::files::service::spawn_sweeper(state.clone());
    // Temporary chats left idle, or whose tab closed, are forgotten.
    let temporary = state.chat.temporary.spawn_sweeper();
    // Replies written by other instances on the same PostgreSQL reach this one's readers as they grow.
    let notifications = (state.db.backend == crate::core::db::Backend::Postgres)
        .then(|| state.chat.followers.spawn_listener(state.config.database_url.clone()));
    let engine = state.chat.clone();
    let outbox = state.outbox.clone();
    let app = router(state);
    tracing::info!("ThiCode listening on http://{addr}");
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;
    cleanup.abort();
    recovery.abort();
    mcp.abort();
    trimmer.abort();
    sweeper.abort();
    temporary.abort();
    if let Some(notifications) = notifications {
        notifications.abort();
    }
    // Replies still being generated are saved as interrupted, with their text so far; queued mail gets a moment.
    engine.interrupt_all(&pool).await;
    if tokio::time::timeout(Duration::from_secs(10), outbox.idle())
        .await
        .is_err()
    {
        tracing::warn!("stopping with email still queued");
    }
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
