//! Where settings come from: `Leptos.toml`, a `.env` beside it and the process environment, layered by figment
//! (strongest last) and read back as text per environment name, with the source of each value.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use figment::Figment;

use super::{ConfigError, ENVIRONMENT, KEYS};

/// The settings before parsing: the sources layered by figment (the environment over `.env` over `Leptos.toml`),
/// read as text per environment name, plus where relative paths start.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    layers: Figment,
    values: HashMap<&'static str, String>,
    pub(super) base_dir: PathBuf,
    pub(super) config_file: Option<PathBuf>,
}

/// One source of settings given by environment name (the process environment, a `.env` file, a test's pairs): its
/// values are kept as written (figment's own environment provider would read `"x"` or `[a]` as TOML-like data).
struct Named {
    name: String,
    values: figment::value::Dict,
}

impl Named {
    /// The known settings among `pairs`; other names are not ours and are skipped.
    fn new<K: AsRef<str>, V: Into<String>>(name: impl Into<String>, pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut values = figment::value::Dict::new();
        for (env, value) in pairs {
            if let Some(key) = KEYS.iter().find(|k| k.env == env.as_ref()) {
                let section = values
                    .entry(key.section.to_string())
                    .or_insert_with(|| figment::value::Value::from(figment::value::Dict::new()));
                if let figment::value::Value::Dict(_, entries) = section {
                    entries.insert(key.key.to_string(), figment::value::Value::from(value.into()));
                }
            }
        }
        Self {
            name: name.into(),
            values,
        }
    }
}

impl figment::Provider for Named {
    fn metadata(&self) -> figment::Metadata {
        figment::Metadata::named(self.name.clone())
    }

    fn data(&self) -> Result<figment::value::Map<figment::Profile, figment::value::Dict>, figment::Error> {
        Ok(figment::Profile::Default.collect(self.values.clone()))
    }
}

