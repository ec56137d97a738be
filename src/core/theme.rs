//! Display mode (system, light, dark), kept in a `theme` cookie so the server renders the right colours on the first
//! byte and the switch works with JavaScript off (a form post to `/theme`) as well as on (instant, no reload).

use crate::tr;

/// The display mode a visitor chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// Follow the operating system.
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

impl Theme {
    /// Parses `system`, `light` or `dark`.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "system" => Some(Self::System),
            "light" => Some(Self::Light),
            "dark" => Some(Self::Dark),
            _ => None,
        }
    }

    /// The name stored in the cookie and the `data-theme` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    /// The mode the switch moves to next.
    pub fn next(self) -> Self {
        match self {
            Self::System => Self::Light,
            Self::Light => Self::Dark,
            Self::Dark => Self::System,
        }
    }

    /// What the switch shows.
    pub fn label(self, lang: crate::core::i18n::Lang) -> &'static str {
        match self {
            Self::System => tr!(lang, core.theme.theme_system),
            Self::Light => tr!(lang, core.theme.theme_light),
            Self::Dark => tr!(lang, core.theme.theme_dark),
        }
    }

    /// A `Set-Cookie` value remembering this mode for a year (system clears the cookie).
    pub fn cookie(self) -> String {
        match self {
            Self::System => "theme=; Path=/; Max-Age=0; SameSite=Lax".to_string(),
            other => format!("theme={}; Path=/; Max-Age=31536000; SameSite=Lax", other.as_str()),
        }
    }

    /// The mode in a `Cookie` header, if any.
    pub fn from_cookie_header(header: &str) -> Self {
        crate::core::document::cookie_value(header, "theme")
            .and_then(Self::parse)
            .unwrap_or(Self::System)
    }

    /// The mode of the current page: from the request's cookie on the server, from `<html data-theme>` in the browser.
    pub fn current() -> Self {
        #[cfg(feature = "ssr")]
        return crate::core::document::request_header(axum::http::header::COOKIE)
            .map_or(Self::System, |cookies| Self::from_cookie_header(&cookies));
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        return crate::core::document::html_attribute("data-theme")
            .and_then(|value| Self::parse(&value))
            .unwrap_or(Self::System);
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        Self::System
    }
}

/// Browser side: reads and applies the mode on `<html data-theme>` and in the cookie.
#[cfg(feature = "hydrate")]
pub mod client {
    use super::Theme;
    use wasm_bindgen::JsCast;

    /// Switches the page to `theme` at once and remembers it.
    pub fn apply(theme: Theme) {
        let document = leptos::prelude::document();
        if let Some(html) = document.document_element() {
            let _ = html.set_attribute("data-theme", theme.as_str());
        }
        if let Ok(document) = document.dyn_into::<web_sys::HtmlDocument>() {
            let _ = document.set_cookie(&theme.cookie());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Theme;

    #[test]
    fn cookie_round_trip() {
        assert_eq!(Theme::from_cookie_header("a=1; theme=dark; b=2"), Theme::Dark);
        assert_eq!(Theme::from_cookie_header("theme=evil"), Theme::System);
        assert_eq!(Theme::from_cookie_header(""), Theme::System);
        assert!(Theme::Dark.cookie().starts_with("theme=dark;"));
        assert_eq!(Theme::System.next().next().next(), Theme::System);
    }
}
