//! Password reset by email: asking for a link, and setting a new password with it.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::client_ip;
use crate::core::error::AppError;

/// Emails a reset link if an account has this address; answers the same either way.
#[server]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    let state = expect_context::<crate::state::AppState>();
    let ip = client_ip().await;
    crate::accounts::service::request_password_reset(
        &state.db.pool,
        &state.outbox,
        &state.config,
        &email,
        &ip,
        crate::core::i18n::Lang::current(),
    )
    .await?;
    leptos_axum::redirect("/forgot-password?sent=1");
    Ok(())
}

/// Sets a new password with the token of a reset link, then sends the user to log in.
#[server]
pub async fn reset_password(token: String, new_password1: String, new_password2: String) -> Result<(), AppError> {
    let state = expect_context::<crate::state::AppState>();
    crate::accounts::service::reset_password(&state.db.pool, &state.hashing, &token, new_password1, new_password2)
        .await?;
    leptos_axum::redirect("/login?reset=1");
    Ok(())
}