impl Sources {
    /// Reads the real sources: `Leptos.toml` (from `config_file`, `THICODE_CONFIG`, the working directory or a
    /// parent of the executable's folder), then `.env` beside it, then the process environment.
    pub fn load(config_file: Option<&Path>) -> Result<Self, ConfigError> {
        let explicit = config_file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("THICODE_CONFIG").map(PathBuf::from));
        let file = match explicit {
            Some(path) if !path.is_file() => {
                return Err(ConfigError::new(
                    "THICODE_CONFIG",
                    format!("no such file: {}", path.display()),
                ));
            }
            Some(path) => Some(path),
            None => find_config_file(),
        };
        let cwd = std::env::current_dir().map_err(|e| ConfigError::new("working directory", e.to_string()))?;
        let base_dir = match &file {
            Some(f) => absolute(&cwd, f)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| cwd.clone()),
            None => cwd.clone(),
        };
        let mut sources = Self {
            base_dir: base_dir.clone(),
            config_file: file.clone(),
            ..Self::default()
        };
        if let Some(f) = &file {
            let text = std::fs::read_to_string(f)
                .map_err(|e| ConfigError::new(f.display().to_string(), format!("cannot read: {e}")))?;
            sources.merge_toml(&text, &f.display().to_string())?;
        }
        let dotenv = base_dir.join(".env");
        if dotenv.is_file() {
            let origin = dotenv.display().to_string();
            let pairs = dotenvy::from_path_iter(&dotenv)
                .map_err(|e| ConfigError::new(&origin, e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ConfigError::new(&origin, e.to_string()))?;
            sources.layer(Named::new(origin, pairs));
        }
        // Only our keys, one by one: `std::env::vars()` would panic on any other variable that is not UTF-8.
        let environment = KEYS
            .iter()
            .filter_map(|key| std::env::var(key.env).ok().map(|value| (key.env, value)));
        sources.layer(Named::new(ENVIRONMENT, environment));
        Ok(sources)
    }

    /// Sources from in-memory values only (tests, tools); relative paths start at `base_dir`.
    pub fn from_pairs<'a>(base_dir: &Path, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut sources = Self {
            base_dir: base_dir.to_path_buf(),
            ..Self::default()
        };
        sources.layer(Named::new("settings", pairs));
        sources
    }

    /// Layers a `Leptos.toml` text under the values already present (the file is the weakest source). Every
    /// setting in it must be one of [`KEYS`].
    pub fn merge_toml(&mut self, text: &str, origin: &str) -> Result<(), ConfigError> {
        use figment::Provider;
        use figment::providers::Format;
        let file = figment::providers::Toml::string(text);
        let data = file
            .data()
            .map_err(|e| ConfigError::new(origin, format!("not valid TOML: {}", e.kind)))?;
        for (section, value) in data.values().flatten() {
            // Build metadata for cargo-leptos may live here too; it is not ours to read.
            if section == "package" {
                continue;
            }
            let Some(entries) = value.as_dict() else {
                return Err(ConfigError::new(origin, format!("`{section}` must be a [section]")));
            };
            for (name, value) in entries {
                let Some(key) = KEYS.iter().find(|k| k.section == section && k.key == name) else {
                    return Err(ConfigError::new(
                        origin,
                        format!("unknown setting `[{section}] {name}`"),
                    ));
                };
                if text_of(value).is_none() {
                    return Err(ConfigError::new(
                        key.env,
                        format!("unsupported value {value:?} in {origin}"),
                    ));
                }
            }
        }
        let named = Named {
            name: origin.to_string(),
            values: data.into_values().next().unwrap_or_default(),
        };
        self.layers = std::mem::take(&mut self.layers).join(named);
        self.flatten();
        Ok(())
    }

    /// Puts `layer` over the sources present.
    fn layer(&mut self, layer: Named) {
        self.layers = std::mem::take(&mut self.layers).merge(layer);
        self.flatten();
    }

    /// Reads every setting from the layers, as text.
    fn flatten(&mut self) {
        self.values = KEYS
            .iter()
            .filter_map(|key| {
                let value = self.layers.find_value(&format!("{}.{}", key.section, key.key)).ok()?;
                Some((key.env, text_of(&value)?))
            })
            .collect();
    }

    /// Where the value of `env` comes from ("the environment", the `.env` or `Leptos.toml` path), if it is set.
    pub fn origin(&self, env: &str) -> Option<String> {
        let key = KEYS.iter().find(|k| k.env == env)?;
        let metadata = self.layers.find_metadata(&format!("{}.{}", key.section, key.key))?;
        Some(metadata.name.to_string())
    }

    /// The text of `env`, trimmed; `None` when unset or blank.
    pub(super) fn get(&self, env: &'static str) -> Option<&str> {
        self.values
            .get(env)
            .map(String::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }
}

/// A setting's value as text: a TOML string, number or boolean as written, a list as its items joined by commas.
fn text_of(value: &figment::value::Value) -> Option<String> {
    use figment::value::Value;
    match value {
        Value::String(_, s) => Some(s.clone()),
        Value::Char(_, c) => Some(c.to_string()),
        Value::Bool(_, b) => Some(b.to_string()),
        Value::Num(_, n) => Some(match n.to_i128() {
            Some(i) => i.to_string(),
            None => n.to_f64().map(|f| f.to_string())?,
        }),
        Value::Array(_, items) => items
            .iter()
            .map(text_of)
            .collect::<Option<Vec<_>>>()
            .map(|v| v.join(",")),
        Value::Dict(..) | Value::Empty(..) => None,
    }
}

fn find_config_file() -> Option<PathBuf> {
    let here = PathBuf::from("Leptos.toml");
    if here.is_file() {
        return Some(here);
    }
    // Installed or built binaries sit in `<project>/target/<profile>/`: look upwards from there.
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .skip(1)
        .map(|dir| dir.join("Leptos.toml"))
        .find(|candidate| candidate.is_file())
}

/// `path`, relative to `base` unless it is absolute.
pub(super) fn absolute(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}
