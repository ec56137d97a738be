//! Queries on the `users` table. Plain async functions on the pool; unique violations become field errors here,
//! at the edge, so callers never see database text.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, FromRow, Row};

use crate::core::db::now_millis;

/// A user as stored. Holds the password hash, so it is never serialised and its `Debug` hides the hash.
#[derive(Clone)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Unique (any case) login name.
    pub username: String,
    /// Unique (any case) email address.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// argon2id PHC string.
    pub password: String,
    /// Free text, at most 500 characters.
    pub bio: String,
    /// JSON object text: `ai_model`, `display_mode`, `language`, and any other keys clients stored.
    pub preferences: String,
    /// Inactive users cannot log in.
    pub is_active: bool,
    /// May use the admin pages.
    pub is_staff: bool,
    /// Has every permission.
    pub is_superuser: bool,
    /// Epoch milliseconds.
    pub date_joined: i64,
    /// Epoch milliseconds, updated on every change.
    pub date_modified: i64,
    /// Epoch milliseconds of the last successful login.
    pub last_login: Option<i64>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("is_active", &self.is_active)
            .field("is_staff", &self.is_staff)
            .field("password", &"***")
            .finish_non_exhaustive()
    }
}

impl FromRow<'_, AnyRow> for User {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        // Flags are INTEGER 0/1 on both backends (see the first migration).
        let flag = |name: &str| row.try_get::<i64, _>(name).map(|v| v != 0);
        Ok(Self {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            email: row.try_get("email")?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            password: row.try_get("password")?,
            bio: row.try_get("bio")?,
            preferences: row.try_get("preferences")?,
            is_active: flag("is_active")?,
            is_staff: flag("is_staff")?,
            is_superuser: flag("is_superuser")?,
            date_joined: row.try_get("date_joined")?,
            date_modified: row.try_get("date_modified")?,
            last_login: row.try_get("last_login")?,
        })
    }
}

/// The columns of [`User`], in the order `FromRow` reads them.
pub const COLUMNS: &str = "id, username, email, first_name, last_name, password, bio, preferences, is_active, is_staff, \
                       is_superuser, date_joined, date_modified, last_login";

/// What a new account needs; the password is already hashed.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// Login name.
    pub username: String,
    /// Email address.
    pub email: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Staff flag (never set by registration).
    pub is_staff: bool,
    /// Superuser flag (never set by registration).
    pub is_superuser: bool,
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// The username is taken (in any case).
    #[error("{}", crate::text!(accounts.field.username_taken))]
    UsernameTaken,
    /// The email is taken (in any case).
    #[error("{}", crate::text!(accounts.field.email_taken))]
    EmailTaken,
    /// Anything else.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Inserts a user; duplicates of username or email (any case) become [`CreateUserError`] variants.
pub async fn create(pool: &AnyPool, new: &NewUser) -> Result<i64, CreateUserError> {
    let now = now_millis();
    let result = sqlx::query_scalar::<_, i64>(
        "INSERT INTO users (username, email, password, is_staff, is_superuser, date_joined, date_modified) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(&new.username)
    .bind(&new.email)
    .bind(&new.password_hash)
    .bind(i64::from(new.is_staff))
    .bind(i64::from(new.is_superuser))
    .bind(now)
    .fetch_one(pool)
    .await;
    result.map_err(|e| match unique_violation(&e) {
        Some("users_username_key") => CreateUserError::UsernameTaken,
        Some("users_email_key") => CreateUserError::EmailTaken,
        _ => CreateUserError::Database(e),
    })
}

/// The index a unique violation broke. PostgreSQL names the constraint; SQLite only mentions it in the message.
fn unique_violation(error: &sqlx::Error) -> Option<&'static str> {
    let db = error.as_database_error()?;
    if !db.is_unique_violation() {
        return None;
    }
    let text = format!("{} {}", db.constraint().unwrap_or_default(), db.message());
    ["users_username_key", "users_email_key"]
        .into_iter()
        .find(|name| text.contains(name))
}

