//! The app-rendered 404 page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::core::i18n::Lang;
use crate::tr;

/// Gives the page being rendered the status 404 (server side; nothing in the browser). Pages that show a "not
/// found" state for a missing object call it too, so a missing page is never a 200.
pub fn set_not_found_status() {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
}

/// Shown for any path no route matches; answers with status 404 on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    set_not_found_status();
    // Not a lazy page: a navigation that was waiting for another page's code ends here.
    crate::core::lazy::page_built();
    let t = Lang::current();
    view! {
        <Title text=tr!(t, core.not_found.page_not_found)/>
        <section class="not-found">
            <h1>{tr!(t, core.not_found.page_not_found)}</h1>
            <p>
                {tr!(t, core.not_found.there_nothing_address_may)}
            </p>
            <p><a href="/">{tr!(t, core.not_found.go_home_page)}</a></p>
        </section>
    }
}
