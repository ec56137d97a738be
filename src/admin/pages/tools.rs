//! `/admin/tools` (issue #27): the built-in tools as the settings turn them on, the limits of tool use, and the MCP
//! servers — add one (a URL with headers, or a command where the instance allows it), change it, choose which of its
//! tools are offered and which ask the user first, list its tools again, remove it (after a confirmation,
//! `?confirm_delete=<id>`). Every action is a plain form, so all of it works without JavaScript. Header values are
//! secrets: the page names the stored headers and never shows, keeps or repeats their values.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{AdminNav, refused};
use crate::admin::server_fns::{AdminAddMcpServer, AdminMcpServerAction, AdminSaveMcpServer, admin_tools};
use crate::admin::types::{McpServerRow, McpToolRow, ToolsAdminView};
use crate::core::csrf::CsrfField;
use crate::core::dialog::Modal;
use crate::core::error::AppError;
use crate::core::i18n::Lang;
use crate::tr;

/// The id of the page's delete confirmation.
const DELETE_DIALOG: &str = "delete-mcp-dialog";

/// The actions of the page, shared by its forms.
#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AdminAddMcpServer>,
    save: ServerAction<AdminSaveMcpServer>,
    act: ServerAction<AdminMcpServerAction>,
}

/// `/admin/tools`.
#[component]
pub fn ToolsPage() -> impl IntoView {
    let t = Lang::current();
    let query = use_query_map();
    let actions = Actions {
        add: ServerAction::new(),
        save: ServerAction::new(),
        act: ServerAction::new(),
    };
    let view = crate::core::codec::resource(
        move || {
            (
                actions.add.version().get(),
                actions.save.version().get(),
                actions.act.version().get(),
            )
        },
        |_| admin_tools(),
    );
    // A refresh or delete that failed (a form's field errors show at its fields).
    let error = move || {
        actions
            .act
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.message(Lang::current()))
    };
    let done = move || {
        let failed = [
            actions.add.value().get(),
            actions.save.value().get(),
            actions.act.value().get(),
        ]
        .iter()
        .any(|v| matches!(v, Some(Err(_))));
        let done = query.with(|q| q.get("done").unwrap_or_default());
        (!failed).then(|| done_text(Lang::current(), &done)).flatten()
    };
    view! {
        <Title text=tr!(t, admin.tools.title)/>
        <section class="auth-card wide admin">
            <h1>{tr!(t, admin.tools.title)}</h1>
            <AdminNav here="/admin/tools"/>
            <p class="form-error" role="alert" data-testid="action-error">{error}</p>
            <p class="notice-slot" role="status" data-testid="action-done">
                {move || done().map(|text| view! { <span class="notice">{text}</span> })}
            </p>
            <Suspense fallback=move || view! { <p>{tr!(t, admin.page.loading)}</p> }>
                {move || Suspend::new(async move {
                    match view.await {
                        Ok(view) => tools(view, actions).into_any(),
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
        "added" => tr!(t, admin.tools.done_added),
        "saved" => tr!(t, admin.tools.done_saved),
        "refresh" => tr!(t, admin.tools.done_refresh),
        "delete" => tr!(t, admin.tools.done_delete),
        _ => return None,
    })
}

fn tools(view: ToolsAdminView, actions: Actions) -> impl IntoView {
    let t = Lang::current();
    let query = use_query_map();
    let asked = query
        .with_untracked(|q| q.get("confirm_delete"))
        .and_then(|id| id.parse::<i64>().ok())
        .and_then(|id| view.servers.iter().find(|s| s.id == id).cloned());
    let deleting = RwSignal::new(asked);
    let on_off = move |on: bool| {
        if on {
            tr!(t, admin.tools.on)
        } else {
            tr!(t, admin.tools.off)
        }
    };
    let search = match &view.web_search {
        Some(backend) => tr!(t, admin.tools.search_on, backend = backend).to_string(),
        None => tr!(t, admin.tools.search_off).to_string(),
    };
    let fetch = if view.web_fetch {
        tr!(t, admin.tools.fetch_on)
    } else {
        tr!(t, admin.tools.fetch_off)
    };
    let calls = if view.calls_per_day == 0 {
        tr!(t, admin.tools.calls_unlimited).to_string()
    } else {
        tr!(t, admin.tools.calls_per_day, count = view.calls_per_day).to_string()
    };
    let stdio_enabled = view.stdio_enabled;
    let servers = if view.servers.is_empty() {
        view! { <p class="hint" data-testid="no-servers">{tr!(t, admin.tools.no_servers)}</p> }.into_any()
    } else {
        view.servers
            .into_iter()
            .map(|server| view! { <ServerCard server stdio_enabled actions deleting/> })
            .collect_view()
            .into_any()
    };
    view! {
        <DeleteDialog deleting action=actions.act/>
        <h2>{tr!(t, admin.tools.builtin)}</h2>
        <dl class="tool-settings" data-testid="builtin-tools">
            <dt>{tr!(t, admin.tools.web_search)}</dt>
            <dd><span class="badge">{on_off(view.web_search.is_some())}</span>" "{search}</dd>
            <dt>{tr!(t, admin.tools.read_page)}</dt>
            <dd><span class="badge">{on_off(view.web_fetch)}</span>" "{fetch}</dd>
            <dt>{tr!(t, admin.tools.limits)}</dt>
            <dd>{tr!(t, admin.tools.limits_text, rounds = view.max_rounds, seconds = view.call_timeout_seconds,
                minutes = view.approval_seconds.div_ceil(60))}" "{calls}</dd>
        </dl>
        <p class="hint">{tr!(t, admin.tools.settings_hint)}</p>
        <h2>{tr!(t, admin.tools.servers)}</h2>
        <p class="hint">{tr!(t, admin.tools.servers_hint)}</p>
        {servers}
        <h2 id="add-server">{tr!(t, admin.tools.add_title)}</h2>
        <AddForm stdio_enabled action=actions.add/>
    }
}

/// A form's field errors and what was typed, when the failed submission was this form's (`form` is kept with them).
fn form_error(error: Option<AppError>, form: &str) -> Option<crate::core::error::FormErrors> {
    error
        .and_then(|e| e.form().cloned())
        .filter(|f| f.values.get("form").map(String::as_str) == Some(form))
}

/// A labelled field with its hint and errors; `multiline` makes it a text area.
#[component]
fn Field(
    id: String,
    name: &'static str,
    label: &'static str,
    value: String,
    #[prop(optional)] hint: Option<String>,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] placeholder: &'static str,
    errors: Vec<String>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let errors_id = format!("{id}-errors");
    let described = if hint.is_some() {
        format!("{hint_id} {errors_id}")
    } else {
        errors_id.clone()
    };
    let invalid = (!errors.is_empty()).to_string();
    let input = if multiline {
        view! {
            <textarea id=id.clone() name=name rows="3" aria-describedby=described.clone() aria-invalid=invalid.clone()
                placeholder=placeholder autocomplete="off" spellcheck="false">{value}</textarea>
        }
        .into_any()
    } else {
        view! {
            <input id=id.clone() name=name value=value aria-describedby=described.clone() aria-invalid=invalid.clone()
                placeholder=placeholder autocomplete="off" spellcheck="false"/>
        }
        .into_any()
    };
    view! {
        <label for=id.clone()>{label}</label>
        {input}
        {hint.map(|hint| view! { <p class="hint" id=hint_id>{hint}</p> })}
        <div id=errors_id role="alert"><ul class="field-errors">
            {errors.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
        </ul></div>
    }
}

/// "Add an MCP server".
#[component]
fn AddForm(stdio_enabled: bool, action: ServerAction<AdminAddMcpServer>) -> impl IntoView {
    let t = Lang::current();
    let fields = move || {
        let failed = form_error(action.value().get().and_then(Result::err), "add");
        let of = |name: &str| failed.as_ref().map(|f| f.of(name, t)).unwrap_or_default();
        let typed = |name: &str| {
            failed
                .as_ref()
                .and_then(|f| f.values.get(name).cloned())
                .unwrap_or_default()
        };
        let command = stdio_enabled.then(|| {
            view! {
                <Field id="add-command".to_string() name="command" label=tr!(t, admin.tools.command)
                    value=typed("command") multiline=true hint=tr!(t, admin.tools.command_hint).to_string()
                    errors=of("command")/>
            }
        });
        view! {
            <Field id="add-name".to_string() name="name" label=tr!(t, admin.tools.name) value=typed("name")
                hint=tr!(t, admin.tools.name_hint).to_string() placeholder="weather" errors=of("name")/>
            <Field id="add-url".to_string() name="url" label=tr!(t, admin.tools.url) value=typed("url")
                hint=tr!(t, admin.tools.url_hint).to_string() placeholder="https://mcp.example.com/mcp" errors=of("url")/>
            <Field id="add-headers".to_string() name="headers" label=tr!(t, admin.tools.headers) value=String::new()
                multiline=true hint=tr!(t, admin.tools.headers_hint).to_string()
                placeholder="Authorization: Bearer …" errors=of("headers")/>
            {command}
            <div role="alert"><ul class="field-errors">
                {of("__all__").into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
            </ul></div>
        }
    };
    view! {
        <ActionForm action attr:class="form mcp-form" attr:novalidate=true attr:data-testid="add-server">
            <CsrfField/>
            {fields}
            <label class="checkbox"><input type="checkbox" name="enabled" value="1" checked/>
                {tr!(t, admin.tools.enabled)}</label>
            <button type="submit" class="primary">{tr!(t, admin.tools.add)}</button>
        </ActionForm>
    }
}

/// One MCP server: what it is, its form (settings and tools), List again and Delete.
#[component]
fn ServerCard(
    server: McpServerRow,
    stdio_enabled: bool,
    actions: Actions,
    deleting: RwSignal<Option<McpServerRow>>,
) -> impl IntoView {
    let t = Lang::current();
    let id = server.id.to_string();
    let target = server.clone();
    let is_command = !server.command.is_empty();
    let status = if server.enabled {
        tr!(t, admin.tools.on)
    } else {
        tr!(t, admin.tools.off)
    };
    let listing = match (&server.last_error, &server.listed_at) {
        (Some(error), _) => view! {
            <p class="form-error" data-testid="listing-error">{tr!(t, admin.tools.listing_failed, error = error.clone())}</p>
        }
        .into_any(),
        (None, Some(at)) => view! {
            <p class="hint">{tr!(t, admin.tools.listed, count = server.tools.len(), at = at.clone())}</p>
        }
        .into_any(),
        (None, None) => view! { <p class="hint">{tr!(t, admin.tools.never_listed)}</p> }.into_any(),
    };
    let unusable =
        (is_command && !stdio_enabled).then(|| view! { <p class="form-error">{tr!(t, admin.tools.stdio_off)}</p> });
    let fields = {
        let server = server.clone();
        let id = id.clone();
        move || {
            let failed = form_error(actions.save.value().get().and_then(Result::err), &id);
            let of = |name: &str| failed.as_ref().map(|f| f.of(name, t)).unwrap_or_default();
            let typed = |name: &str, stored: String| {
                failed
                    .as_ref()
                    .and_then(|f| f.values.get(name).cloned())
                    .unwrap_or(stored)
            };
            let field_id = |name: &str| format!("mcp-{}-{name}", server.id);
            let address = if is_command {
                stdio_enabled
                    .then(|| {
                        view! {
                            <Field id=field_id("command") name="command" label=tr!(t, admin.tools.command)
                                value=typed("command", server.command.join("\n")) multiline=true
                                hint=tr!(t, admin.tools.command_hint).to_string() errors=of("command")/>
                        }
                    })
                    .into_any()
            } else {
                let stored = if server.headers.is_empty() {
                    tr!(t, admin.tools.no_headers).to_string()
                } else {
                    tr!(t, admin.tools.stored_headers, names = server.headers.join(", ")).to_string()
                };
                let clear = (!server.headers.is_empty()).then(|| {
                    view! {
                        <label class="checkbox"><input type="checkbox" name="clear_headers" value="1"/>
                            {tr!(t, admin.tools.clear_headers)}</label>
                    }
                });
                view! {
                    <Field id=field_id("url") name="url" label=tr!(t, admin.tools.url)
                        value=typed("url", server.url.clone()) errors=of("url")/>
                    <Field id=field_id("headers") name="headers" label=tr!(t, admin.tools.new_headers)
                        value=String::new() multiline=true hint=stored placeholder="Authorization: Bearer …"
                        errors=of("headers")/>
                    {clear}
                }
                .into_any()
            };
            view! {
                <Field id=field_id("name") name="name" label=tr!(t, admin.tools.name)
                    value=typed("name", server.name.clone()) hint=tr!(t, admin.tools.name_hint).to_string()
                    errors=of("name")/>
                {address}
                <div role="alert"><ul class="field-errors">
                    {of("tools").into_iter().chain(of("__all__")).map(|m| view! { <li>{m}</li> }).collect_view()}
                </ul></div>
            }
        }
    };
    let tools = if server.tools.is_empty() {
        None
    } else {
        let rows = server
            .tools
            .iter()
            .enumerate()
            .map(|(i, tool)| tool_row(t, server.id, i, tool))
            .collect_view();
        Some(view! {
            <div class="table-scroll" tabindex="0" role="region" aria-label=tr!(t, admin.tools.tools_of, name = server.name.clone())>
                <table class="tokens mcp-tools">
                    <caption class="visually-hidden">{tr!(t, admin.tools.tools_of, name = server.name.clone())}</caption>
                    <thead><tr>
                        <th scope="col">{tr!(t, admin.tools.tool)}</th>
                        <th scope="col">{tr!(t, admin.tools.offer)}</th>
                        <th scope="col">{tr!(t, admin.tools.ask_first)}</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        })
    };
    let delete_href = format!("/admin/tools?confirm_delete={}", server.id);
    let heading_id = format!("mcp-{}", server.id);
    let labelled_by = heading_id.clone();
    let (save_id, refresh_id) = (id.clone(), id);
    view! {
        <article class="mcp-server" data-server=server.name.clone() aria-labelledby=labelled_by>
            <h3 id=heading_id>{server.name.clone()}" "<span class="badge" data-testid="server-status">{status}</span></h3>
            <p class="hint mcp-address">
                {if is_command { server.command.join(" ") } else { server.url.clone() }}
            </p>
            {listing}
            {unusable}
            <ActionForm action=actions.save attr:class="form mcp-form" attr:novalidate=true>
                <CsrfField/>
                <input type="hidden" name="id" value=save_id/>
                {fields}
                <label class="checkbox"><input type="checkbox" name="enabled" value="1" checked=server.enabled/>
                    {tr!(t, admin.tools.enabled)}</label>
                {tools}
                <button type="submit" class="primary">{tr!(t, admin.tools.save)}</button>
            </ActionForm>
            <div class="row-actions">
                <ActionForm action=actions.act>
                    <CsrfField/>
                    <input type="hidden" name="id" value=refresh_id/>
                    <input type="hidden" name="action" value="refresh"/>
                    <button type="submit" class="small">{tr!(t, admin.tools.refresh)}</button>
                </ActionForm>
                <a class="button danger small" href=delete_href data-dialog=DELETE_DIALOG
                    on:click=move |_| {
                        deleting.set(Some(target.clone()));
                        super::focus_delete_button(DELETE_DIALOG);
                    }>{tr!(t, admin.tools.delete)}</a>
            </div>
        </article>
    }
}

/// A tool's line in its server's form: whether it is offered and asks first (`listed[i]` names it, so an unticked
/// box is a choice too).
fn tool_row(t: Lang, server: i64, i: usize, tool: &McpToolRow) -> impl IntoView {
    let description_id = format!("mcp-{server}-tool-{i}");
    let changes = tool
        .destructive
        .then(|| view! { " " <span class="badge" title=tr!(t, admin.tools.destructive_hint)>{tr!(t, admin.tools.destructive)}</span> });
    view! {
        <tr data-tool=tool.name.clone()>
            <th scope="row">
                <input type="hidden" name=format!("listed[{i}]") value=tool.name.clone()/>
                <code>{tool.offered_as.clone()}</code>{changes}
                <br/><span class="hint" id=description_id.clone()>{tool.description.clone()}</span>
            </th>
            <td>
                <input type="checkbox" name=format!("on[{i}]") value=tool.name.clone() checked=tool.enabled
                    aria-label=tr!(t, admin.tools.offer_tool, tool = tool.name.clone()) aria-describedby=description_id.clone()/>
            </td>
            <td>
                <input type="checkbox" name=format!("ask[{i}]") value=tool.name.clone() checked=tool.ask_first
                    aria-label=tr!(t, admin.tools.ask_tool, tool = tool.name.clone()) aria-describedby=description_id/>
            </td>
        </tr>
    }
}

/// "Remove this MCP server?": the modal dialog of the page, with the form that removes it and a way back.
#[component]
fn DeleteDialog(deleting: RwSignal<Option<McpServerRow>>, action: ServerAction<AdminMcpServerAction>) -> impl IntoView {
    let t = Lang::current();
    let open = deleting.with_untracked(Option::is_some);
    let name = move || deleting.with(|d| d.as_ref().map(|s| s.name.clone()).unwrap_or_default());
    let id = move || deleting.with(|d| d.as_ref().map(|s| s.id.to_string()).unwrap_or_default());
    view! {
        <Modal id=DELETE_DIALOG title=tr!(t, admin.tools.delete_title).to_string() open close="/admin/tools".to_string()>
            <p><strong>{move || tr!(Lang::current(), admin.tools.confirm_title, name = name()).to_string()}</strong>
                " "{tr!(t, admin.tools.confirm_text)}</p>
            <ActionForm action>
                <CsrfField/>
                <input type="hidden" name="id" value=id/>
                <input type="hidden" name="action" value="delete"/>
                <div class="modal-actions">
                    <a class="button" href="/admin/tools" data-close="">{tr!(t, admin.users.cancel)}</a>
                    <button type="submit" class="danger" autofocus=open>{tr!(t, admin.tools.confirm_delete)}</button>
                </div>
            </ActionForm>
        </Modal>
    }
}