/// The user with this id.
pub async fn by_id(pool: &AnyPool, id: i64) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The user whose username (preferred) or email matches `login`, ignoring case.
pub async fn by_login(pool: &AnyPool, login: &str) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users WHERE lower(username) = lower($1) OR lower(email) = lower($1) \
         ORDER BY CASE WHEN lower(username) = lower($1) THEN 0 ELSE 1 END LIMIT 1"
    ))
    .bind(login)
    .fetch_optional(pool)
    .await
}

/// How many accounts exist.
pub async fn count(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await
}

/// The `limit` newest accounts, newest first.
pub async fn newest(pool: &AnyPool, limit: i64) -> Result<Vec<User>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users ORDER BY date_joined DESC, id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Whether a username or an email is already used (any case), for friendly form errors before inserting.
pub async fn taken(pool: &AnyPool, username: &str, email: &str) -> Result<(bool, bool), sqlx::Error> {
    let (name, mail): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM users WHERE lower(username) = lower($1)), \
                (SELECT COUNT(*) FROM users WHERE lower(email) = lower($2))",
    )
    .bind(username)
    .bind(email)
    .fetch_one(pool)
    .await?;
    Ok((name > 0, mail > 0))
}

/// Replaces the preferences (a JSON object's text).
pub async fn set_preferences(pool: &AnyPool, id: i64, preferences: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET preferences = $1, date_modified = $2 WHERE id = $3")
        .bind(preferences)
        .bind(now_millis())
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Records a successful login.
pub async fn touch_last_login(pool: &AnyPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET last_login = $1 WHERE id = $2")
        .bind(now_millis())
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// New values of the editable profile fields; `preferences` is the whole JSON object to store.
#[derive(Debug, Clone)]
pub struct ProfileUpdate {
    /// Email address.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Free text.
    pub bio: String,
    /// JSON object text.
    pub preferences: String,
}

/// Saves the profile; an email used by someone else (any case) is [`CreateUserError::EmailTaken`].
pub async fn update_profile(pool: &AnyPool, id: i64, update: &ProfileUpdate) -> Result<(), CreateUserError> {
    let result = sqlx::query(
        "UPDATE users SET email = $1, first_name = $2, last_name = $3, bio = $4, preferences = $5, \
         date_modified = $6 WHERE id = $7",
    )
    .bind(&update.email)
    .bind(&update.first_name)
    .bind(&update.last_name)
    .bind(&update.bio)
    .bind(&update.preferences)
    .bind(now_millis())
    .bind(id)
    .execute(pool)
    .await;
    result.map(|_| ()).map_err(|e| match unique_violation(&e) {
        Some("users_email_key") => CreateUserError::EmailTaken,
        _ => CreateUserError::Database(e),
    })
}

/// Makes the account `id` staff if it is the oldest account of the instance (no other account existed before it).
pub async fn make_staff_if_first(pool: &AnyPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET is_staff = 1 WHERE id = $1 AND id = (SELECT MIN(id) FROM users)")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Deletes the user; everything they own goes with them (foreign keys cascade). The last active staff account is
/// kept (`Ok(false)`): an instance always has someone to manage it. Staff rows are locked first, so two staff members
/// deleting themselves at once cannot both go.
pub async fn delete(pool: &AnyPool, id: i64) -> Result<bool, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE users SET is_staff = is_staff WHERE is_staff = 1 AND is_active = 1")
        .execute(&mut *tx)
        .await?;
    let (staff, others): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM users WHERE id = $1 AND is_staff = 1 AND is_active = 1), \
                (SELECT COUNT(*) FROM users WHERE id <> $1 AND is_staff = 1 AND is_active = 1)",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if staff > 0 && others == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}

impl<'a> From<&'a User> for crate::accounts::password::UserAttributes<'a> {
    /// The details of a stored user that a new password must not resemble.
    fn from(user: &'a User) -> Self {
        Self {
            username: &user.username,
            email: &user.email,
            first_name: &user.first_name,
            last_name: &user.last_name,
        }
    }
}
