//! The header's user menu: the logged-in user's name, the chat and admin links and the logout button, or the links to
//! log in and sign up.
//!
//! It is in the first download of every page, so it needs none of the server-function client (which only the pages'
//! own chunks carry): the server renders the user it found in the session and names it on `<body>` (`data-user`,
//! `data-staff`), the browser starts from there; when navigation enters another part of the site (logging in,
//! registering or deleting the account ends with one) it asks `current_user` again with one plain `fetch`, and the
//! logout button posts to `logout` with one `fetch` (without JavaScript, the same form is a plain post).

use leptos::prelude::*;
use leptos::server_fn::ServerFn;

use crate::accounts::server_fns::Logout;
use crate::core::csrf::CsrfField;
use crate::core::i18n::Lang;
use crate::core::icons::{Icon, Svg};
use crate::tr;

/// Who the menu shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuUser {
    /// Login name.
    pub username: String,
    /// Shows the admin link.
    pub is_staff: bool,
}

/// The user the page was rendered for: on the server the session's, in the browser the one the server named on
/// `<body>` ([`body_attributes`]).
pub fn rendered_user() -> Option<MenuUser> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<axum::http::request::Parts>()?;
        let session = parts.extensions.get::<crate::accounts::auth::AuthSession>()?;
        session.user.as_ref().map(|user| MenuUser {
            username: user.username.clone(),
            is_staff: user.is_staff,
        })
    }
    #[cfg(not(feature = "ssr"))]
    {
        let body = document().body()?;
        Some(MenuUser {
            username: body.get_attribute("data-user")?,
            is_staff: body.has_attribute("data-staff"),
        })
    }
}

/// `<body>`'s `data-user` and `data-staff` for the page being rendered (written by the server's shell).
pub fn body_attributes() -> (Option<String>, Option<&'static str>) {
    let user = rendered_user();
    let staff = user.as_ref().filter(|u| u.is_staff).map(|_| "");
    (user.map(|u| u.username), staff)
}

/// Header widget: the user's name and a logout button, or links to log in and register.
#[component]
pub fn UserMenu() -> impl IntoView {
    let user = RwSignal::new(rendered_user());
    // Asked again when navigation enters another part of the site (the first path segment): moving within a part
    // (from one conversation to another) asks nothing.
    #[cfg(feature = "hydrate")]
    {
        let location = leptos_router::hooks::use_location();
        let part = Memo::new(move |_| {
            location.pathname.with(|path| {
                path.trim_start_matches('/')
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
        });
        Effect::new(move |before: Option<String>| {
            let now = part.get();
            if before.is_some_and(|before| before != now) {
                let asked_in = now.clone();
                leptos::task::spawn_local(async move {
                    // An answer for a part already left is not the latest: the next one is on its way.
                    if let Some(answer) = client::current_user().await
                        && part.get_untracked() == asked_in
                    {
                        user.set(answer);
                    }
                });
            }
            now
        });
    }
    let pending = RwSignal::new(false);
    let on_logout = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(feature = "hydrate")]
        {
            ev.prevent_default();
            pending.set(true);
            let form = event_target::<web_sys::HtmlFormElement>(&ev);
            leptos::task::spawn_local(async move {
                if client::post(Logout::PATH).await.is_some_and(|r| r.ok()) {
                    user.set(None);
                    leptos_router::hooks::use_navigate()("/", Default::default());
                } else {
                    // The server's own answer, as without JavaScript (`submit()` fires no submit event).
                    let _ = form.submit();
                }
                pending.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, pending);
    };
    let t = Lang::current();
    move || match user.get() {
        Some(user) => view! {
            <a href="/chat" data-testid="chat-link" class="icon-button" aria-label=tr!(t, accounts.session.chat)
                data-tip=tr!(t, accounts.session.chat)>
                <Svg icon=Icon::NewChat/>
            </a>
            {user.is_staff.then(|| view! {
                <a href="/admin" data-testid="admin-link" class="icon-button" aria-label=tr!(t, accounts.session.admin)
                    data-tip=tr!(t, accounts.session.admin)>
                    <Svg icon=Icon::Shield/>
                </a>
            })}
            <a class="user-name" data-testid="user-name" href="/settings">{user.username}</a>
            <form class="logout-form" method="post" action=Logout::PATH on:submit=on_logout>
                <CsrfField/>
                <button type="submit" class="icon-button" aria-label=tr!(t, accounts.session.log_out)
                    data-tip=tr!(t, accounts.session.log_out) disabled=move || pending.get()>
                    <Svg icon=Icon::LogOut/>
                </button>
            </form>
        }
        .into_any(),
        None => view! {
            <a class="button" href="/login">{tr!(t, accounts.session.log_in_menu)}</a>
            <a class="button primary" href="/register">{tr!(t, accounts.session.sign_up)}</a>
        }
        .into_any(),
    }
}

/// The two requests of the menu, as plain `fetch`es of the server functions' URLs (same origin: the browser sends the
/// session cookie and the `Origin` the CSRF check wants).
#[cfg(feature = "hydrate")]
mod client {
    use leptos::server_fn::ServerFn;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    use super::MenuUser;
    use crate::accounts::server_fns::CurrentUser;

    /// POSTs an empty form to `path`; `None` when the request could not be made.
    pub async fn post(path: &str) -> Option<web_sys::Response> {
        let headers = web_sys::Headers::new().ok()?;
        headers.set("Content-Type", "application/x-www-form-urlencoded").ok()?;
        // Not `text/html`: the server answers as to the app (a redirect is a header, not a 302 to follow).
        headers.set("Accept", "application/json").ok()?;
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        let answer = JsFuture::from(leptos::prelude::window().fetch_with_str_and_init(path, &init))
            .await
            .ok()?;
        answer.dyn_into().ok()
    }

    /// The session's user now (`Some(None)`: nobody), or `None` when the server could not say.
    pub async fn current_user() -> Option<Option<MenuUser>> {
        let answer = post(CurrentUser::PATH).await.filter(web_sys::Response::ok)?;
        let json = JsFuture::from(answer.json().ok()?).await.ok()?;
        if json.is_null() {
            return Some(None);
        }
        let field = |name: &str| js_sys::Reflect::get(&json, &name.into()).ok();
        Some(Some(MenuUser {
            username: field("username")?.as_string()?,
            is_staff: field("is_staff").and_then(|v| v.as_bool()).unwrap_or(false),
        }))
    }
}
