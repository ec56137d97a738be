//! The settings pages: profile and preferences, the danger zone (export, delete), and the password.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::accounts::fields::BIO_MAX;
use crate::accounts::server_fns::{ChangePassword, DeleteAccount, UpdateProfile, current_user, get_profile};
use crate::accounts::types::{DISPLAY_MODES, Profile};
use crate::core::error::AppError;
use crate::core::i18n::Lang;

use super::forms::{Feedback, Field, FieldErrors, FormErrors, counter_class};
use super::login_redirect;

/// `/settings`: names, email, bio and preferences. Needs a logged-in user.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let action = ServerAction::<UpdateProfile>::new();
    // A saved language applies at once, even when the page's address does not change (saving twice).
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            crate::core::i18n::client::reload_if_switched(Some("/settings?saved=1"));
        }
    });
    let profile = Resource::new(move || action.version().get(), |_| get_profile());
    let query = use_query_map();
    let t = Lang::current();
    let notice = move || {
        query.with(|q| {
            if q.get("saved").is_some() {
                Some(t.t("Your settings were saved.", "Vos réglages ont été enregistrés."))
            } else if q.get("password_changed").is_some() {
                Some(t.t(
                    "Your password was changed. Your other sessions were logged out.",
                    "Votre mot de passe a été changé. Vos autres sessions ont été fermées.",
                ))
            } else {
                None
            }
        })
    };
    view! {
        <Title text=t.t("Settings", "Réglages")/>
        <section class="auth-card wide">
            <h1>{t.t("Settings", "Réglages")}</h1>
            <Show when=move || notice().is_some() && action.value().with(|v| !matches!(v, Some(Err(_))))>
                <p class="notice" role="status">{notice}</p>
            </Show>
            <Suspense fallback=move || view! { <p>{t.t("Loading…", "Chargement…")}</p> }>
                {move || Suspend::new(async move {
                    match profile.await {
                        Ok(profile) => view! { <SettingsForm profile action/> }.into_any(),
                        Err(AppError::Unauthenticated) => login_redirect().into_any(),
                        Err(_) => view! {
                            <p class="form-error" role="alert">{t.t("Your settings could not be loaded. Please try again.", "Vos réglages n’ont pas pu être chargés. Veuillez réessayer.")}</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <p class="auth-switch"><a href="/settings/password">{t.t("Change your password", "Changer votre mot de passe")}</a></p>
            <p class="auth-switch"><a href="/settings/tokens">{t.t("API tokens", "Jetons d’API")}</a></p>
            <p class="auth-switch"><a href="/settings/export" download>{t.t("Download your data (JSON)", "Télécharger vos données (JSON)")}</a></p>
            <DangerZone/>
        </section>
    }
}

/// Account deletion, confirmed by the password.
#[component]
fn DangerZone() -> impl IntoView {
    let action = ServerAction::<DeleteAccount>::new();
    let feedback = Feedback::of(action);
    let t = Lang::current();
    view! {
        <details class="danger-zone">
            <summary>{t.t("Delete account", "Supprimer le compte")}</summary>
            <p>{t.t("This deletes your account and all your conversations. It cannot be undone.", "Cela supprime votre compte et toutes vos conversations, sans retour possible.")}</p>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormErrors feedback/>
                <Field name="password" label=t.t("Confirm with your password", "Confirmez avec votre mot de passe") kind="password" autocomplete="current-password" feedback/>
                <button type="submit" class="danger" disabled=move || action.pending().get()>{t.t("Delete my account", "Supprimer mon compte")}</button>
            </ActionForm>
        </details>
    }
}

#[component]
fn SettingsForm(profile: Profile, action: ServerAction<UpdateProfile>) -> impl IntoView {
    let feedback = Feedback::of(action);
    let bio = RwSignal::new(feedback.kept("bio").get_untracked());
    if feedback.error.get_untracked().is_none() {
        bio.set(profile.bio.clone());
    }
    let bio_length = move || bio.with(|b| b.chars().count());
    #[cfg(feature = "hydrate")]
    {
        // Apply the saved display mode at once.
        if let Some(theme) = crate::core::theme::Theme::parse(&profile.display_mode) {
            crate::core::theme::client::apply(theme);
        }
    }
    let select = move |name: &'static str, options: Vec<(String, String)>, current: String| {
        view! {
            <select id=name name=name aria-describedby=format!("{name}-errors")>
                {options.into_iter().map(|(value, label)| {
                    let selected = value == current;
                    view! { <option value=value selected=selected>{label}</option> }
                }).collect_view()}
            </select>
            <FieldErrors id=format!("{name}-errors") messages=feedback.messages(name)/>
        }
    };
    let t = Lang::current();
    let models = profile.models.iter().map(|m| (m.clone(), m.clone())).collect();
    let modes = DISPLAY_MODES
        .iter()
        .map(|m| (m.to_string(), display_mode_label(m, t).to_string()))
        .collect();
    let languages = Lang::ALL
        .iter()
        .map(|lang| (lang.code().to_string(), lang.name().to_string()))
        .collect();
    view! {
        <ActionForm action=action attr:class="form" attr:novalidate=true>
            <FormErrors feedback/>
            <p class="hint">{t.t("Signed in as ", "Connecté en tant que ")} <strong>{profile.username.clone()}</strong></p>
            <div class="field-group">
            <Field name="first_name" label=t.t("First name", "Prénom") autocomplete="given-name" feedback keep=true initial=profile.first_name.clone()/>
            <Field name="last_name" label=t.t("Last name", "Nom") autocomplete="family-name" feedback keep=true initial=profile.last_name.clone()/>
            <Field name="email" label=t.t("Email", "E-mail") kind="email" autocomplete="email" feedback keep=true initial=profile.email.clone()/>
            </div>
            <div class="field-group">
                <label for="bio">{t.t("Bio", "Biographie")}</label>
                <textarea id="bio" name="bio" rows="4" aria-describedby="bio-errors bio-counter"
                    on:input=move |ev| bio.set(event_target_value(&ev)) prop:value=move || bio.get()>
                    {crate::core::layout::rcdata_text(&bio.get_untracked())}
                </textarea>
                <p id="bio-counter" class=move || counter_class(bio_length())
                    aria-live="polite">
                    {move || format!("{} / {BIO_MAX}", bio_length())}
                </p>
                <FieldErrors id="bio-errors".to_string() messages=feedback.messages("bio")/>
            </div>
            <div class="field-group">
                <label for="ai_model">{t.t("Preferred AI model", "Modèle d’IA préféré")}</label>
                {select("ai_model", models, profile.ai_model.clone())}
                <label for="display_mode">{t.t("Display mode", "Affichage")}</label>
                {select("display_mode", modes, profile.display_mode.clone())}
                <label for="language">{t.t("Language", "Langue")}</label>
                {select("language", languages, profile.language.clone())}
            </div>
            <button type="submit" class="primary" disabled=move || action.pending().get()>{t.t("Save settings", "Enregistrer")}</button>
        </ActionForm>
    }
}

fn display_mode_label(mode: &str, t: Lang) -> &'static str {
    match mode {
        "light" => t.t("Light", "Clair"),
        "dark" => t.t("Dark", "Sombre"),
        _ => t.t("System", "Système"),
    }
}

/// `/settings/password`: the current password and the new one twice. Needs a logged-in user.
#[component]
pub fn PasswordPage() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let feedback = Feedback::of(action);
    let user = Resource::new(|| (), |_| current_user());
    let t = Lang::current();
    view! {
        <Title text=t.t("Change password", "Changer le mot de passe")/>
        <section class="auth-card">
            <h1>{t.t("Change password", "Changer le mot de passe")}</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(_)) => view! {
                            <ActionForm action=action attr:class="form" attr:novalidate=true>
                                <FormErrors feedback/>
                                <Field name="old_password" label=t.t("Current password", "Mot de passe actuel") kind="password" autocomplete="current-password" feedback/>
                                <Field name="new_password1" label=t.t("New password", "Nouveau mot de passe") kind="password" autocomplete="new-password" feedback/>
                                <Field name="new_password2" label=t.t("Confirm new password", "Confirmez le nouveau mot de passe") kind="password" autocomplete="new-password" feedback/>
                                <p class="hint">{t.t("Changing it logs you out everywhere else.", "Le changer vous déconnecte partout ailleurs.")}</p>
                                <button type="submit" class="primary" disabled=move || action.pending().get()>{t.t("Change password", "Changer le mot de passe")}</button>
                            </ActionForm>
                        }.into_any(),
                        _ => login_redirect().into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
