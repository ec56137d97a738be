//! The CSRF token of forms, as Django puts it in every form: a hidden `csrfmiddlewaretoken` field holding the value of
//! the `csrftoken` cookie. Browsers say where a post comes from (`Origin`, `Sec-Fetch-Site`), and that is what
//! `core::security::check_origin` checks first; a post that says neither (an old browser, a privacy proxy that strips
//! them) must carry the token instead, which a page of another site cannot read.

use leptos::prelude::*;

/// The form field of the token (Django's name).
pub const FORM_FIELD: &str = "csrfmiddlewaretoken";

/// The token of this request, for the server's renderings: the request's `csrftoken` cookie, or the one
/// `core::security::ensure_csrf_cookie` gives a browser that has none.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

/// The token the page's forms carry.
pub fn token() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<CsrfToken>().map(|t| t.0.clone()))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        #[cfg(feature = "hydrate")]
        {
            crate::core::document::cookies()
                .and_then(|cookies| crate::core::document::cookie_value(&cookies, "csrftoken").map(str::to_string))
                .unwrap_or_default()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            String::new()
        }
    }
}

/// The hidden field every form that posts carries.
#[component]
pub fn CsrfField() -> impl IntoView {
    view! { <input type="hidden" name=FORM_FIELD value=token()/> }
}
