//! Chat — the counterpart of the original's `chat` app: conversations and their messages, replies from the AI
//! provider streamed token by token and saved as they arrive, and the chat pages.

pub mod pages;
pub mod server_fns;
pub mod types;

#[cfg(feature = "ssr")]
pub mod fake_mistral;
#[cfg(feature = "ssr")]
pub mod fake_tools;
#[cfg(feature = "ssr")]
pub mod followers;
#[cfg(feature = "ssr")]
pub mod generation;
#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod json;
#[cfg(feature = "ssr")]
pub mod markdown;
#[cfg(feature = "ssr")]
pub mod provider;
#[cfg(feature = "ssr")]
pub mod quota;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod steps_html;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod stream;
#[cfg(feature = "ssr")]
pub mod temporary;
#[cfg(feature = "ssr")]
pub mod tools_menu;
