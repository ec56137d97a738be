//! Logging in and registering, and the redirect of visitors to the login page.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::tr;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_location, use_query_map};

use crate::accounts::server_fns::{Login, Register, current_user};
use crate::core::i18n::Lang;

use super::forms::{Feedback, Field, FormErrors, next_path, preload_next};
use crate::core::csrf::CsrfField;

/// `/login`: username or email, and password.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<Login>::new();
    let feedback = Feedback::of(action);
    let next = next_path();
    let preload = preload_next(next);
    let t = Lang::current();
    view! {
        <Title text=tr!(t, accounts.session.log_in_title)/>
        <AlreadyIn/>
        <section class="auth-card">
            <h1>{tr!(t, accounts.session.log_in_title)}</h1>
            <Show when=move || use_query_map().with(|q| q.get("reset").is_some())>
                <p class="notice" role="status">{tr!(t, accounts.session.password_has_been_set)}</p>
            </Show>
            <ActionForm action=action attr:class="form" attr:novalidate=true on:focusin=move |_| preload() on:pointerdown=move |_| preload()>
                <CsrfField/>
                <FormErrors feedback/>
                <input type="hidden" name="next" value=next/>
                <Field name="login" label=tr!(t, accounts.session.username_email) autocomplete="username" feedback keep=true/>
                <Field name="password" label=tr!(t, accounts.session.password) kind="password" autocomplete="current-password" feedback/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>{tr!(t, accounts.session.log_in_action)}</button>
            </ActionForm>
            <p class="auth-switch">{tr!(t, accounts.session.new_here)} <a href=move || format!("/register?next={}", next())>{tr!(t, accounts.session.create_account)}</a></p>
            <p class="auth-switch"><a href="/forgot-password">{tr!(t, accounts.session.forgot_password)}</a></p>
        </section>
    }
}

/// `/register`: username, email and the password twice.
#[component]
pub fn RegisterPage() -> impl IntoView {
    let action = ServerAction::<Register>::new();
    let feedback = Feedback::of(action);
    let next = next_path();
    let preload = preload_next(next);
    let t = Lang::current();
    view! {
        <Title text=tr!(t, accounts.session.create_account)/>
        <AlreadyIn/>
        <section class="auth-card">
            <h1>{tr!(t, accounts.session.create_account)}</h1>
            <ActionForm action=action attr:class="form" attr:novalidate=true on:focusin=move |_| preload() on:pointerdown=move |_| preload()>
                <CsrfField/>
                <FormErrors feedback/>
                <input type="hidden" name="next" value=next/>
                <Field name="username" label=tr!(t, accounts.session.username) autocomplete="username" feedback keep=true/>
                <Field name="email" label=tr!(t, accounts.session.email) kind="email" autocomplete="email" feedback keep=true/>
                <Field name="password1" label=tr!(t, accounts.session.password) kind="password" autocomplete="new-password" feedback/>
                <Field name="password2" label=tr!(t, accounts.session.confirm_password) kind="password" autocomplete="new-password" feedback/>
                <p class="hint">{tr!(t, accounts.session.least_8_characters_not)}</p>
                <button type="submit" class="primary" disabled=move || action.pending().get()>{tr!(t, accounts.session.create_account_action)}</button>
            </ActionForm>
            <p class="auth-switch">{tr!(t, accounts.session.already_have_account)} <a href="/login">{tr!(t, accounts.session.log_in_action)}</a></p>
        </section>
    }
}

/// On the login and sign-up pages: a visitor who is already logged in goes on to `next` or the chat (a 302 when the
/// server renders the page).
#[component]
fn AlreadyIn() -> impl IntoView {
    let next = next_path();
    let user = crate::core::codec::resource(|| (), |_| current_user());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(_)) => view! { <Redirect path=next()/> }.into_any(),
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/login?next=<this page>`, for pages that need a logged-in user.
pub(crate) fn login_redirect() -> impl IntoView {
    let location = use_location();
    let (path, query) = (location.pathname.get_untracked(), location.search.get_untracked());
    let here = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    view! { <Redirect path=format!("/login?next={}", crate::core::document::next_value(&here))/> }
}
