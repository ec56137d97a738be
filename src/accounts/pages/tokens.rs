//! Personal API tokens: creating one (its key shown once), listing and revoking them.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::accounts::server_fns::{CreateApiToken, RevokeApiToken, list_api_tokens};
use crate::accounts::types::{TOKEN_LIFETIMES, TokenRow};
use crate::core::error::AppError;
use crate::core::i18n::Lang;

use super::forms::{Feedback, Field, FieldErrors, FormErrors};
use super::login_redirect;

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
