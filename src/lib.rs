//! ThiCode: a self-hostable AI chat assistant. One crate, two targets: the server (`ssr`) renders every page and
//! serves the API; the browser (`hydrate`) takes the rendered page over as a single-page app.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod accounts;
pub mod admin;
#[cfg(feature = "ssr")]
pub mod api;
pub mod app;
pub mod chat;
#[cfg(feature = "ssr")]
pub mod cli;
pub mod core;
#[cfg(feature = "ssr")]
pub mod export;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod state;

/// Entry point of the WASM client: hydrates the server-rendered page, then marks `<body data-hydrated>`.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
