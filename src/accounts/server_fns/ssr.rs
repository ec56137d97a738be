//! Server-only helpers of the accounts server functions: the session user, the client address, and the status a
//! failure gets.

use crate::accounts::types::AccountError;

/// The client's address (`core::client`), as text ("unknown" outside the middleware stack, as in tests that call the
/// router directly).
pub(super) async fn client_ip() -> String {
    let client: Result<crate::core::client::ClientAddr, _> = leptos_axum::extract().await;
    client.map_or_else(|_| "unknown".to_string(), |c| c.text())
}

/// The session's user if they are staff; `Unauthenticated` without a session, `Forbidden` for anyone else.
pub(crate) async fn require_staff() -> Result<crate::accounts::users::User, AccountError> {
    let (user, _) = require_user().await?;
    if user.is_staff && user.is_active {
        Ok(user)
    } else {
        Err(AccountError::Forbidden)
    }
}

/// The session's user, or `Unauthenticated`.
pub(super) async fn require_user()
-> Result<(crate::accounts::users::User, crate::accounts::auth::AuthSession), AccountError> {
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
pub(crate) fn server_error(what: &str, cause: impl std::fmt::Display) -> AccountError {
    tracing::error!(%cause, "{what} failed");
    AccountError::Server
}
