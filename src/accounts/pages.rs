//! Pages and widgets of accounts. Forms are `ActionForm`s: plain HTML posts before hydration, instant afterwards.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_query_map};

use crate::accounts::server_fns::{Login, Logout, current_user};
use crate::accounts::types::{AccountError, FormErrors, NON_FIELD};

/// Messages for one field of a failed submission.
fn field_errors(result: Option<Result<(), AccountError>>, field: &'static str) -> Vec<String> {
    match result {
        Some(Err(AccountError::Invalid(errors))) => errors.fields.get(field).cloned().unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The messages of one field, linked to it for screen readers.
#[component]
fn FieldErrors(id: &'static str, messages: Signal<Vec<String>>) -> impl IntoView {
    view! {
        <Show when=move || !messages.get().is_empty()>
            <ul class="field-errors" id=id role="alert">
                <For each=move || messages.get() key=|m| m.clone() let:message>
                    <li>{message}</li>
                </For>
            </ul>
        </Show>
    }
}

/// `/login`: username or email, and password.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let next = move || {
        use_query_map()
            .with(|q| q.get("next"))
            .unwrap_or_else(|| "/".to_string())
    };
    let result = move || action.value().get();
    let kept = move |field: &'static str| {
        result()
            .and_then(|r| r.err())
            .and_then(|e| e.form().cloned())
            .unwrap_or_else(FormErrors::default)
            .values
            .get(field)
            .cloned()
            .unwrap_or_default()
    };
    let errors_of = move |field: &'static str| Signal::derive(move || field_errors(result(), field));
    let server_error = move || matches!(result(), Some(Err(AccountError::Server)));
    view! {
        <Title text="Log in"/>
        <section class="auth-card">
            <h1>"Log in"</h1>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <FieldErrors id="form-errors" messages=errors_of(NON_FIELD)/>
                <Show when=server_error>
                    <p class="form-error" role="alert">"Something went wrong on our side. Please try again."</p>
                </Show>
                <input type="hidden" name="next" value=next/>
                <label for="login">"Username or email"</label>
                <input id="login" name="login" type="text" autocomplete="username" required
                    value=move || kept("login") aria-describedby="login-errors"/>
                <FieldErrors id="login-errors" messages=errors_of("login")/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required
                    aria-describedby="password-errors"/>
                <FieldErrors id="password-errors" messages=errors_of("password")/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>"Log in"</button>
            </ActionForm>
        </section>
    }
}

/// Header widget: the user's name and a logout button, or a link to log in.
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
                None => view! { <a class="button" href="/login">"Log in"</a> }.into_any(),
            })}
        </Transition>
    }
}
