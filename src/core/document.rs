//! What a page knows about its visitor's choices (theme, language): cookies of the request on the server, attributes
//! of `<html>` in the browser — the server writes them there, so the hydrated page reads what the server rendered.
//! And where a page may send its visitor next (`?next=`), checked the same way on both sides.

/// The first value of cookie `name` in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then_some(value)
    })
}

/// `text` percent-encoded for a query value (everything but `A–Z a–z 0–9 - . _ ~`).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The visitor's offset from UTC in minutes, east positive, from the `tz` cookie the browser sets
/// (`remember_utc_offset`); 0 without one. Offsets beyond ±14 h are not real zones.
pub fn utc_offset(cookie_header: &str) -> i32 {
    cookie_value(cookie_header, "tz")
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|minutes| minutes.abs() <= 14 * 60)
        .unwrap_or(0)
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

/// `here` (a path with its query, already percent-encoded where needed) as the value of a `?next=` parameter: the
/// characters that would end or split the parameter are escaped, so the login page comes back to the same path and
/// query.
pub fn next_value(here: &str) -> String {
    here.replace('%', "%25")
        .replace('&', "%26")
        .replace('#', "%23")
        .replace('?', "%3F")
        .replace('=', "%3D")
        .replace('+', "%2B")
}

/// `next` if it is a path on this site (`/…`, not `//host` or `/\host`), otherwise `/`: no open redirects.
pub fn safe_next(next: &str) -> &str {
    safe_next_or(next, "/")
}

/// `next` if it is a path on this site, otherwise `fallback`.
pub fn safe_next_or<'a>(next: &'a str, fallback: &'a str) -> &'a str {
    let same_site = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if same_site { next } else { fallback }
}

/// Keeps the browser's offset from UTC in the `tz` cookie, so the server groups by the user's days (browser side).
#[cfg(feature = "hydrate")]
pub fn remember_utc_offset() {
    use wasm_bindgen::JsCast;
    let minutes = -(js_sys::Date::new_0().get_timezone_offset() as i32);
    let known = cookies().and_then(|c| cookie_value(&c, "tz").map(str::to_string));
    if known.as_deref() == Some(minutes.to_string().as_str()) {
        return;
    }
    if let Ok(document) = leptos::prelude::document().dyn_into::<web_sys::HtmlDocument>() {
        let _ = document.set_cookie(&format!("tz={minutes}; Path=/; Max-Age=31536000; SameSite=Lax"));
    }
}

#[cfg(test)]
mod tests {
    use super::{cookie_value, safe_next};

    #[test]
    fn finds_a_cookie_by_its_exact_name() {
        assert_eq!(cookie_value("a=1; lang=fr; b=2", "lang"), Some("fr"));
        assert_eq!(cookie_value("xlang=fr", "lang"), None);
        assert_eq!(cookie_value("", "lang"), None);
    }

    #[test]
    fn the_time_zone_cookie_is_read_within_real_offsets() {
        assert_eq!(super::utc_offset("lang=fr; tz=-300"), -300);
        assert_eq!(super::utc_offset("tz=330"), 330);
        assert_eq!(super::utc_offset("tz=99999"), 0);
        assert_eq!(super::utc_offset("tz=x"), 0);
        assert_eq!(super::utc_offset(""), 0);
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(super::encode_component("a b&c=é"), "a%20b%26c%3D%C3%A9");
    }

    #[test]
    fn next_stays_on_our_site() {
        assert_eq!(safe_next("/chat/3?x=1"), "/chat/3?x=1");
        for hostile in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/a\nb",
        ] {
            assert_eq!(safe_next(hostile), "/", "{hostile:?}");
        }
    }
}
