//! Logging in and registering, the header's user menu, and the redirect of visitors to the login page.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_location, use_query_map};

use crate::accounts::server_fns::{Login, Logout, Register, current_user};
use crate::core::i18n::Lang;

use super::forms::{Feedback, Field, FormErrors, next_path};

/// `/login`: username or email, and password.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let feedback = Feedback::of(action);
    let next = next_path();
    let t = Lang::current();
    view! {
        <Title text=t.t("Log in", "Connexion")/>
        <section class="auth-card">
            <h1>{t.t("Log in", "Connexion")}</h1>
            <Show when=move || use_query_map().with(|q| q.get("reset").is_some())>
                <p class="notice" role="status">{t.t("Your password has been set. You may log in now.", "Votre mot de passe a été défini. Vous pouvez vous connecter.")}</p>
            </Show>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormErrors feedback/>
                <input type="hidden" name="next" value=next/>
                <Field name="login" label=t.t("Username or email", "Nom d’utilisateur ou e-mail") autocomplete="username" feedback keep=true/>
                <Field name="password" label=t.t("Password", "Mot de passe") kind="password" autocomplete="current-password" feedback/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>{t.t("Log in", "Se connecter")}</button>
            </ActionForm>
            <p class="auth-switch">{t.t("New here? ", "Nouveau ? ")} <a href=move || format!("/register?next={}", next())>{t.t("Create an account", "Créer un compte")}</a></p>
            <p class="auth-switch"><a href="/forgot-password">{t.t("Forgot your password?", "Mot de passe oublié ?")}</a></p>
        </section>
    }
}

/// `/register`: username, email and the password twice.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let feedback = Feedback::of(action);
    let next = next_path();
    let t = Lang::current();
    view! {
        <Title text=t.t("Create an account", "Créer un compte")/>
        <section class="auth-card">
            <h1>{t.t("Create an account", "Créer un compte")}</h1>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormErrors feedback/>
                <input type="hidden" name="next" value=next/>
                <Field name="username" label=t.t("Username", "Nom d’utilisateur") autocomplete="username" feedback keep=true/>
                <Field name="email" label=t.t("Email", "E-mail") kind="email" autocomplete="email" feedback keep=true/>
                <Field name="password1" label=t.t("Password", "Mot de passe") kind="password" autocomplete="new-password" feedback/>
                <Field name="password2" label=t.t("Confirm password", "Confirmez le mot de passe") kind="password" autocomplete="new-password" feedback/>
                <p class="hint">{t.t("At least 8 characters, not a common password, not only digits, not like your name.", "Au moins 8 caractères, pas un mot de passe courant, pas seulement des chiffres, pas comme votre nom.")}</p>
                <button type="submit" class="primary" disabled=move || action.pending().get()>{t.t("Create account", "Créer le compte")}</button>
            </ActionForm>
            <p class="auth-switch">{t.t("Already have an account? ", "Déjà un compte ? ")} <a href="/login">{t.t("Log in", "Se connecter")}</a></p>
        </section>
    }
}

/// Header widget: the user's name and a logout button, or links to log in and register.
#[component]
pub fn UserMenu() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let location = use_location();
    // Refetched when the navigation enters another part of the site (logging in, registering or deleting the account
    // ends with one) and after logging out, so a change of user shows at once; moving within a part (from one
    // conversation to another) asks nothing.
    let part = Memo::new(move |_| {
        location.pathname.with(|path| {
            path.trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default()
                .to_string()
        })
    });
    let user = Resource::new(move || (part.get(), logout.version().get()), |_| current_user());
    let t = Lang::current();
    view! {
        <Transition fallback=|| ()>
            {move || user.get().map(|answer| match answer.ok().flatten() {
                Some(user) => view! {
                    <a href="/chat" data-testid="chat-link">{t.t("Chat", "Discussions")}</a>
                    {user.is_staff.then(|| view! {
                        <a href="/admin" data-testid="admin-link">{t.t("Admin", "Administration")}</a>
                    })}
                    <a class="user-name" data-testid="user-name" href="/settings">{user.username}</a>
                    <ActionForm action=logout attr:class="logout-form">
                        <button type="submit">{t.t("Log out", "Se déconnecter")}</button>
                    </ActionForm>
                }.into_any(),
                None => view! {
                    <a class="button" href="/login">{t.t("Log in", "Connexion")}</a>
                    <a class="button primary" href="/register">{t.t("Sign up", "Inscription")}</a>
                }.into_any(),
            })}
        </Transition>
    }
}

/// `/login?next=<this page>`, for pages that need a logged-in user.
pub(crate) fn login_redirect() -> impl IntoView {
    let location = use_location();
    let here = location.pathname.get_untracked();
    view! { <Redirect path=format!("/login?next={}", here.replace('?', "%3F"))/> }
}
