//! JSON Web Tokens for API clients (the pair of djangorestframework-simplejwt): a short-lived access token and a
//! refresh token, HS256-signed with the server's `SECRET_KEY`. Every refresh token is a database row; refreshing
//! spends it and issues the next one of the same family (rotation). Presenting a spent refresh token again means it
//! was stolen or replayed: the whole family is revoked, so neither holder can go on.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sqlx::AnyPool;

use crate::accounts::users::{self, User};
use crate::core::db::now_millis;

/// Lifetime of an access token (simplejwt's default).
pub const ACCESS_SECONDS: i64 = 5 * 60;
/// Lifetime of a refresh token (simplejwt's default).
pub const REFRESH_SECONDS: i64 = 24 * 60 * 60;

/// What a token says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Unique id of the token.
    pub jti: String,
    /// `access` or `refresh`.
    pub token_type: String,
    /// Access tokens: a mark of the account's password when issued (see `password_mark`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pwd: Option<String>,
}

/// A new access/refresh pair.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Pair {
    /// Short-lived bearer token for API calls.
    pub access: String,
    /// Long-lived token to get the next pair.
    pub refresh: String,
}

/// Why a token was refused (all answer 401 `token_not_valid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// Bad signature, malformed, wrong type or expired.
    Invalid,
    /// A refresh token that was already spent: its family is now revoked.
    Reused,
    /// The family was revoked (logout or reuse).
    Revoked,
    /// The user no longer exists or is inactive.
    NoUser,
}

/// Signs and checks tokens with one secret.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(***)")
    }
}

