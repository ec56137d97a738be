//! Account operations shared by the pages' server functions and (later) the REST API: each validates its whole
//! input and answers with field errors, so both surfaces give the same messages.

use sqlx::AnyPool;

use crate::accounts::fields;
use crate::accounts::password::{self, UserAttributes};
use crate::accounts::types::{AccountError, FormErrors};
use crate::accounts::users::{self, CreateUserError, NewUser, User};

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
pub async fn register(pool: &AnyPool, form: Registration) -> Result<User, AccountError> {
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
        let (name_taken, email_taken) = users::taken(pool, &username, &email).await.map_err(internal)?;
        if name_taken {
            errors.add("username", CreateUserError::UsernameTaken.to_string());
        }
        if email_taken {
            errors.add("email", CreateUserError::EmailTaken.to_string());
        }
    }
    if form.password1.is_empty() {
        errors.add("password1", "This field may not be blank.");
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
        errors.add("password2", "The two password fields didn't match.");
    }
    if !errors.is_empty() {
        return Err(AccountError::Invalid(errors));
    }

    let password_hash = password::hash(form.password1).await.map_err(internal)?;
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
        Err(CreateUserError::Database(e)) => return Err(internal(e)),
    };
    users::by_id(pool, id)
        .await
        .map_err(internal)?
        .ok_or(AccountError::Server)
}

fn field_error(mut errors: FormErrors, field: &str, error: CreateUserError) -> AccountError {
    errors.add(field, error.to_string());
    AccountError::Invalid(errors)
}

/// Logs an unexpected failure (the request span carries its id) and hides it from the user.
pub fn internal(cause: impl std::fmt::Display) -> AccountError {
    tracing::error!(%cause, "account operation failed");
    AccountError::Server
}
