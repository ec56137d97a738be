//! Pages and widgets of accounts. Forms are `ActionForm`s: plain HTML posts before hydration, instant afterwards.
//! After a failed post without JavaScript, Leptos brings the error back through the URL, so the same messages and
//! kept values render on the server as well.

mod forms;
mod reset;
mod session;
mod settings;
mod tokens;

pub use reset::{ForgotPasswordPage, ResetPasswordPage};
pub(crate) use session::login_redirect;
pub use session::{LoginPage, RegisterPage, UserMenu};
pub use settings::{PasswordPage, SettingsPage};
pub use tokens::TokensPage;