impl Keys {
    /// Keys derived from the server secret.
    pub fn new(secret: &str) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
        }
    }

    fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
    }

    /// The claims of a valid, unexpired token of `kind`.
    pub fn verify(&self, token: &str, kind: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        (claims.token_type == kind).then_some(claims)
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A short fingerprint of the account's password hash, carried by access tokens: a password change or reset changes
/// it, so access tokens issued before stop working at once rather than up to five minutes later. (The hash is salted;
/// eight bytes of its SHA-256 reveal nothing of the password.)
fn password_mark(user: &User) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(user.password.as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Locks the account's row until the transaction ends, then reads it. A password change, a reset and a deactivation
/// update that row too, so each of them and the transaction that called this happen one after the other: on
/// PostgreSQL through the row lock, on SQLite through the write lock this first write takes.
async fn lock_user(tx: &mut Tx, user_id: i64) -> Result<Option<User>, sqlx::Error> {
    sqlx::query("UPDATE users SET is_active = is_active WHERE id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query_as(&format!("SELECT {} FROM users WHERE id = $1", users::COLUMNS))
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await
}

async fn issue(tx: &mut Tx, keys: &Keys, user: &User, family: &str) -> Result<Pair, sqlx::Error> {
    let now_ms = now_millis();
    let now = now_ms / 1000;
    let claims = |kind: &str, lifetime: i64| Claims {
        sub: user.id.to_string(),
        exp: now + lifetime,
        iat: now,
        jti: new_id(),
        token_type: kind.to_string(),
        pwd: (kind == "access").then(|| password_mark(user)),
    };
    let access = claims("access", ACCESS_SECONDS);
    let refresh = claims("refresh", REFRESH_SECONDS);
    sqlx::query(
        "INSERT INTO jwt_refresh_tokens (jti, family, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&refresh.jti)
    .bind(family)
    .bind(user.id)
    .bind(now_ms)
    .bind(refresh.exp * 1000)
    .execute(&mut **tx)
    .await?;
    let sign = |c: &Claims| {
        keys.sign(c)
            .map_err(|e| sqlx::Error::Protocol(format!("jwt signing: {e}")))
    };
    Ok(Pair {
        access: sign(&access)?,
        refresh: sign(&refresh)?,
    })
}

/// A new pair (and a new family) for a user who just proved their password. `NoUser` when, meanwhile, the account
/// was deactivated or its password changed: a pair is never issued on a password that is no longer the account's.
pub async fn obtain(pool: &AnyPool, keys: &Keys, user: &User) -> Result<Result<Pair, Rejected>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    match lock_user(&mut tx, user.id).await? {
        Some(now) if now.is_active && now.password == user.password => {
            let pair = issue(&mut tx, keys, &now, &new_id()).await?;
            tx.commit().await?;
            Ok(Ok(pair))
        }
        _ => Ok(Err(Rejected::NoUser)),
    }
}

/// The next pair for a refresh token, spending it; a spent token revokes its family. The whole exchange is one
/// transaction that holds the account's row, so it cannot interleave with a password change, a reset or a
/// deactivation: a refresh either ends before them (and they revoke what it issued) or sees what they did.
pub async fn refresh(pool: &AnyPool, keys: &Keys, token: &str) -> Result<Result<Pair, Rejected>, sqlx::Error> {
    let Some(claims) = keys.verify(token, "refresh") else {
        return Ok(Err(Rejected::Invalid));
    };
    let Ok(claimed_user) = claims.sub.parse::<i64>() else {
        return Ok(Err(Rejected::Invalid));
    };
    let mut tx = pool.begin().await?;
    let user = lock_user(&mut tx, claimed_user).await?;
    let row: Option<(String, i64, Option<i64>, Option<i64>)> =
        sqlx::query_as("SELECT family, user_id, used_at, revoked_at FROM jwt_refresh_tokens WHERE jti = $1")
            .bind(&claims.jti)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((family, user_id, used_at, revoked_at)) = row.filter(|(_, owner, _, _)| *owner == claimed_user) else {
        return Ok(Err(Rejected::Invalid));
    };
    if revoked_at.is_some() {
        return Ok(Err(Rejected::Revoked));
    }
    if used_at.is_some() {
        // Spent before: stolen or replayed. Neither holder goes on.
        revoke_family(&mut tx, &family).await?;
        tx.commit().await?;
        tracing::warn!(user_id, "refresh token reused: its family is revoked");
        return Ok(Err(Rejected::Reused));
    }
    let Some(user) = user.filter(|u| u.is_active) else {
        return Ok(Err(Rejected::NoUser));
    };
    sqlx::query("UPDATE jwt_refresh_tokens SET used_at = $1 WHERE jti = $2")
        .bind(now_millis())
        .bind(&claims.jti)
        .execute(&mut *tx)
        .await?;
    let pair = issue(&mut tx, keys, &user, &family).await?;
    tx.commit().await?;
    Ok(Ok(pair))
}

async fn revoke_family(tx: &mut Tx, family: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE jwt_refresh_tokens SET revoked_at = $1 WHERE family = $2 AND revoked_at IS NULL")
        .bind(now_millis())
        .bind(family)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets a new password hash and revokes every refresh token of the account, in one transaction that holds the
/// account's row (see [`refresh`]): API clients must obtain a new pair, and access tokens stop working at once (they
/// carry a mark of the old password). Web sessions end through their own mark of the password (`session_auth_hash`).
pub async fn set_password(pool: &AnyPool, user_id: i64, password_hash: &str) -> Result<(), sqlx::Error> {
    let now = now_millis();
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE users SET password = $1, date_modified = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE jwt_refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

/// Revokes the family of a refresh token (logout of an API client).
pub async fn revoke(pool: &AnyPool, keys: &Keys, token: &str) -> Result<Result<(), Rejected>, sqlx::Error> {
    let Some(claims) = keys.verify(token, "refresh") else {
        return Ok(Err(Rejected::Invalid));
    };
    let mut tx = pool.begin().await?;
    let family: Option<(String,)> = sqlx::query_as("SELECT family FROM jwt_refresh_tokens WHERE jti = $1")
        .bind(&claims.jti)
        .fetch_optional(&mut *tx)
        .await?;
    let Some((family,)) = family else {
        return Ok(Err(Rejected::Invalid));
    };
    revoke_family(&mut tx, &family).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// The active user of a valid access token.
pub async fn authenticate(pool: &AnyPool, keys: &Keys, token: &str) -> Result<Result<User, Rejected>, sqlx::Error> {
    let Some(claims) = keys.verify(token, "access") else {
        return Ok(Err(Rejected::Invalid));
    };
    let Ok(user_id) = claims.sub.parse::<i64>() else {
        return Ok(Err(Rejected::Invalid));
    };
    Ok(match users::by_id(pool, user_id).await? {
        // A token from before the account's last password change (or without its mark) is over.
        Some(user) if claims.pwd.as_deref() != Some(password_mark(&user).as_str()) => Err(Rejected::Revoked),
        Some(user) if user.is_active => Ok(user),
        _ => Err(Rejected::NoUser),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_check_signature_type_and_expiry() {
        let keys = Keys::new("a-secret-of-enough-length-for-hs256-0123456789");
        let now = now_millis() / 1000;
        let claims = |kind: &str, exp: i64| Claims {
            sub: "7".into(),
            exp,
            iat: now,
            jti: new_id(),
            token_type: kind.into(),
            pwd: None,
        };
        let access = keys.sign(&claims("access", now + 60)).expect("sign");
        assert_eq!(keys.verify(&access, "access").map(|c| c.sub), Some("7".into()));
        assert!(keys.verify(&access, "refresh").is_none(), "type is checked");
        let expired = keys.sign(&claims("access", now - 1)).expect("sign");
        assert!(keys.verify(&expired, "access").is_none(), "expiry is checked");
        let other = Keys::new("another-secret-of-enough-length-0123456789abc");
        assert!(other.verify(&access, "access").is_none(), "signature is checked");
        let mut parts: Vec<&str> = access.split('.').collect();
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        parts[0] = none_header;
        assert!(keys.verify(&parts.join("."), "access").is_none(), "alg=none is refused");
    }
}
