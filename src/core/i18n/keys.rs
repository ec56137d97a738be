//! The rule every catalogue follows: each key exists in every language. build.rs applies it before generating the
//! translation module (a missing key fails the build, naming it); the tests below show it does.

use std::collections::BTreeSet;

/// The keys of a locale file's JSON, nested ones as `a.b`.
pub fn keys_of(json: &serde_json::Value) -> BTreeSet<String> {
    fn collect(value: &serde_json::Value, prefix: &str, keys: &mut BTreeSet<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    collect(inner, &path, keys);
                }
            }
            _ => {
                keys.insert(prefix.to_string());
            }
        }
    }
    let mut keys = BTreeSet::new();
    collect(json, "", &mut keys);
    keys
}

/// For each language (name, keys) the keys the others have and it lacks; empty when the catalogue is complete.
pub fn missing<'a>(languages: &'a [(&'a str, BTreeSet<String>)]) -> Vec<(&'a str, Vec<String>)> {
    let all: BTreeSet<&String> = languages.iter().flat_map(|(_, keys)| keys).collect();
    languages
        .iter()
        .filter_map(|(lang, keys)| {
            let lacking: Vec<String> = all
                .iter()
                .filter(|k| !keys.contains(**k))
                .map(|k| (*k).clone())
                .collect();
            (!lacking.is_empty()).then_some((*lang, lacking))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_missing_in_one_language_is_named() {
        let en = keys_of(&serde_json::json!({"page": {"title": "Chat", "send": "Send"}}));
        let fr = keys_of(&serde_json::json!({"page": {"title": "Discussions"}}));
        assert_eq!(
            missing(&[("en", en.clone()), ("fr", fr)]),
            [("fr", vec!["page.send".to_string()])]
        );
        assert!(missing(&[("en", en.clone()), ("fr", en)]).is_empty());
    }

    #[test]
    fn the_shipped_catalogue_is_complete() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core/i18n/locales");
        let files: Vec<_> = std::fs::read_dir(dir.join("en"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert!(files.len() >= 4, "one file per feature: {files:?}");
        for file in files {
            let languages: Vec<(&str, BTreeSet<String>)> = ["en", "fr"]
                .into_iter()
                .map(|lang| {
                    let text = std::fs::read_to_string(dir.join(lang).join(&file)).unwrap();
                    (lang, keys_of(&serde_json::from_str(&text).unwrap()))
                })
                .collect();
            assert!(missing(&languages).is_empty(), "{file:?}: {:?}", missing(&languages));
        }
    }
}
