//! Logging in and out, registering, and who the session user is.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::{auth_session, client_ip};
use crate::accounts::types::SessionUser;
use crate::core::error::AppError;

/// Logs in with a username or email and a password, then goes to `next` (a path on this site) or home.
#[server]
pub async fn login(login: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::core::document::safe_next_or;

    let state = expect_context::<crate::state::AppState>();
    let mut session = auth_session().await?;
    let ip = client_ip().await;
    let user =
        crate::accounts::service::log_in(&state.db.pool, &state.hashing, &mut session, &login, password, &ip).await?;
    crate::core::server_fn::set_cookie(&crate::core::security::new_csrf_cookie(&state.config));
    // The account's language, if it has one, becomes this browser's.
    if let Some(lang) = crate::accounts::service::preferred_language(&user) {
        crate::core::server_fn::set_cookie(&lang.cookie());
    }
    leptos_axum::redirect(safe_next_or(
        next.as_deref().unwrap_or_default(),
        crate::accounts::LANDING,
    ));
    Ok(())
}

/// Creates an account, logs it in and goes to `next` (a path on this site) or home.
#[server]
pub async fn register(
    username: String,
    email: String,
    password1: String,
    password2: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::accounts::service::{self, Registration};
    use crate::core::document::safe_next_or;

    let state = expect_context::<crate::state::AppState>();
    let user = service::register(
        &state.db.pool,
        &state.hashing,
        Registration {
            username,
            email,
            password1,
            password2,
        },
        state.config.security.first_user_is_staff,
    )
    .await?;
    let mut session = auth_session().await?;
    crate::accounts::auth::start_session(&mut session, &user).await?;
    crate::core::server_fn::set_cookie(&crate::core::security::new_csrf_cookie(&state.config));
    leptos_axum::redirect(safe_next_or(
        next.as_deref().unwrap_or_default(),
        crate::accounts::LANDING,
    ));
    Ok(())
}

/// Ends the session (its row is deleted) and goes home.
#[server]
pub async fn logout() -> Result<(), AppError> {
    let mut session = auth_session().await?;
    session.logout().await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// The logged-in user, if any.
#[server]
pub async fn current_user() -> Result<Option<SessionUser>, AppError> {
    let session = auth_session().await?;
    Ok(session.user.map(|u| SessionUser {
        id: u.id,
        username: u.username,
        is_staff: u.is_staff,
    }))
}
