//! The settings pages: profile and preferences, the danger zone (export, delete), and the password.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::tr;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::accounts::fields::BIO_MAX;
use crate::accounts::server_fns::{ChangePassword, DeleteAccount, UpdateProfile, current_user, get_profile};
use crate::accounts::types::{DISPLAY_MODES, Profile};
use crate::core::error::AppError;
use crate::core::i18n::Lang;

use super::forms::{Feedback, Field, FieldErrors, FormErrors, counter_class};
use super::login_redirect;
use crate::core::csrf::CsrfField;

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
    let profile = crate::core::codec::resource(move || action.version().get(), |_| get_profile());
    let query = use_query_map();
    let t = Lang::current();
    let notice = move || {
        query.with(|q| {
            if q.get("saved").is_some() {
                Some(tr!(t, accounts.settings.settings_saved))
            } else if q.get("password_changed").is_some() {
                Some(tr!(t, accounts.settings.password_changed_other_sessions))
            } else {
                None
            }
        })
    };
    view! {
        <Title text=tr!(t, accounts.settings.settings)/>
        <section class="auth-card wide">
            <h1>{tr!(t, accounts.settings.settings)}</h1>
            <Show when=move || notice().is_some() && action.value().with(|v| !matches!(v, Some(Err(_))))>
                <p class="notice" role="status">{notice}</p>
            </Show>
            <Suspense fallback=move || view! { <p>{tr!(t, accounts.settings.loading)}</p> }>
                {move || Suspend::new(async move {
                    match profile.await {
                        Ok(profile) => view! { <SettingsForm profile action/> }.into_any(),
                        Err(AppError::Unauthenticated) => login_redirect().into_any(),
                        Err(_) => view! {
                            <p class="form-error" role="alert">{tr!(t, accounts.settings.settings_could_not_loaded)}</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <p class="auth-switch"><a href="/settings/password">{tr!(t, accounts.settings.change_password_link)}</a></p>
            <p class="auth-switch"><a href="/settings/tokens">{tr!(t, accounts.settings.api_tokens)}</a></p>
            <p class="auth-switch"><a href="/settings/usage">{tr!(t, accounts.usage.title)}</a></p>
            <p class="auth-switch"><a href="/settings/shares">{tr!(t, chat.share.my_links)}</a></p>
            <p class="auth-switch"><a href="/settings/import" data-testid="import-link">{tr!(t, chat.import.link)}</a></p>
            <p class="auth-switch"><a href="/settings/export/conversations.json" download data-testid="export-conversations">{tr!(t, chat.import.export_all)}</a></p>
            <p class="auth-switch"><a href="/settings/export" download>{tr!(t, accounts.settings.download_data_json)}</a></p>
            <p class="auth-switch"><a href="/settings/export.zip" download rel="external" data-testid="export-zip">{tr!(t, accounts.settings.download_data_zip)}</a></p>
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
            <summary>{tr!(t, accounts.settings.delete_account)}</summary>
            <p>{tr!(t, accounts.settings.deletes_account_all_conversations)}</p>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <CsrfField/>
                <FormErrors feedback/>
                <Field name="password" label=tr!(t, accounts.settings.confirm_password) kind="password" autocomplete="current-password" feedback/>
                <button type="submit" class="danger" disabled=move || action.pending().get()>{tr!(t, accounts.settings.delete_my_account)}</button>
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
    // Hydrating a page the user already typed in: the text in the box wins over the saved one (the box's value is
    // bound to this signal, so hydration would otherwise put the saved bio back and lose what was typed).
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(typed) = document()
            .get_element_by_id("bio")
            .and_then(|el| el.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
            .map(|el| el.value())
            .filter(|typed| *typed != bio.get_untracked())
        {
            // Hydration renders the saved text first (it must match the server's page); the typed text then replaces
            // it in the box and in the counter.
            request_animation_frame(move || bio.set(typed));
        }
    }
    let bio_length = move || bio.with(|b| b.chars().count());
    #[cfg(feature = "hydrate")]
    {
        // Just saved: apply the saved display mode at once. (Only then: opening the page must not undo a theme the
        // header's switch chose since.)
        if let Some(Ok(())) = action.value().get_untracked()
            && let Some(theme) = crate::core::theme::Theme::parse(&profile.display_mode)
        {
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
            <CsrfField/>
            <FormErrors feedback/>
            <p class="hint">{tr!(t, accounts.settings.signed)} <strong>{profile.username.clone()}</strong></p>
            <div class="field-group">
            <Field name="first_name" label=tr!(t, accounts.settings.first_name) autocomplete="given-name" feedback keep=true initial=profile.first_name.clone()/>
            <Field name="last_name" label=tr!(t, accounts.settings.last_name) autocomplete="family-name" feedback keep=true initial=profile.last_name.clone()/>
            <Field name="email" label=tr!(t, accounts.settings.email) kind="email" autocomplete="email" feedback keep=true initial=profile.email.clone()/>
            </div>
            <div class="field-group">
                <label for="bio">{tr!(t, accounts.settings.bio)}</label>
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
                <label for="ai_model">{tr!(t, accounts.settings.preferred_ai_model)}</label>
                {select("ai_model", models, profile.ai_model.clone())}
                <label for="display_mode">{tr!(t, accounts.settings.display_mode)}</label>
                {select("display_mode", modes, profile.display_mode.clone())}
                <label for="language">{tr!(t, accounts.settings.language)}</label>
                {select("language", languages, profile.language.clone())}
            </div>
            <button type="submit" class="primary" disabled=move || action.pending().get()>{tr!(t, accounts.settings.save_settings)}</button>
        </ActionForm>
    }
}

fn display_mode_label(mode: &str, t: Lang) -> &'static str {
    match mode {
        "light" => tr!(t, accounts.settings.light),
        "dark" => tr!(t, accounts.settings.dark),
        _ => tr!(t, accounts.settings.system),
    }
}

/// `/settings/password`: the current password and the new one twice. Needs a logged-in user.
#[component]
pub fn PasswordPage() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let feedback = Feedback::of(action);
    let user = crate::core::codec::resource(|| (), |_| current_user());
    let t = Lang::current();
    view! {
        <Title text=tr!(t, accounts.settings.change_password_title)/>
        <section class="auth-card">
            <h1>{tr!(t, accounts.settings.change_password_title)}</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(_)) => view! {
                            <ActionForm action=action attr:class="form" attr:novalidate=true>
                                <CsrfField/>
                                <FormErrors feedback/>
                                <Field name="old_password" label=tr!(t, accounts.settings.current_password) kind="password" autocomplete="current-password" feedback/>
                                <Field name="new_password1" label=tr!(t, accounts.settings.new_password) kind="password" autocomplete="new-password" feedback/>
                                <Field name="new_password2" label=tr!(t, accounts.settings.confirm_new_password) kind="password" autocomplete="new-password" feedback/>
                                <p class="hint">{tr!(t, accounts.settings.changing_logs_out_everywhere)}</p>
                                <button type="submit" class="primary" disabled=move || action.pending().get()>{tr!(t, accounts.settings.change_password_title)}</button>
                            </ActionForm>
                        }.into_any(),
                        _ => login_redirect().into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
