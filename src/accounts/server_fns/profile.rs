//! The logged-in user's profile and preferences, password and account.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr::require_user;
use crate::accounts::types::Profile;
use crate::core::error::AppError;
#[cfg(feature = "ssr")]
use crate::core::error::FormErrors;

/// The logged-in user's profile and preferences.
#[server]
pub async fn get_profile() -> Result<Profile, AppError> {
    let (user, _) = require_user().await?;
    let state = expect_context::<crate::state::AppState>();
    let models = state.chat.provider.models().await.into_iter().map(|m| m.id).collect();
    Ok(crate::accounts::service::profile_of(
        &user,
        &state.config.ai.default_model,
        models,
        crate::core::i18n::Lang::current(),
    ))
}

/// Saves names, email, bio and preferences of the logged-in user.
#[server]
#[allow(clippy::too_many_arguments)] // one argument per form field
pub async fn update_profile(
    email: String,
    first_name: String,
    last_name: String,
    bio: String,
    ai_model: String,
    display_mode: String,
    language: String,
) -> Result<(), AppError> {
    use crate::accounts::service::{self, ProfileForm};
    let (user, _) = require_user().await?;
    let state = expect_context::<crate::state::AppState>();
    let theme = crate::core::theme::Theme::parse(&display_mode);
    let lang = crate::core::i18n::Lang::parse(&language);
    let form = ProfileForm {
        email,
        first_name,
        last_name,
        bio,
        ai_model,
        display_mode,
        language: Some(language),
    };
    let models: Vec<String> = state.chat.provider.models().await.into_iter().map(|m| m.id).collect();
    service::update_profile(&state.db.pool, &user, &models, form, serde_json::Map::new()).await?;
    // The display mode and the language apply at once: their cookies follow the saved preferences.
    if let Some(theme) = theme {
        crate::core::server_fn::set_cookie(&theme.cookie());
    }
    if let Some(lang) = lang {
        crate::core::server_fn::set_cookie(&lang.cookie());
    }
    leptos_axum::redirect("/settings?saved=1");
    Ok(())
}

/// Changes the password of the logged-in user; their other sessions end, this one stays.
#[server]
pub async fn change_password(
    old_password: String,
    new_password1: String,
    new_password2: String,
) -> Result<(), AppError> {
    let (user, mut session) = require_user().await?;
    let state = expect_context::<crate::state::AppState>();
    let updated = crate::accounts::service::change_password(
        &state.db.pool,
        &state.hashing,
        &user,
        old_password,
        new_password1,
        new_password2,
    )
    .await?;
    // The session stores the password hash; logging in again with the new one keeps this session valid, under a
    // new id (as Django's `update_session_auth_hash` does).
    crate::accounts::auth::start_session(&mut session, &updated).await?;
    leptos_axum::redirect("/settings?password_changed=1");
    Ok(())
}

/// Deletes the logged-in user's account and everything it owns, after checking the password, then logs out.
#[server]
pub async fn delete_account(password: String) -> Result<(), AppError> {
    let (user, mut session) = require_user().await?;
    let state = expect_context::<crate::state::AppState>();
    if !state.hashing.verify(password, Some(user.password.clone())).await? {
        let mut errors = FormErrors::default();
        errors.add("password", crate::text!(accounts.password_rules.incorrect));
        return Err(AppError::Invalid(errors));
    }
    if !crate::accounts::users::delete(&state.db.pool, user.id).await? {
        let mut errors = FormErrors::default();
        errors.add(crate::core::error::NON_FIELD, crate::text!(admin.rules.last_staff));
        return Err(AppError::Invalid(errors));
    }
    session.logout().await?;
    crate::files::service::sweep_soon(&state);
    tracing::info!(user_id = user.id, "account deleted");
    leptos_axum::redirect("/?account_deleted=1");
    Ok(())
}
