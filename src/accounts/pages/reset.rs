//! Forgotten passwords: asking for a reset link, and setting a new password from it.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::tr;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::accounts::server_fns::{RequestPasswordReset, ResetPassword};
use crate::core::i18n::Lang;

use super::forms::{Feedback, Field, FormErrors};
use crate::core::csrf::CsrfField;

/// `/forgot-password`: asks for the email address and sends a reset link.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let action = ServerAction::<RequestPasswordReset>::new();
    let feedback = Feedback::of(action);
    let sent = move || use_query_map().with(|q| q.get("sent").is_some());
    let t = Lang::current();
    view! {
        <Title text=tr!(t, accounts.reset.reset_password)/>
        <section class="auth-card">
            <h1>{tr!(t, accounts.reset.reset_password)}</h1>
            <Show when=sent>
                <p class="notice" role="status">
                    {tr!(t, accounts.reset.if_account_uses_address)}
                </p>
            </Show>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <CsrfField/>
                <FormErrors feedback/>
                <Field name="email" label=tr!(t, accounts.reset.email) kind="email" autocomplete="email" feedback keep=true/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>{tr!(t, accounts.reset.send_me_link)}</button>
            </ActionForm>
            <p class="auth-switch"><a href="/login">{tr!(t, accounts.reset.back_log)}</a></p>
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
        <Title text=tr!(t, accounts.reset.choose_new_password)/>
        <section class="auth-card">
            <h1>{tr!(t, accounts.reset.choose_new_password)}</h1>
            <ActionForm action=action attr:class="form" attr:novalidate=true>
                <CsrfField/>
                <FormErrors feedback/>
                <input type="hidden" name="token" value=token/>
                <Field name="new_password1" label=tr!(t, accounts.reset.new_password) kind="password" autocomplete="new-password" feedback/>
                <Field name="new_password2" label=tr!(t, accounts.reset.confirm_new_password) kind="password" autocomplete="new-password" feedback/>
                <button type="submit" class="primary" disabled=move || action.pending().get()>{tr!(t, accounts.reset.set_password)}</button>
            </ActionForm>
            <p class="auth-switch"><a href="/forgot-password">{tr!(t, accounts.reset.request_new_link)}</a></p>
        </section>
    }
}
