//! The sidebar: new conversation, search, active and archived filters, the conversation list and its pages.

use leptos::prelude::*;

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
                        {c.is_pinned.then_some(view! { <span class="pin" aria-label=t.t("Pinned", "Épinglée")>"📌 "</span> })}
                        {c.title}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav class="sidebar" aria-label="Conversations">
            <a class="button new-chat" href="/chat">{t.t("+ New conversation", "+ Nouvelle conversation")}</a>
            <form class="search" method="get" action="/chat" role="search">
                <label for="q" class="visually-hidden">{t.t("Search conversations", "Chercher dans les conversations")}</label>
                <input id="q" name="q" type="search" maxlength="200"
                    placeholder=t.t("Search titles and messages", "Chercher dans les titres et les messages")
                    value=ctx.query.clone().unwrap_or_default() data-testid="search"/>
            </form>
            {ctx.query.clone().map(|q| view! {
                <p class="hint" data-testid="search-results">
                    {match t { Lang::En => format!("Results for “{q}” · "), Lang::Fr => format!("Résultats pour « {q} » · ") }}
                    <a href="/chat">{t.t("Clear", "Effacer")}</a>
                </p>
            })}
            <p class="filters">
                <a href="/chat" aria-current=move || (!archived.get()).then_some("page")>{t.t("Active", "Actives")}</a>
                " · "
                <a href="/chat?archived=1" aria-current=move || archived.get().then_some("page")>{t.t("Archived", "Archivées")}</a>
            </p>
            <ul class="conversation-list">{items}</ul>
            <p class="pager">
                {newer.map(|href| view! { <a href=href>{t.t("← Newer", "← Plus récentes")}</a> })}
                {older.map(|href| view! { <a href=href>{t.t("Older →", "Plus anciennes →")}</a> })}
            </p>
        </nav>
    }
    .into_any()
}
