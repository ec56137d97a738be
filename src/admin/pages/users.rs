//! `/admin/users`: every account with its activity this month — searched by username, email or name, sorted by a
//! column header — and what staff can do to one: activate or deactivate, grant or revoke staff, send a password-reset
//! mail, delete (after a confirmation, `?confirm_delete=<id>`). Every action is a plain form, so all of it works
//! without JavaScript; with it, the page is not reloaded.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_query_map};

use super::{AdminNav, refused};
use crate::admin::server_fns::{AdminUserAction, admin_users};
use crate::admin::types::{UserOrdering, UserRow, UsersView};
use crate::core::csrf::CsrfField;
use crate::core::dialog::Modal;
use crate::core::i18n::Lang;
use crate::tr;

/// `/admin/users`.
#[component]
pub fn UsersPage() -> impl IntoView {
    let t = Lang::current();
    let query = use_query_map();
    let param = move |name: &'static str| move || query.with(|q| q.get(name).unwrap_or_default());
    let action = ServerAction::<AdminUserAction>::new();
    let users = crate::core::codec::resource(
        // Read again after every action (the list it came back to may have the same query).
        move || {
            (
                param("search")(),
                param("ordering")(),
                param("page")(),
                action.version().get(),
            )
        },
        |(search, ordering, page, _)| admin_users(search, ordering, page),
    );
    let error = move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.message(Lang::current()))
    };
    let done = move || done_text(Lang::current(), &param("done")());
    view! {
        <Title text=tr!(t, admin.users.title)/>
        <section class="auth-card wide admin">
            <h1>{tr!(t, admin.users.title)}</h1>
            <AdminNav here="/admin/users"/>
            <form method="get" action="/admin/users" class="admin-search" role="search">
                <label for="admin-search">{tr!(t, admin.users.search_label)}</label>
                <input id="admin-search" type="search" name="search" value=param("search")
                    placeholder=tr!(t, admin.users.search_placeholder) autocomplete="off"/>
                <input type="hidden" name="ordering" value=param("ordering")/>
                <button type="submit">{tr!(t, admin.users.search)}</button>
            </form>
            <p class="form-error" role="alert" data-testid="action-error">{error}</p>
            <p class="notice-slot" role="status" data-testid="action-done">
                {move || done().map(|text| view! { <span class="notice">{text}</span> })}
            </p>
            <Suspense fallback=move || view! { <p>{tr!(t, admin.page.loading)}</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(view) => view! { <UserTable view action/> }.into_any(),
                        Err(error) => refused(error),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// What the page says after an action succeeded (`?done=<action>`).
fn done_text(t: Lang, done: &str) -> Option<&'static str> {
    Some(match done {
        "activate" => tr!(t, admin.users.done_activate),
        "deactivate" => tr!(t, admin.users.done_deactivate),
        "grant_staff" => tr!(t, admin.users.done_grant_staff),
        "revoke_staff" => tr!(t, admin.users.done_revoke_staff),
        "send_reset" => tr!(t, admin.users.done_send_reset),
        "delete" => tr!(t, admin.users.done_delete),
        _ => return None,
    })
}

#[component]
fn UserTable(view: UsersView, action: ServerAction<AdminUserAction>) -> impl IntoView {
    let t = Lang::current();
    let location = use_location();
    let here = {
        let search = location.search.get_untracked();
        if search.is_empty() {
            "/admin/users".to_string()
        } else {
            format!("/admin/users?{search}")
        }
    };
    let query_map = use_query_map();
    let UsersView {
        query,
        rows,
        count,
        page_size,
        me,
        i_am_superuser,
    } = view;
    // A link to this list with other parameters (the search is kept).
    let link = {
        let search = query.search.clone();
        move |ordering: &str, page: i64| {
            let mut q = query_string(&[("search", &search), ("ordering", ordering)]);
            if page > 1 {
                q.push_str(&format!("&page={page}"));
            }
            format!("/admin/users?{q}")
        }
    };
    let current = query.ordering.name(query.descending);
    let header = {
        let link = link.clone();
        let current = current.clone();
        move |ordering: UserOrdering, label: &'static str| {
            let asc = ordering.name(false);
            let desc = ordering.name(true);
            let sorted = if current == asc {
                Some("ascending")
            } else if current == desc {
                Some("descending")
            } else {
                None
            };
            // A first click sorts largest (newest) first, a second reverses it; usernames start from A.
            let next = match (sorted, ordering) {
                (Some("descending"), _) => asc,
                (Some("ascending"), _) => desc,
                (_, UserOrdering::Username) => asc,
                _ => desc,
            };
            view! {
                <th scope="col" aria-sort=sorted.unwrap_or("none")
                    class=matches!(ordering, UserOrdering::Messages | UserOrdering::Tokens).then_some("number")>
                    <a href=link(&next, 1)>{label}</a>
                </th>
            }
        }
    };
    if rows.is_empty() {
        return view! { <p class="hint" data-testid="no-users">{tr!(t, admin.users.none_found)}</p> }.into_any();
    }
    // One confirmation dialog for the page: a Delete link opens it as a modal for its account; without JavaScript
    // the link's address (`?confirm_delete=<id>`) renders it open.
    let asked = query_map
        .with_untracked(|q| q.get("confirm_delete"))
        .and_then(|id| id.parse::<i64>().ok())
        .and_then(|id| rows.iter().find(|r| r.id == id && r.id != me).cloned());
    let deleting = RwSignal::new(asked);
    let dialog = view! { <DeleteDialog deleting back=here.clone() action/> };
    let pager = super::pager(query.page, count, page_size, |p| link(&current, p));
    view! {
        {dialog}
        <p class="hint" data-testid="user-count">{tr!(t, admin.users.count, count = count)}</p>
        <div class="table-scroll">
            <table class="tokens admin-users" data-testid="users">
                <thead><tr>
                    {header(UserOrdering::Username, tr!(t, admin.users.account))}
                    {header(UserOrdering::Joined, tr!(t, admin.page.joined))}
                    {header(UserOrdering::LastLogin, tr!(t, admin.page.last_login))}
                    <th scope="col">{tr!(t, admin.page.active)}</th>
                    <th scope="col">{tr!(t, admin.page.staff)}</th>
                    {header(UserOrdering::Messages, tr!(t, admin.users.messages_month))}
                    {header(UserOrdering::Tokens, tr!(t, admin.users.tokens_month))}
                    <th scope="col"><span class="visually-hidden">{tr!(t, admin.users.actions)}</span></th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|row| view! { <UserLine row me i_am_superuser back=here.clone() action deleting/> }).collect_view()}
                </tbody>
            </table>
        </div>
        {pager}
    }
    .into_any()
}

