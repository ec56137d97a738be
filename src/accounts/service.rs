//! Account operations shared by the pages' server functions and (later) the REST API: each validates its whole
//! input and answers with field errors, so both surfaces give the same messages.

use sqlx::AnyPool;

use crate::accounts::fields;
use crate::accounts::password::{self, Hashing, UserAttributes};
use crate::accounts::types::{DISPLAY_MODES, Profile};
use crate::accounts::users::{self, CreateUserError, NewUser, ProfileUpdate};
use crate::core::error::{AppError, FormErrors};
// The account record the surfaces render; they read it only through this service.
pub use crate::accounts::users::User;
use crate::core::i18n::Lang;
use crate::{text, tr};

/// What the registration form sends.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Login name.
    pub username: String,
    /// Email address.
    pub email: String,
    /// Password.
    pub password1: String,
    /// Password again.
    pub password2: String,
}

/// Creates an ordinary (never staff) account, or says what is wrong with each field.
/// With `first_is_staff` (`FIRST_USER_IS_STAFF`), the account becomes staff when it is the instance's first.
pub async fn register(
    pool: &AnyPool,
    hashing: &Hashing,
    form: Registration,
    first_is_staff: bool,
) -> Result<User, AppError> {
    let username = form.username.trim().to_string();
    let email = form.email.trim().to_string();
    let mut errors = FormErrors::default();
    errors.keep("username", &username);
    errors.keep("email", &email);

    if let Err(e) = fields::check_username(&username) {
        errors.add("username", e);
    }
    if let Err(e) = fields::check_email(&email) {
        errors.add("email", e);
    }
    if errors.is_empty() {
        let (name_taken, email_taken) = users::taken(pool, &username, &email).await?;
        if name_taken {
            errors.add("username", text!(accounts.field.username_taken));
        }
        if email_taken {
            errors.add("email", text!(accounts.field.email_taken));
        }
    }
    if form.password1.is_empty() {
        errors.add("password1", text!(core.field.blank));
    } else {
        let attributes = UserAttributes {
            username: &username,
            email: &email,
            ..UserAttributes::default()
        };
        for problem in password::validate(&form.password1, attributes) {
            errors.add("password1", problem);
        }
    }
    if form.password2 != form.password1 {
        errors.add("password2", text!(accounts.password_rules.mismatch));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }

    let password_hash = hashing.hash(form.password1).await?;
    let new = NewUser {
        username,
        email,
        password_hash,
        is_staff: false,
        is_superuser: false,
    };
    // The check above can race with another registration; the unique indexes decide, with the same messages.
    let id = match users::create(pool, &new).await {
        Ok(id) => id,
        Err(CreateUserError::UsernameTaken) => {
            return Err(field_error(errors, "username", CreateUserError::UsernameTaken));
        }
        Err(CreateUserError::EmailTaken) => return Err(field_error(errors, "email", CreateUserError::EmailTaken)),
        Err(CreateUserError::Database(e)) => return Err(e.into()),
    };
    if first_is_staff {
        users::make_staff_if_first(pool, id).await?;
    }
    users::by_id(pool, id).await?.ok_or(AppError::Internal)
}

fn field_error(mut errors: FormErrors, field: &str, error: CreateUserError) -> AppError {
    let message = match error {
        CreateUserError::UsernameTaken => text!(accounts.field.username_taken),
        _ => text!(accounts.field.email_taken),
    };
    errors.add(field, message);
    AppError::Invalid(errors)
}

/// The interface language the user saved, if they chose one.
pub fn preferred_language(user: &User) -> Option<Lang> {
    preferences_of(user)
        .get("language")
        .and_then(|v| v.as_str())
        .and_then(Lang::parse)
}

/// Saves `lang` as the user's interface language; their other preferences stay.
pub async fn set_language(pool: &AnyPool, user: &User, lang: Lang) -> Result<(), AppError> {
    set_preference(pool, user, "language", lang.code().into()).await
}

/// Saves one preference of the user (`key` = `value`); their other preferences stay.
pub async fn set_preference(pool: &AnyPool, user: &User, key: &str, value: serde_json::Value) -> Result<(), AppError> {
    // The stored row, not the session's copy, so a change saved meanwhile is kept.
    let user = users::by_id(pool, user.id).await?.ok_or(AppError::Unauthenticated)?;
    let mut preferences = preferences_of(&user);
    preferences.insert(key.into(), value);
    let text = serde_json::Value::Object(preferences).to_string();
    Ok(users::set_preferences(pool, user.id, &text).await?)
}

