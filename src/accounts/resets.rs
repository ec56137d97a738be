//! Password reset tokens: 256 random bits, sent once by email and stored only as a SHA-256 hash; single use,
//! valid for one hour, and dead as soon as the password changes (the link remembers a fingerprint of the hash).

use sha2::{Digest, Sha256};
use sqlx::AnyPool;

use crate::accounts::users::{self, User};
use crate::core::db::now_millis;

/// How long a link works.
pub const LIFETIME_MILLIS: i64 = 60 * 60 * 1000;

pub(crate) fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new random token (two v4 UUIDs: 244 random bits from the OS generator), hex-encoded.
pub(crate) fn new_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// Makes a token for `user` and returns it; only its hash is stored.
pub async fn create(pool: &AnyPool, user: &User) -> Result<String, sqlx::Error> {
    let token = new_token();
    let now = now_millis();
    sqlx::query(
        "INSERT INTO password_resets (token_hash, user_id, password_fingerprint, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(sha256_hex(&token))
    .bind(user.id)
    .bind(sha256_hex(&user.password))
    .bind(now)
    .bind(now + LIFETIME_MILLIS)
    .execute(pool)
    .await?;
    Ok(token)
}

/// The active user a token is still good for: unused, unexpired, and the password unchanged since it was made.
pub async fn user_for(pool: &AnyPool, token: &str) -> Result<Option<User>, sqlx::Error> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT user_id, password_fingerprint FROM password_resets \
         WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(sha256_hex(token))
    .bind(now_millis())
    .fetch_optional(pool)
    .await?;
    let Some((user_id, fingerprint)) = row else {
        return Ok(None);
    };
    let user = users::by_id(pool, user_id).await?;
    Ok(user.filter(|u| u.is_active && sha256_hex(&u.password) == fingerprint))
}

/// Marks a token used; false when it was already used (a concurrent second use loses).
pub async fn consume(pool: &AnyPool, token: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
        .bind(now_millis())
        .bind(sha256_hex(token))
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (super::new_token(), super::new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(
            super::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
