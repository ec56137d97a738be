//! Server functions of accounts. Each is a public POST endpoint under `/_server/`: it checks its input itself, and
//! the cross-origin check of `core::security` has already run. They work as plain form posts too (no JavaScript):
//! success redirects, and errors come back to the form through the URL.

use leptos::prelude::*;

use crate::accounts::types::{AccountError, SessionUser};
#[cfg(feature = "ssr")]
use crate::accounts::types::{FormErrors, NON_FIELD};

/// Logs in with a username or email and a password, then goes to `next` (a path on this site) or home.
#[server]
pub async fn login(login: String, password: String, next: Option<String>) -> Result<(), AccountError> {
    use crate::accounts::auth::{AuthSession, Credentials};
    use crate::accounts::users;
    use crate::core::security::safe_next;

    let login = login.trim().to_string();
    let mut errors = FormErrors::default();
    errors.keep("login", &login);
    if login.is_empty() {
        errors.add("login", "This field may not be blank.");
    }
    if password.is_empty() {
        errors.add("password", "This field may not be blank.");
    }
    if !errors.is_empty() {
        return Err(AccountError::Invalid(errors));
    }
    let mut session = leptos_axum::extract::<AuthSession>()
        .await
        .map_err(|e| server_error("session", e))?;
    let user = session
        .authenticate(Credentials { login, password })
        .await
        .map_err(|e| server_error("login", e))?;
    let Some(user) = user else {
        errors.add(NON_FIELD, "Please enter a correct username or email and password.");
        return Err(AccountError::Invalid(errors));
    };
    // `login` gives the session a new id, so an id planted before login is worthless.
    session.login(&user).await.map_err(|e| server_error("login", e))?;
    let state = expect_context::<crate::core::state::AppState>();
    if let Err(e) = users::touch_last_login(&state.db.pool, user.id).await {
        tracing::warn!(error = %e, "could not record last login");
    }
    leptos_axum::redirect(safe_next(next.as_deref().unwrap_or("/")));
    Ok(())
}

/// Ends the session (its row is deleted) and goes home.
#[server]
pub async fn logout() -> Result<(), AccountError> {
    use crate::accounts::auth::AuthSession;
    let mut session = leptos_axum::extract::<AuthSession>()
        .await
        .map_err(|e| server_error("session", e))?;
    session.logout().await.map_err(|e| server_error("logout", e))?;
    leptos_axum::redirect("/");
    Ok(())
}

/// The logged-in user, if any.
#[server]
pub async fn current_user() -> Result<Option<SessionUser>, AccountError> {
    use crate::accounts::auth::AuthSession;
    let session = leptos_axum::extract::<AuthSession>()
        .await
        .map_err(|e| server_error("session", e))?;
    Ok(session.user.map(|u| SessionUser {
        id: u.id,
        username: u.username,
        is_staff: u.is_staff,
    }))
}

/// Logs the cause (the request span has its id) and answers with a fixed message.
#[cfg(feature = "ssr")]
fn server_error(what: &str, cause: impl std::fmt::Display) -> AccountError {
    tracing::error!(%cause, "{what} failed");
    AccountError::Server
}