/// The settings page's view of `user`; `lang` is the language shown when the user has not chosen one.
pub fn profile_of(user: &User, default_model: &str, mut models: Vec<String>, lang: Lang) -> Profile {
    let preferences = preferences_of(user);
    let text = |key: &str, fallback: &str| {
        preferences
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or(fallback)
            .to_string()
    };
    let ai_model = text("ai_model", default_model);
    if !models.is_empty() && !models.contains(&ai_model) {
        models.insert(0, ai_model.clone());
    }
    Profile {
        username: user.username.clone(),
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        bio: user.bio.clone(),
        ai_model,
        display_mode: text("display_mode", "system"),
        language: text("language", lang.code()),
        models,
    }
}

fn preferences_of(user: &User) -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_str(&user.preferences).unwrap_or_default()
}

/// What the settings form sends.
#[derive(Debug, Clone)]
pub struct ProfileForm {
    /// Email address.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Free text.
    pub bio: String,
    /// Preferred model.
    pub ai_model: String,
    /// system, light or dark.
    pub display_mode: String,
    /// en or fr; `None` keeps what is stored (an API client that did not send it), so an account that never chose
    /// a language keeps following the browser's.
    pub language: Option<String>,
}

/// Largest stored preferences object, serialised.
pub const PREFERENCES_MAX_BYTES: usize = 16 * 1024;

