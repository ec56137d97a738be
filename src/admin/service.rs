//! What staff can do to accounts, shared by the admin pages and `/api/admin/`: list and search users with their
//! activity this month, activate or deactivate them, grant or revoke staff, send a password-reset mail, delete them —
//! each action written to the audit log in the same transaction as the change. Server only.
//!
//! The rules that keep an instance manageable: nobody deactivates, demotes or deletes their own account, and the last
//! active staff account cannot be deactivated, demoted or deleted. Both are checked inside the write's transaction
//! after locking every active staff row, so two staff members demoting each other at the same moment cannot leave the
//! instance without one (on PostgreSQL with several instances as on SQLite).

use serde_json::json;
use sqlx::{AnyPool, Row};

use crate::accounts::users::User;
use crate::admin::audit::{self, Entry};
use crate::admin::types::{AuditRow, UserOrdering, UserQuery, UserRow};
use crate::core::db::{Db, now_millis};
use crate::core::error::AppError;
use crate::text;

/// Users per page of the admin list.
pub const PAGE_SIZE: i64 = 50;

/// Who acts, and from where (for the audit log).
#[derive(Debug, Clone)]
pub struct Actor {
    /// The staff account.
    pub user: User,
    /// The client's address as text.
    pub addr: String,
}

/// A page of users as `query` asks, and how many match.
pub async fn list_users(db: &Db, query: &UserQuery) -> Result<(Vec<UserRow>, i64), AppError> {
    select_users(db, query, 0).await
}

/// Pages past this one are empty anyway (and their offset would overflow).
const MAX_PAGE: i64 = 1_000_000;

/// [`list_users`], or only the account `only_id` when it is not 0.
async fn select_users(db: &Db, query: &UserQuery, only_id: i64) -> Result<(Vec<UserRow>, i64), AppError> {
    let search = query.search.trim().to_lowercase();
    let like = format!(
        "%{}%",
        search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
    );
    let filter = "($2 = '' OR lower(u.username) LIKE $3 ESCAPE '\\' OR lower(u.email) LIKE $3 ESCAPE '\\' \
                  OR lower(u.first_name || ' ' || u.last_name) LIKE $3 ESCAPE '\\') AND ($6 = 0 OR u.id = $6)";
    let key = match query.ordering {
        UserOrdering::Joined => "u.date_joined",
        UserOrdering::LastLogin => "COALESCE(u.last_login, 0)",
        UserOrdering::Messages => "messages",
        UserOrdering::Tokens => "tokens",
        UserOrdering::Username => "lower(u.username)",
    };
    let dir = if query.descending { "DESC" } else { "ASC" };
    let page = query.page.clamp(1, MAX_PAGE);
    let sql = format!(
        "SELECT u.id, u.username, u.email, u.first_name, u.last_name, u.is_active, u.is_staff, u.is_superuser, \
                u.date_joined, \
                u.last_login, CAST(COALESCE(s.messages, 0) AS BIGINT) AS messages, \
                CAST(COALESCE(s.tokens, 0) AS BIGINT) AS tokens \
         FROM users u LEFT JOIN ( \
             SELECT user_id, SUM(CASE WHEN kind = 'reply' THEN 1 ELSE 0 END) AS messages, \
                    SUM(prompt_tokens + completion_tokens) AS tokens \
             FROM usage_events WHERE created_at >= $1 GROUP BY user_id \
         ) s ON s.user_id = u.id \
         WHERE {filter} ORDER BY {key} {dir}, u.id {dir} LIMIT $4 OFFSET $5"
    );
    let rows = sqlx::query(&sql)
        .bind(crate::chat::quota::month_start(now_millis()))
        .bind(&search)
        .bind(&like)
        .bind(PAGE_SIZE)
        .bind((page - 1).saturating_mul(PAGE_SIZE))
        .bind(only_id)
        .fetch_all(&db.pool)
        .await?;
    let flag = |row: &sqlx::any::AnyRow, name: &str| row.try_get::<i64, _>(name).map(|v| v != 0);
    let mut users = Vec::with_capacity(rows.len());
    for row in rows {
        let mut user = UserRow {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            email: row.try_get("email")?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            is_active: flag(&row, "is_active")?,
            is_staff: flag(&row, "is_staff")?,
            is_superuser: flag(&row, "is_superuser")?,
            date_joined: row.try_get("date_joined")?,
            last_login: row.try_get("last_login")?,
            joined_text: String::new(),
            last_login_text: None,
            messages_this_month: row.try_get("messages")?,
            tokens_this_month: row.try_get("tokens")?,
        };
        user.joined_text = crate::core::time::minute(user.date_joined);
        user.last_login_text = user.last_login.map(crate::core::time::minute);
        users.push(user);
    }
    let count: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM users u WHERE $1 = $1 AND $4 = $4 AND $5 = $5 AND {filter}"
    ))
    .bind(0_i64)
    .bind(&search)
    .bind(&like)
    .bind(0_i64)
    .bind(0_i64)
    .bind(only_id)
    .fetch_one(&db.pool)
    .await?;
    Ok((users, count))
}

