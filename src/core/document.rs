//! What a page knows about its visitor's choices (theme, language): cookies of the request on the server, attributes
//! of `<html>` in the browser — the server writes them there, so the hydrated page reads what the server rendered.

/// The first value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

/// A header of the request being rendered or handled (server side).
#[cfg(feature = "ssr")]
pub fn request_header(name: axum::http::HeaderName) -> Option<String> {
    leptos::prelude::with_context::<axum::http::request::Parts, _>(|parts| header_text(&parts.headers, name)).flatten()
}

/// Every value of a header as text, joined as a single header would list them (`; ` for `Cookie`, which HTTP/2 may
/// split, `, ` for the others). Bytes that are not UTF-8 (another app's cookie on the same host) are replaced rather
/// than making the whole header unreadable.
#[cfg(feature = "ssr")]
pub fn header_text(headers: &axum::http::HeaderMap, name: axum::http::HeaderName) -> Option<String> {
    let separator = if name == axum::http::header::COOKIE { "; " } else { ", " };
    let values: Vec<String> = headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(separator))
}

/// An attribute of the document's `<html>` element (browser side).
#[cfg(feature = "hydrate")]
pub fn html_attribute(name: &str) -> Option<String> {
    leptos::prelude::document().document_element()?.get_attribute(name)
}

/// The document's cookies, as a `Cookie` header would carry them (browser side).
#[cfg(feature = "hydrate")]
pub fn cookies() -> Option<String> {
    use wasm_bindgen::JsCast;
    leptos::prelude::document()
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()?
        .cookie()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::cookie_value;

    #[test]
    fn finds_a_cookie_by_its_exact_name() {
        assert_eq!(cookie_value("a=1; lang=fr; b=2", "lang"), Some("fr"));
        assert_eq!(cookie_value("xlang=fr", "lang"), None);
        assert_eq!(cookie_value("", "lang"), None);
    }
}
