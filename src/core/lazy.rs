//! Pages loaded on demand. Every page is a lazy route: the browser's first download is the shell (router, header,
//! menus, dialogs) plus the code of the page it opened — the server names its chunks in `<head>` — and navigating
//! to another page fetches that page's code. The home page and the chat are split points of their own
//! ([`lazy_page!`]); the account forms, the settings and the admin area are one each ([`lazy_section!`]). Chunks are fetched ahead when a link to their page is pointed at,
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
            // The router builds a route's data as soon as the route is chosen, before its chunk is fetched; the
            // view is built once the chunk is there.
            fn data() -> Self {
                $crate::core::lazy::page_requested();
                $route
            }

            fn view(_this: Self) -> ::leptos::prelude::AnyView {
                let view = ::leptos::prelude::IntoAny::into_any(::leptos::prelude::untrack($page));
                $crate::core::lazy::page_built();
                view
            }
        }
    };
}

/// Declares the lazy routes of a section: pages whose code is fetched together, as one split point. Each split point
/// multiplies the chunks wasm-split cuts the client into (one per set of split points a piece of code serves), and a
/// browser pays for every chunk file it requests on a first visit (issue #28: a page of 138 files spent 100 ms of one
/// task just issuing the requests on a 4× slower CPU). Pages people open one after the other — the account forms,
/// the settings, the admin area — share one.
/// `lazy_section!(admin_view, __preload_admin_view, AdminPages { AdminRoute => AdminPage, … })`: the `#[lazy]`
/// function that builds a page of the section (its preload function is `__preload_` and its name), the enum of its
/// pages, and each route with its page component.
#[macro_export]
macro_rules! lazy_section {
    ($view:ident, $preload:ident, $pages:ident {
        $($(#[$meta:meta])* $route:ident => $page:path),+ $(,)?
    }) => {
        /// The pages of the section.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(clippy::enum_variant_names)]
        pub enum $pages {
            $($route),+
        }

        /// Builds the section's page `page` (one split point for all of them).
        #[::leptos::lazy]
        fn $view(page: $pages) -> ::leptos::prelude::AnyView {
            match page {
                $($pages::$route => ::leptos::prelude::IntoAny::into_any(::leptos::prelude::untrack($page)),)+
            }
        }

        $(
            $(#[$meta])*
            pub struct $route;

            impl ::leptos_router::LazyRoute for $route {
                fn data() -> Self {
                    $crate::core::lazy::page_requested();
                    $route
                }

                async fn view(_this: Self) -> ::leptos::prelude::AnyView {
                    let view = $view($pages::$route).await;
                    $crate::core::lazy::page_built();
                    view
                }

                async fn preload() {
                    #[cfg(target_arch = "wasm32")]
                    $preload().await;
                }
            }
        )+
    };
}

/// A page was chosen by the router and its code may still be on its way: `<main>` is `aria-busy` and `<body>` carries
/// `data-navigating` (the style shows a progress bar at the top after a moment), until [`page_built`]. Nothing on the
/// server.
pub fn page_requested() {
    #[cfg(feature = "hydrate")]
    client::navigating(true);
}

/// The chosen page's view is built: the navigation is no longer waiting for code.
pub fn page_built() {
    #[cfg(feature = "hydrate")]
    client::navigating(false);
}

/// Starts fetching the chunk of the page at `path` ahead: the page a form leads to (the chat, after logging in).
/// Nothing on the server.
pub fn preload(path: &str) {
    #[cfg(feature = "hydrate")]
    client::preload(path);
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// Fetches the chunk files of the page being rendered (`split` names its split point from its path) right after the
/// first paint: a script in the head adds their `<link rel="preload">` once the first frame is drawn. Without it the
/// requests were issued from the task that hydrates the page (issue #28: 25–60 ms of it at 4× CPU, and the longest
/// task over 200 ms). Written into the head, the links would make every chunk a dependency of the first paint: on a
/// slow connection that delays it (Lighthouse's LCP went from 2.1 to 3.5 s, docs/BENCHMARKS.md), so the links Leptos
/// writes there itself are dropped ([`drop_head_chunk_links`]). Nothing without `--split` (no manifest) or on the
/// client.
pub fn section_preloads(split: fn(&str) -> Option<&'static str>) -> impl leptos::prelude::IntoView {
    #[cfg(feature = "ssr")]
    {
        use leptos::prelude::*;
        let path = use_context::<axum::http::request::Parts>().map(|parts| parts.uri.path().to_string());
        let prefix = path.as_deref().and_then(split);
        let manifest = use_context::<leptos::WasmSplitManifest>();
        let nonce = use_nonce().map(|n| n.to_string()).unwrap_or_default();
        if prefix.is_some() && manifest.is_some() {
            drop_head_chunk_links();
        }
        let links = prefix.zip(manifest).and_then(|(prefix, manifest)| {
            manifest.0.with_value(|(pkg, modules, split_js)| {
                let files: Vec<String> = modules
                    .iter()
                    .filter(|(key, _)| key.starts_with(prefix))
                    .flat_map(|(_, files)| files.iter().cloned())
                    .collect();
                (!files.is_empty()).then(|| (pkg.clone(), files, split_js.clone()))
            })
        });
        links.map(|(pkg, files, split_js)| {
            let mut urls: Vec<String> = files.iter().map(|f| format!("{pkg}/{f}.wasm")).collect();
            urls.push(format!("{pkg}/{split_js}"));
            let list = serde_json::to_string(&urls).unwrap_or_default();
            // With the main module in the browser's cache, hydration can start before this runs and fetch the chunks
            // itself through wasm-split's loader (the file listed last): then nothing is added, as a preload would
            // ask for them a second time.
            let script = format!(
                "requestAnimationFrame(function(){{setTimeout(function(){{var u={list},f=function(x){{\
                 return performance.getEntriesByName(new URL(x,location.href).href).length}};\
                 if(f(u[u.length-1]))return;u.forEach(function(u){{if(f(u))return;\
                 var l=document.createElement('link');l.rel=/\\.js$/.test(u)?'modulepreload':'preload';\
                 if(l.rel==='preload'){{l.as='fetch';l.type='application/wasm';}}l.crossOrigin='anonymous';\
                 l.href=u;document.head.appendChild(l);}});}},0);}});"
            );
            view! { <script nonce=nonce inner_html=script></script> }
        })
    }
    #[cfg(not(feature = "ssr"))]
    let _ = split;
}

/// Empties the list of `#[lazy]` calls that Leptos's integration turns into `<link rel="preload">` in the head once
/// the page's synchronous render is over (the pages without a resource in a `<Suspense>`: home, the password forms).
/// The list fills while the route renders, after the shell, so the emptying waits for that render: it is a deferred
/// piece of the stream, which the integration awaits before it reads the list. The script of [`section_preloads`]
/// fetches the same files after the first paint instead.
#[cfg(feature = "ssr")]
fn drop_head_chunk_links() {
    use leptos::prelude::*;
    let (Some(owner), Some(context)) = (Owner::current(), Owner::current_shared_context()) else {
        return;
    };
    context.defer_stream(Box::pin(async move {
        if let Some(calls) = owner.with(use_context::<leptos::PrefetchLazyFn>) {
            calls.0.write_value().clear();
        }
    }));
}

#[cfg(feature = "hydrate")]
pub mod client {
    use std::cell::{Cell, RefCell};
    use std::collections::HashSet;
    use std::future::Future;
    use std::pin::Pin;

    use leptos_router::LazyRoute;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;
    use web_sys::{Element, HtmlAnchorElement};

    /// A page's lazy route, by name, and the fetch of its chunk (not started yet).
    pub type Chunk = (&'static str, Pin<Box<dyn Future<Output = ()>>>);

    /// The app's route table: the [`Chunk`] of the page at a path, if one is there.
    pub type PageChunk = fn(&str) -> Option<Chunk>;

    /// The [`Chunk`] of the lazy route `R`.
    pub fn chunk<R: LazyRoute>() -> Chunk {
        (std::any::type_name::<R>(), Box::pin(R::preload()))
    }

    thread_local! {
        static PAGE_CHUNK: Cell<Option<PageChunk>> = const { Cell::new(None) };
        static FETCHED: RefCell<HashSet<&'static str>> = RefCell::new(HashSet::new());
    }

    /// Marks the document as waiting for a page ([`super::page_requested`]) or not.
    pub(super) fn navigating(on: bool) {
        let document = leptos::prelude::document();
        if let Some(body) = document.body() {
            let _ = body.toggle_attribute_with_force("data-navigating", on);
        }
        if let Some(main) = document.get_element_by_id("main") {
            let _ = if on {
                main.set_attribute("aria-busy", "true")
            } else {
                main.remove_attribute("aria-busy")
            };
        }
    }

    /// Once per page, however many paths lead to it (every conversation is the chat page).
    pub(super) fn preload(path: &str) {
        let Some((route, fetch)) = PAGE_CHUNK.get().and_then(|page_chunk| page_chunk(path)) else {
            return;
        };
        if FETCHED.with(|fetched| fetched.borrow_mut().insert(route)) {
            leptos::task::spawn_local(fetch);
        }
    }

    /// Fetches a page's chunk ahead when a same-site link to it is pointed at, focused or touched. `page_chunk`
    /// names the page of a path (the app's route table knows which).
    pub fn install(page_chunk: PageChunk) {
        PAGE_CHUNK.set(Some(page_chunk));
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
