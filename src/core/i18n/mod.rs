//! The interface language (English or French).
//!
//! The language of a page is chosen on the server, in this order: the `lang` cookie (set by the language switch in
//! the footer, by saving the settings and at login from the account's preference), then the browser's
//! `Accept-Language`, then English. The server writes it into `<html lang>`, and the browser reads it back from there,
//! so the hydrated page renders the same text as the server did.
//!
//! Interface text lives in one catalogue, `src/core/i18n/locales/<language>/<feature>.json`, compiled into code by
//! leptos_i18n (build.rs): components, errors and server functions name a key, `tr!(lang, chat.composer.send)`, which
//! the compiler checks, and build.rs fails when a key is missing in a language. Messages of the shared services
//! (validation, provider failures), whose reader may be a page in either language, the REST API (English, worded like
//! Django's) or the CLI, are a [`Text`] made from a key with `text!(…)`: every language at once, each rendering
//! picks its own.

#[cfg(all(test, feature = "ssr"))]
mod keys;
mod text;

pub use text::Text;

/// An interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English (the default).
    #[default]
    En,
    /// French.
    Fr,
}

impl Lang {
    /// Every language, in the order the switch and the settings list them.
    pub const ALL: [Self; 2] = [Self::En, Self::Fr];

    /// Parses a language code: `en` or `fr`.
    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "en" => Some(Self::En),
            "fr" => Some(Self::Fr),
            _ => None,
        }
    }

    /// The code stored in preferences, the cookie and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
        }
    }

    /// The language's own name.
    pub fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::Fr => "Français",
        }
    }

    /// This language as the translation module knows it.
    pub fn locale(self) -> crate::i18n::Locale {
        match self {
            Self::En => crate::i18n::Locale::en,
            Self::Fr => crate::i18n::Locale::fr,
        }
    }

    /// A `Set-Cookie` value remembering this language for a year.
    pub fn cookie(self) -> String {
        format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", self.code())
    }

    /// The language in a `Cookie` header, if one is set and known.
    pub fn from_cookie_header(header: &str) -> Option<Self> {
        crate::core::document::cookie_value(header, "lang").and_then(Self::parse)
    }

    /// The preferred known language of an `Accept-Language` header (`fr-CA,fr;q=0.9,en;q=0.8`), if any.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        header
            .split(',')
            .filter_map(|item| {
                let mut parts = item.trim().split(';');
                let tag = parts.next()?.trim();
                let primary = tag.split('-').next()?.to_ascii_lowercase();
                // `q` in any case and with spaces around `=`; a weight outside 0–1 makes the item invalid.
                let quality = parts
                    .find_map(|p| {
                        let (name, value) = p.split_once('=')?;
                        name.trim().eq_ignore_ascii_case("q").then_some(value.trim())
                    })
                    .map_or(Some(1.0), |q| q.parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q)))?;
                let lang = Self::parse(&primary)?;
                (quality > 0.0).then_some((lang, quality))
            })
            // The first of the best: `max_by` keeps the last of equals, so compare in reverse order.
            .rev()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(lang, _)| lang)
    }

    /// The language of the current page: from the request on the server (worked out once per page by the shell,
    /// which provides it to every component), from `<html lang>` in the browser.
    pub fn current() -> Self {
        #[cfg(feature = "ssr")]
        return leptos::prelude::use_context::<Self>()
            .or_else(|| {
                leptos::prelude::with_context::<axum::http::request::Parts, _>(|parts| from_headers(&parts.headers))
            })
            .unwrap_or_default();
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        return client::from_document();
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        Self::En
    }
}

/// The text of a key of the catalogue (`src/core/i18n/locales`) in a [`Lang`]: `tr!(lang, core.theme.system)`, or
/// with values, `tr!(lang, core.wait, n = 5)`. The key is checked by the compiler; every key exists in every language
/// (build.rs fails otherwise).
#[macro_export]
macro_rules! tr {
    ($lang:expr, $($key:tt)+) => {
        $crate::i18n::td_string!($crate::core::i18n::Lang::locale($lang), $($key)+)
    };
}

