//! The app-rendered 404 page.

use leptos::prelude::*;
use leptos_meta::Title;

/// Shown for any path no route matches; answers with status 404 on the server.
#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found"/>
        <section class="not-found">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. It may have moved, or the link may be mistyped."</p>
            <p><a href="/">"Go to the home page"</a></p>
        </section>
    }
}
