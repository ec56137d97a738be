//! Tools the model can call (issue #27): searching the web, reading a page, and — later — the tools of MCP servers,
//! run by the reply engine between the model's turns.
//!
//! Everything a tool fetches is untrusted, and so is where it goes: every HTTP request of a tool goes through the
//! [`guard`] (public addresses only, decided on the address actually connected to; staff may allow internal hosts
//! for MCP servers), and the [`web`] tools return text the engine hands to the model as data.

pub mod builtin;
pub mod guard;
pub mod mcp;
pub mod store;
pub mod toolbox;
pub mod web;

pub use toolbox::{ToolInfo, Toolbox};