#[cfg(test)]
mod catalogue_tests {
    use super::Lang;

    #[test]
    fn keys_give_each_languages_text() {
        let en: &str = tr!(Lang::En, core.theme.theme_system);
        let fr: &str = tr!(Lang::Fr, core.theme.theme_system);
        assert_eq!((en, fr), ("Theme: system", "Thème : système"));
        assert_eq!(
            tr!(Lang::Fr, core.error.throttled_seconds, seconds = 5).to_string(),
            "Trop de tentatives. Réessayez dans 5 s."
        );
    }
}

/// The language a request asks for: its cookie first, then `Accept-Language`, then English.
#[cfg(feature = "ssr")]
pub fn from_headers(headers: &axum::http::HeaderMap) -> Lang {
    use crate::core::document::header_text;
    use axum::http::header;
    header_text(headers, header::COOKIE)
        .and_then(|cookies| Lang::from_cookie_header(&cookies))
        .or_else(|| header_text(headers, header::ACCEPT_LANGUAGE).and_then(|h| Lang::from_accept_language(&h)))
        .unwrap_or_default()
}

/// Browser side: the language of the document, and a reload when the cookie says another one.
#[cfg(feature = "hydrate")]
pub mod client {
    use super::Lang;
    use crate::core::document::{cookies, html_attribute};

    #[cfg_attr(feature = "ssr", allow(dead_code))]
    pub(super) fn from_document() -> Lang {
        html_attribute("lang")
            .and_then(|code| Lang::parse(&code))
            .unwrap_or_default()
    }

    /// After logging in or saving the settings the server may have switched the language (in the cookie); the page
    /// on screen was rendered in the old one, so it is loaded again from the server.
    /// At most once per language and tab: should the server ever render another language than the cookie says, the
    /// page does not reload forever. `target` is the address to load (the current one when `None`).
    pub fn reload_if_switched(target: Option<&str>) {
        const KEY: &str = "thicode.language-reload";
        let Some(cookie) = cookies().and_then(|c| Lang::from_cookie_header(&c)) else {
            return;
        };
        let window = leptos::prelude::window();
        let storage = window.session_storage().ok().flatten();
        if cookie == from_document() {
            if let Some(storage) = storage {
                let _ = storage.remove_item(KEY);
            }
            return;
        }
        if let Some(storage) = &storage {
            if storage.get_item(KEY).ok().flatten().as_deref() == Some(cookie.code()) {
                return;
            }
            let _ = storage.set_item(KEY, cookie.code());
        }
        let _ = match target {
            Some(url) => window.location().assign(url),
            None => window.location().reload(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn cookie_round_trip() {
        assert_eq!(Lang::from_cookie_header("a=1; lang=fr; b=2"), Some(Lang::Fr));
        assert_eq!(Lang::from_cookie_header("lang=de"), None);
        assert_eq!(Lang::from_cookie_header(""), None);
        assert!(Lang::Fr.cookie().starts_with("lang=fr;"));
    }

    #[test]
    fn accept_language() {
        assert_eq!(Lang::from_accept_language("fr-CA,fr;q=0.9,en;q=0.8"), Some(Lang::Fr));
        assert_eq!(
            Lang::from_accept_language("de-DE,de;q=0.9,en;q=0.5,fr;q=0.4"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language("en-US,fr"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("de, fr;q=0"), None);
        assert_eq!(Lang::from_accept_language("FR"), Some(Lang::Fr));
        assert_eq!(Lang::from_accept_language("*"), None);
        assert_eq!(Lang::from_accept_language("fr;q=abc"), None);
        assert_eq!(Lang::from_accept_language("fr;Q=0.1, en;q = 0.5"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr;q=inf, en;q=0.5"), Some(Lang::En));
    }
}
