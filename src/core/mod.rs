//! The foundation every feature builds on, and which knows none of them: page frame, home and error pages, the
//! interface language, and (server only) settings, database, mail, security, the client's address, logging and the
//! routes every deployment needs (health checks, theme, API 404). Server-side code here takes the pieces of state it
//! needs (`Arc<Config>`, `Db`); the application's `AppState` lives above every feature, in `crate::state`.

pub mod arguments;
pub mod codec;
pub mod csrf;
pub mod dialog;
pub mod document;
pub mod error;
pub mod home;
pub mod i18n;
pub mod icons;
pub mod layout;
pub mod lazy;
pub mod not_found;
pub mod theme;

#[cfg(feature = "ssr")]
pub mod backup;
#[cfg(feature = "ssr")]
pub mod client;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod memory;
#[cfg(feature = "ssr")]
pub mod metrics;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod security;
#[cfg(feature = "ssr")]
pub mod server_fn;
#[cfg(feature = "ssr")]
pub mod telemetry;
#[cfg(feature = "ssr")]
pub mod time;
#[cfg(feature = "ssr")]
pub mod workers;
