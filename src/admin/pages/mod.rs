//! The admin pages: `/admin` (the overview), `/admin/users` (`users`), `/admin/users/{id}` and `/admin/settings`
//! (`limits`), `/admin/users/{id}/conversations…` (`conversations`), `/admin/usage` (`usage`), `/admin/tools`
//! (`tools`: built-in tools and MCP servers), `/admin/audit` (`audit`). Anyone but staff
//! gets 403 (logged in) or the login page (logged out); unknown paths under `/admin` answer the same way before they
//! answer 404, so they reveal nothing.

mod audit;
mod conversations;
mod limits;
mod tools;
mod usage;
mod users;

use leptos::prelude::*;

use crate::tr;
use leptos_meta::Title;

use crate::accounts::pages::login_redirect;
use crate::accounts::server_fns::current_user;
use crate::admin::server_fns::admin_overview;
use crate::admin::types::{AdminUserRow, InstanceOverview};
use crate::core::error::{AppError, Refusal};
use crate::core::i18n::Lang;
use crate::core::not_found::NotFound;

/// `/admin`.
#[component]
pub fn AdminPage() -> impl IntoView {
    let overview = crate::core::codec::resource(|| (), |_| admin_overview());
    let t = Lang::current();
    view! {
        <Title text=tr!(t, admin.page.administration)/>
        <section class="auth-card wide admin">
            <h1>{tr!(t, admin.page.administration)}</h1>
            <AdminNav here="/admin"/>
            <Suspense fallback=move || view! { <p>{tr!(t, admin.page.loading)}</p> }>
                {move || Suspend::new(async move {
                    match overview.await {
                        Ok(overview) => view! { <Overview overview/> }.into_any(),
                        Err(error) => refused(error),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Any other path under `/admin`: the same checks (from the session user alone, nothing to load), then the 404 page.
#[component]
pub fn AdminFallback() -> impl IntoView {
    let user = crate::core::codec::resource(|| (), |_| current_user());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let refusal = match user.await {
                    Ok(Some(user)) if user.is_staff => None,
                    Ok(Some(_)) => Some(AppError::Forbidden(Refusal::Permission)),
                    Ok(None) => Some(AppError::Unauthenticated),
                    Err(error) => Some(error),
                };
                match refusal {
                    None => view! { <NotFound/> }.into_any(),
                    Some(error) => view! { <section class="auth-card">{refused(error)}</section> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The links between the admin pages; `here` is the current one.
#[component]
fn AdminNav(here: &'static str) -> impl IntoView {
    let t = Lang::current();
    let link = move |href: &'static str, label: &'static str| {
        let current = (href == here).then_some("page");
        view! { <li><a href=href aria-current=current>{label}</a></li> }
    };
    view! {
        <nav class="admin-nav" aria-label=tr!(t, admin.page.administration)>
            <ul>
                {link("/admin", tr!(t, admin.nav.overview))}
                {link("/admin/users", tr!(t, admin.nav.users))}
                {link("/admin/usage", tr!(t, admin.nav.usage))}
                {link("/admin/tools", tr!(t, admin.nav.tools))}
                {link("/admin/settings", tr!(t, admin.nav.settings))}
                {link("/admin/audit", tr!(t, admin.nav.audit))}
            </ul>
        </nav>
    }
}

/// "Previous · Page N of M · Next" under a list of `count` rows, `page_size` a page; `href` gives a page's link.
/// Nothing when everything fits on one page.
fn pager(page: i64, count: i64, page_size: i64, href: impl Fn(i64) -> String) -> Option<impl IntoView> {
    let t = Lang::current();
    let pages = (count + page_size - 1) / page_size;
    (pages > 1).then(|| {
        let prev = (page > 1).then(|| view! { <a href=href(page - 1) rel="prev">{tr!(t, admin.users.previous)}</a> });
        let next = (page < pages).then(|| view! { <a href=href(page + 1) rel="next">{tr!(t, admin.users.next)}</a> });
        view! {
            <nav class="pager" aria-label=tr!(t, admin.users.pages)>
                {prev}
                <span>{tr!(t, admin.users.page_of, page = page, pages = pages)}</span>
                {next}
            </nav>
        }
    })
}

/// After a Delete link opened the confirmation `dialog` (the page's dialog handler shows it as a modal), the dialog's
/// delete button takes the focus, so Enter confirms and Escape goes back.
fn focus_delete_button(dialog: &'static str) {
    #[cfg(feature = "hydrate")]
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(button) = document()
            .query_selector(&format!("#{dialog} button.danger"))
            .ok()
            .flatten()
            .and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = button.focus();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = dialog;
}

/// The login page for visitors, 403 for users who are not staff.
fn refused(error: AppError) -> AnyView {
    let t = Lang::current();
    match error {
        AppError::Unauthenticated => login_redirect().into_any(),
        AppError::Forbidden(_) => {
            #[cfg(feature = "ssr")]
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                response.set_status(error.status());
            }
            view! {
                <Title text=tr!(t, admin.page.forbidden)/>
                <p class="form-error" role="alert" data-testid="forbidden">{error.message(t)}</p>
                <p><a href="/">{tr!(t, admin.page.go_home_page)}</a></p>
            }
            .into_any()
        }
        AppError::NotFound => view! { <NotFound/> }.into_any(),
        other => view! { <p class="form-error" role="alert">{other.message(t)}</p> }.into_any(),
    }
}

#[component]
fn Overview(overview: InstanceOverview) -> impl IntoView {
    let t = Lang::current();
    let stat = move |value: i64, label: &'static str| {
        view! { <li><strong>{value}</strong>" "{label}</li> }
    };
    let yes_no = move |flag: bool| {
        if flag {
            tr!(t, admin.page.yes)
        } else {
            tr!(t, admin.page.no)
        }
    };
    view! {
        <ul class="admin-stats" data-testid="admin-stats">
            {stat(overview.users, tr!(t, admin.page.stat_accounts))}
            {stat(overview.conversations, tr!(t, admin.page.stat_conversations))}
            {stat(overview.messages, tr!(t, admin.page.stat_messages))}
        </ul>
        <h2>{tr!(t, admin.page.newest_accounts)}</h2>
        // Focusable, so a keyboard can scroll it on a narrow screen.
        <div class="table-scroll" tabindex="0" role="region" aria-label=tr!(t, admin.page.newest_accounts)>
        <table class="tokens admin-users">
            <thead><tr>
                <th>{tr!(t, admin.page.username)}</th><th>{tr!(t, admin.page.email)}</th>
                <th>{tr!(t, admin.page.joined)}</th><th>{tr!(t, admin.page.last_login)}</th>
                <th>{tr!(t, admin.page.active)}</th><th>{tr!(t, admin.page.staff)}</th>
            </tr></thead>
            <tbody>
                {overview.newest.into_iter().map(|user: AdminUserRow| view! {
                    <tr>
                        <td>{user.username}</td>
                        <td>{user.email}</td>
                        <td>{user.joined}</td>
                        <td>{user.last_login.unwrap_or_else(|| tr!(t, admin.page.never).to_string())}</td>
                        <td>{yes_no(user.is_active)}</td>
                        <td>{yes_no(user.is_staff)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
    .into_any()
}

crate::lazy_section!(admin_view, __preload_admin_view, AdminPages {
    /// `/admin` as a lazy route.
    AdminRoute => AdminPage,
    /// `/admin/users` as a lazy route.
    UsersRoute => users::UsersPage,
    /// `/admin/users/{id}` as a lazy route.
    AdminUserRoute => limits::UserPage,
    /// `/admin/users/{id}/conversations` as a lazy route.
    AdminConversationsRoute => conversations::ConversationsPage,
    /// `/admin/users/{id}/conversations/{cid}` as a lazy route.
    AdminConversationRoute => conversations::ConversationPage,
    /// `/admin/usage` as a lazy route.
    AdminUsageRoute => usage::UsagePage,
    /// `/admin/tools` as a lazy route.
    AdminToolsRoute => tools::ToolsPage,
    /// `/admin/settings` as a lazy route.
    AdminSettingsRoute => limits::SettingsPage,
    /// `/admin/audit` as a lazy route.
    AuditRoute => audit::AuditPage,
    /// `/admin/*` as a lazy route.
    AdminFallbackRoute => AdminFallback,
});
