//! [`Text`]: a message for a person — a validation problem, a provider failure — made from a catalogue key where it
//! arises, in every language at once. Services do not know the language of whoever reads them (a page in French, the
//! REST API in English, the CLI), so they say `text!(accounts.field.username_taken)` and each rendering picks its
//! language with [`Text::get`]. Sent to the browser (a server-function error, a failed reply in a view) it is one
//! string, in the language of the request's page, as the page would show it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::Lang;

/// A message in every language of [`Lang::ALL`], in that order (one string when it came over the wire).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(Vec<String>);

impl Serialize for Text {
    /// The message in the current page's language ([`Lang::current`]).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.get(Lang::current()))
    }
}

impl<'de> Deserialize<'de> for Text {
    /// A message in the one language it was sent in.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| Self(vec![text]))
    }
}

impl Text {
    /// The message `each` gives for every language (the [`text!`](crate::text) macro calls it with a key).
    pub fn new(mut each: impl FnMut(Lang) -> String) -> Self {
        Self(Lang::ALL.iter().map(|&lang| each(lang)).collect())
    }

    /// The message in `lang`; the first one held when it has only one (it came over the wire).
    pub fn get(&self, lang: Lang) -> &str {
        let index = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0);
        self.0.get(index).or(self.0.first()).map_or("", String::as_str)
    }

    /// This message in `lang` only: what it serialises as wherever it is written.
    pub fn only(&self, lang: Lang) -> Self {
        Self(vec![self.get(lang).to_string()])
    }

    /// The English message: the REST API's and the CLI's language.
    pub fn english(&self) -> &str {
        self.get(Lang::En)
    }
}

impl std::fmt::Display for Text {
    /// The English message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.english())
    }
}

impl PartialEq<&str> for Text {
    /// Compares the English message, as tests and the CLI read it.
    fn eq(&self, other: &&str) -> bool {
        self.english() == *other
    }
}

/// A [`Text`] from a key of the catalogue, with values: `text!(chat.limit.message_too_long, max = 10, len = n)`.
/// Values are evaluated once, then written into each language's text.
#[macro_export]
macro_rules! text {
    ($($key:ident).+ $(, $arg:ident = $value:expr)* $(,)?) => {{
        // Evaluated once (a value may be named after itself: `max = max`).
        $(
            #[allow(clippy::redundant_locals)]
            let $arg = $value;
        )*
        $crate::core::i18n::Text::new(|lang| {
            $crate::tr!(lang, $($key).+ $(, $arg = &$arg)*).to_string()
        })
    }};
}

#[cfg(test)]
mod tests {
    use super::{Lang, Text};

    #[test]
    fn a_text_holds_every_language_and_falls_back_to_english() {
        let text = crate::text!(core.error.throttled_seconds, seconds = 5);
        assert_eq!(text.get(Lang::En), "Too many attempts. Try again in 5 s.");
        assert_eq!(text.get(Lang::Fr), "Trop de tentatives. Réessayez dans 5 s.");
        assert_eq!(text, "Too many attempts. Try again in 5 s.");
        // Outside a request the current language is English; over the wire a text is that one string.
        let wire = serde_json::to_string(&text).unwrap();
        assert_eq!(wire, r#""Too many attempts. Try again in 5 s.""#);
        let back: Text = serde_json::from_str(&wire).unwrap();
        assert_eq!(back.get(Lang::Fr), "Too many attempts. Try again in 5 s.");
    }
}
