//! Pages loaded on demand. Every page is a lazy route: the browser's first download is the shell (router, header,
//! menus, dialogs) plus the chunk of the page it opened — the server names that chunk in `<head>` — and navigating
//! to another page fetches that page's chunk. Chunks are fetched ahead when a link to their page is pointed at,
//! focused or touched (`client`), so navigation stays instant. Built by `cargo leptos build --split` (wasm-split);
//! without `--split` the same code builds one module and nothing is loaded later.

/// Declares the lazy route `$route` for the page component `$page` (a component without props):
/// `lazy_page!(ChatRoute => ChatPage)`, then `<Route view={Lazy::<ChatRoute>::new()}/>`.
#[macro_export]
macro_rules! lazy_page {
    ($(#[$meta:meta])* $route:ident => $page:ident) => {
        $(#[$meta])*
        pub struct $route;

        #[::leptos_router::lazy_route]
        impl ::leptos_router::LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> ::leptos::prelude::AnyView {
                ::leptos::prelude::IntoAny::into_any(::leptos::prelude::untrack($page))
            }
        }
    };
}

/// Starts fetching the chunk of the page at `path` ahead: the page a form leads to (the chat, after logging in).
/// Nothing on the server.
pub fn preload(path: &str) {
    #[cfg(feature = "hydrate")]
    client::preload(path);
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

#[cfg(feature = "hydrate")]
pub mod client {
    use std::cell::{Cell, RefCell};
    use std::collections::HashSet;

    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;
    use web_sys::{Element, HtmlAnchorElement};

    thread_local! {
        static PRELOAD: Cell<Option<fn(&str)>> = const { Cell::new(None) };
        static ASKED: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
    }

    /// Once per path: the chunk loader keeps what it loaded, this spares it the calls.
    pub(super) fn preload(path: &str) {
        if let Some(preload) = PRELOAD.get()
            && ASKED.with(|asked| asked.borrow_mut().insert(path.to_string()))
        {
            preload(path);
        }
    }

    /// Fetches a page's chunk ahead when a same-site link to it is pointed at, focused or touched. `preload` names
    /// the page for a path and starts fetching its chunk (the app's route table knows which).
    pub fn install(page_preload: fn(&str)) {
        PRELOAD.set(Some(page_preload));
        let document = leptos::prelude::document();
        let on_intent = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
            let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
                return;
            };
            let Some(link) = target
                .closest("a[href]")
                .ok()
                .flatten()
                .and_then(|a| a.dyn_into::<HtmlAnchorElement>().ok())
            else {
                return;
            };
            let same_site = web_sys::window()
                .and_then(|w| w.location().origin().ok())
                .is_some_and(|origin| origin == link.origin());
            if same_site {
                preload(&link.pathname());
            }
        });
        // A touch fires `pointerover` too, before the tap.
        for event in ["pointerover", "focusin"] {
            let _ = document.add_event_listener_with_callback(event, on_intent.as_ref().unchecked_ref());
        }
        // Installed for the page's lifetime.
        on_intent.forget();
    }
}
