//! Server functions of accounts. Each is a public POST endpoint under `/_server/`: it checks its input itself, and
//! the cross-origin check of `core::security` has already run. They work as plain form posts too (no JavaScript):
//! success redirects, and errors come back to the form through the URL.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::accounts::types::FormErrors;
use crate::accounts::types::{AccountError, Profile, SessionUser, TokensView};

/// Logs in with a username or email and a password, then goes to `next` (a path on this site) or home.
#[server]
pub async fn login(login: String, password: String, next: Option<String>) -> Result<(), AccountError> {
    use crate::core::security::safe_next;

    with_status(async move {
        let state = expect_context::<crate::state::AppState>();
        let mut session = leptos_axum::extract::<crate::accounts::auth::AuthSession>()
            .await
            .map_err(|e| server_error("session", e))?;
        let ip = client_ip().await;
        let user = crate::accounts::service::log_in(&state.db.pool, &mut session, &login, password, &ip).await?;
        crate::core::server_fn::set_cookie(&crate::core::security::new_csrf_cookie(&state.config));
        // The account's language, if it has one, becomes this browser's.
        if let Some(lang) = crate::accounts::service::preferred_language(&user) {
            crate::core::server_fn::set_cookie(&lang.cookie());
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
        let state = expect_context::<crate::state::AppState>();
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
        crate::accounts::auth::start_session(&mut session, &user)
            .await
            .map_err(|e| server_error("login", e))?;
        crate::core::server_fn::set_cookie(&crate::core::security::new_csrf_cookie(&state.config));
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

/// The logged-in user's profile and preferences.
#[server]
pub async fn get_profile() -> Result<Profile, AccountError> {
    with_status(async move {
        let (user, _) = require_user().await?;
        let state = expect_context::<crate::state::AppState>();
        let models = state.chat.provider.models().await.into_iter().map(|m| m.id).collect();
        Ok(crate::accounts::service::profile_of(
            &user,
            &state.config.ai.default_model,
            models,
            crate::core::i18n::Lang::current(),
        ))
    })
    .await
}

/// Saves names, email, bio and preferences of the logged-in user.
#[server]
#[allow(clippy::too_many_arguments)] // one argument per form field
pub async fn update_profile(
    email: String,
    first_name: String,
    last_name: String,
    bio: String,
    ai_model: String,
    display_mode: String,
    language: String,
) -> Result<(), AccountError> {
    use crate::accounts::service::{self, ProfileForm};
    with_status(async move {
        let (user, _) = require_user().await?;
        let state = expect_context::<crate::state::AppState>();
        let theme = crate::core::theme::Theme::parse(&display_mode);
        let lang = crate::core::i18n::Lang::parse(&language);
        let form = ProfileForm {
            email,
            first_name,
            last_name,
            bio,
            ai_model,
            display_mode,
            language: Some(language),
        };
        let models: Vec<String> = state.chat.provider.models().await.into_iter().map(|m| m.id).collect();
        service::update_profile(&state.db.pool, &user, &models, form, serde_json::Map::new()).await?;
        // The display mode and the language apply at once: their cookies follow the saved preferences.
        if let Some(theme) = theme {
            crate::core::server_fn::set_cookie(&theme.cookie());
        }
        if let Some(lang) = lang {
            crate::core::server_fn::set_cookie(&lang.cookie());
        }
        leptos_axum::redirect("/settings?saved=1");
        Ok(())
    })
    .await
}

/// Changes the password of the logged-in user; their other sessions end, this one stays.
#[server]
pub async fn change_password(
    old_password: String,
    new_password1: String,
    new_password2: String,
) -> Result<(), AccountError> {
    with_status(async move {
        let (user, mut session) = require_user().await?;
        let state = expect_context::<crate::state::AppState>();
        let updated = crate::accounts::service::change_password(
            &state.db.pool,
            &user,
            old_password,
            new_password1,
            new_password2,
        )
        .await?;
        // The session stores the password hash; logging in again with the new one keeps this session valid, under a
        // new id (as Django's `update_session_auth_hash` does).
        crate::accounts::auth::start_session(&mut session, &updated)
            .await
            .map_err(|e| server_error("login", e))?;
        leptos_axum::redirect("/settings?password_changed=1");
        Ok(())
    })
    .await
}

/// Deletes the logged-in user's account and everything it owns, after checking the password, then logs out.
#[server]
pub async fn delete_account(password: String) -> Result<(), AccountError> {
    with_status(async move {
        let (user, mut session) = require_user().await?;
        let state = expect_context::<crate::state::AppState>();
        if !crate::accounts::password::verify(password, Some(user.password.clone())).await {
            let mut errors = FormErrors::default();
            errors.add("password", "Your password was entered incorrectly.");
            return Err(AccountError::Invalid(errors));
        }
        crate::accounts::users::delete(&state.db.pool, user.id)
            .await
            .map_err(|e| server_error("delete account", e))?;
        session.logout().await.map_err(|e| server_error("logout", e))?;
        tracing::info!(user_id = user.id, "account deleted");
        leptos_axum::redirect("/?account_deleted=1");
        Ok(())
    })
    .await
}

/// Session key of a token's key between its creation and its one display.
#[cfg(feature = "ssr")]
const NEW_KEY: &str = "new_api_key";

/// The logged-in user's personal API tokens, and the key of one just created (then forgotten).
#[server]
pub async fn list_api_tokens() -> Result<TokensView, AccountError> {
    with_status(async move {
        let (user, session) = require_user().await?;
        let state = expect_context::<crate::state::AppState>();
        let tokens = crate::accounts::api_tokens::list(&state.db.pool, user.id)
            .await
            .map_err(|e| server_error("list tokens", e))?;
        let new_key = session
            .session
            .remove::<String>(NEW_KEY)
            .await
            .map_err(|e| server_error("session", e))?;
        let now = crate::core::db::now_millis();
        let when = crate::core::time::minute;
        Ok(TokensView {
            tokens: tokens
                .into_iter()
                .map(|t| crate::accounts::types::TokenRow {
                    id: t.id,
                    name: t.name,
                    prefix: t.prefix,
                    created: when(t.created_at),
                    expires: t.expires_at.map(when),
                    expired: t.expires_at.is_some_and(|at| at <= now),
                    last_used: t.last_used_at.map(when),
                })
                .collect(),
            new_key,
        })
    })
    .await
}

/// Creates a personal API token; its key is shown once by the tokens page.
#[server]
pub async fn create_api_token(name: String, expires_in_days: String) -> Result<(), AccountError> {
    with_status(async move {
        let (user, session) = require_user().await?;
        let state = expect_context::<crate::state::AppState>();
        let days = match expires_in_days.trim() {
            "" => None,
            text => match text.parse::<i64>() {
                Ok(days) => Some(days),
                Err(_) => {
                    let mut errors = FormErrors::default();
                    errors.keep("name", &name);
                    errors.add("expires_in_days", "Choose a lifetime from the list.");
                    return Err(AccountError::Invalid(errors));
                }
            },
        };
        let created = crate::accounts::api_tokens::create(&state.db.pool, &user, &name, days)
            .await
            .map_err(|e| server_error("create token", e))?
            .map_err(AccountError::Invalid)?;
        session
            .session
            .insert(NEW_KEY, created.key)
            .await
            .map_err(|e| server_error("session", e))?;
        leptos_axum::redirect("/settings/tokens?created=1");
        Ok(())
    })
    .await
}

/// Revokes one of the logged-in user's API tokens.
#[server]
pub async fn revoke_api_token(id: String) -> Result<(), AccountError> {
    with_status(async move {
        let (user, _) = require_user().await?;
        let state = expect_context::<crate::state::AppState>();
        // Not a number, or not one of the user's tokens: nothing to revoke.
        if let Ok(id) = id.parse::<i64>() {
            crate::accounts::api_tokens::revoke(&state.db.pool, user.id, id)
                .await
                .map_err(|e| server_error("revoke token", e))?;
        }
        leptos_axum::redirect("/settings/tokens?revoked=1");
        Ok(())
    })
    .await
}

/// Emails a reset link if an account has this address; answers the same either way.
#[server]
pub async fn request_password_reset(email: String) -> Result<(), AccountError> {
    with_status(async move {
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
    })
    .await
}

/// Sets a new password with the token of a reset link, then sends the user to log in.
#[server]
pub async fn reset_password(token: String, new_password1: String, new_password2: String) -> Result<(), AccountError> {
    with_status(async move {
        let state = expect_context::<crate::state::AppState>();
        crate::accounts::service::reset_password(&state.db.pool, &token, new_password1, new_password2).await?;
        leptos_axum::redirect("/login?reset=1");
        Ok(())
    })
    .await
}

/// The page each form of these server functions is on: where a failed no-JavaScript post goes back to when its
/// `Referer` is not a page of this site (`core::security::FormPages`).
#[cfg(feature = "ssr")]
pub fn form_pages() -> Vec<(&'static str, &'static str)> {
    use leptos::server_fn::ServerFn;
    vec![
        (Login::PATH, "/login"),
        (Register::PATH, "/register"),
        (Logout::PATH, "/"),
        (UpdateProfile::PATH, "/settings"),
        (ChangePassword::PATH, "/settings/password"),
        (DeleteAccount::PATH, "/settings"),
        (CreateApiToken::PATH, "/settings/tokens"),
        (RevokeApiToken::PATH, "/settings/tokens"),
        (RequestPasswordReset::PATH, "/forgot-password"),
        // The reset page's own address holds the token; without it, the user asks for a new link.
        (ResetPassword::PATH, "/forgot-password"),
    ]
}

/// The client's address as the server saw it ("unknown" when the connection info is missing, as in tests that call
/// the router directly).
#[cfg(feature = "ssr")]
async fn client_ip() -> String {
    use crate::core::client::ClientAddr;
    leptos_axum::extract::<axum::Extension<ClientAddr>>()
        .await
        .map_or_else(|_| "unknown".to_string(), |axum::Extension(c)| c.text())
}

/// The session's user if they are staff; `Unauthenticated` without a session, `Forbidden` for anyone else.
#[cfg(feature = "ssr")]
pub(crate) async fn require_staff() -> Result<crate::accounts::users::User, AccountError> {
    let (user, _) = require_user().await?;
    if user.is_staff && user.is_active {
        Ok(user)
    } else {
        Err(AccountError::Forbidden)
    }
}

/// The session's user, or `Unauthenticated`.
#[cfg(feature = "ssr")]
async fn require_user() -> Result<(crate::accounts::users::User, crate::accounts::auth::AuthSession), AccountError> {
    let session = leptos_axum::extract::<crate::accounts::auth::AuthSession>()
        .await
        .map_err(|e| server_error("session", e))?;
    match session.user.clone() {
        Some(user) => Ok((user, session)),
        None => Err(AccountError::Unauthenticated),
    }
}

/// Runs a server function body and gives its error the right status for scripts: 400 for form problems, 401 without
/// a session, 500 for our own failures. A plain form post stays a redirect back to the form (Leptos makes it). Form
/// messages are translated into the page's language.
#[cfg(feature = "ssr")]
pub(crate) async fn with_status<T>(
    body: impl std::future::Future<Output = Result<T, AccountError>>,
) -> Result<T, AccountError> {
    use axum::http::StatusCode;
    let lang = crate::core::i18n::Lang::current();
    let result = body.await.map_err(|e| match e {
        AccountError::Invalid(mut errors) => {
            for messages in errors.fields.values_mut() {
                for message in messages.iter_mut() {
                    *message = crate::core::i18n::translate(lang, message);
                }
            }
            AccountError::Invalid(errors)
        }
        other => other,
    });
    let status = match &result {
        Err(AccountError::Invalid(_)) => StatusCode::BAD_REQUEST,
        Err(AccountError::Unauthenticated) => StatusCode::UNAUTHORIZED,
        Err(AccountError::Forbidden) => StatusCode::FORBIDDEN,
        Err(AccountError::Throttled(_)) => StatusCode::TOO_MANY_REQUESTS,
        _ => return result,
    };
    crate::core::server_fn::set_script_status(status);
    result
}

/// Logs the cause (the request span has its id) and answers with a fixed message.
#[cfg(feature = "ssr")]
pub(crate) fn server_error(what: &str, cause: impl std::fmt::Display) -> AccountError {
    tracing::error!(%cause, "{what} failed");
    AccountError::Server
}
