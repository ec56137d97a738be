//! The logged-in user's personal API tokens.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::require_user;
use crate::accounts::types::TokensView;
use crate::core::error::AppError;
#[cfg(feature = "ssr")]
use crate::core::error::FormErrors;

/// Session key of a token's key between its creation and its one display.
#[cfg(feature = "ssr")]
const NEW_KEY: &str = "new_api_key";

/// The logged-in user's personal API tokens, and the key of one just created (then forgotten).
#[server]
pub async fn list_api_tokens() -> Result<TokensView, AppError> {
    let (user, session) = require_user().await?;
    let state = expect_context::<crate::state::AppState>();
    let tokens = crate::accounts::api_tokens::list(&state.db.pool, user.id).await?;
    let new_key = session.session.remove::<String>(NEW_KEY).await?;
    let now = crate::core::db::now_millis();
    let when = crate::core::time::minute;
    Ok(TokensView {
        tokens: tokens
            .into_iter()
            .map(|t| crate::accounts::types::TokenRow {
                id: t.id,
                name: t.name,
                prefix: t.prefix,
                created: when(t.created_at),
                expires: t.expires_at.map(when),
                expired: t.expires_at.is_some_and(|at| at <= now),
                last_used: t.last_used_at.map(when),
                v1_only: t.scope == "v1",
            })
            .collect(),
        new_key,
        v1_base_url: format!("{}/v1", state.config.site_url.trim_end_matches('/')),
    })
}

/// Creates a personal API token; its key is shown once by the tokens page.
#[server]
pub async fn create_api_token(
    name: String,
    expires_in_days: String,
    #[server(default)] scope: Option<String>,
) -> Result<(), AppError> {
    let (user, session) = require_user().await?;
    let state = expect_context::<crate::state::AppState>();
    let days = match expires_in_days.trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(days) => Some(days),
            Err(_) => {
                let mut errors = FormErrors::default();
                errors.keep("name", &name);
                errors.add("expires_in_days", crate::text!(accounts.field.token_lifetime_choice));
                return Err(AppError::Invalid(errors));
            }
        },
    };
    let scope = match scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => crate::accounts::api_tokens::Scope::All,
        Some(text) => match crate::accounts::api_tokens::Scope::parse(text) {
            Some(scope) => scope,
            None => {
                let mut errors = FormErrors::default();
                errors.keep("name", &name);
                errors.add(
                    "scope",
                    crate::text!(core.field.invalid_choice, value = text.to_string()),
                );
                return Err(AppError::Invalid(errors));
            }
        },
    };
    let created = crate::accounts::api_tokens::create(&state.db.pool, &user, &name, days, scope).await?;
    session.session.insert(NEW_KEY, created.key).await?;
    leptos_axum::redirect("/settings/tokens?created=1");
    Ok(())
}

/// Revokes one of the logged-in user's API tokens.
#[server]
pub async fn revoke_api_token(id: String) -> Result<(), AppError> {
    let (user, _) = require_user().await?;
    let state = expect_context::<crate::state::AppState>();
    // Not a number, or not one of the user's tokens: nothing to revoke.
    if let Ok(id) = id.parse::<i64>() {
        crate::accounts::api_tokens::revoke(&state.db.pool, user.id, id).await?;
    }
    leptos_axum::redirect("/settings/tokens?revoked=1");
    Ok(())
}
