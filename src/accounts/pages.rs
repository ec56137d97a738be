//! Pages and widgets of accounts. Forms are `ActionForm`s: plain HTML posts before hydration, instant afterwards.
//! After a failed post without JavaScript, Leptos brings the error back through the URL, so the same messages and
//! kept values render on the server as well.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_query_map};

use crate::accounts::server_fns::{Login, Logout, Register, current_user};
use crate::accounts::types::{AccountError, NON_FIELD};

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

    fn server_failed(self) -> Signal<bool> {
        Signal::derive(move || matches!(self.error.get(), Some(AccountError::Server)))
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
) -> impl IntoView {
    let errors_id = format!("{name}-errors");
    let value = move || if keep { feedback.kept(name).get() } else { String::new() };
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
        <Show when=move || feedback.server_failed().get()>
            <p class="form-error" role="alert">"Something went wrong on our side. Please try again."</p>
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
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FormErrors feedback/>
                <input type="hidden" name="next" value=next/>
                <Field name="login" label="Username or email" autocomplete="username" feedback keep=true/>
                <Field name="password" label="Password" kind="password" autocomplete="current-password" feedback/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Log in"</button>
            </ActionForm>
            <p class="auth-switch">"New here? " <a href=move || format!("/register?next={}", next())>"Create an account"</a></p>
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
                    <span class="user-name" data-testid="user-name">{user.username}</span>
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
