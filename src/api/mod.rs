//! The REST API under `/api/`, the contract of the original backend (../shared/API.md): DRF-shaped errors, session
//! authentication with CSRF, and routes that call the same services as the pages. Server only.

pub mod accounts;
pub mod auth;
pub mod chat;
pub mod error;

use axum::Router;
use axum::routing::get;

use crate::core::state::AppState;

/// Every API route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/csrf/", get(auth::csrf))
        .merge(accounts::routes())
        .merge(chat::routes())
}
