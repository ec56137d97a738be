//! Server-only helpers of the accounts server functions: the session user and the client address.

use crate::core::error::AppError;

/// The client's address (`core::client`), as text ("unknown" outside the middleware stack, as in tests that call the
/// router directly).
pub(crate) async fn client_ip() -> String {
    let client: Result<crate::core::client::ClientAddr, _> = leptos_axum::extract().await;
    client.map_or_else(|_| "unknown".to_string(), |c| c.text())
}

/// The session's user if they are staff; `Unauthenticated` without a session, `Forbidden` for anyone else.
pub(crate) async fn require_staff() -> Result<crate::accounts::users::User, AppError> {
    let (user, _) = require_user().await?;
    if user.is_staff && user.is_active {
        Ok(user)
    } else {
        Err(AppError::Forbidden(crate::core::error::Refusal::Permission))
    }
}

/// The session's user, or `Unauthenticated`.
pub(crate) async fn require_user()
-> Result<(crate::accounts::users::User, crate::accounts::auth::AuthSession), AppError> {
    let session = auth_session().await?;
    match session.user.clone() {
        Some(user) => Ok((user, session)),
        None => Err(AppError::Unauthenticated),
    }
}

/// The request's login session.
pub(crate) async fn auth_session() -> Result<crate::accounts::auth::AuthSession, AppError> {
    leptos_axum::extract::<crate::accounts::auth::AuthSession>()
        .await
        .map_err(|e| AppError::internal("session", e))
}
