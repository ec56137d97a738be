//! The page frame shared by every page: header with the brand and the theme switch, and the footer.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::core::csrf::CsrfField;
use crate::core::i18n::Lang;
use crate::core::icons::{Icon, Svg};
use crate::core::theme::Theme;
use crate::tr;

/// Top bar of every page; `children` are the features' items (the user menu), shown before the theme switch.
#[component]
pub fn SiteHeader(children: Children) -> impl IntoView {
    view! {
        <header class="site-header">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"◆"</span>
                "ThiCode"
            </a>
            <nav class="site-nav" aria-label=tr!(Lang::current(), core.layout.main)>
                {children()}
                <ThemeToggle/>
            </nav>
        </header>
    }
}

/// Bottom line of every page, with the language switch.
#[component]
pub fn SiteFooter() -> impl IntoView {
    let t = Lang::current();
    view! {
        <footer class="site-footer">
            <p>
                "ThiCode " {env!("CARGO_PKG_VERSION")}
                {tr!(t, core.layout.self_hosted_ai_chat)}
                // Served by the server, not the app's router: a full page load.
                <a href="/api/docs/" rel="external">{tr!(t, core.layout.api_reference)}</a>
            </p>
            <LanguageSwitch/>
        </footer>
    }
}

/// Buttons for the other languages. A plain form post (with or without JavaScript): the server stores the choice
/// and sends the page again, rendered in the new language.
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let current = Lang::current();
    let location = use_location();
    view! {
        <form class="language-switch" method="post" action="/language">
            <CsrfField/>
            <input type="hidden" name="next" value=move || here(&location)/>
            {Lang::ALL.into_iter().filter(|l| *l != current).map(|lang| view! {
                <button type="submit" name="lang" value=lang.code() lang=lang.code() data-testid="language-switch">
                    {lang.name()}
                </button>
            }).collect_view()}
        </form>
    }
}

/// Cycles system → light → dark. A plain form post without JavaScript; an instant switch once hydrated.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(Theme::current());
    let lang = Lang::current();
    let location = use_location();
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let chosen = theme.get_untracked().next();
        theme.set(chosen);
        #[cfg(feature = "hydrate")]
        crate::core::theme::client::apply(chosen);
    };
    view! {
        <form class="theme-toggle" method="post" action="/theme" on:submit=on_submit>
            <CsrfField/>
            <input type="hidden" name="theme" value=move || theme.get().next().as_str()/>
            <input type="hidden" name="next" value=move || here(&location)/>
            <button type="submit" class="icon-button tip-left" data-theme-current=move || theme.get().as_str()
                data-tip=move || theme.get().label(lang)>
                {move || {
                    let icon = match theme.get() {
                        Theme::System => Icon::Monitor,
                        Theme::Light => Icon::Sun,
                        Theme::Dark => Icon::Moon,
                    };
                    view! { <Svg icon/> }
                }}
                <span class="visually-hidden">{move || theme.get().label(lang)}</span>
            </button>
        </form>
    }
}

/// The page's path with its query (`/login?next=/admin`), for switches that come back to it.
fn here(location: &leptos_router::location::Location) -> String {
    let search = location.search.get();
    let search = search.trim_start_matches('?');
    let path = location.pathname.get();
    if search.is_empty() {
        path
    } else {
        format!("{path}?{search}")
    }
}

/// Text for a `<textarea>` or the `<title>`. Leptos writes the children of these into server-rendered HTML without
/// escaping them (tachys 0.2 treats them as raw text), so text holding `</textarea>` or `</title>` would end the
/// element and inject markup; on the server we escape it ourselves (browsers decode entities inside both), in the
/// browser the text is set as it is.
pub fn rcdata_text(text: &str) -> String {
    #[cfg(feature = "ssr")]
    {
        crate::core::error::escape_html(text)
    }
    #[cfg(not(feature = "ssr"))]
    {
        text.to_string()
    }
}

/// Reloads the page every `seconds` for a visitor without JavaScript (a reply being written shows up as it grows).
///
/// Only the server writes the `<meta http-equiv="refresh">`: a browser that runs scripts parses the server's
/// `<noscript>` as inert text, but obeys a refresh element that the client would create itself (after a send, when
/// the page re-renders), and would reload the page under the user's hands. The client renders the same `<noscript>`
/// empty, which hydrates against the server's.
#[component]
pub fn NoScriptRefresh(seconds: u32) -> impl IntoView {
    noscript_refresh(seconds)
}

#[cfg(feature = "ssr")]
fn noscript_refresh(seconds: u32) -> AnyView {
    view! { <noscript><meta http-equiv="refresh" content=seconds.to_string()/></noscript> }.into_any()
}

#[cfg(not(feature = "ssr"))]
fn noscript_refresh(_seconds: u32) -> AnyView {
    view! { <noscript></noscript> }.into_any()
}
