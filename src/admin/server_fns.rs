//! Server functions of the admin pages: each starts from the session user and answers 401 without one, 403 for
//! anyone who is not staff.

use leptos::prelude::*;

use crate::admin::types::InstanceOverview;
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
