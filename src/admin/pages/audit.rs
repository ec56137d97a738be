//! `/admin/audit`: the audit log, newest first — who did what to whom, when, from which address. Read-only: nothing
//! on this page (or anywhere) edits or removes an entry.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{AdminNav, refused};
use crate::admin::server_fns::admin_audit;
use crate::admin::types::{AuditRow, AuditView};
use crate::core::i18n::Lang;
use crate::tr;

/// `/admin/audit`.
#[component]
pub fn AuditPage() -> impl IntoView {
    let t = Lang::current();
    let query = use_query_map();
    let log = crate::core::codec::resource(move || query.with(|q| q.get("page").unwrap_or_default()), admin_audit);
    view! {
        <Title text=tr!(t, admin.audit.title)/>
        <section class="auth-card wide admin">
            <h1>{tr!(t, admin.audit.title)}</h1>
            <AdminNav here="/admin/audit"/>
            <Suspense fallback=move || view! { <p>{tr!(t, admin.page.loading)}</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Ok(view) => view! { <AuditTable view/> }.into_any(),
                        Err(error) => refused(error),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn AuditTable(view: AuditView) -> impl IntoView {
    let t = Lang::current();
    let AuditView {
        rows,
        count,
        page,
        page_size,
    } = view;
    if rows.is_empty() {
        return view! { <p class="hint" data-testid="audit-empty">{tr!(t, admin.audit.empty)}</p> }.into_any();
    }
    let pager = super::pager(page, count, page_size, |p| format!("/admin/audit?page={p}"));
    view! {
        // Focusable, so a keyboard can scroll it on a narrow screen.
        <div class="table-scroll" tabindex="0" role="region" aria-label=tr!(t, admin.audit.title)>
            <table class="tokens admin-audit" data-testid="audit">
                <thead><tr>
                    <th scope="col">{tr!(t, admin.audit.when)}</th>
                    <th scope="col">{tr!(t, admin.audit.who)}</th>
                    <th scope="col">{tr!(t, admin.audit.what)}</th>
                    <th scope="col">{tr!(t, admin.audit.on_whom)}</th>
                    <th scope="col">{tr!(t, admin.audit.details)}</th>
                    <th scope="col">{tr!(t, admin.audit.address)}</th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|row: AuditRow| view! {
                        <tr data-action=row.action.clone()>
                            <td><time datetime=row.at_iso>{row.at_text}</time></td>
                            <td>{row.actor}</td>
                            <td>{action_label(t, &row.action)}</td>
                            <td>{row.target}</td>
                            <td><code>{row.details}</code></td>
                            <td>{row.client_addr}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {pager}
    }
    .into_any()
}

/// An action's name for people; an unknown one as stored.
fn action_label(t: Lang, action: &str) -> String {
    match action {
        "user.activate" => tr!(t, admin.audit.user_activate).to_string(),
        "user.deactivate" => tr!(t, admin.audit.user_deactivate).to_string(),
        "user.grant_staff" => tr!(t, admin.audit.user_grant_staff).to_string(),
        "user.revoke_staff" => tr!(t, admin.audit.user_revoke_staff).to_string(),
        "user.send_reset" => tr!(t, admin.audit.user_send_reset).to_string(),
        "user.delete" => tr!(t, admin.audit.user_delete).to_string(),
        "user.set_quota" => tr!(t, admin.audit.user_set_quota).to_string(),
        "settings.quota" => tr!(t, admin.audit.settings_quota).to_string(),
        "conversation.view" => tr!(t, admin.audit.conversation_view).to_string(),
        "file.view" => tr!(t, admin.audit.file_view).to_string(),
        "conversation.delete" => tr!(t, admin.audit.conversation_delete).to_string(),
        other => other.to_string(),
    }
}
