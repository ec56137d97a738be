//! `/admin/users/{id}/conversations`: an account's conversations, each openable read-only
//! (`…/conversations/{cid}`, the viewing audited) and deletable after a confirmation (audited).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::{AdminNav, refused};
use crate::admin::server_fns::{AdminDeleteConversation, admin_conversation, admin_conversations};
use crate::admin::types::{AdminConversation, AdminConversations};
use crate::core::csrf::CsrfField;
use crate::core::dialog::Modal;
use crate::core::i18n::Lang;
use crate::tr;

/// `/admin/users/{id}/conversations`.
#[component]
pub fn ConversationsPage() -> impl IntoView {
    let t = Lang::current();
    let params = use_params_map();
    let delete = ServerAction::<AdminDeleteConversation>::new();
    let list = crate::core::codec::resource(
        move || (params.with(|p| p.get("id").unwrap_or_default()), delete.version().get()),
        |(id, _)| admin_conversations(id),
    );
    view! {
        <Title text=tr!(t, admin.conversations.title)/>
        <section class="auth-card wide admin">
            <Suspense fallback=move || view! { <p>{tr!(t, admin.page.loading)}</p> }>
                {move || Suspend::new(async move {
                    match list.await {
                        Ok(list) => view! { <List list delete/> }.into_any(),
                        Err(error) => refused(error),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn List(list: AdminConversations, delete: ServerAction<AdminDeleteConversation>) -> impl IntoView {
    let t = Lang::current();
    let query = use_query_map();
    let AdminConversations {
        user_id,
        username,
        rows,
    } = list;
    let base = format!("/admin/users/{user_id}/conversations");
    // One confirmation dialog for the page, as on the users page: a Delete link opens it as a modal for its
    // conversation; without JavaScript the link's address (`?confirm_delete=<id>`) renders it open.
    let asked = query
        .with_untracked(|q| q.get("confirm_delete"))
        .and_then(|id| id.parse::<i64>().ok())
        .and_then(|id| rows.iter().find(|r| r.id == id).map(|r| (r.id, r.title.clone())));
    let deleting = RwSignal::new(asked);
    let open = deleting.with_untracked(Option::is_some);
    let dialog = {
        let base = base.clone();
        let title = move || deleting.with(|d| d.as_ref().map(|(_, title)| title.clone()).unwrap_or_default());
        let id = move || deleting.with(|d| d.as_ref().map(|(id, _)| id.to_string()).unwrap_or_default());
        view! {
            <Modal id=DELETE_DIALOG title=tr!(t, admin.conversations.delete).to_string() open close=base.clone()>
                <p><strong>{move || tr!(Lang::current(), admin.conversations.confirm_title, title = title()).to_string()}</strong>
                    " "{tr!(t, admin.conversations.confirm_text)}</p>
                <ActionForm action=delete>
                    <CsrfField/>
                    <input type="hidden" name="user_id" value=user_id.to_string()/>
                    <input type="hidden" name="id" value=id/>
                    <div class="modal-actions">
                        <a class="button" href=base.clone() data-close="">{tr!(t, admin.users.cancel)}</a>
                        <button type="submit" class="danger" autofocus=open>{tr!(t, admin.conversations.delete)}</button>
                    </div>
                </ActionForm>
            </Modal>
        }
    };
    let deleted = move || query.with(|q| q.get("deleted").is_some());
    view! {
        <h1>{tr!(t, admin.conversations.of_user, username = username.clone())}</h1>
        <AdminNav here="/admin/users"/>
        <p class="notice-slot" role="status">
            {move || deleted().then(|| view! { <span class="notice">{tr!(t, admin.conversations.deleted)}</span> })}
        </p>
        {dialog}
        {if rows.is_empty() {
            view! { <p class="hint" data-testid="no-conversations">{tr!(t, admin.conversations.none)}</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                    <table class="tokens admin-users" data-testid="conversations">
                        <thead><tr>
                            <th scope="col">{tr!(t, admin.conversations.conversation)}</th>
                            <th scope="col">{tr!(t, admin.conversations.status)}</th>
                            <th scope="col" class="number">{tr!(t, admin.conversations.messages)}</th>
                            <th scope="col">{tr!(t, admin.conversations.last_activity)}</th>
                            <th scope="col"><span class="visually-hidden">{tr!(t, admin.users.actions)}</span></th>
                        </tr></thead>
                        <tbody>
                            {rows.into_iter().map(|row| view! {
                                <tr data-conversation=row.id.to_string()>
                                    <th scope="row"><a href=format!("{base}/{}", row.id)>{row.title.clone()}</a></th>
                                    <td>{row.status.clone()}</td>
                                    <td class="number">{row.messages}</td>
                                    <td>{row.last_activity.clone()}</td>
                                    <td>{
                                    let target = (row.id, row.title.clone());
                                    view! {
                                        <a class="button danger small" href=format!("{base}?confirm_delete={}", row.id)
                                            data-dialog=DELETE_DIALOG on:click=move |_| ask_delete(deleting, target.clone())>
                                            {tr!(t, admin.users.delete)}
                                        </a>
                                    }
                                }</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
        <p class="auth-switch"><a href=format!("/admin/users/{user_id}")>{tr!(t, admin.conversations.back_to_account)}</a></p>
    }
}

/// The id of the page's delete confirmation.
const DELETE_DIALOG: &str = "delete-conversation-dialog";

/// A Delete link was clicked: the dialog names this conversation, and its button takes the focus.
fn ask_delete(deleting: RwSignal<Option<(i64, String)>>, target: (i64, String)) {
    deleting.set(Some(target));
    super::focus_delete_button(DELETE_DIALOG);
}

/// `/admin/users/{id}/conversations/{cid}`: read-only.
#[component]
pub fn ConversationPage() -> impl IntoView {
    let t = Lang::current();
    let params = use_params_map();
    // `?open` only makes the page fetch again after the "Open" link; whether it reads is the server's decision.
    let open = use_query_map();
    let conversation = crate::core::codec::resource(
        move || {
            let (user_id, id) = params.with(|p| (p.get("id").unwrap_or_default(), p.get("cid").unwrap_or_default()));
            (user_id, id, open.with(|q| q.get("open")))
        },
        |(user_id, id, _)| admin_conversation(user_id, id),
    );
    view! {
        <Title text=tr!(t, admin.conversations.title)/>
        <section class="auth-card wide admin">
            <Suspense fallback=move || view! { <p>{tr!(t, admin.page.loading)}</p> }>
                {move || Suspend::new(async move {
                    match conversation.await {
                        Ok(c) if c.confirm => ask_to_open(t, c).into_any(),
                        Ok(c) => read_only(t, c).into_any(),
                        Err(error) => refused(error),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The request came from another site: nothing was read; the staff member opens it themself, from this page.
fn ask_to_open(t: Lang, c: AdminConversation) -> impl IntoView {
    let here = format!("/admin/users/{}/conversations/{}?open=1", c.user_id, c.id);
    view! {
        <h1>{tr!(t, admin.conversations.open_title)}</h1>
        <AdminNav here="/admin/users"/>
        <p class="notice" role="note" data-testid="open-conversation">
            {tr!(t, admin.conversations.open_text, username = c.username)}
        </p>
        <p><a class="button primary" href=here>{tr!(t, admin.conversations.open)}</a></p>
        <p class="auth-switch"><a href=format!("/admin/users/{}/conversations", c.user_id)>{tr!(t, admin.conversations.back)}</a></p>
    }
}

fn read_only(t: Lang, c: AdminConversation) -> impl IntoView {
    let AdminConversation {
        user_id,
        username,
        title,
        messages,
        ..
    } = c;
    view! {
        <h1>{title}</h1>
        <AdminNav here="/admin/users"/>
        <p class="notice" role="note">{tr!(t, admin.conversations.read_only, username = username)}</p>
        <p class="hint">{tr!(t, admin.conversations.files_audited)}</p>
        <ol class="admin-messages" data-testid="admin-messages">
            {messages.into_iter().map(|m| {
                let who = match m.role.as_str() {
                    "user" => tr!(t, admin.conversations.role_user),
                    "assistant" => tr!(t, admin.conversations.role_assistant),
                    _ => tr!(t, admin.conversations.role_system),
                };
                let files = m.attachments.clone();
                view! {
                    <li class=format!("admin-message {}", m.role) data-status=m.status.clone()>
                        <p class="hint"><strong>{who}</strong>" · "{m.at}</p>
                        <div class="message-body" inner_html=m.html></div>
                        {(!files.is_empty()).then(|| view! { <div inner_html=admin_files_html(&files, user_id, t)></div> })}
                    </li>
                }
            }).collect_view()}
        </ol>
        <p class="auth-switch"><a href=format!("/admin/users/{user_id}/conversations")>{tr!(t, admin.conversations.back)}</a></p>
    }
}

/// A message's files in the staff view, each a link to the audited staff route (static markup, names escaped).
fn admin_files_html(files: &[crate::files::Attachment], user_id: i64, t: Lang) -> String {
    use crate::core::error::escape_html as esc;
    let mut out = format!(
        r#"<ul class="message-files" aria-label="{}" data-testid="admin-files">"#,
        esc(tr!(t, admin.conversations.files))
    );
    for a in files {
        out.push_str(&format!(
            r#"<li><a class="file-chip" href="/admin/users/{user_id}/files/{}" rel="external"><span class="file-meta"><span class="file-name">{}</span><span class="file-info">{} · {}</span></span></a></li>"#,
            a.id,
            esc(&a.name),
            esc(&crate::files::ui::kind_label(a)),
            crate::files::human_size(a.size.max(0) as u64)
        ));
    }
    out.push_str("</ul>");
    out
}