/// `search=…&ordering=…`, leaving out empty values.
fn query_string(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", crate::core::document::encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[component]
fn UserLine(
    row: UserRow,
    me: i64,
    i_am_superuser: bool,
    back: String,
    action: ServerAction<AdminUserAction>,
    deleting: RwSignal<Option<UserRow>>,
) -> impl IntoView {
    let t = Lang::current();
    let yes_no = move |flag: bool| {
        if flag {
            tr!(t, admin.page.yes)
        } else {
            tr!(t, admin.page.no)
        }
    };
    let name = format!("{} {}", row.first_name, row.last_name).trim().to_string();
    let button = {
        let back = back.clone();
        let id = row.id.to_string();
        move |verb: &'static str, label: &'static str, class: &'static str| {
            let (id, back) = (id.clone(), back.clone());
            view! {
                <ActionForm action>
                    <CsrfField/>
                    <input type="hidden" name="id" value=id/>
                    <input type="hidden" name="action" value=verb/>
                    <input type="hidden" name="back" value=back/>
                    <button type="submit" class=class>{label}</button>
                </ActionForm>
            }
        }
    };
    let target = row.clone();
    // A superuser's deactivate, demote and delete are another superuser's to use.
    let may_remove = !row.is_superuser || i_am_superuser;
    let actions = (row.id != me).then(|| {
        let delete_href = {
            let separator = if back.contains('?') { '&' } else { '?' };
            format!("{back}{separator}confirm_delete={}", row.id)
        };
        view! {
            <div class="row-actions">
                {if row.is_active {
                    may_remove.then(|| button("deactivate", tr!(t, admin.users.deactivate), "small"))
                } else {
                    Some(button("activate", tr!(t, admin.users.activate), "small"))
                }}
                {if row.is_staff {
                    may_remove.then(|| button("revoke_staff", tr!(t, admin.users.revoke_staff), "small"))
                } else {
                    Some(button("grant_staff", tr!(t, admin.users.grant_staff), "small"))
                }}
                {row.is_active.then(|| button("send_reset", tr!(t, admin.users.send_reset), "small"))}
                {may_remove.then(|| view! {
                    <a class="button danger small" href=delete_href data-dialog=DELETE_DIALOG
                        on:click=move |_| ask_delete(deleting, target.clone())>{tr!(t, admin.users.delete)}</a>
                })}
            </div>
        }
    });
    let you = (row.id == me).then(|| view! { " " <span class="badge">{tr!(t, admin.users.you)}</span> });
    let superuser = row
        .is_superuser
        .then(|| view! { " " <span class="badge" data-testid="superuser">{tr!(t, admin.users.superuser)}</span> });
    view! {
        <tr data-user=row.username.clone()>
            <th scope="row">
                <a href=format!("/admin/users/{}", row.id)>{row.username.clone()}</a>{you}{superuser}
                <br/><span class="hint">{row.email.clone()}</span>
                {(!name.is_empty()).then(|| view! { <br/><span class="hint">{name.clone()}</span> })}
            </th>
            <td>{row.joined_text.clone()}</td>
            <td>{row.last_login_text.clone().unwrap_or_else(|| tr!(t, admin.page.never).to_string())}</td>
            <td>{yes_no(row.is_active)}</td>
            <td>{yes_no(row.is_staff)}</td>
            <td class="number">{row.messages_this_month}</td>
            <td class="number">{row.tokens_this_month}</td>
            <td>{actions}</td>
        </tr>
    }
}

