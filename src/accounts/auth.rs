//! Authentication with axum-login: who the session user is, and how credentials are checked.
//!
//! The session remembers the user's password hash (`session_auth_hash`), so changing the password ends every other
//! session of that user; the current one is kept by logging it in again.

use axum_login::{AuthManagerLayer, AuthManagerLayerBuilder, AuthUser, AuthnBackend, UserId};
use sqlx::AnyPool;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::accounts::password::Hashing;
use crate::accounts::sessions::DbSessionStore;
use crate::accounts::users::{self, User};
use crate::core::error::AppError;
use crate::state::AppState;

/// Name of the session cookie (Django's).
pub const SESSION_COOKIE: &str = "sessionid";

impl AuthUser for User {
    type Id = i64;

    fn id(&self) -> i64 {
        self.id
    }

    fn session_auth_hash(&self) -> &[u8] {
        self.password.as_bytes()
    }
}

/// What a login form sends: username or email, and the password.
#[derive(Clone)]
pub struct Credentials {
    /// Username or email address.
    pub login: String,
    /// The password as typed.
    pub password: String,
}

/// Looks users up in the database and checks passwords with argon2, within the server's hashing limits.
#[derive(Debug, Clone)]
pub struct Backend {
    pool: AnyPool,
    hashing: Hashing,
}

impl Backend {
    /// A backend on the application pool.
    pub fn new(pool: AnyPool, hashing: Hashing) -> Self {
        Self { pool, hashing }
    }
}

impl AuthnBackend for Backend {
    type User = User;
    type Credentials = Credentials;
    type Error = AppError;

    /// The active user these credentials belong to. An unknown login costs the same argon2 work as a wrong password;
    /// `Overloaded` when the hashing queue is full.
    async fn authenticate(&self, creds: Credentials) -> Result<Option<User>, AppError> {
        let user = users::by_login(&self.pool, &creds.login).await?;
        let valid = self
            .hashing
            .verify(creds.password, user.as_ref().map(|u| u.password.clone()))
            .await?;
        Ok(user.filter(|u| valid && u.is_active))
    }

    async fn get_user(&self, id: &UserId<Self>) -> Result<Option<User>, AppError> {
        Ok(users::by_id(&self.pool, *id).await?.filter(|u| u.is_active))
    }
}

/// The session of a request, with its user.
pub type AuthSession = axum_login::AuthSession<Backend>;

/// Logs `user` in on this session under a new session id, whatever the session held (axum-login only gives an
/// anonymous session a new id): an id planted in a browser before login is worthless after it. A session that
/// belonged to someone else starts empty, as Django's `login` does.
pub async fn start_session(session: &mut AuthSession, user: &User) -> Result<(), axum_login::Error<Backend>> {
    if session.user.as_ref().is_some_and(|current| current.id != user.id) {
        session.session.clear().await;
    }
    // Not `flush`: it keeps the record's id, which the store would then create again.
    session.session.cycle_id().await.map_err(axum_login::Error::Session)?;
    session.login(user).await
}

impl From<axum_login::Error<Backend>> for AppError {
    fn from(cause: axum_login::Error<Backend>) -> Self {
        match cause {
            axum_login::Error::Backend(error) => error,
            axum_login::Error::Session(cause) => Self::internal("session", cause),
        }
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(cause: tower_sessions::session::Error) -> Self {
        Self::internal("session", cause)
    }
}

/// Sessions in the database behind an HttpOnly, SameSite=Lax cookie (Secure per `SESSION_COOKIE_SECURE`), ending
/// after two weeks without use; and the login layer on top.
pub fn layer(state: &AppState) -> AuthManagerLayer<Backend, DbSessionStore> {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.pool.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.security.session_cookie_secure)
        .with_expiry(Expiry::OnInactivity(time::Duration::weeks(2)));
    AuthManagerLayerBuilder::new(Backend::new(state.db.pool.clone(), state.hashing.clone()), sessions).build()
}
