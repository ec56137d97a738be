//! Compiles the interface texts: `src/core/i18n/locales/<language>/<namespace>.json` become the `i18n` module
//! (leptos_i18n), one function per key, so a page, a server-function error, a validation message or an email names
//! a key and the compiler checks it. Before that, every key must exist in every language: a key missing in one fails
//! the build, naming it.

use std::path::{Path, PathBuf};

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};

#[path = "src/core/i18n/keys.rs"]
mod keys;

const LOCALES: &str = "src/core/i18n/locales";
const LANGUAGES: &[&str] = &["en", "fr"];
const NAMESPACES: &[&str] = &["core", "accounts", "chat", "admin", "files"];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed={LOCALES}");
    for namespace in NAMESPACES {
        let languages = LANGUAGES
            .iter()
            .map(|lang| {
                let file = Path::new(LOCALES).join(lang).join(format!("{namespace}.json"));
                let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
                let json = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
                Ok((*lang, keys::keys_of(&json)))
            })
            .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()?;
        if let Some((lang, lacking)) = keys::missing(&languages).first() {
            return Err(format!("{LOCALES}/{lang}/{namespace}.json lacks {lacking:?}").into());
        }
    }
    let options = ParseOptions::default().interpolate_display(true);
    let mut config = Config::new(LANGUAGES[0])?.locales_path(LOCALES).parse_options(options);
    for lang in &LANGUAGES[1..] {
        config = config.add_locale(lang)?;
    }
    for namespace in NAMESPACES {
        config = config.add_namespace(namespace)?;
    }
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?).join("i18n");
    translations.generate_i18n_module(out)?;
    Ok(())
}
