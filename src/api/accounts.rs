//! `/api/accounts/…`: log in, log out and the current user, on the same services as the pages.

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::accounts::auth::AuthSession;
use crate::accounts::routes::iso;
use crate::accounts::types::AccountError;
use crate::accounts::users::User;
use crate::api::auth::{ApiUser, csrf_ok};
use crate::api::error::{ApiError, ApiJson};
use crate::core::state::AppState;

/// The accounts routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/accounts/api/register/", post(register))
        .route("/api/accounts/api/login/", post(login))
        .route("/api/accounts/api/logout/", post(logout))
        .route("/api/accounts/current-user/", get(current_user))
}

/// The User shape of API.md.
pub fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "bio": user.bio,
        "date_joined": iso(user.date_joined),
        "date_modified": iso(user.date_modified),
        "preferences": serde_json::from_str::<Value>(&user.preferences).unwrap_or_else(|_| json!({})),
    })
}

/// Account errors in DRF's field shape (`login` is called `username` in the API).
fn fields(error: AccountError) -> ApiError {
    match error {
        AccountError::Invalid(form) => ApiError::Fields(
            form.fields
                .into_iter()
                .map(|(k, v)| (if k == "login" { "username".to_string() } else { k }, v))
                .collect(),
        ),
        AccountError::Throttled(minutes) => ApiError::Detail(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many attempts. Try again in {minutes} minutes."),
        ),
        AccountError::Unauthenticated => ApiError::unauthenticated(),
        AccountError::Server => ApiError::internal("account service"),
    }
}

#[derive(Deserialize)]
struct RegisterBody {
    username: String,
    email: String,
    password1: String,
    password2: String,
}

/// Creates an account (never staff) and logs it in; problems come as the original's `{errors: {field: [..]}}`.
async fn register(
    State(state): State<AppState>,
    mut session: AuthSession,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Json<Value>, ApiError> {
    let form = crate::accounts::service::Registration {
        username: body.username,
        email: body.email,
        password1: body.password1,
        password2: body.password2,
    };
    let user = match crate::accounts::service::register(&state.db.pool, form).await {
        Ok(user) => user,
        Err(AccountError::Invalid(form)) => {
            return Err(ApiError::Body(
                StatusCode::BAD_REQUEST,
                json!({ "errors": form.fields }),
            ));
        }
        Err(e) => return Err(fields(e)),
    };
    session.login(&user).await.map_err(ApiError::internal)?;
    Ok(Json(
        json!({ "user": user_json(&user), "message": "Registration successful" }),
    ))
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(
    State(state): State<AppState>,
    mut session: AuthSession,
    connect: Option<axum::Extension<ConnectInfo<std::net::SocketAddr>>>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<Value>, ApiError> {
    let ip = connect.map_or_else(
        || "unknown".to_string(),
        |axum::Extension(ConnectInfo(addr))| addr.ip().to_string(),
    );
    match crate::accounts::service::log_in(&state.db.pool, &mut session, &body.username, body.password, &ip).await {
        Ok(user) => Ok(Json(json!({ "user": user_json(&user), "message": "Login successful" }))),
        // Wrong credentials: the original's 401 `{message}`.
        Err(AccountError::Invalid(form)) if form.fields.contains_key(crate::accounts::types::NON_FIELD) => Err(
            ApiError::Body(StatusCode::UNAUTHORIZED, json!({ "message": "Invalid credentials" })),
        ),
        Err(e) => Err(fields(e)),
    }
}

async fn logout(mut session: AuthSession, method: Method, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    if session.user.is_some() {
        csrf_ok(&method, &headers)?;
    }
    session.logout().await.map_err(ApiError::internal)?;
    Ok(Json(json!({ "message": "Logout successful" })))
}

async fn current_user(ApiUser(user): ApiUser) -> Json<Value> {
    Json(user_json(&user))
}
