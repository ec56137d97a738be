//! The public home page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::core::i18n::Lang;
use crate::tr;

/// `/`: what ThiCode is and why one would run it.
#[component]
pub fn HomePage() -> impl IntoView {
    let deleted = move || use_query_map().with(|q| q.get("account_deleted").is_some());
    let t = Lang::current();
    view! {
        <Title text=tr!(t, core.home.own_ai_chat)/>
        <Show when=deleted>
            <p class="notice" role="status">{tr!(t, core.home.account_all_data_deleted)}</p>
        </Show>
        <section class="hero">
            <h1>{tr!(t, core.home.chat_ai_server_own)}</h1>
            <p class="lead">
                {tr!(t, core.home.thicode_fast_self_hostable)}
            </p>
            // The chat sends visitors to log in first; a logged-in visit to the sign-up page goes on to the chat.
            <p class="cta">
                <a class="button primary" href="/chat" data-testid="cta-chat">{tr!(t, core.home.start_chatting)}</a>
                <a class="button" href="/register">{tr!(t, core.home.create_account)}</a>
            </p>
        </section>
        <section class="features" aria-label=tr!(t, core.home.why_thicode)>
            <article class="feature">
                <h2>{tr!(t, core.home.data_stays_yours)}</h2>
                <p>
                    {tr!(t, core.home.conversations_live_sqlite_postgresql)}
                </p>
            </article>
            <article class="feature">
                <h2>{tr!(t, core.home.fast_first_load)}</h2>
                <p>
                    {tr!(t, core.home.every_page_rendered_server)}
                </p>
            </article>
            <article class="feature">
                <h2>{tr!(t, core.home.simple_run)}</h2>
                <p>
                    {tr!(t, core.home.one_binary_one_settings)}
                </p>
            </article>
        </section>
    }
}

crate::lazy_page!(
    /// `/` as a lazy route.
    HomeRoute => HomePage
);
