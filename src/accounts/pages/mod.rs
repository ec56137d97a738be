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

crate::lazy_page!(
    /// `/login` as a lazy route.
    LoginRoute => LoginPage
);
crate::lazy_page!(
    /// `/register` as a lazy route.
    RegisterRoute => RegisterPage
);
crate::lazy_page!(
    /// `/forgot-password` as a lazy route.
    ForgotPasswordRoute => ForgotPasswordPage
);
crate::lazy_page!(
    /// `/reset-password/{token}` as a lazy route.
    ResetPasswordRoute => ResetPasswordPage
);
crate::lazy_page!(
    /// `/settings` as a lazy route.
    SettingsRoute => SettingsPage
);
crate::lazy_page!(
    /// `/settings/password` as a lazy route.
    PasswordRoute => PasswordPage
);
crate::lazy_page!(
    /// `/settings/tokens` as a lazy route.
    TokensRoute => TokensPage
);
crate::lazy_page!(
    /// `/settings/usage` as a lazy route.
    UsageRoute => UsagePage
);
