//! Files in the chat (issue #26): uploads sniffed from their bytes, images re-encoded for vision models, the text
//! of documents extracted, all kept in a local folder or an S3-compatible store, and attached to messages.
//!
//! The pipeline of an upload ([`service::upload`]): the body is streamed to a spool file while it is counted and
//! hashed (never held whole in memory); its type is sniffed from the bytes ([`kinds`]); an image is decoded within a
//! pixel budget, turned upright, downscaled to what vision models take and re-encoded without its metadata
//! ([`images`]); a document's text is extracted off the async threads under a time budget ([`extract`]); the result
//! goes to the storage under a content-addressed key ([`storage`]) and its row to the database ([`store`]).

pub mod types;
pub mod ui;

#[cfg(feature = "hydrate")]
pub mod client;

#[cfg(feature = "ssr")]
pub mod chunks;
#[cfg(feature = "ssr")]
pub mod extract;
#[cfg(feature = "ssr")]
pub mod images;
#[cfg(feature = "ssr")]
pub mod kinds;
#[cfg(feature = "ssr")]
pub mod retrieval;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod storage;
#[cfg(feature = "ssr")]
pub mod store;

pub use types::*;
