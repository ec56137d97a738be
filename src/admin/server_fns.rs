//! Server functions of the admin pages: each starts from the session user and answers 401 without one, 403 for
//! anyone who is not staff. The actions are plain forms (they work without JavaScript) that come back to the list they
//! were posted from.

use leptos::prelude::*;

use crate::admin::types::{AuditView, InstanceOverview, UsersView};
use crate::core::error::AppError;

/// Counts and the newest accounts, for staff.
#[server]
pub async fn admin_overview() -> Result<InstanceOverview, AppError> {
    use crate::accounts::server_fns::require_staff;
    use crate::admin::types::{AdminUserRow, NEWEST};
    require_staff().await?;
    let state = expect_context::<crate::state::AppState>();
    let pool = &state.db.pool;
    let users = crate::accounts::users::count(pool).await?;
    let (conversations, messages) = crate::chat::store::totals(pool).await?;
    let newest = crate::accounts::users::newest(pool, NEWEST).await?;
    let when = |millis: i64| crate::core::time::minute(millis);
    Ok(InstanceOverview {
        users,
        conversations,
        messages,
        newest: newest
            .into_iter()
            .map(|u| AdminUserRow {
                username: u.username,
                email: u.email,
                joined: when(u.date_joined),
                last_login: u.last_login.map(when),
                is_active: u.is_active,
                is_staff: u.is_staff,
            })
            .collect(),
    })
}

/// A page of the users, searched and sorted as `/admin/users?search=&ordering=&page=` asks (an unknown ordering or
/// page falls back to the default).
#[server]
pub async fn admin_users(search: String, ordering: String, page: String) -> Result<UsersView, AppError> {
    use crate::admin::types::{UserOrdering, UserQuery};
    let me = crate::accounts::server_fns::require_staff().await?;
    let state = expect_context::<crate::state::AppState>();
    let (ordering, descending) = UserOrdering::parse(&ordering).unwrap_or((UserOrdering::Joined, true));
    let query = UserQuery {
        search: search.trim().chars().take(150).collect(),
        ordering,
        descending,
        page: page.parse::<i64>().ok().filter(|p| *p >= 1).unwrap_or(1),
    };
    let (rows, count) = crate::admin::service::list_users(&state.db, &query).await?;
    Ok(UsersView {
        query,
        rows,
        count,
        page_size: crate::admin::service::PAGE_SIZE,
        me: me.id,
    })
}

/// One action on an account, from the users page: `activate`, `deactivate`, `grant_staff`, `revoke_staff`,
/// `send_reset` or `delete`. Comes back to `back` (the list as it was, a path under `/admin/users`) with
/// `done=<action>`.
#[server]
pub async fn admin_user_action(id: String, action: String, back: String) -> Result<(), AppError> {
    use crate::admin::service::{self, Actor, FlagChange};
    let user = crate::accounts::server_fns::require_staff().await?;
    let state = expect_context::<crate::state::AppState>();
    let actor = Actor {
        user,
        addr: crate::accounts::server_fns::client_address().await,
    };
    let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let flags = |is_active, is_staff| FlagChange { is_active, is_staff };
    match action.as_str() {
        "activate" => service::change_flags(&state.db, &actor, id, flags(Some(true), None)).await?,
        "deactivate" => service::change_flags(&state.db, &actor, id, flags(Some(false), None)).await?,
        "grant_staff" => service::change_flags(&state.db, &actor, id, flags(None, Some(true))).await?,
        "revoke_staff" => service::change_flags(&state.db, &actor, id, flags(None, Some(false))).await?,
        "send_reset" => service::send_reset(&state.db, &state.outbox, &state.config, &actor, id).await?,
        "delete" => service::delete_user(&state.db, &actor, id).await?,
        _ => return Err(AppError::BadRequest(crate::text!(admin.rules.unknown_action))),
    }
    let back = if back == "/admin/users" || back.starts_with("/admin/users?") {
        back
    } else {
        "/admin/users".to_string()
    };
    // The list as it was, without an earlier outcome or the confirmation of a delete.
    let kept: Vec<(String, String)> = back
        .split_once('?')
        .map(|(_, q)| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (key, value) in kept
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "done" | "confirm_delete"))
    {
        query.append_pair(key, value);
    }
    query.append_pair("done", &action);
    leptos_axum::redirect(&format!("/admin/users?{}", query.finish()));
    Ok(())
}

/// A page of the audit log, newest first.
#[server]
pub async fn admin_audit(page: String) -> Result<AuditView, AppError> {
    crate::accounts::server_fns::require_staff().await?;
    let state = expect_context::<crate::state::AppState>();
    let page = page.parse::<i64>().ok().filter(|p| *p >= 1).unwrap_or(1);
    let (rows, count) = crate::admin::service::audit_page(&state.db.pool, page).await?;
    Ok(AuditView {
        rows,
        count,
        page,
        page_size: crate::admin::service::PAGE_SIZE,
    })
}

/// The page the forms of these server functions are on (`core::security::FormPages`).
#[cfg(feature = "ssr")]
pub fn form_pages() -> Vec<(&'static str, &'static str)> {
    use leptos::server_fn::ServerFn;
    vec![(AdminUserAction::PATH, "/admin/users")]
}
