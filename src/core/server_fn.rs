//! How a server function was called, for the features' server functions: by a script (JSON, gets HTTP statuses),
//! by a plain HTML form post (no JavaScript: gets redirects), or by a page render on the server (keeps the page's
//! status).

use axum::http::{StatusCode, header, request::Parts};
use leptos::prelude::use_context;

/// The request calls a server function directly (its URL is under the server-function prefix) and `accept_html`
/// says whether it asks for HTML; `None` while a page is being rendered.
fn direct_call() -> Option<bool> {
    let parts = use_context::<Parts>()?;
    if !parts.uri.path().starts_with(env!("SERVER_FN_PREFIX")) {
        return None;
    }
    Some(
        parts
            .headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html")),
    )
}

/// A plain HTML form post to a server function (a browser without JavaScript).
pub fn is_form_post() -> bool {
    direct_call() == Some(true)
}

/// Gives the response `status` (and `Retry-After: seconds`) when a script called the server function; a form post
/// keeps Leptos' redirect and a page render its own status.
pub fn set_script_status(status: StatusCode, retry_after: Option<u64>) {
    if direct_call() == Some(false)
        && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
    {
        response.set_status(status);
        if let Some(seconds) = retry_after {
            response.insert_header(header::RETRY_AFTER, seconds.into());
        }
    }
}

/// Adds a `Set-Cookie` header (the theme or the language) to the server function's response.
pub fn set_cookie(cookie: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::HeaderValue::from_str(cookie),
    ) {
        response.append_header(header::SET_COOKIE, value);
    }
}
