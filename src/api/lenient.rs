//! Reading request fields as leniently as the original backend did. Django REST Framework turns numbers into text
//! for a text field, reads `"true"`, `"yes"`, `1` or `"on"` as a boolean, and ignores fields it does not know; clients
//! written for it rely on that (form posts send everything as text). These deserializers are used with
//! `#[serde(default, deserialize_with = "…")]` on optional fields.

use serde::Deserialize;
use serde::de::{Deserializer, Error};
use serde_json::Value;

/// Text, or a number written as text (DRF's `CharField`); `null` is absent.
pub fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text)),
        Value::Number(n) => Ok(Some(n.to_string())),
        _ => Err(D::Error::custom("Not a valid string.")),
    }
}

/// A boolean as DRF's `BooleanField` reads one: `true`/`false`, `1`/`0`, and the words `true`, `yes`, `on`, `t`,
/// `y`, `1` (or their opposites) in any case; `null` is absent.
pub fn boolean<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    let invalid = || D::Error::custom("Must be a valid boolean.");
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(b)),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Ok(Some(true)),
            Some(0) => Ok(Some(false)),
            _ => Err(invalid()),
        },
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "on" | "1" => Ok(Some(true)),
            "false" | "f" | "no" | "n" | "off" | "0" => Ok(Some(false)),
            _ => Err(invalid()),
        },
        _ => Err(invalid()),
    }
}

/// A whole number, or one written as text; `null` (or an empty text, as a form sends) is absent.
pub fn integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let invalid = || D::Error::custom("A valid integer is required.");
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_i64().map(Some).ok_or_else(invalid),
        Value::String(text) if text.trim().is_empty() => Ok(None),
        Value::String(text) => text.trim().parse().map(Some).map_err(|_| invalid()),
        _ => Err(invalid()),
    }
}

/// A list of ids: a JSON list of numbers (or numbers written as text), one number, or one text of comma-separated
/// numbers (a form field sent once or repeated); `null` is absent.
pub fn ids<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<i64>>, D::Error> {
    let invalid = || D::Error::custom("Expected a list of ids.");
    let item = |v: &Value| match v {
        Value::Number(n) => n.as_i64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    };
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Array(items) => items
            .iter()
            .map(|v| item(v).ok_or_else(invalid))
            .collect::<Result<_, _>>()
            .map(Some),
        Value::Number(n) => n.as_i64().map(|n| Some(vec![n])).ok_or_else(invalid),
        Value::String(text) if text.trim().is_empty() => Ok(Some(Vec::new())),
        Value::String(text) => text
            .split(',')
            .map(|t| t.trim().parse().map_err(|_| invalid()))
            .collect::<Result<_, _>>()
            .map(Some),
        _ => Err(invalid()),
    }
}

/// A list of tags: a JSON list of texts (numbers become text), or one text of comma-separated tags (the original
/// stored tags in a JSON field, and form posts send text); `null` is absent.
pub fn tags<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<String>>, D::Error> {
    let item = |v: Value| match v {
        Value::String(text) => Ok(text),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(D::Error::custom("Expected a list of texts.")),
    };
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Array(items) => items.into_iter().map(item).collect::<Result<_, _>>().map(Some),
        Value::String(text) => Ok(Some(text.split(',').map(|t| t.trim().to_string()).collect())),
        _ => Err(D::Error::custom("Expected a list of texts.")),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, Debug)]
    struct Body {
        #[serde(default, deserialize_with = "super::text")]
        title: Option<String>,
        #[serde(default, deserialize_with = "super::boolean")]
        pinned: Option<bool>,
        #[serde(default, deserialize_with = "super::integer")]
        parent: Option<i64>,
        #[serde(default, deserialize_with = "super::tags")]
        tags: Option<Vec<String>>,
    }

    fn read(value: serde_json::Value) -> Result<Body, serde_json::Error> {
        serde_json::from_value(value)
    }

    #[test]
    fn reads_what_drf_read() {
        let body = read(json!({"title": 42, "pinned": "Yes", "parent": "7", "tags": "a, b", "other": {}})).unwrap();
        assert_eq!(body.title.as_deref(), Some("42"));
        assert_eq!(body.pinned, Some(true));
        assert_eq!(body.parent, Some(7));
        assert_eq!(body.tags, Some(vec!["a".to_string(), "b".to_string()]));
        let body = read(json!({"pinned": 0, "tags": ["x", 1], "title": null})).unwrap();
        assert_eq!(body.pinned, Some(false));
        assert_eq!(body.tags, Some(vec!["x".to_string(), "1".to_string()]));
        assert_eq!(body.title, None);
        let body = read(json!({})).unwrap();
        assert!(body.title.is_none() && body.pinned.is_none() && body.parent.is_none() && body.tags.is_none());
    }

    #[test]
    fn refuses_what_drf_refused() {
        assert!(read(json!({"pinned": "maybe"})).is_err());
        assert!(read(json!({"pinned": 2})).is_err());
        assert!(read(json!({"parent": "abc"})).is_err());
        assert!(read(json!({"title": ["x"]})).is_err());
        assert!(read(json!({"tags": {"a": 1}})).is_err());
    }
}
