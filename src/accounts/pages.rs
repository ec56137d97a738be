//! Pages and widgets of accounts. Forms are `ActionForm`s: plain HTML posts before hydration, instant afterwards.
//! After a failed post without JavaScript, Leptos brings the error back through the URL, so the same messages and
//! kept values render on the server as well.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_location, use_params_map, use_query_map};

use crate::accounts::fields::BIO_MAX;
use crate::accounts::server_fns::{
    ChangePassword, CreateApiToken, DeleteAccount, Login, Logout, Register, RequestPasswordReset, ResetPassword,
    RevokeApiToken, UpdateProfile, current_user, get_profile, list_api_tokens,
};
use crate::accounts::types::{DISPLAY_MODES, Profile, TOKEN_LIFETIMES, TokenRow};
use crate::core::error::{AppError, NON_FIELD};
use crate::core::i18n::Lang;

/// The outcome of a form's last submission, read field by field.
#[derive(Clone, Copy)]
struct Feedback {
    error: Signal<Option<AppError>>,
}

impl Feedback {
    fn of<S>(action: ServerAction<S>) -> Self
    where
        S: ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
    {
        Self {
            error: Signal::derive(move || action.value().get().and_then(Result::err)),
        }
    }

    /// Messages for `field` (or `__all__`).
    fn messages(self, field: &'static str) -> Signal<Vec<String>> {
        Signal::derive(move || {
            self.error
                .get()
                .and_then(|e| e.form().and_then(|f| f.fields.get(field).cloned()))
                .unwrap_or_default()
        })
    }

    /// What the user typed in `field` last time (never a password).
    fn kept(self, field: &'static str) -> Signal<String> {
        Signal::derive(move || {
            self.error
                .get()
                .and_then(|e| e.form().and_then(|f| f.values.get(field).cloned()))
                .unwrap_or_default()
        })
    }

    /// A message about the whole request (throttled, server failure), not about one field.
    fn general(self) -> Signal<Option<String>> {
        Signal::derive(move || {
            self.error
                .get()
                .filter(|e| e.form().is_none())
                .map(|e| e.message(Lang::current()))
        })
    }
}

/// The messages of one field, linked to it for screen readers.
#[component]
fn FieldErrors(id: String, messages: Signal<Vec<String>>) -> impl IntoView {
    view! {
        <Show when=move || !messages.get().is_empty()>
            <ul class="field-errors" id=id.clone() role="alert">
                <For each=move || messages.get() key=|m| m.clone() let:message>
                    <li>{message}</li>
                </For>
            </ul>
        </Show>
    }
}

/// A labelled input with its messages.
#[component]
fn Field(
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    feedback: Feedback,
    #[prop(optional)] keep: bool,
    #[prop(optional, into)] initial: String,
) -> impl IntoView {
    let errors_id = format!("{name}-errors");
    // After a failed submission, what the user typed (never a password); otherwise the stored value.
    let value = move || match feedback.error.get() {
        Some(_) if keep => feedback.kept(name).get(),
        _ => initial.clone(),
    };
    view! {
        <label for=name>{label}</label>
        <input id=name name=name type=kind autocomplete=autocomplete required value=value
            aria-describedby=errors_id.clone()
            aria-invalid=move || (!feedback.messages(name).get().is_empty()).to_string()/>
        <FieldErrors id=errors_id messages=feedback.messages(name)/>
    }
}

/// Errors about the whole form.
#[component]
fn FormErrors(feedback: Feedback) -> impl IntoView {
    view! {
        <FieldErrors id="form-errors".to_string() messages=feedback.messages(NON_FIELD)/>
        <Show when=move || feedback.general().get().is_some()>
            <p class="form-error" role="alert">{move || feedback.general().get()}</p>
        </Show>
    }
}

/// Where to go after logging in or registering: `?next=` (the server checks it stays on this site) or home.
fn next_path() -> impl Fn() -> String + Copy {
    let query = use_query_map();
    move || query.with(|q| q.get("next")).unwrap_or_else(|| "/".to_string())
}

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

fn counter_class(length: usize) -> &'static str {
    if length > BIO_MAX { "counter over" } else { "counter" }
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

