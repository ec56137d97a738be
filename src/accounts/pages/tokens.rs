//! Personal API tokens: creating one (its key shown once), listing and revoking them.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::tr;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::accounts::server_fns::{CreateApiToken, RevokeApiToken, list_api_tokens};
use crate::accounts::types::{TOKEN_LIFETIMES, TokenRow};
use crate::core::error::AppError;
use crate::core::i18n::Lang;

use super::forms::{Feedback, Field, FieldErrors, FormErrors};
use super::login_redirect;
use crate::core::csrf::CsrfField;

/// `/settings/tokens`: personal API tokens — create one (its key is shown once), see when each was last used, revoke.
#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let feedback = Feedback::of(create);
    let tokens = crate::core::codec::resource(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );
    let revoked = move || use_query_map().with(|q| q.get("revoked").is_some());
    let t = Lang::current();
    view! {
        <Title text=tr!(t, accounts.tokens.api_tokens)/>
        <section class="auth-card wide">
            <h1>{tr!(t, accounts.tokens.api_tokens)}</h1>
            <p class="hint">
                {tr!(t, accounts.tokens.tokens_let_scripts_use)} <a href="/api/docs/" rel="external">{tr!(t, accounts.tokens.rest_api)}</a>
                {tr!(t, accounts.tokens.as_you_send)}
                <code>"Authorization: Token <key>"</code>
                {tr!(t, accounts.tokens.anyone_key_can_read)}
            </p>

            <Show when=revoked>
                <p class="notice" role="status">{tr!(t, accounts.tokens.token_revoked)}</p>
            </Show>
            <Suspense fallback=move || view! { <p>{tr!(t, accounts.tokens.loading)}</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Ok(view) => {
                            let key = view.new_key.map(|key| view! {
                                <div class="notice new-key" role="status">
                                    <p>{tr!(t, accounts.tokens.new_token_copy_now)}</p>
                                    <pre><code data-testid="new-key">{key}</code></pre>
                                </div>
                            });
                            let rows = view.tokens;
                            view! {
                                <p class="hint">
                                    {tr!(t, accounts.tokens.openai_hint)}<code data-testid="v1-base-url">{view.v1_base_url}</code>
                                    {tr!(t, accounts.tokens.openai_hint_end)}
                                </p>
                                {key}
                                <TokenList rows revoke/>
                            }.into_any()
                        }
                        Err(AppError::Unauthenticated) => login_redirect().into_any(),
                        Err(_) => view! {
                            <p class="form-error" role="alert">{tr!(t, accounts.tokens.tokens_could_not_loaded)}</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <h2>{tr!(t, accounts.tokens.new_token)}</h2>
            <ActionForm action=create attr:class="form" attr:novalidate=true>
                <CsrfField/>
                <FormErrors feedback/>
                <Field name="name" label=tr!(t, accounts.tokens.name_what_uses) autocomplete="off" feedback keep=true/>
                <div class="field-group">
                    <label for="expires_in_days">{tr!(t, accounts.tokens.expires_after)}</label>
                    <select id="expires_in_days" name="expires_in_days" aria-describedby="expires_in_days-errors">
                        {TOKEN_LIFETIMES.iter().map(|value| view! { <option value=*value>{lifetime_label(t, value)}</option> }).collect_view()}
                    </select>
                    <FieldErrors id="expires_in_days-errors".to_string() messages=feedback.messages("expires_in_days")/>
                </div>
                <div class="field-group">
                    <label for="scope">{tr!(t, accounts.tokens.scope)}</label>
                    <select id="scope" name="scope" aria-describedby="scope-errors" data-testid="token-scope">
                        <option value="all">{tr!(t, accounts.tokens.scope_all)}</option>
                        <option value="v1">{tr!(t, accounts.tokens.scope_v1)}</option>
                    </select>
                    <FieldErrors id="scope-errors".to_string() messages=feedback.messages("scope")/>
                </div>
                <button type="submit" class="primary" disabled=move || create.pending().get()>{tr!(t, accounts.tokens.create_token)}</button>
            </ActionForm>
            <p class="auth-switch"><a href="/settings">{tr!(t, accounts.tokens.back_settings)}</a></p>
        </section>
    }
}

#[component]
fn TokenList(rows: Vec<TokenRow>, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    let t = Lang::current();
    if rows.is_empty() {
        return view! { <p class="hint">{tr!(t, accounts.tokens.no_tokens_yet)}</p> }.into_any();
    }
    view! {
        <table class="tokens">
            <thead><tr>
                <th>{tr!(t, accounts.tokens.name)}</th><th>{tr!(t, accounts.tokens.key)}</th><th>{tr!(t, accounts.tokens.created)}</th>
                <th>{tr!(t, accounts.tokens.expires)}</th><th>{tr!(t, accounts.tokens.last_used)}</th><th></th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|row| {
                    let expires = match (row.expires, row.expired) {
                        (Some(at), true) => format!("{} {at}", tr!(t, accounts.tokens.expired)),
                        (Some(at), false) => at,
                        (None, _) => tr!(t, accounts.tokens.never).to_string(),
                    };
                    view! {
                        <tr>
                            <td>
                                {row.name}
                                {row.v1_only.then(|| view! { " " <span class="badge">{tr!(t, accounts.tokens.scope_v1_tag)}</span> })}
                            </td>
                            <td><code>{row.prefix}"…"</code></td>
                            <td>{row.created}</td>
                            <td>{expires}</td>
                            <td>{row.last_used.unwrap_or_else(|| tr!(t, accounts.tokens.never).to_string())}</td>
                            <td>
                                <ActionForm action=revoke>
                                    <CsrfField/>
                                    <input type="hidden" name="id" value=row.id.to_string()/>
                                    <button type="submit" class="danger small">{tr!(t, accounts.tokens.revoke)}</button>
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

/// The label of a token lifetime of [`TOKEN_LIFETIMES`].
fn lifetime_label(t: Lang, days: &str) -> &'static str {
    match days {
        "30" => tr!(t, accounts.tokens.lifetime_30),
        "90" => tr!(t, accounts.tokens.lifetime_90),
        "365" => tr!(t, accounts.tokens.lifetime_365),
        _ => tr!(t, accounts.tokens.lifetime_never),
    }
}