/// Validates and saves the profile; preference keys other clients stored are kept. `extra` holds further preference
/// keys (from the API): each replaces the stored value, `null` removes the key.
pub async fn update_profile(
    pool: &AnyPool,
    user: &User,
    models: &[String],
    form: ProfileForm,
    extra: serde_json::Map<String, serde_json::Value>,
) -> Result<(), AppError> {
    let email = form.email.trim().to_string();
    let mut errors = FormErrors::default();
    for (field, value) in [
        ("email", email.as_str()),
        ("first_name", form.first_name.as_str()),
        ("last_name", form.last_name.as_str()),
        ("bio", form.bio.as_str()),
    ] {
        errors.keep(field, value);
    }
    if let Err(e) = fields::check_email(&email) {
        errors.add("email", e);
    } else if !email.eq_ignore_ascii_case(&user.email) && users::taken(pool, "", &email).await?.1 {
        errors.add("email", text!(accounts.field.email_taken));
    }
    for (field, value, max) in [
        ("first_name", &form.first_name, fields::NAME_MAX),
        ("last_name", &form.last_name, fields::NAME_MAX),
        ("bio", &form.bio, fields::BIO_MAX),
    ] {
        if let Err(e) = fields::check_max(value, max) {
            errors.add(field, e);
        }
    }
    // A model the user already has stays acceptable even if the provider no longer lists it.
    let current = preferences_of(user)
        .get("ai_model")
        .and_then(|v| v.as_str().map(str::to_string));
    if !models.contains(&form.ai_model) && current.as_deref() != Some(form.ai_model.as_str()) {
        errors.add(
            "ai_model",
            text!(core.field.invalid_choice, value = form.ai_model.clone()),
        );
    }
    if !DISPLAY_MODES.contains(&form.display_mode.as_str()) {
        errors.add(
            "display_mode",
            text!(core.field.invalid_choice, value = form.display_mode.clone()),
        );
    }
    if let Some(language) = form.language.as_deref().filter(|l| Lang::parse(l).is_none()) {
        errors.add("language", text!(core.field.invalid_choice, value = language));
    }
    let mut preferences = preferences_of(user);
    for (key, value) in extra {
        if value.is_null() {
            preferences.remove(&key);
        } else {
            preferences.insert(key, value);
        }
    }
    preferences.insert("ai_model".into(), form.ai_model.into());
    preferences.insert("display_mode".into(), form.display_mode.into());
    if let Some(language) = form.language {
        preferences.insert("language".into(), language.into());
    }
    let preferences = serde_json::Value::Object(preferences).to_string();
    if preferences.len() > PREFERENCES_MAX_BYTES {
        errors.add(
            "preferences",
            text!(
                accounts.field.preferences_too_big,
                max = PREFERENCES_MAX_BYTES,
                size = preferences.len()
            ),
        );
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let update = ProfileUpdate {
        email,
        first_name: form.first_name,
        last_name: form.last_name,
        bio: form.bio,
        preferences,
    };
    match users::update_profile(pool, user.id, &update).await {
        Ok(()) => Ok(()),
        Err(CreateUserError::EmailTaken) => Err(field_error(errors, "email", CreateUserError::EmailTaken)),
        Err(e) => Err(AppError::internal("update profile", e)),
    }
}

/// Checks the current password and sets a new one; returns the updated user (to log the session in again).
pub async fn change_password(
    pool: &AnyPool,
    hashing: &Hashing,
    user: &User,
    old_password: String,
    new_password1: String,
    new_password2: String,
) -> Result<User, AppError> {
    let mut errors = FormErrors::default();
    if !hashing.verify(old_password, Some(user.password.clone())).await? {
        errors.add("old_password", text!(accounts.password_rules.old_incorrect));
    }
    check_new_password(&mut errors, user, &new_password1, &new_password2);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let hash = hashing.hash(new_password1).await?;
    crate::accounts::jwt::set_password(pool, user.id, &hash).await?;
    users::by_id(pool, user.id).await?.ok_or(AppError::Internal)
}

/// Sends a reset link to the account with this email, if there is one. The answer never tells which. Requests are
/// throttled per email and per client address (`ip`), whether or not the account exists. The mail is written in the
/// account's language, or in `lang` (the requester's) when the account has not chosen one.
pub async fn request_password_reset(
    pool: &AnyPool,
    outbox: &crate::core::mail::Outbox,
    config: &crate::core::config::Config,
    email: &str,
    ip: &str,
    lang: Lang,
) -> Result<(), AppError> {
    use crate::accounts::throttle::{self, RESET_PER_EMAIL, RESET_PER_IP};
    let email = email.trim();
    let limits = [(RESET_PER_EMAIL, email), (RESET_PER_IP, ip)];
    if let Some(seconds) = throttle::check(pool, &limits).await? {
        return Err(AppError::Throttled(seconds));
    }
    for (rule, key) in limits {
        rule.record(pool, key).await?;
    }
    if let Err(e) = fields::check_email(email) {
        let mut errors = FormErrors::default();
        errors.keep("email", email);
        errors.add("email", e);
        return Err(AppError::Invalid(errors));
    }
    // Everything that depends on whether the account exists happens after the answer, in the background: known and
    // unknown addresses cost the request the same work and time.
    let base = config.frontend_url.clone().unwrap_or_else(|| config.site_url.clone());
    outbox.post(reset_mail(pool.clone(), email.to_string(), base, lang));
    Ok(())
}

/// The reset mail for the active account whose email is `email` (any case), with a new link; nothing for anyone else.
async fn reset_mail(pool: AnyPool, email: String, base: String, lang: Lang) -> Option<crate::core::mail::Email> {
    let user = match users::by_login(&pool, &email).await {
        Ok(user) => user?,
        Err(e) => {
            tracing::error!(error = %e, "password reset: account lookup failed");
            return None;
        }
    };
    // `by_login` also matches usernames; only an exact email match (any case) receives mail.
    if !user.is_active || !user.email.eq_ignore_ascii_case(&email) {
        return None;
    }
    match reset_mail_to(&pool, &user, &base, lang).await {
        Ok(mail) => Some(mail),
        Err(e) => {
            tracing::error!(error = %e, "password reset: token not created");
            None
        }
    }
}

/// A new reset link for `user` and the mail carrying it, in the account's language or else `lang`.
async fn reset_mail_to(
    pool: &AnyPool,
    user: &User,
    base: &str,
    lang: Lang,
) -> Result<crate::core::mail::Email, sqlx::Error> {
    let token = crate::accounts::resets::create(pool, user).await?;
    let link = format!("{base}/reset-password/{token}");
    Ok(reset_email(user, &link, preferred_language(user).unwrap_or(lang)))
}

/// The reset mail a staff member sends to `user` (admin pages and API): a new link, in the account's language.
pub async fn reset_mail_for(
    pool: &AnyPool,
    config: &crate::core::config::Config,
    user: &User,
) -> Result<crate::core::mail::Email, AppError> {
    let base = config.frontend_url.clone().unwrap_or_else(|| config.site_url.clone());
    Ok(reset_mail_to(pool, user, &base, Lang::En).await?)
}

/// The reset mail with its link, in `lang`.
fn reset_email(user: &User, link: &str, lang: Lang) -> crate::core::mail::Email {
    let greeting = tr!(lang, accounts.reset_email.greeting);
    let body = tr!(lang, accounts.reset_email.body);
    let action = tr!(lang, accounts.reset_email.action);
    let ignore = tr!(lang, accounts.reset_email.ignore);
    let subject = tr!(lang, accounts.reset_email.subject);
    let name = &user.username;
    let escaped = crate::core::error::escape_html(name);
    crate::core::mail::Email {
        to: user.email.clone(),
        subject: subject.into(),
        text: format!("{greeting} {name},\n\n{body}\n\n{link}\n\n{ignore}\n\n— ThiCode\n"),
        html: format!(
            "<p>{greeting} {escaped},</p><p>{body}</p><p><a href=\"{link}\">{action}</a></p><p>{ignore}</p>\
             <p>— ThiCode</p>"
        ),
    }
}

/// Sets a new password with a reset token; the token is then spent and every session of the user ends.
pub async fn reset_password(
    pool: &AnyPool,
    hashing: &Hashing,
    token: &str,
    new_password1: String,
    new_password2: String,
) -> Result<(), AppError> {
    let invalid_link = || {
        let mut errors = FormErrors::default();
        errors.add(
            crate::core::error::NON_FIELD,
            text!(accounts.password_rules.reset_link_invalid),
        );
        AppError::Invalid(errors)
    };
    let user = crate::accounts::resets::user_for(pool, token)
        .await?
        .ok_or_else(invalid_link)?;
    let mut errors = FormErrors::default();
    check_new_password(&mut errors, &user, &new_password1, &new_password2);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // Hashed before the token is spent, so a refusal (a full hashing queue) leaves the link usable.
    let hash = hashing.hash(new_password1).await?;
    if !crate::accounts::resets::consume(pool, token).await? {
        return Err(invalid_link());
    }
    Ok(crate::accounts::jwt::set_password(pool, user.id, &hash).await?)
}

/// The rules for a new password of an existing user (change and reset), added to `errors` per field.
fn check_new_password(errors: &mut FormErrors, user: &User, new_password1: &str, new_password2: &str) {
    let attributes = UserAttributes::from(user);
    if new_password1.is_empty() {
        errors.add("new_password1", text!(core.field.blank));
    } else {
        for problem in password::validate(new_password1, attributes) {
            errors.add("new_password1", problem);
        }
    }
    if new_password1 != new_password2 {
        errors.add("new_password2", text!(accounts.password_rules.mismatch));
    }
}

/// Checks the credentials (throttled per account and per client address), then logs the session in with a new
/// session id. Shared by the login page and the REST API.
pub async fn log_in(
    pool: &AnyPool,
    hashing: &Hashing,
    session: &mut crate::accounts::auth::AuthSession,
    login: &str,
    password: String,
    ip: &str,
) -> Result<User, AppError> {
    let user = check_credentials(pool, hashing, login, password, ip).await?;
    crate::accounts::auth::start_session(session, &user).await?;
    Ok(user)
}

/// The active user these credentials belong to, throttled per account and per client address (failures counted, a
/// success resets the account's count and records the login). Unknown accounts cost the same time as known ones.
pub async fn check_credentials(
    pool: &AnyPool,
    hashing: &Hashing,
    login: &str,
    password: String,
    ip: &str,
) -> Result<User, AppError> {
    use crate::accounts::throttle::{self, LOGIN_PER_ACCOUNT, LOGIN_PER_IP};
    use axum_login::AuthnBackend;
    let login = login.trim().to_string();
    let mut errors = FormErrors::default();
    errors.keep("login", &login);
    if login.is_empty() {
        errors.add("login", text!(core.field.blank));
    }
    if password.is_empty() {
        errors.add("password", text!(core.field.blank));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    // Under a burst, refused before any database work: the answer costs next to nothing.
    if hashing.is_full() {
        return Err(crate::accounts::password::HashError::Overloaded.into());
    }
    let limits = [(LOGIN_PER_ACCOUNT, login.as_str()), (LOGIN_PER_IP, ip)];
    if let Some(seconds) = throttle::check(pool, &limits).await? {
        return Err(AppError::Throttled(seconds));
    }
    let credentials = crate::accounts::auth::Credentials {
        login: login.clone(),
        password,
    };
    let user = crate::accounts::auth::Backend::new(pool.clone(), hashing.clone())
        .authenticate(credentials)
        .await?;
    let Some(user) = user else {
        for (rule, key) in limits {
            rule.record(pool, key).await?;
        }
        errors.add(
            crate::core::error::NON_FIELD,
            text!(accounts.password_rules.login_invalid),
        );
        return Err(AppError::Invalid(errors));
    };
    if let Err(e) = LOGIN_PER_ACCOUNT.clear(pool, &login).await {
        tracing::warn!(error = %e, "could not reset the failure count");
    }
    if let Err(e) = users::touch_last_login(pool, user.id).await {
        tracing::warn!(error = %e, "could not record last login");
    }
    Ok(user)
}

/// The active account `id` as stored now; `Unauthenticated` when it is gone or inactive.
pub async fn user(pool: &AnyPool, id: i64) -> Result<User, AppError> {
    users::by_id(pool, id)
        .await?
        .filter(|u| u.is_active)
        .ok_or(AppError::Unauthenticated)
}
