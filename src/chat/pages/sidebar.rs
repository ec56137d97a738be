//! The sidebar: new conversation, search (Ctrl/Cmd+K), active and archived lists, the conversations grouped by day
//! (`groups`), each with its menu (rename in place, pin, archive, export, delete), and the link to more.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::chat::types::{ChatContext, ConversationSummary, PAGE_SIZE};
use crate::core::dialog::open_link;
use crate::core::i18n::Lang;
use crate::core::icons::{Icon, Svg};
use crate::core::layout::LanguageSwitch;
use crate::tr;

use super::groups::grouped;
use super::{Actions, Deleting};
use crate::core::csrf::CsrfField;

#[component]
pub(super) fn Sidebar(
    ctx: ChatContext,
    current: Memo<Option<i64>>,
    archived: Memo<bool>,
    offset: Memo<i64>,
    actions: Actions,
    deleting: Deleting,
) -> impl IntoView {
    let t = Lang::current();
    let base = if archived.get_untracked() {
        "/chat?archived=1&"
    } else {
        "/chat?"
    };
    let newer =
        (offset.get_untracked() > 0).then(|| format!("{base}offset={}", (offset.get_untracked() - PAGE_SIZE).max(0)));
    let empty = ctx.conversations.is_empty();
    let query = ctx.query.clone();
    // The list grows as the reader scrolls to its end (with JavaScript): the next pages are appended; without, the
    // "More" link opens the next page.
    let (now, utc_offset) = (ctx.now, ctx.utc_offset);
    let shown = RwSignal::new(ctx.conversations);
    let has_more = RwSignal::new(ctx.has_more);
    let loading = RwSignal::new(false);
    let start = offset.get_untracked();
    let load_more = move || {
        if loading.get_untracked() || !has_more.get_untracked() {
            return;
        }
        loading.set(true);
        let next = start + shown.with_untracked(|list| list.len() as i64);
        leptos::task::spawn_local(async move {
            if let Ok(page) = crate::chat::server_fns::get_chat_context(archived.get_untracked(), next, None).await {
                shown.update(|list| {
                    for c in page.conversations {
                        if !list.iter().any(|known| known.id == c.id) {
                            list.push(c);
                        }
                    }
                });
                has_more.set(page.has_more);
            }
            loading.set(false);
        });
    };
    let older = move || {
        has_more
            .get()
            .then(|| format!("{base}offset={}", start + shown.with(|list| list.len() as i64)))
    };
    let more_link = NodeRef::<leptos::html::A>::new();
    #[cfg(feature = "hydrate")]
    super::client::when_visible(more_link, load_more);
    let groups = move || {
        grouped(shown.get(), now, utc_offset)
            .into_iter()
            .enumerate()
            .map(|(i, (group, items))| {
                let heading = format!("sidebar-group-{i}");
                view! {
                    <h2 class="group" id=heading.clone()>{group.label(t)}</h2>
                    <ul class="conversation-list" aria-labelledby=heading>
                        {items.into_iter().map(|c| view! { <Item c current actions deleting/> }).collect_view()}
                    </ul>
                }
            })
            .collect_view()
    };
    let empty_state = empty.then(|| match &query {
        Some(q) => view! {
            <p class="sidebar-empty" data-testid="no-results">{tr!(t, chat.sidebar.no_results, q = q)}</p>
        }
        .into_any(),
        None if archived.get_untracked() => {
            view! { <p class="sidebar-empty" data-testid="sidebar-empty">{tr!(t, chat.sidebar.empty_archived)}</p> }
                .into_any()
        }
        None => view! {
            <p class="sidebar-empty" data-testid="sidebar-empty">
                {tr!(t, chat.sidebar.empty)} " " <a href="/chat">{tr!(t, chat.sidebar.start_first)}</a>
            </p>
        }
        .into_any(),
    });
    view! {
        <nav class="sidebar" id="sidebar" aria-label=tr!(t, chat.sidebar.conversations)>
            <div class="sidebar-top">
                <a class="button new-chat" href="/chat" data-testid="new-chat">
                    <Svg icon=Icon::NewChat/>
                    {tr!(t, chat.sidebar.new_conversation)}
                </a>
                <form class="search" method="get" action="/chat" role="search">
                    <label for="q" class="visually-hidden">{tr!(t, chat.sidebar.search_conversations)}</label>
                    <Svg icon=Icon::Search/>
                    <input id="q" name="q" type="search" maxlength="200"
                        placeholder=tr!(t, chat.sidebar.search_titles_messages)
                        title=tr!(t, chat.sidebar.search_shortcut)
                        value=ctx.query.clone().unwrap_or_default() data-testid="search"/>
                </form>
                <p class="filters">
                    <a href="/chat" aria-current=move || (!archived.get()).then_some("page")>{tr!(t, chat.sidebar.active)}</a>
                    <a href="/chat?archived=1" aria-current=move || archived.get().then_some("page")>{tr!(t, chat.sidebar.archived)}</a>
                </p>
            </div>
            <div class="sidebar-scroll">
                {query.clone().map(|q| view! {
                    <p class="hint" data-testid="search-results">
                        {tr!(t, chat.sidebar.results_for, q = q)} " · "
                        <a href="/chat">{tr!(t, chat.sidebar.clear)}</a>
                    </p>
                })}
                {empty_state}
                {groups}
                <p class="pager">
                    {newer.map(|href| view! { <a href=href>{tr!(t, chat.sidebar.newer)}</a> })}
                    {move || older().map(|href| view! {
                        <a href=href node_ref=more_link data-testid="more-conversations"
                            on:click=move |ev| { ev.prevent_default(); load_more(); }>
                            {tr!(t, chat.sidebar.more)}
                        </a>
                    })}
                </p>
            </div>
            <div class="sidebar-bottom">
                <a class="icon-button tip-right" href="/chat?dialog=shortcuts" data-dialog="shortcuts-dialog"
                    aria-label=tr!(t, chat.shortcuts.open) data-tip=tr!(t, chat.shortcuts.open) data-testid="open-shortcuts">
                    <Svg icon=Icon::Keyboard/>
                </a>
                <a class="icon-button" href="/settings" aria-label=tr!(t, chat.sidebar.settings) data-tip=tr!(t, chat.sidebar.settings)>
                    <Svg icon=Icon::Settings/>
                </a>
                <LanguageSwitch/>
            </div>
        </nav>
    }
    .into_any()
}

