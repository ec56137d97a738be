//! Server functions of the admin pages: each starts from the session user and answers 401 without one, 403 for
//! anyone who is not staff. The actions are plain forms (they work without JavaScript) that come back to the list they
//! were posted from.

// A form's fields are a server function's arguments: the MCP server form has ten (the client-side copy the macro
// writes for the `hydrate` build takes no attribute of ours).
#![allow(clippy::too_many_arguments)]

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
        i_am_superuser: me.is_superuser,
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

/// Reads the three limits of a form: a whole number of 0 or more each; an empty field is `None`. Field errors keep
/// what was typed.
#[cfg(feature = "ssr")]
fn limits_of<const N: usize>(fields: [(&str, &str); N]) -> Result<[Option<i64>; N], AppError> {
    let mut errors = crate::core::error::FormErrors::default();
    let mut out = [None; N];
    for (slot, (name, text)) in out.iter_mut().zip(fields) {
        errors.keep(name, text);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        match text.parse::<i64>() {
            Ok(value) if value >= 0 => *slot = Some(value),
            _ => errors.add(name, crate::text!(chat.quota.not_negative)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Invalid(errors))
    }
}

#[cfg(feature = "ssr")]
async fn actor() -> Result<(crate::state::AppState, crate::admin::service::Actor), AppError> {
    let user = crate::accounts::server_fns::require_staff().await?;
    let addr = crate::accounts::server_fns::client_address().await;
    Ok((
        expect_context::<crate::state::AppState>(),
        crate::admin::service::Actor { user, addr },
    ))
}

/// The instance's default limits, whether share links are allowed, the temporary chats' mode (`off`, `allowed`
/// or `enforced`), and the OpenAI-compatible API's switch and models (`/admin/settings`).
#[server]
#[allow(clippy::type_complexity)]
pub async fn admin_settings() -> Result<(crate::chat::types::Quota, bool, String, (bool, Vec<String>)), AppError> {
    crate::accounts::server_fns::require_staff().await?;
    let state = expect_context::<crate::state::AppState>();
    let api = crate::admin::instance::openai_api(&state.db.pool).await?;
    Ok((
        crate::chat::quota::defaults(&state.db.pool).await?,
        crate::admin::instance::sharing_enabled(&state.db.pool).await?,
        crate::admin::instance::temporary_chats(&state.db.pool)
            .await?
            .as_str()
            .to_string(),
        (api.enabled, api.models),
    ))
}

/// Turns the OpenAI-compatible API on (`enabled` is `on`, a ticked box) or off, and sets the models it offers (names
/// separated by commas, spaces or lines; empty: every model), audited.
#[server]
pub async fn admin_save_openai_api(
    #[server(default)] enabled: Option<String>,
    #[server(default)] models: String,
) -> Result<(), AppError> {
    let (state, actor) = actor().await?;
    let enabled = matches!(enabled.as_deref().map(str::trim), Some("on" | "true" | "1"));
    let models = crate::admin::instance::OpenAiApi::models_from_field(&models)?;
    crate::admin::instance::set_openai_api(&state.db.pool, &actor, Some(enabled), Some(models)).await?;
    leptos_axum::redirect("/admin/settings?saved=1");
    Ok(())
}

/// Allows share links (`sharing` is `on`, a ticked box) or turns them off, and sets the temporary chats' mode when
/// the form has it; each change audited.
#[server]
pub async fn admin_save_sharing(
    #[server(default)] sharing: Option<String>,
    #[server(default)] temporary_chats: Option<String>,
) -> Result<(), AppError> {
    let (state, actor) = actor().await?;
    let mode = match temporary_chats.as_deref() {
        Some(name) => Some(crate::admin::instance::TemporaryChats::from_field(name)?),
        None => None,
    };
    let enabled = matches!(sharing.as_deref().map(str::trim), Some("on" | "true" | "1"));
    crate::admin::instance::set_sharing(&state.db.pool, &actor, enabled).await?;
    if let Some(mode) = mode {
        crate::admin::instance::set_temporary_chats(&state.db.pool, &actor, mode).await?;
    }
    leptos_axum::redirect("/admin/settings?saved=1");
    Ok(())
}

/// Saves the default limits (an empty field is 0: unlimited), audited.
#[server]
pub async fn admin_save_settings(
    messages_per_day: String,
    tokens_per_day: String,
    tokens_per_month: String,
) -> Result<(), AppError> {
    let (state, actor) = actor().await?;
    let [m, d, mo] = limits_of([
        ("messages_per_day", &messages_per_day),
        ("tokens_per_day", &tokens_per_day),
        ("tokens_per_month", &tokens_per_month),
    ])?;
    let quota = crate::chat::types::Quota {
        messages_per_day: m.unwrap_or(0),
        tokens_per_day: d.unwrap_or(0),
        tokens_per_month: mo.unwrap_or(0),
    };
    crate::admin::service::set_default_quota(&state.db, &actor, quota).await?;
    leptos_axum::redirect("/admin/settings?saved=1");
    Ok(())
}

/// One account with its limits and usage (`/admin/users/{id}`).
#[server]
pub async fn admin_user(id: String) -> Result<crate::admin::types::AdminUserView, AppError> {
    use crate::chat::quota;
    crate::accounts::server_fns::require_staff().await?;
    let state = expect_context::<crate::state::AppState>();
    let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let row = crate::admin::service::user_row(&state.db, id).await?;
    let pool = &state.db.pool;
    Ok(crate::admin::types::AdminUserView {
        row,
        quota: quota::override_of(pool, id).await?,
        defaults: quota::defaults(pool).await?,
        limits: quota::effective(pool, id).await?,
        usage: quota::usage(pool, id, crate::core::db::now_millis()).await?,
        storage: (
            crate::files::store::used_bytes(pool, id).await?,
            crate::files::service::storage_limit(&state, id).await?,
        ),
    })
}

/// Saves an account's own limits (an empty field takes the default; 0 is unlimited), audited.
#[server]
pub async fn admin_save_user_quota(
    id: String,
    messages_per_day: String,
    tokens_per_day: String,
    tokens_per_month: String,
    /// Megabytes of files (empty: the instance's setting).
    #[server(default)]
    storage_mb: String,
) -> Result<(), AppError> {
    let (state, actor) = actor().await?;
    let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let [m, d, mo, s] = limits_of([
        ("messages_per_day", &messages_per_day),
        ("tokens_per_day", &tokens_per_day),
        ("tokens_per_month", &tokens_per_month),
        ("storage_mb", &storage_mb),
    ])?;
    let quota = crate::chat::types::QuotaOverride {
        messages_per_day: m,
        tokens_per_day: d,
        tokens_per_month: mo,
        storage_mb: s,
    };
    crate::admin::service::set_user_quota(&state.db, &actor, id, quota).await?;
    leptos_axum::redirect(&format!("/admin/users/{id}?saved=1"));
    Ok(())
}

/// A usage report for `/admin/usage` (`from`/`to` as `YYYY-MM-DD`, `group_by` `day`, `user` or `model`; empty values
/// take the defaults: the last 30 days, per day).
#[server]
pub async fn admin_usage(
    from: String,
    to: String,
    group_by: String,
) -> Result<crate::admin::types::UsageReport, AppError> {
    use crate::admin::types::UsageGroup;
    crate::accounts::server_fns::require_staff().await?;
    let state = expect_context::<crate::state::AppState>();
    let group = UsageGroup::parse(&group_by).unwrap_or_default();
    let (start, end) = crate::admin::usage::period(Some(&from), Some(&to), crate::core::db::now_millis())?;
    Ok(crate::admin::usage::report(&state.db, start, end, group).await?)
}

/// An account's conversations (`/admin/users/{id}/conversations`).
#[server]
pub async fn admin_conversations(user_id: String) -> Result<crate::admin::types::AdminConversations, AppError> {
    crate::accounts::server_fns::require_staff().await?;
    let state = expect_context::<crate::state::AppState>();
    let user_id = user_id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    crate::admin::service::conversations_of(&state.db, user_id).await
}

/// One of an account's conversations, read-only; audited. Read only when the request came from this site (a page
/// of ours or the address bar): a link on another site gets a page that asks first (`confirm`).
#[server]
pub async fn admin_conversation(
    user_id: String,
    id: String,
) -> Result<crate::admin::types::AdminConversation, AppError> {
    let (state, actor) = actor().await?;
    let user_id = user_id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let here = use_context::<axum::http::request::Parts>()
        .is_some_and(|parts| crate::core::security::came_from_this_site(&state.config, &parts.headers));
    crate::admin::service::view_conversation(&state.db, &actor, user_id, id, here).await
}

/// Deletes one of an account's conversations; audited. Back to the account's conversations.
#[server]
pub async fn admin_delete_conversation(user_id: String, id: String) -> Result<(), AppError> {
    let (state, actor) = actor().await?;
    let user_id = user_id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    crate::admin::service::delete_conversation(&state.db, &actor, user_id, id).await?;
    leptos_axum::redirect(&format!("/admin/users/{user_id}/conversations?deleted=1"));
    Ok(())
}

/// The tools page (`/admin/tools`): the built-in tools, the limits of tool use, the MCP servers.
#[server]
pub async fn admin_tools() -> Result<crate::admin::types::ToolsAdminView, AppError> {
    crate::accounts::server_fns::require_staff().await?;
    let state = expect_context::<crate::state::AppState>();
    crate::admin::mcp::page(&state).await
}

/// Field errors of an MCP server form that keep what was typed, except the headers (secrets: a form that failed
/// without JavaScript comes back with its values in the address).
#[cfg(feature = "ssr")]
fn kept(error: AppError, fields: &[(&str, &str)]) -> AppError {
    match error {
        AppError::Invalid(mut errors) => {
            for (name, value) in fields {
                errors.keep(name, value);
            }
            AppError::Invalid(errors)
        }
        other => other,
    }
}

/// Adds an MCP server (audited) and lists its tools: a URL (with headers, `Name: value` a line) or, when the instance
/// allows it, a command (the program, then an argument a line). Back to `/admin/tools?done=added`.
#[server]
pub async fn admin_add_mcp_server(
    name: String,
    #[server(default)] url: String,
    #[server(default)] headers: String,
    #[server(default)] command: String,
    #[server(default)] enabled: Option<String>,
) -> Result<(), AppError> {
    use crate::admin::mcp;
    let (state, actor) = actor().await?;
    let fields = [
        ("form", "add"),
        ("name", name.as_str()),
        ("url", url.as_str()),
        ("command", command.as_str()),
    ];
    let edit = (|| {
        let command = mcp::command_of_text(&command);
        Ok::<_, AppError>(mcp::ServerEdit {
            name: Some(name.clone()),
            url: command.is_empty().then(|| url.clone()),
            headers: Some(mcp::headers_of_text(&headers)?),
            command: (!command.is_empty()).then_some(command),
            enabled: Some(enabled.is_some()),
            tools: None,
        })
    })()
    .map_err(|e| kept(e, &fields))?;
    mcp::create(&state, &actor, edit).await.map_err(|e| kept(e, &fields))?;
    leptos_axum::redirect("/admin/tools?done=added");
    Ok(())
}

/// Saves an MCP server's form (audited): its name, address, headers (empty keeps the stored ones, `clear_headers`
/// removes them), whether it is on, and for each tool listed on the form (`listed[i]`) whether it is offered
/// (`on[i]`) and asks first (`ask[i]`). Back to `/admin/tools?done=saved`.
#[server]
pub async fn admin_save_mcp_server(
    id: String,
    name: String,
    #[server(default)] url: String,
    #[server(default)] headers: String,
    #[server(default)] clear_headers: Option<String>,
    #[server(default)] command: String,
    #[server(default)] enabled: Option<String>,
    #[server(default)] listed: Vec<String>,
    #[server(default)] on: Vec<String>,
    #[server(default)] ask: Vec<String>,
) -> Result<(), AppError> {
    use crate::admin::mcp::{self, ToolChoice};
    use crate::tools::mcp::Transport;
    let (state, actor) = actor().await?;
    let number = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    let current = mcp::server(&state, number).await?;
    let fields = [
        ("form", id.as_str()),
        ("name", name.as_str()),
        ("url", url.as_str()),
        ("command", command.as_str()),
    ];
    let edit = (|| {
        let (url, command) = match current.transport {
            Transport::Http { .. } => (Some(url.clone()), None),
            Transport::Stdio { .. } if state.chat.toolbox.stdio_enabled => (None, Some(mcp::command_of_text(&command))),
            Transport::Stdio { .. } => (None, None),
        };
        let headers = if clear_headers.is_some() {
            Some(Default::default())
        } else if headers.trim().is_empty() {
            None
        } else {
            Some(mcp::headers_of_text(&headers)?)
        };
        // Tools the server no longer lists (listed again since the page was drawn) are left out.
        let tools = listed
            .iter()
            .filter(|tool| current.tools.iter().any(|t| &&t.name == tool))
            .map(|tool| {
                let choice = ToolChoice {
                    enabled: Some(on.contains(tool)),
                    ask_first: Some(ask.contains(tool)),
                };
                (tool.clone(), choice)
            })
            .collect();
        Ok::<_, AppError>(mcp::ServerEdit {
            name: Some(name.clone()),
            url,
            headers: headers.filter(|_| matches!(current.transport, Transport::Http { .. })),
            command,
            enabled: Some(enabled.is_some()),
            tools: Some(tools),
        })
    })()
    .map_err(|e| kept(e, &fields))?;
    mcp::update(&state, &actor, number, edit)
        .await
        .map_err(|e| kept(e, &fields))?;
    leptos_axum::redirect("/admin/tools?done=saved");
    Ok(())
}

/// Lists an MCP server's tools again (`refresh`) or removes it (`delete`, audited). Back to
/// `/admin/tools?done=<action>`.
#[server]
pub async fn admin_mcp_server_action(id: String, action: String) -> Result<(), AppError> {
    let (state, actor) = actor().await?;
    let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    match action.as_str() {
        "refresh" => {
            crate::admin::mcp::refresh(&state, id).await?;
        }
        "delete" => crate::admin::mcp::delete(&state, &actor, id).await?,
        _ => return Err(AppError::BadRequest(crate::text!(admin.rules.unknown_action))),
    }
    leptos_axum::redirect(&format!("/admin/tools?done={action}"));
    Ok(())
}

/// The page the forms of these server functions are on (`core::security::FormPages`).
#[cfg(feature = "ssr")]
pub fn form_pages() -> Vec<(&'static str, &'static str)> {
    use leptos::server_fn::ServerFn;
    vec![
        (AdminUserAction::PATH, "/admin/users"),
        (AdminSaveSettings::PATH, "/admin/settings"),
        (AdminSaveSharing::PATH, "/admin/settings"),
        (AdminSaveOpenaiApi::PATH, "/admin/settings"),
        (AdminSaveUserQuota::PATH, "/admin/users"),
        (AdminDeleteConversation::PATH, "/admin/users"),
        (AdminAddMcpServer::PATH, "/admin/tools"),
        (AdminSaveMcpServer::PATH, "/admin/tools"),
        (AdminMcpServerAction::PATH, "/admin/tools"),
    ]
}
