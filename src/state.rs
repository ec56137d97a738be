//! `AppState`: everything a handler or server function needs, built once at start-up. No globals.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::{Env, LeptosOptions};

use crate::chat::generation::Engine;
use crate::chat::provider::Provider;
use crate::core::config::{Config, ConfigError};
use crate::core::db::Db;
use crate::core::mail::{Mailer, Outbox};

/// Shared application state, cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Parsed settings.
    pub config: Arc<Config>,
    /// The database pool.
    pub db: Db,
    /// Leptos rendering options derived from [`Config`].
    pub leptos: LeptosOptions,
    /// Outgoing email, sent in the background.
    pub outbox: Outbox,
    /// The AI provider and the replies being generated.
    pub chat: Engine,
    /// Signs and checks the API's JSON Web Tokens.
    pub jwt: crate::accounts::jwt::Keys,
    /// In-memory request-rate limits of the API.
    pub api_limits: crate::api::limits::Limiters,
    /// What the server is doing, for `/metrics`.
    pub metrics: crate::core::metrics::Metrics,
    /// The password-hashing slots and queue (argon2 holds 19 MiB per computation).
    pub hashing: crate::accounts::password::Hashing,
    /// Attachments: their storage, limits and workers.
    pub files: crate::files::service::Files,
    /// Answers of the API's conversation list, reused while the user's list version is unchanged.
    pub list_cache: Arc<crate::api::list_cache::ListCache>,
}

impl AppState {
    /// Builds the state from settings and an open database; fails only on an unusable mail configuration.
    pub fn new(config: Config, db: Db) -> Result<Self, ConfigError> {
        let leptos = leptos_options(&config);
        let metrics = crate::core::metrics::Metrics::default();
        let outbox = Outbox::new(
            Mailer::from_config(&config.email)?,
            config.email.default_from_email.clone(),
            metrics.clone(),
        );
        let files = crate::files::service::Files::new(&config.files).map_err(|e| ConfigError {
            key: match config.files.storage {
                crate::core::config::FileStorage::S3(_) => "S3_BUCKET",
                crate::core::config::FileStorage::Local(_) => "FILES_DIR",
            }
            .to_string(),
            problem: e.to_string(),
        })?;
        Ok(Self {
            files,
            chat: Engine::new(
                Provider::from_config(&config.ai),
                metrics.clone(),
                db.backend == crate::core::db::Backend::Postgres,
            )
            .with_toolbox(crate::tools::Toolbox::from_config(&config.tools))
            .with_temporary(crate::chat::temporary::Temporary::new(std::time::Duration::from_secs(
                config.limits.temporary_chat_idle_minutes.saturating_mul(60),
            ))),
            metrics,
            jwt: crate::accounts::jwt::Keys::new(config.security.secret_key.expose()),
            api_limits: crate::api::limits::Limiters::new(&config.limits),
            list_cache: Arc::default(),
            hashing: crate::accounts::password::Hashing::default(),
            config: Arc::new(config),
            db,
            leptos,
            outbox,
        })
    }
}

impl FromRef<AppState> for Arc<Config> {
    fn from_ref(state: &AppState) -> Self {
        state.config.clone()
    }
}

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

impl FromRef<AppState> for crate::core::metrics::Metrics {
    fn from_ref(state: &AppState) -> Self {
        state.metrics.clone()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

/// Leptos options from our settings. File hashing is on when cargo-leptos left its `hash.txt` beside the binary,
/// which is where Leptos looks for it.
fn leptos_options(config: &Config) -> LeptosOptions {
    let hashed = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")))
        .is_some_and(|file| file.is_file());
    LeptosOptions::builder()
        .output_name(env!("LEPTOS_OUTPUT_NAME"))
        .site_root(config.site_root.display().to_string())
        .site_pkg_dir("pkg")
        .site_addr(config.site_addr)
        .env(if config.is_production() { Env::PROD } else { Env::DEV })
        .hash_files(hashed)
        .build()
}