/// One conversation: its link, and a menu (on hover and focus; always visible on touch screens).
#[component]
fn Item(c: ConversationSummary, current: Memo<Option<i64>>, actions: Actions, deleting: Deleting) -> impl IntoView {
    let t = Lang::current();
    let id = c.id;
    let href = format!("/chat/{id}");
    let archived = c.status == "archived";
    let renaming = RwSignal::new(false);
    let title = StoredValue::new(c.title.clone());
    let menu_label = tr!(t, chat.sidebar.options_for, title = &c.title).to_string();
    let start_rename = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        renaming.set(true);
    };
    let ask_delete = {
        let title = c.title.clone();
        move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            deleting.ask(id, title.clone());
        }
    };
    // Renamed: back to the link once the server took it.
    Effect::new(move |_| {
        if let Some(Ok(())) = actions.update.value().get() {
            renaming.set(false);
        }
    });
    let link_title = c.title.clone();
    view! {
        <li class:pinned=c.is_pinned data-testid="conversation-item">
            <Show when=move || renaming.get() fallback=move || view! {
                <a href=href.clone() aria-current=move || (current.get() == Some(id)).then_some("page")
                    data-testid="conversation-link">
                    {link_title.clone()}
                </a>
            }>
                <ActionForm action=actions.update attr:class="rename-inline">
                    <CsrfField/>
                    <input type="hidden" name="id" value=id/>
                    <label for=format!("rename-{id}") class="visually-hidden">{tr!(t, chat.conversation.title)}</label>
                    <input id=format!("rename-{id}") name="title" value=title.get_value() maxlength="255" required autofocus
                        data-testid="rename-input"
                        on:keydown=move |ev| if ev.key() == "Escape" { renaming.set(false) }/>
                </ActionForm>
            </Show>
            <details class="menu item-menu">
                <summary class="icon-button small" aria-label=menu_label.clone() data-tip=tr!(t, chat.sidebar.more)>
                    <Svg icon=Icon::More/>
                </summary>
                <ul class="menu-list">
                    <li>
                        <a href=open_link(&format!("/chat/{id}"), "rename") on:click=start_rename data-testid="menu-rename">
                            <Svg icon=Icon::Pencil/>{tr!(t, chat.sidebar.rename)}
                        </a>
                    </li>
                    <li>
                        <ActionForm action=actions.update>
                            <CsrfField/>
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="pinned" value=(!c.is_pinned).to_string()/>
                            <button type="submit" data-testid="menu-pin">
                                <Svg icon=Icon::Pin/>
                                {if c.is_pinned { tr!(t, chat.sidebar.unpin) } else { tr!(t, chat.sidebar.pin) }}
                            </button>
                        </ActionForm>
                    </li>
                    <li><ArchiveToggle id archived actions testid="menu-archive"/></li>
                    <li>
                        <a href=format!("/chat/{id}/export/md") download rel="external">
                            <Svg icon=Icon::Download/>{tr!(t, chat.sidebar.export)}
                        </a>
                    </li>
                    <li>
                        <a class="danger-item" href=open_link(&format!("/chat/{id}"), "delete") on:click=ask_delete
                            data-testid="menu-delete">
                            <Svg icon=Icon::Trash/>{tr!(t, chat.sidebar.delete)}
                        </a>
                    </li>
                </ul>
            </details>
        </li>
    }
}

/// The menu item that archives a conversation, or restores an archived one (the sidebar's and the header's menus).
#[component]
pub(super) fn ArchiveToggle(id: i64, archived: bool, actions: Actions, testid: &'static str) -> impl IntoView {
    let t = Lang::current();
    view! {
        <ActionForm action=actions.update>
            <CsrfField/>
            <input type="hidden" name="id" value=id/>
            <input type="hidden" name="archived" value=(!archived).to_string()/>
            <button type="submit" data-testid=testid>
                <Svg icon=if archived { Icon::Restore } else { Icon::Archive }/>
                {if archived { tr!(t, chat.sidebar.restore) } else { tr!(t, chat.sidebar.archive) }}
            </button>
        </ActionForm>
    }
}
