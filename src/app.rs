//! The application: the HTML shell rendered by the server and the router shared by server and browser.

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, SsrMode, path};

use crate::accounts::pages::{
    ForgotPasswordRoute, ImportRoute, LoginRoute, PasswordRoute, RegisterRoute, ResetPasswordRoute, SettingsRoute,
    SharesRoute, TokensRoute, UsageRoute, UserMenu,
};
use crate::admin::pages::{
    AdminConversationRoute, AdminConversationsRoute, AdminFallbackRoute, AdminRoute, AdminSettingsRoute,
    AdminToolsRoute, AdminUsageRoute, AdminUserRoute, AuditRoute, UsersRoute,
};
use crate::chat::pages::{ChatRoute, SharedRoute};
use crate::core::home::HomeRoute;
use crate::core::i18n::Lang;
use crate::core::layout::{SiteFooter, SiteHeader, rcdata_text};
use crate::core::not_found::NotFound;
use crate::core::theme::Theme;
use crate::tr;

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let theme = Theme::current().as_str();
    let lang = Lang::current();
    // Every component asks for the language; the request's headers are read this once.
    #[cfg(feature = "ssr")]
    provide_context(lang);
    let lang = lang.code();
    // The header's user menu starts from these in the browser.
    let (user, staff) = crate::accounts::pages::body_attributes();
    // A shared conversation describes itself (`chat::pages::SharedPage`): link previews show its title.
    #[cfg(feature = "ssr")]
    let own_description =
        use_context::<axum::http::request::Parts>().is_some_and(|parts| parts.uri.path().starts_with("/s/"));
    #[cfg(not(feature = "ssr"))]
    let own_description = false;
    view! {
        <!DOCTYPE html>
        <html lang=lang data-theme=theme>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                // One description for every page but shared conversations: what search engines and link previews show.
                {(!own_description).then(|| view! {
                    <meta name="description" content=tr!(Lang::current(), core.shell.description)/>
                })}
                <link rel="icon" href="/favicon.ico"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options=options.clone()/>
                {crate::core::lazy::section_preloads(section_split)}
                <HashedStylesheet options id="leptos"/>
                <MetaTags/>
            </head>
            <body data-user=user data-staff=staff>
                <App/>
            </body>
        </html>
    }
}

/// After each navigation in the browser: a page rendered in another language than the cookie now asks for (logging
/// in or saving the settings switched it) is loaded again from the server.
#[component]
fn LanguageReload() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        let location = leptos_router::hooks::use_location();
        Effect::new(move |_| {
            location.pathname.track();
            location.search.track();
            crate::core::i18n::client::reload_if_switched(None);
        });
    }
}

