//! The foundation every feature builds on: page frame, home and error pages, and (server only) settings, database,
//! security, logging and the routes every deployment needs (health checks, theme, API 404); the interface language.

pub mod arguments;
pub mod document;
pub mod home;
pub mod i18n;
pub mod layout;
pub mod not_found;
pub mod theme;

#[cfg(feature = "ssr")]
pub mod client;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod error;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod security;
#[cfg(feature = "ssr")]
pub mod server_fn;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod telemetry;
