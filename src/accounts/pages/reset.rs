//! Forgotten passwords: asking for a reset link, and setting a new password from it.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::accounts::server_fns::{RequestPasswordReset, ResetPassword};
use crate::core::i18n::Lang;

use super::forms::{Feedback, Field, FormErrors};

/// `/forgot-password`: asks for the email address and sends a reset link.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let feedback = Feedback::of(action);
    let sent = move || use_query_map().with(|q| q.get("sent").is_some());
    let t = Lang::current();
    view! {
        <Title text=t.t("Reset your password", "Réinitialiser votre mot de passe")/>
        <section class="auth-card">
            <h1>{t.t("Reset your password", "Réinitialiser votre mot de passe")}</h1>
            <Show when=sent>
                <p class="notice" role="status">
                    {t.t(
                        "If an account uses that address, we sent it a link to choose a new password. It works for one hour.",
                        "Si un compte utilise cette adresse, nous lui avons envoyé un lien pour choisir un nouveau mot de passe. Il est valable une heure.",
                    )}
                </p>
            </Show>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormErrors feedback/>
                <Field name="email" label=t.t("Email", "E-mail") kind="email" autocomplete="email" feedback keep=true/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>{t.t("Send me a link", "Envoyez-moi un lien")}</button>
            </ActionForm>
            <p class="auth-switch"><a href="/login">{t.t("Back to log in", "Retour à la connexion")}</a></p>
        </section>
    }
}

/// `/reset-password/{token}`: the new password twice.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let feedback = Feedback::of(action);
    let token = move || use_params_map().with(|p| p.get("token")).unwrap_or_default();
    let t = Lang::current();
    view! {
        <Title text=t.t("Choose a new password", "Choisir un nouveau mot de passe")/>
        <section class="auth-card">
            <h1>{t.t("Choose a new password", "Choisir un nouveau mot de passe")}</h1>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormErrors feedback/>
                <input type="hidden" name="token" value=token/>
                <Field name="new_password1" label=t.t("New password", "Nouveau mot de passe") kind="password" autocomplete="new-password" feedback/>
                <Field name="new_password2" label=t.t("Confirm new password", "Confirmez le nouveau mot de passe") kind="password" autocomplete="new-password" feedback/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>{t.t("Set password", "Définir le mot de passe")}</button>
            </ActionForm>
            <p class="auth-switch"><a href="/forgot-password">{t.t("Request a new link", "Demander un nouveau lien")}</a></p>
        </section>
    }
}