/// The id of the page's delete confirmation.
const DELETE_DIALOG: &str = "delete-user-dialog";

/// A Delete link was clicked: the dialog (opened as a modal by the page's dialog handler) names this account, and its
/// button takes the focus.
fn ask_delete(deleting: RwSignal<Option<UserRow>>, row: UserRow) {
    deleting.set(Some(row));
    super::focus_delete_button(DELETE_DIALOG);
}

/// "Delete this account?": the modal dialog of the page, with the form that deletes and a way back.
#[component]
fn DeleteDialog(
    deleting: RwSignal<Option<UserRow>>,
    back: String,
    action: ServerAction<AdminUserAction>,
) -> impl IntoView {
    let t = Lang::current();
    let cancel = strip_confirm(&back);
    let back = cancel.clone();
    let open = deleting.with_untracked(Option::is_some);
    let name = move || deleting.with(|d| d.as_ref().map(|r| r.username.clone()).unwrap_or_default());
    let id = move || deleting.with(|d| d.as_ref().map(|r| r.id.to_string()).unwrap_or_default());
    view! {
        <Modal id=DELETE_DIALOG title=tr!(t, admin.users.delete_dialog_title).to_string() open close=cancel.clone()>
            <p><strong>{move || tr!(Lang::current(), admin.users.confirm_title, username = name()).to_string()}</strong>
                " "{tr!(t, admin.users.confirm_text)}</p>
            <ActionForm action>
                <CsrfField/>
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="action" value="delete"/>
                <input type="hidden" name="back" value=back/>
                <div class="modal-actions">
                    <a class="button" href=cancel data-close="">{tr!(t, admin.users.cancel)}</a>
                    <button type="submit" class="danger" autofocus=open>{tr!(t, admin.users.confirm_delete)}</button>
                </div>
            </ActionForm>
        </Modal>
    }
}

/// `back` without its `confirm_delete` parameter.
fn strip_confirm(back: &str) -> String {
    let Some((path, query)) = back.split_once('?') else {
        return back.to_string();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.starts_with("confirm_delete=") && !pair.starts_with("done="))
        .collect();
    if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}
