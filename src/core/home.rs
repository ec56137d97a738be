//! The public home page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/`: what ThiCode is and why one would run it.
#[component]
pub fn HomePage() -> impl IntoView {
    let deleted = move || use_query_map().with(|q| q.get("account_deleted").is_some());
    view! {
        <Title text="Your own AI chat"/>
        <Show when=deleted>
            <p class="notice" role="status">"Your account and all its data were deleted."</p>
        </Show>
        <section class="hero">
            <h1>"Chat with AI on a server you own"</h1>
            <p class="lead">
                "ThiCode is a fast, self-hostable AI chat assistant. It talks to Mistral models from the server, "
                "keeps your conversations in your own database and runs with one command."
            </p>
        </section>
        <section class="features" aria-label="Why ThiCode">
            <article class="feature">
                <h2>"Your data stays yours"</h2>
                <p>"Conversations live in SQLite or PostgreSQL on your machine. The API key never reaches the browser."</p>
            </article>
            <article class="feature">
                <h2>"Fast on first load"</h2>
                <p>"Every page is rendered on the server and works without JavaScript, then becomes a snappy app."</p>
            </article>
            <article class="feature">
                <h2>"Simple to run"</h2>
                <p>"One binary, one settings file, zero configuration to start: set a Mistral key when you are ready."</p>
            </article>
        </section>
    }
}
