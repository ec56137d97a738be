//! Server functions of accounts, grouped by what they act on. Each is a public POST endpoint under `/_server/`: it
//! checks its input itself, and the cross-origin check of `core::security` has already run. They work as plain form
//! posts too (no JavaScript): success redirects, and errors come back to the form through the URL. Server-only
//! helpers shared by them (the session user, the client address) are in `ssr`.

mod profile;
mod reset;
mod session;
#[cfg(feature = "ssr")]
mod ssr;
mod tokens;

pub use profile::*;
pub use reset::*;
pub use session::*;
#[cfg(feature = "ssr")]
pub(crate) use ssr::{auth_session, client_ip as client_address, require_staff, require_user};
pub use tokens::*;

/// The page each form of these server functions is on: where a failed no-JavaScript post goes back to when its
/// `Referer` is not a page of this site (`core::security::FormPages`).
#[cfg(feature = "ssr")]
pub fn form_pages() -> Vec<(&'static str, &'static str)> {
    use leptos::server_fn::ServerFn;
    vec![
        (Login::PATH, "/login"),
        (Register::PATH, "/register"),
        (Logout::PATH, "/"),
        (UpdateProfile::PATH, "/settings"),
        (ChangePassword::PATH, "/settings/password"),
        (DeleteAccount::PATH, "/settings"),
        (CreateApiToken::PATH, "/settings/tokens"),
        (RevokeApiToken::PATH, "/settings/tokens"),
        (RequestPasswordReset::PATH, "/forgot-password"),
        // The reset page's own address holds the token; without it, the user asks for a new link.
        (ResetPassword::PATH, "/forgot-password"),
    ]
}