/// `/settings/tokens`: personal API tokens — create one (its key is shown once), see when each was last used, revoke.
#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let feedback = Feedback::of(create);
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );
    let revoked = move || use_query_map().with(|q| q.get("revoked").is_some());
    let t = Lang::current();
    view! {
        <Title text=t.t("API tokens", "Jetons d’API")/>
        <section class="auth-card wide">
            <h1>{t.t("API tokens", "Jetons d’API")}</h1>
            <p class="hint">
                {t.t("Tokens let scripts use the ", "Les jetons permettent à des scripts d’utiliser l’")} <a href="/api/docs/" rel="external">{t.t("REST API", "API REST")}</a>
                {t.t(" as you: send ", " en votre nom : envoyez ")}
                <code>"Authorization: Token <key>"</code>
                {t.t(". Anyone with a key can read and write your conversations.", ". Quiconque détient une clé peut lire et écrire vos conversations.")}
            </p>
            <Show when=revoked>
                <p class="notice" role="status">{t.t("Token revoked.", "Jeton révoqué.")}</p>
            </Show>
            <Suspense fallback=move || view! { <p>{t.t("Loading…", "Chargement…")}</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(view) => {
                            let key = view.new_key.map(|key| view! {
                                <div class="notice new-key" role="status">
                                    <p>{t.t("Your new token — copy it now, it will not be shown again:", "Votre nouveau jeton — copiez-le maintenant, il ne sera plus affiché :")}</p>
                                    <pre><code data-testid="new-key">{key}</code></pre>
                                </div>
                            });
                            let rows = view.tokens;
                            view! {
                                {key}
                                <TokenList rows revoke/>
                            }.into_any()
                        }
                        Err(AppError::Unauthenticated) => login_redirect().into_any(),
                        Err(_) => view! {
                            <p class="form-error" role="alert">{t.t("Your tokens could not be loaded. Please try again.", "Vos jetons n’ont pas pu être chargés. Veuillez réessayer.")}</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <h2>{t.t("New token", "Nouveau jeton")}</h2>
            <ActionForm action=create attr:class="form" attr:novalidate=true>
                <FormErrors feedback/>
                <Field name="name" label=t.t("Name (what uses it)", "Nom (ce qui l’utilise)") autocomplete="off" feedback keep=true/>
                <div class="field-group">
                    <label for="expires_in_days">{t.t("Expires after", "Expire après")}</label>
                    <select id="expires_in_days" name="expires_in_days" aria-describedby="expires_in_days-errors">
                        {TOKEN_LIFETIMES.iter().map(|(value, en, fr)| view! { <option value=*value>{t.t(en, fr)}</option> }).collect_view()}
                    </select>
                    <FieldErrors id="expires_in_days-errors".to_string() messages=feedback.messages("expires_in_days")/>
                </div>
                <button type="submit" class="primary" disabled=move || create.pending().get()>{t.t("Create token", "Créer le jeton")}</button>
            </ActionForm>
            <p class="auth-switch"><a href="/settings">{t.t("Back to settings", "Retour aux réglages")}</a></p>
        </section>
    }
}

#[component]
fn TokenList(rows: Vec<TokenRow>, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    let t = Lang::current();
    if rows.is_empty() {
        return view! { <p class="hint">{t.t("No tokens yet.", "Aucun jeton pour l’instant.")}</p> }.into_any();
    }
    view! {
        <table class="tokens">
            <thead><tr>
                <th>{t.t("Name", "Nom")}</th><th>{t.t("Key", "Clé")}</th><th>{t.t("Created", "Créé")}</th>
                <th>{t.t("Expires", "Expire")}</th><th>{t.t("Last used", "Dernière utilisation")}</th><th></th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|row| {
                    let expires = match (row.expires, row.expired) {
                        (Some(at), true) => format!("{} {at}", t.t("expired", "expiré le")),
                        (Some(at), false) => at,
                        (None, _) => t.t("never", "jamais").to_string(),
                    };
                    view! {
                        <tr>
                            <td>{row.name}</td>
                            <td><code>{row.prefix}"…"</code></td>
                            <td>{row.created}</td>
                            <td>{expires}</td>
                            <td>{row.last_used.unwrap_or_else(|| t.t("never", "jamais").to_string())}</td>
                            <td>
                                <ActionForm action=revoke>
                                    <input type="hidden" name="id" value=row.id.to_string()/>
                                    <button type="submit" class="danger small">{t.t("Revoke", "Révoquer")}</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
