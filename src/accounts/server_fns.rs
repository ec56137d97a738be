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

    with_status(async move {
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
    })
    .await
}

/// Creates an account, logs it in and goes to `next` (a path on this site) or home.
#[server]
pub async fn register(
    username: String,
    email: String,
    password1: String,
    password2: String,
    next: Option<String>,
) -> Result<(), AccountError> {
    use crate::accounts::auth::AuthSession;
    use crate::accounts::service::{self, Registration};
    use crate::core::security::safe_next;

    with_status(async move {
        let state = expect_context::<crate::core::state::AppState>();
        let user = service::register(
            &state.db.pool,
            Registration {
                username,
                email,
                password1,
                password2,
            },
        )
        .await?;
        let mut session = leptos_axum::extract::<AuthSession>()
            .await
            .map_err(|e| server_error("session", e))?;
        session.login(&user).await.map_err(|e| server_error("login", e))?;
        leptos_axum::redirect(safe_next(next.as_deref().unwrap_or("/")));
        Ok(())
    })
    .await
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

/// Runs a server function body and gives its error the right status: 400 for form problems sent by a script (a
/// plain form post must stay a redirect back to the form, which Leptos makes), 500 for our own failures.
#[cfg(feature = "ssr")]
async fn with_status<T>(body: impl std::future::Future<Output = Result<T, AccountError>>) -> Result<T, AccountError> {
    use axum::http::{StatusCode, header, request::Parts};
    let result = body.await;
    if let Err(AccountError::Invalid(_)) = &result {
        let plain_form_post = use_context::<Parts>()
            .and_then(|parts| {
                parts
                    .headers
                    .get(header::ACCEPT)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.contains("text/html"))
            })
            .unwrap_or(false);
        if let (false, Some(response)) = (plain_form_post, use_context::<leptos_axum::ResponseOptions>()) {
            response.set_status(StatusCode::BAD_REQUEST);
        }
    }
    result
}

/// Logs the cause (the request span has its id) and answers with a fixed message.
#[cfg(feature = "ssr")]
fn server_error(what: &str, cause: impl std::fmt::Display) -> AccountError {
    tracing::error!(%cause, "{what} failed");
    AccountError::Server
}