/// One user's row of the list.
pub async fn user_row(db: &Db, id: i64) -> Result<UserRow, AppError> {
    let (rows, _) = select_users(db, &UserQuery::default(), id).await?;
    rows.into_iter().next().ok_or(AppError::NotFound)
}

/// A change of an account's flags; `None` leaves a flag as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlagChange {
    /// Activate (`true`) or deactivate.
    pub is_active: Option<bool>,
    /// Grant (`true`) or revoke staff.
    pub is_staff: Option<bool>,
}

/// Applies `change` to the account `id`, audited. Deactivating ends the account's sessions, deletes its API tokens
/// and revokes its JWT refresh tokens, in the same transaction.
pub async fn change_flags(db: &Db, actor: &Actor, id: i64, change: FlagChange) -> Result<(), AppError> {
    update_user(db, actor, id, change, None).await
}

/// Applies a change of flags and, with `quota`, of the account's own limits (already checked with
/// `quota::check_limit`), in one transaction: both happen or neither does. Every effective change is audited, with
/// what it was before read under the same locks, so two staff saving at once each leave a true entry.
pub async fn update_user(
    db: &Db,
    actor: &Actor,
    id: i64,
    change: FlagChange,
    quota: Option<crate::chat::quota::QuotaOverride>,
) -> Result<(), AppError> {
    let mut tx = db.pool.begin().await?;
    let superuser = lock_staff(&mut tx, actor).await?;
    let target = target(&mut tx, id).await?;
    let own = target.id == actor.user.id;
    // A superuser (made on the command line) answers only to another superuser.
    if target.is_superuser && !superuser {
        if change.is_active == Some(false) && target.is_active {
            return Err(AppError::invalid("is_active", text!(admin.rules.superuser_only)));
        }
        if change.is_staff == Some(false) && target.is_staff {
            return Err(AppError::invalid("is_staff", text!(admin.rules.superuser_only)));
        }
    }
    if change.is_active == Some(false) && target.is_active {
        if own {
            return Err(AppError::invalid(
                "is_active",
                text!(admin.rules.not_yourself_deactivate),
            ));
        }
        if target.is_staff && active_staff(&mut tx).await? <= 1 {
            return Err(AppError::invalid("is_active", text!(admin.rules.last_staff)));
        }
    }
    if change.is_staff == Some(false) && target.is_staff {
        if own {
            return Err(AppError::invalid("is_staff", text!(admin.rules.not_yourself_demote)));
        }
        if target.is_active && active_staff(&mut tx).await? <= 1 {
            return Err(AppError::invalid("is_staff", text!(admin.rules.last_staff)));
        }
    }
    // The target's row is locked from here on (PostgreSQL; SQLite holds its write lock since `lock_staff`).
    sqlx::query("UPDATE users SET is_active = is_active WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let now = now_millis();
    if let Some(active) = change.is_active.filter(|a| *a != target.is_active) {
        sqlx::query("UPDATE users SET is_active = $1, date_modified = $2 WHERE id = $3")
            .bind(i64::from(active))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if !active {
            end_access(&mut tx, id, now).await?;
        }
        let action = if active { "user.activate" } else { "user.deactivate" };
        audit::record(&mut tx, &entry(actor, action, &target, json!({}))).await?;
    }
    if let Some(staff) = change.is_staff.filter(|s| *s != target.is_staff) {
        sqlx::query("UPDATE users SET is_staff = $1, date_modified = $2 WHERE id = $3")
            .bind(i64::from(staff))
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let action = if staff { "user.grant_staff" } else { "user.revoke_staff" };
        audit::record(&mut tx, &entry(actor, action, &target, json!({}))).await?;
    }
    if let Some(quota) = quota {
        use crate::chat::quota as quotas;
        let before = quotas::override_of(&mut *tx, id).await?;
        if before != quota {
            quotas::set_override(&mut tx, id, quota).await?;
            let details = json!({"from": before, "to": quota});
            audit::record(&mut tx, &entry(actor, "user.set_quota", &target, details)).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes the account `id` and everything it owns (conversations, messages, tokens, sessions), audited.
pub async fn delete_user(db: &Db, actor: &Actor, id: i64) -> Result<(), AppError> {
    let mut tx = db.pool.begin().await?;
    let superuser = lock_staff(&mut tx, actor).await?;
    let target = target(&mut tx, id).await?;
    if target.is_superuser && !superuser {
        return Err(AppError::invalid(
            crate::core::error::NON_FIELD,
            text!(admin.rules.superuser_only),
        ));
    }
    if target.id == actor.user.id {
        return Err(AppError::invalid(
            crate::core::error::NON_FIELD,
            text!(admin.rules.not_yourself_delete),
        ));
    }
    if target.is_staff && target.is_active && active_staff(&mut tx).await? <= 1 {
        return Err(AppError::invalid(
            crate::core::error::NON_FIELD,
            text!(admin.rules.last_staff),
        ));
    }
    let conversations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations WHERE user_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let details = json!({"email": target.email, "conversations": conversations});
    audit::record(&mut tx, &entry(actor, "user.delete", &target, details)).await?;
    tx.commit().await?;
    Ok(())
}

/// Sends the account `id` a password-reset mail (in its language), audited. An inactive account gets none.
pub async fn send_reset(
    db: &Db,
    outbox: &crate::core::mail::Outbox,
    config: &crate::core::config::Config,
    actor: &Actor,
    id: i64,
) -> Result<(), AppError> {
    let target = crate::accounts::users::by_id(&db.pool, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !target.is_active {
        return Err(AppError::invalid(
            crate::core::error::NON_FIELD,
            text!(admin.rules.inactive_no_reset),
        ));
    }
    let mail = crate::accounts::service::reset_mail_for(&db.pool, config, &target).await?;
    let mut tx = db.pool.begin().await?;
    audit::record(
        &mut tx,
        &entry(actor, "user.send_reset", &target, json!({"email": target.email})),
    )
    .await?;
    tx.commit().await?;
    outbox.post(async move { Some(mail) });
    Ok(())
}

/// A page of the audit log, newest first, and how many entries there are.
pub async fn audit_page(pool: &AnyPool, page: i64) -> Result<(Vec<AuditRow>, i64), AppError> {
    Ok(audit::page(pool, page.max(1), PAGE_SIZE).await?)
}

fn entry(actor: &Actor, action: &'static str, target: &User, details: serde_json::Value) -> Entry {
    Entry {
        actor_id: actor.user.id,
        actor: actor.user.username.clone(),
        action,
        target_id: Some(target.id),
        target: target.username.clone(),
        details,
        client_addr: actor.addr.clone(),
    }
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Locks the rows of every active staff account until the transaction ends (PostgreSQL; SQLite's write lock serialises
/// the whole transaction from this first write on).
/// Returns whether the actor is a superuser, as stored now.
pub(crate) async fn lock_staff(tx: &mut Tx, actor: &Actor) -> Result<bool, AppError> {
    sqlx::query("UPDATE users SET is_staff = is_staff WHERE is_staff = 1 AND is_active = 1")
        .execute(&mut **tx)
        .await?;
    // The actor may have lost staff status while this request waited for the lock.
    let still: Option<i64> =
        sqlx::query_scalar("SELECT is_superuser FROM users WHERE id = $1 AND is_staff = 1 AND is_active = 1")
            .bind(actor.user.id)
            .fetch_optional(&mut **tx)
            .await?;
    match still {
        Some(superuser) => Ok(superuser != 0),
        None => Err(AppError::Forbidden(crate::core::error::Refusal::Permission)),
    }
}

async fn active_staff(tx: &mut Tx) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_staff = 1 AND is_active = 1")
        .fetch_one(&mut **tx)
        .await
}

async fn target(tx: &mut Tx, id: i64) -> Result<User, AppError> {
    sqlx::query_as(&format!(
        "SELECT {} FROM users WHERE id = $1",
        crate::accounts::users::COLUMNS
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AppError::NotFound)
}

/// Ends every way the account `id` is logged in: web sessions, API tokens, JWT refresh families. (Access JWTs, at
/// most five minutes old, are refused from now on because the account is inactive.)
async fn end_access(tx: &mut Tx, id: i64, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE jwt_refresh_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets the account's own limits (`None`: the instance's default; 0: unlimited), audited with the old and new values.
pub async fn set_user_quota(
    db: &Db,
    actor: &Actor,
    id: i64,
    quota: crate::chat::quota::QuotaOverride,
) -> Result<(), AppError> {
    use crate::chat::quota;
    for (field, value) in [
        ("messages_per_day", quota.messages_per_day),
        ("tokens_per_day", quota.tokens_per_day),
        ("tokens_per_month", quota.tokens_per_month),
        ("storage_mb", quota.storage_mb),
    ] {
        if let Some(value) = value {
            quota::check_limit(field, value)?;
        }
    }
    update_user(db, actor, id, FlagChange::default(), Some(quota)).await
}

/// Sets the instance's default limits (0: unlimited), audited with the old and new values. The old values are read
/// after the defaults' row is locked, so of two staff saving at once, each entry says what its save changed.
pub async fn set_default_quota(db: &Db, actor: &Actor, quota: crate::chat::quota::Quota) -> Result<(), AppError> {
    use crate::chat::quota;
    quota::check_limit("messages_per_day", quota.messages_per_day)?;
    quota::check_limit("tokens_per_day", quota.tokens_per_day)?;
    quota::check_limit("tokens_per_month", quota.tokens_per_month)?;
    let mut tx = db.pool.begin().await?;
    lock_staff(&mut tx, actor).await?;
    let before = quota::lock_defaults(&mut tx).await?;
    if before != quota {
        quota::set_defaults(&mut tx, quota).await?;
        let details = json!({"from": before, "to": quota});
        let entry = Entry {
            actor_id: actor.user.id,
            actor: actor.user.username.clone(),
            action: "settings.quota",
            target_id: None,
            target: String::new(),
            details,
            client_addr: actor.addr.clone(),
        };
        audit::record(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The account's conversations (active and archived), newest activity first.
pub async fn conversations_of(db: &Db, user_id: i64) -> Result<crate::admin::types::AdminConversations, AppError> {
    use crate::chat::store::{self, ListFilter};
    let user = crate::accounts::users::by_id(&db.pool, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut all = store::list_conversations(&db.pool, user_id, ListFilter::Active, 1000, 0).await?;
    all.extend(store::list_conversations(&db.pool, user_id, ListFilter::Archived, 1000, 0).await?);
    all.sort_by_key(|c| std::cmp::Reverse((c.last_message_at.unwrap_or(c.created_at), c.id)));
    let rows = all
        .into_iter()
        .map(|c| crate::admin::types::AdminConversationRow {
            id: c.id,
            title: c.title,
            status: c.status,
            messages: c.message_count,
            last_activity: crate::core::time::minute(c.last_message_at.unwrap_or(c.created_at)),
        })
        .collect();
    Ok(crate::admin::types::AdminConversations {
        user_id,
        username: user.username,
        rows,
    })
}

/// Opens the account's conversation `id` read-only; the viewing is audited (who read whose conversation, when).
/// The file `file_id` of account `user_id`, opened by staff: audited (`file.view`) before it is served.
pub async fn open_file(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    file_id: i64,
) -> Result<crate::files::store::FileRow, AppError> {
    let user = crate::accounts::users::by_id(&db.pool, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let row = crate::files::store::file(&db.pool, user_id, file_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = db.pool.begin().await?;
    audit::record(
        &mut tx,
        &entry(actor, "file.view", &user, crate::admin::routes::details(&row)),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn view_conversation(
    db: &Db,
    actor: &Actor,
    user_id: i64,
    id: i64,
    opened_here: bool,
) -> Result<crate::admin::types::AdminConversation, AppError> {
    use crate::chat::store;
    let user = crate::accounts::users::by_id(&db.pool, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let conversation = store::conversation(&db.pool, user_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !opened_here {
        // A link on another site cannot make a staff member read (and be recorded reading) a conversation.
        return Ok(crate::admin::types::AdminConversation {
            user_id,
            username: user.username,
            id,
            title: String::new(),
            messages: Vec::new(),
            confirm: true,
        });
    }
    let messages = store::messages(&db.pool, id)
        .await?
        .into_iter()
        .map(|m| crate::admin::types::AdminMessage {
            html: if m.role == "assistant" {
                crate::chat::markdown::to_safe_html(&m.content)
            } else {
                crate::chat::markdown::user_html(&m.content)
            },
            attachments: crate::files::service::attachments_of(&m.attachments),
            role: m.role,
            status: m.status,
            at: crate::core::time::minute(m.created_at),
        })
        .collect();
    let mut tx = db.pool.begin().await?;
    let details = json!({"conversation": id, "title": conversation.title});
    audit::record(&mut tx, &entry(actor, "conversation.view", &user, details)).await?;
    tx.commit().await?;
    Ok(crate::admin::types::AdminConversation {
        user_id,
        username: user.username,
        id,
        title: conversation.title,
        messages,
        confirm: false,
    })
}

/// Deletes the account's conversation `id` with its messages, audited.
pub async fn delete_conversation(db: &Db, actor: &Actor, user_id: i64, id: i64) -> Result<(), AppError> {
    let user = crate::accounts::users::by_id(&db.pool, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let conversation = crate::chat::store::conversation(&db.pool, user_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = db.pool.begin().await?;
    let deleted = sqlx::query("DELETE FROM conversations WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(AppError::NotFound);
    }
    let details = json!({"conversation": id, "title": conversation.title, "messages": conversation.message_count});
    audit::record(&mut tx, &entry(actor, "conversation.delete", &user, details)).await?;
    tx.commit().await?;
    Ok(())
}
