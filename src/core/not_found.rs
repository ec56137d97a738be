//! The app-rendered 404 page.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::core::i18n::Lang;

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
    let t = Lang::current();
    view! {
        <Title text=t.t("Page not found", "Page introuvable")/>
        <section class="not-found">
            <h1>{t.t("Page not found", "Page introuvable")}</h1>
            <p>
                {t.t(
                    "There is nothing at this address. It may have moved, or the link may be mistyped.",
                    "Il n’y a rien à cette adresse. La page a peut-être changé de place, ou le lien est mal saisi.",
                )}
            </p>
            <p><a href="/">{t.t("Go to the home page", "Aller à l’accueil")}</a></p>
        </section>
    }
}