/// The app: frame, routes and the 404 fallback.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let t = Lang::current();
    view! {
        <Title formatter=|page: String| format!("{} · ThiCode", rcdata_text(&page))/>
        <Router>
            <a class="skip-link" href="#main">{tr!(t, core.shell.skip_content)}</a>
            // On the chat page: straight to the message box.
            <a class="skip-link skip-composer" href="#content">{tr!(t, core.shell.skip_composer)}</a>
            <LanguageReload/>
            <SiteHeader>
                <UserMenu/>
            </SiteHeader>
            <main id="main">
                // Every page is a lazy route (`core::lazy`): its code is a chunk of its own, fetched when it is
                // first shown. `page_chunk` below names the same pages by path.
                <Routes fallback=NotFound>
                    // In-order streaming: what waits for data arrives in place, so pages are complete without
                    // JavaScript (out-of-order chunks would need a script to be put in place).
                    <Route path=path!("") view={Lazy::<HomeRoute>::new()} ssr=SsrMode::InOrder/>
                    // Rendered whole: a visitor who is already logged in gets a real 302 to the chat.
                    <Route path=path!("/login") view={Lazy::<LoginRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/register") view={Lazy::<RegisterRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/forgot-password") view={Lazy::<ForgotPasswordRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/reset-password/:token") view={Lazy::<ResetPasswordRoute>::new()} ssr=SsrMode::InOrder/>
                    // Pages for logged-in users render whole before answering, so a visitor without a session gets
                    // a real 302 to the login page.
                    <Route path=path!("/settings") view={Lazy::<SettingsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings/password") view={Lazy::<PasswordRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings/tokens") view={Lazy::<TokensRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings/usage") view={Lazy::<UsageRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings/shares") view={Lazy::<SharesRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/settings/import") view={Lazy::<ImportRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/s/:token") view={Lazy::<SharedRoute>::new()} ssr=SsrMode::Async/>
                    // One route for `/chat` and `/chat/{id}`: going from one to the other (the first message
                    // creates the conversation) keeps the page and its data instead of mounting it again.
                    <Route path=path!("/chat/:id?") view={Lazy::<ChatRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view={Lazy::<AdminRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users") view={Lazy::<UsersRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/:id") view={Lazy::<AdminUserRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/:id/conversations") view={Lazy::<AdminConversationsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/users/:id/conversations/:cid") view={Lazy::<AdminConversationRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/usage") view={Lazy::<AdminUsageRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/tools") view={Lazy::<AdminToolsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/settings") view={Lazy::<AdminSettingsRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view={Lazy::<AuditRoute>::new()} ssr=SsrMode::Async/>
                    <Route path=path!("/admin/*any") view={Lazy::<AdminFallbackRoute>::new()} ssr=SsrMode::Async/>
                </Routes>
            </main>
            <SiteFooter/>
        </Router>
    }
}

/// The split point of the page at `path`: the start of its `#[lazy]` function's name in wasm-split's manifest (the
/// sections of `core::lazy`, and the home and chat routes). The same table as the routes above.
fn section_split(path: &str) -> Option<&'static str> {
    let path = path.trim_end_matches('/');
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    Some(match path {
        "" => "__home_route_view_",
        "/login" | "/register" | "/forgot-password" => "auth_view_",
        _ if path.starts_with("/reset-password/") => "auth_view_",
        _ if path.starts_with("/s/") => "shared_view_",
        _ if under("/settings") => "settings_view_",
        _ if under("/admin") => "admin_view_",
        _ if under("/chat") => "__chat_route_view_",
        _ => return None,
    })
}

/// The lazy route of the page at `path` and how to fetch its chunk (a link to it was pointed at or focused); the same
/// table as the routes above.
#[cfg(feature = "hydrate")]
pub fn page_chunk(path: &str) -> Option<crate::core::lazy::client::Chunk> {
    use crate::core::lazy::client::chunk;

    let path = path.trim_end_matches('/');
    Some(match path {
        "" => chunk::<HomeRoute>(),
        "/login" => chunk::<LoginRoute>(),
        "/register" => chunk::<RegisterRoute>(),
        "/forgot-password" => chunk::<ForgotPasswordRoute>(),
        "/settings" => chunk::<SettingsRoute>(),
        "/settings/password" => chunk::<PasswordRoute>(),
        "/settings/tokens" => chunk::<TokensRoute>(),
        "/settings/usage" => chunk::<UsageRoute>(),
        "/settings/shares" => chunk::<SharesRoute>(),
        "/settings/import" => chunk::<ImportRoute>(),
        "/admin" => chunk::<AdminRoute>(),
        "/admin/users" => chunk::<UsersRoute>(),
        "/admin/audit" => chunk::<AuditRoute>(),
        "/admin/settings" => chunk::<AdminSettingsRoute>(),
        "/admin/usage" => chunk::<AdminUsageRoute>(),
        "/admin/tools" => chunk::<AdminToolsRoute>(),
        _ if path.starts_with("/admin/users/") => match path.split('/').count() {
            4 => chunk::<AdminUserRoute>(),
            5 => chunk::<AdminConversationsRoute>(),
            _ => chunk::<AdminConversationRoute>(),
        },
        _ if path.starts_with("/reset-password/") => chunk::<ResetPasswordRoute>(),
        _ if path.starts_with("/s/") => chunk::<SharedRoute>(),
        _ if path == "/chat" || path.starts_with("/chat/") => chunk::<ChatRoute>(),
        _ if path.starts_with("/admin/") => chunk::<AdminFallbackRoute>(),
        _ => return None,
    })
}
