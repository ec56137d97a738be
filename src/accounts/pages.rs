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
use crate::accounts::types::{AccountError, DISPLAY_MODES, LANGUAGES, NON_FIELD, Profile, TOKEN_LIFETIMES, TokenRow};

/// The outcome of a form's last submission, read field by field.
#[derive(Clone, Copy)]
struct Feedback {
    error: Signal<Option<AccountError>>,
}

impl Feedback {
    fn of<S>(action: ServerAction<S>) -> Self
    where
        S: ServerFn<Output = (), Error = AccountError> + Clone + Send + Sync + 'static,
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
        Signal::derive(move || self.error.get().filter(|e| e.form().is_none()).map(|e| e.to_string()))
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
    view! {
        <Title text="Log in"/>
        <section class="auth-card">
            <h1>"Log in"</h1>
            <Show when=move || use_query_map().with(|q| q.get("reset").is_some())>
                <p class="notice" role="status">"Your password has been set. You may log in now."</p>
            </Show>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormErrors feedback/>
                <input type="hidden" name="next" value=next/>
                <Field name="login" label="Username or email" autocomplete="username" feedback keep=true/>
                <Field name="password" label="Password" kind="password" autocomplete="current-password" feedback/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Log in"</button>
            </ActionForm>
            <p class="auth-switch">"New here? " <a href=move || format!("/register?next={}", next())>"Create an account"</a></p>
            <p class="auth-switch"><a href="/forgot-password">"Forgot your password?"</a></p>
        </section>
    }
}

/// `/register`: username, email and the password twice.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let feedback = Feedback::of(action);
    let next = next_path();
    view! {
        <Title text="Create an account"/>
        <section class="auth-card">
            <h1>"Create an account"</h1>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormErrors feedback/>
                <input type="hidden" name="next" value=next/>
                <Field name="username" label="Username" autocomplete="username" feedback keep=true/>
                <Field name="email" label="Email" kind="email" autocomplete="email" feedback keep=true/>
                <Field name="password1" label="Password" kind="password" autocomplete="new-password" feedback/>
                <Field name="password2" label="Confirm password" kind="password" autocomplete="new-password" feedback/>
                <p class="hint">"At least 8 characters, not a common password, not only digits, not like your name."</p>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Create account"</button>
            </ActionForm>
            <p class="auth-switch">"Already have an account? " <a href="/login">"Log in"</a></p>
        </section>
    }
}

