//! Pages and widgets of accounts. Forms are `ActionForm`s: plain HTML posts before hydration, instant afterwards.
//! After a failed post without JavaScript, Leptos brings the error back through the URL, so the same messages and
//! kept values render on the server as well.

mod forms;
mod reset;
mod session;
mod settings;
mod tokens;
mod usage;
mod user_menu;

pub use reset::{ForgotPasswordPage, ResetPasswordPage};
pub(crate) use session::login_redirect;
pub use session::{LoginPage, RegisterPage};
pub use settings::{PasswordPage, SettingsPage};
pub use tokens::TokensPage;
pub use usage::UsagePage;
pub use user_menu::{UserMenu, body_attributes};

crate::lazy_section!(auth_view, __preload_auth_view, AuthPages {
    /// `/login` as a lazy route.
    LoginRoute => LoginPage,
    /// `/register` as a lazy route.
    RegisterRoute => RegisterPage,
    /// `/forgot-password` as a lazy route.
    ForgotPasswordRoute => ForgotPasswordPage,
    /// `/reset-password/{token}` as a lazy route.
    ResetPasswordRoute => ResetPasswordPage,
});
crate::lazy_section!(settings_view, __preload_settings_view, SettingsPages {
    /// `/settings` as a lazy route.
    SettingsRoute => SettingsPage,
    /// `/settings/password` as a lazy route.
    PasswordRoute => PasswordPage,
    /// `/settings/tokens` as a lazy route.
    TokensRoute => TokensPage,
    /// `/settings/usage` as a lazy route.
    UsageRoute => UsagePage,
    /// `/settings/shares` as a lazy route.
    SharesRoute => crate::chat::pages::SharesPage,
    /// `/settings/import` as a lazy route (in this section: a split point of its own costs the chat page 8.7 KB,
    /// docs/BENCHMARKS.md).
    ImportRoute => crate::chat::pages::ImportPage,
});
