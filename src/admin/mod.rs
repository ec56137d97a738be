//! Administration — the counterpart of Django's admin site, for staff only: an overview of the instance (how many
//! users, conversations and messages, the newest accounts). Every `/admin…` path needs a logged-in user (the guard
//! sends others to the login page) and every admin page and server function checks staff status (403 otherwise).

pub mod pages;
pub mod server_fns;
pub mod types;

#[cfg(feature = "ssr")]
pub mod guard;