/// Header widget: the user's name and a logout button, or links to log in and register.
#[component]
pub fn UserMenu() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let location = use_location();
    // Refetched on every navigation and after logging out, so a change of user shows at once.
    let user = Resource::new(
        move || (location.pathname.get(), logout.version().get()),
        |_| current_user(),
    );
    view! {
        <Transition fallback=|| ()>
            {move || user.get().map(|answer| match answer.ok().flatten() {
                Some(user) => view! {
                    <a href="/chat" data-testid="chat-link">"Chat"</a>
                    <a class="user-name" data-testid="user-name" href="/settings">{user.username}</a>
                    <ActionForm action=logout attr:class="logout-form">
                        <button type="submit">"Log out"</button>
                    </ActionForm>
                }.into_any(),
                None => view! {
                    <a class="button" href="/login">"Log in"</a>
                    <a class="button primary" href="/register">"Sign up"</a>
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
    let profile = Resource::new(move || action.version().get(), |_| get_profile());
    let query = use_query_map();
    let notice = move || {
        query.with(|q| {
            if q.get("saved").is_some() {
                Some("Your settings were saved.")
            } else if q.get("password_changed").is_some() {
                Some("Your password was changed. Your other sessions were logged out.")
            } else {
                None
            }
        })
    };
    view! {
        <Title text="Settings"/>
        <section class="auth-card wide">
            <h1>"Settings"</h1>
            <Show when=move || notice().is_some() && action.value().with(|v| !matches!(v, Some(Err(_))))>
                <p class="notice" role="status">{notice}</p>
            </Show>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match profile.await {
                        Ok(profile) => view! { <SettingsForm profile action/> }.into_any(),
                        Err(AccountError::Unauthenticated) => login_redirect().into_any(),
                        Err(_) => view! {
                            <p class="form-error" role="alert">"Your settings could not be loaded. Please try again."</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <p class="auth-switch"><a href="/settings/password">"Change your password"</a></p>
            <p class="auth-switch"><a href="/settings/tokens">"API tokens"</a></p>
            <p class="auth-switch"><a href="/settings/export" download>"Download your data (JSON)"</a></p>
            <DangerZone/>
        </section>
    }
}

/// Account deletion, confirmed by the password.
#[component]
fn DangerZone() -> impl IntoView {
    let action = ServerAction::<DeleteAccount>::new();
    let feedback = Feedback::of(action);
    view! {
        <details class="danger-zone">
            <summary>"Delete account"</summary>
            <p>"This deletes your account and all your conversations. It cannot be undone."</p>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormErrors feedback/>
                <Field name="password" label="Confirm with your password" kind="password" autocomplete="current-password" feedback/>
                <button type="submit" class="danger" disabled=move || action.pending().get()>"Delete my account"</button>
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
    let models = profile.models.iter().map(|m| (m.clone(), m.clone())).collect();
    let modes = DISPLAY_MODES.iter().map(|m| (m.to_string(), capitalise(m))).collect();
    let languages = LANGUAGES
        .iter()
        .map(|(code, name)| (code.to_string(), name.to_string()))
        .collect();
    view! {
        <ActionForm action=action attr:class="form" attr:novalidate=true>
            <FormErrors feedback/>
            <p class="hint">"Signed in as " <strong>{profile.username.clone()}</strong></p>
            <div class="field-group">
            <Field name="first_name" label="First name" autocomplete="given-name" feedback keep=true initial=profile.first_name.clone()/>
            <Field name="last_name" label="Last name" autocomplete="family-name" feedback keep=true initial=profile.last_name.clone()/>
            <Field name="email" label="Email" kind="email" autocomplete="email" feedback keep=true initial=profile.email.clone()/>
            </div>
            <div class="field-group">
                <label for="bio">"Bio"</label>
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
                <label for="ai_model">"Preferred AI model"</label>
                {select("ai_model", models, profile.ai_model.clone())}
                <label for="display_mode">"Display mode"</label>
                {select("display_mode", modes, profile.display_mode.clone())}
                <label for="language">"Language"</label>
                {select("language", languages, profile.language.clone())}
            </div>
            <button type="submit" class="primary" disabled=move || action.pending().get()>"Save settings"</button>
        </ActionForm>
    }
}

fn counter_class(length: usize) -> &'static str {
    if length > BIO_MAX { "counter over" } else { "counter" }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `/settings/password`: the current password and the new one twice. Needs a logged-in user.
#[component]
pub fn PasswordPage() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let feedback = Feedback::of(action);
    let user = Resource::new(|| (), |_| current_user());
    view! {
        <Title text="Change password"/>
        <section class="auth-card">
            <h1>"Change password"</h1>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match user.await {
                        Ok(Some(_)) => view! {
                            <ActionForm action=action attr:class="form" attr:novalidate=true>
                                <FormErrors feedback/>
                                <Field name="old_password" label="Current password" kind="password" autocomplete="current-password" feedback/>
                                <Field name="new_password1" label="New password" kind="password" autocomplete="new-password" feedback/>
                                <Field name="new_password2" label="Confirm new password" kind="password" autocomplete="new-password" feedback/>
                                <p class="hint">"Changing it logs you out everywhere else."</p>
                                <button type="submit" class="primary" disabled=move || action.pending().get()>"Change password"</button>
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
    view! {
        <Title text="Reset your password"/>
        <section class="auth-card">
            <h1>"Reset your password"</h1>
            <Show when=sent>
                <p class="notice" role="status">
                    "If an account uses that address, we sent it a link to choose a new password. It works for one hour."
                </p>
            </Show>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormErrors feedback/>
                <Field name="email" label="Email" kind="email" autocomplete="email" feedback keep=true/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Send me a link"</button>
            </ActionForm>
            <p class="auth-switch"><a href="/login">"Back to log in"</a></p>
        </section>
    }
}

/// `/reset-password/{token}`: the new password twice.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let feedback = Feedback::of(action);
    let token = move || use_params_map().with(|p| p.get("token")).unwrap_or_default();
    view! {
        <Title text="Choose a new password"/>
        <section class="auth-card">
            <h1>"Choose a new password"</h1>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormErrors feedback/>
                <input type="hidden" name="token" value=token/>
                <Field name="new_password1" label="New password" kind="password" autocomplete="new-password" feedback/>
                <Field name="new_password2" label="Confirm new password" kind="password" autocomplete="new-password" feedback/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Set password"</button>
            </ActionForm>
            <p class="auth-switch"><a href="/forgot-password">"Request a new link"</a></p>
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
    view! {
        <Title text="API tokens"/>
        <section class="auth-card wide">
            <h1>"API tokens"</h1>
            <p class="hint">
                "Tokens let scripts use the " <a href="/api/docs/" rel="external">"REST API"</a> " as you: send "
                <code>"Authorization: Token <key>"</code> ". Anyone with a key can read and write your conversations."
            </p>
            <Show when=revoked>
                <p class="notice" role="status">"Token revoked."</p>
            </Show>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(view) => {
                            let key = view.new_key.map(|key| view! {
                                <div class="notice new-key" role="status">
                                    <p>"Your new token — copy it now, it will not be shown again:"</p>
                                    <pre><code data-testid="new-key">{key}</code></pre>
                                </div>
                            });
                            let rows = view.tokens;
                            view! {
                                {key}
                                <TokenList rows revoke/>
                            }.into_any()
                        }
                        Err(AccountError::Unauthenticated) => login_redirect().into_any(),
                        Err(_) => view! {
                            <p class="form-error" role="alert">"Your tokens could not be loaded. Please try again."</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <h2>"New token"</h2>
            <ActionForm action=create attr:class="form" attr:novalidate=true>
                <FormErrors feedback/>
                <Field name="name" label="Name (what uses it)" autocomplete="off" feedback keep=true/>
                <div class="field-group">
                    <label for="expires_in_days">"Expires after"</label>
                    <select id="expires_in_days" name="expires_in_days" aria-describedby="expires_in_days-errors">
                        {TOKEN_LIFETIMES.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view()}
                    </select>
                    <FieldErrors id="expires_in_days-errors".to_string() messages=feedback.messages("expires_in_days")/>
                </div>
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create token"</button>
            </ActionForm>
            <p class="auth-switch"><a href="/settings">"Back to settings"</a></p>
        </section>
    }
}

#[component]
fn TokenList(rows: Vec<TokenRow>, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="hint">"No tokens yet."</p> }.into_any();
    }
    view! {
        <table class="tokens">
            <thead><tr><th>"Name"</th><th>"Key"</th><th>"Created"</th><th>"Expires"</th><th>"Last used"</th><th></th></tr></thead>
            <tbody>
                {rows.into_iter().map(|t| {
                    let expires = match (t.expires, t.expired) {
                        (Some(at), true) => format!("expired {at}"),
                        (Some(at), false) => at,
                        (None, _) => "never".to_string(),
                    };
                    view! {
                        <tr>
                            <td>{t.name}</td>
                            <td><code>{t.prefix}"…"</code></td>
                            <td>{t.created}</td>
                            <td>{expires}</td>
                            <td>{t.last_used.unwrap_or_else(|| "never".to_string())}</td>
                            <td>
                                <ActionForm action=revoke>
                                    <input type="hidden" name="id" value=t.id.to_string()/>
                                    <button type="submit" class="danger small">"Revoke"</button>
                                </ActionForm>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }.into_any()
}
