//! Administration — the counterpart of Django's admin site, for staff only: an overview of the instance, the users
//! (search, sort, activate or deactivate, grant or revoke staff, send a password-reset mail, delete) and the audit log
//! of every admin action; in pages (`/admin…`) and in the REST API (`/api/admin/…`, `api::admin`). Every `/admin…`
//! path needs a logged-in user (the guard sends others to the login page) and every admin page, server function and
//! route checks staff status (403 otherwise).

pub mod pages;
pub mod server_fns;
pub mod types;

#[cfg(feature = "ssr")]
pub mod audit;
#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod instance;
#[cfg(feature = "ssr")]
pub mod mcp;
#[cfg(feature = "ssr")]
pub mod routes;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod usage;
