//! The sidebar: new conversation, search, active and archived filters, the conversation list and its pages.

use leptos::prelude::*;

use crate::tr;

use crate::chat::types::{ChatContext, PAGE_SIZE};
use crate::core::i18n::Lang;

#[component]
pub(super) fn Sidebar(
    ctx: ChatContext,
    current: Memo<Option<i64>>,
    archived: Memo<bool>,
    offset: Memo<i64>,
) -> impl IntoView {
    let t = Lang::current();
    let base = if archived.get_untracked() {
        "/chat?archived=1&"
    } else {
        "/chat?"
    };
    let newer =
        (offset.get_untracked() > 0).then(|| format!("{base}offset={}", (offset.get_untracked() - PAGE_SIZE).max(0)));
    let older = ctx
        .has_more
        .then(|| format!("{base}offset={}", offset.get_untracked() + PAGE_SIZE));
    let items = ctx
        .conversations
        .into_iter()
        .map(|c| {
            let href = format!("/chat/{}", c.id);
            let is_current = move || current.get() == Some(c.id);
            view! {
                <li class:pinned=c.is_pinned>
                    <a href=href aria-current=move || is_current().then_some("page") data-testid="conversation-link">
                        {c.is_pinned.then_some(view! { <span class="pin" aria-label=tr!(t, chat.sidebar.pinned)>"📌 "</span> })}
                        {c.title}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="sidebar" aria-label="Conversations">
            <a class="button new-chat" href="/chat">{tr!(t, chat.sidebar.new_conversation)}</a>
            <form class="search" method="get" action="/chat" role="search">
                <label for="q" class="visually-hidden">{tr!(t, chat.sidebar.search_conversations)}</label>
                <input id="q" name="q" type="search" maxlength="200"
                    placeholder=tr!(t, chat.sidebar.search_titles_messages)
                    value=ctx.query.clone().unwrap_or_default() data-testid="search"/>
            </form>
            {ctx.query.clone().map(|q| view! {
                <p class="hint" data-testid="search-results">
                    {match t { Lang::En => format!("Results for “{q}” · "), Lang::Fr => format!("Résultats pour « {q} » · ") }}
                    <a href="/chat">{tr!(t, chat.sidebar.clear)}</a>
                </p>
            })}
            <p class="filters">
                <a href="/chat" aria-current=move || (!archived.get()).then_some("page")>{tr!(t, chat.sidebar.active)}</a>
                " · "
                <a href="/chat?archived=1" aria-current=move || archived.get().then_some("page")>{tr!(t, chat.sidebar.archived)}</a>
            </p>
            <ul class="conversation-list">{items}</ul>
            <p class="pager">
                {newer.map(|href| view! { <a href=href>{tr!(t, chat.sidebar.newer)}</a> })}
                {older.map(|href| view! { <a href=href>{tr!(t, chat.sidebar.older)}</a> })}
            </p>
        </nav>
    }
    .into_any()
}
