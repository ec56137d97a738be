//! `/api/accounts/…`: register, log in and out, the current user and their settings, password reset, and personal API
//! tokens; `/api/token/…`: JSON Web Tokens. All on the same services as the pages.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::auth::AuthSession;
use crate::accounts::service::User;
use crate::api::auth::{ApiUser, csrf_ok};
use crate::api::error::{ApiError, ApiJson, ApiPath};
use crate::api::schema::{
    AuthErrors, AuthOut, BodyErrors, Detail, MessageText, NotFound, Overloaded, Throttled, TokenNotValid, TokenOut,
    UserOut, ValidOut, to_json,
};
use crate::core::client::ClientAddr;
use crate::core::error::AppError;
use crate::core::i18n::Lang;
use crate::state::AppState;

/// Routes anyone may call (rate-limited per client address by the caller of this function).
pub fn anonymous_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(reset_request))
        .routes(routes!(reset_verify))
        .routes(routes!(reset_confirm))
        .routes(routes!(jwt_obtain))
        .routes(routes!(jwt_refresh))
        .routes(routes!(jwt_revoke))
}

/// Routes of a logged-in caller.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(logout))
        .routes(routes!(current_user))
        .routes(routes!(settings, update_settings))
        .routes(routes!(tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(usage))
}

/// The caller's usage today and this month, their limits and when each resets.
#[derive(Debug, serde::Serialize, ToSchema)]
struct UsageAnswer {
    #[schema(value_type = crate::api::admin::UsageOut)]
    usage: crate::chat::quota::Usage,
    /// The limits that apply (0: unlimited).
    limits: crate::chat::quota::Quota,
    /// When the daily limits start again (RFC 3339, UTC midnight).
    day_resets_at: String,
    /// When the monthly limit starts again.
    month_resets_at: String,
}

#[utoipa::path(get, path = "/api/accounts/usage/", tag = "accounts", security(("session" = []), ("token" = []), ("jwt" = [])),
    responses((status = 200, body = UsageAnswer), AuthErrors))]
async fn usage(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<UsageAnswer>, ApiError> {
    use crate::chat::quota;
    let now = crate::core::db::now_millis();
    let pool = &state.db.pool;
    Ok(Json(UsageAnswer {
        usage: quota::usage(pool, user.id, now).await?,
        limits: quota::effective(pool, user.id).await?,
        day_resets_at: crate::core::time::iso(quota::day_start(now) + 86_400_000),
        month_resets_at: crate::core::time::iso(quota::next_month(now)),
    }))
}

/// The User shape of API.md.
pub fn user_json(user: &User) -> Value {
    to_json(&UserOut::from(user))
}

/// Account errors as the API names their fields (`login` is called `username`).
fn fields(error: AppError) -> ApiError {
    match error {
        AppError::Invalid(mut form) => {
            if let Some(messages) = form.fields.remove("login") {
                form.fields.entry("username".into()).or_default().extend(messages);
            }
            AppError::Invalid(form).into()
        }
        other => other.into(),
    }
}

#[derive(Deserialize, ToSchema)]
struct RegisterBody {
    /// Letters, digits and @ . + - _ (at most 150).
    #[schema(min_length = 1, max_length = 150, pattern = r"^[\w.@+-]+$")]
    username: String,
    /// Email address (unique, any case).
    #[schema(min_length = 3, format = "email")]
    email: String,
    /// At least 8 characters, not common, not all digits, not like the username or email.
    #[schema(min_length = 8)]
    password1: String,
    /// The same again.
    #[schema(min_length = 8)]
    password2: String,
}

/// Creates an account (never staff) and logs it in; problems come as the original's `{errors: {field: [..]}}`.
#[utoipa::path(post, path = "/api/accounts/api/register/", tag = "accounts", request_body = RegisterBody,
    responses((status = 200, body = AuthOut, description = "Created (never staff) and logged in"), BodyErrors, Throttled, Overloaded))]
async fn register(
    State(state): State<AppState>,
    mut session: AuthSession,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<Response, ApiError> {
    let form = crate::accounts::service::Registration {
        username: body.username,
        email: body.email,
        password1: body.password1,
        password2: body.password2,
    };
    let user = match crate::accounts::service::register(
        &state.db.pool,
        &state.hashing,
        form,
        state.config.security.first_user_is_staff,
    )
    .await
    {
        Ok(user) => user,
        Err(AppError::Invalid(form)) => {
            return Err(ApiError::Body(
                StatusCode::BAD_REQUEST,
                json!({ "errors": form.in_lang(Lang::En) }),
            ));
        }
        Err(e) => return Err(fields(e)),
    };
    crate::accounts::auth::start_session(&mut session, &user).await?;
    Ok(logged_in(
        &state,
        json!({ "user": user_json(&user), "message": "Registration successful" }),
    ))
}

/// The answer to a successful login or registration: `body`, and a new CSRF token (rotated at login, as Django does).
fn logged_in(state: &AppState, body: Value) -> Response {
    let cookie = crate::core::security::new_csrf_cookie(&state.config);
    ([(header::SET_COOKIE, cookie)], Json(body)).into_response()
}

#[derive(Deserialize, ToSchema)]
struct LoginBody {
    /// Username or email.
    #[schema(min_length = 1)]
    username: String,
    /// Password.
    #[schema(min_length = 1)]
    password: String,
}

#[utoipa::path(post, path = "/api/accounts/api/login/", tag = "accounts", request_body = LoginBody,
    responses((status = 200, body = AuthOut, description = "Logged in: the session cookie is set"),
        (status = 401, body = MessageText, description = "Wrong credentials"), BodyErrors, Throttled, Overloaded))]
async fn login(
    State(state): State<AppState>,
    mut session: AuthSession,
    client: ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, ApiError> {
    let ip = client.text();
    match crate::accounts::service::log_in(
        &state.db.pool,
        &state.hashing,
        &mut session,
        &body.username,
        body.password,
        &ip,
    )
    .await
    {
        Ok(user) => Ok(logged_in(
            &state,
            json!({ "user": user_json(&user), "message": "Login successful" }),
        )),
        // Wrong credentials: the original's 401 `{message}`.
        Err(AppError::Invalid(form)) if form.fields.contains_key(crate::core::error::NON_FIELD) => Err(ApiError::Body(
            StatusCode::UNAUTHORIZED,
            json!({ "message": "Invalid credentials" }),
        )),
        Err(e) => Err(fields(e)),
    }
}

#[utoipa::path(post, path = "/api/accounts/api/logout/", tag = "accounts",
    responses((status = 200, body = MessageText), (status = 403, body = Detail, description = "CSRF failed")))]
async fn logout(mut session: AuthSession, method: Method, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    if session.user.is_some() {
        csrf_ok(&method, &headers)?;
    }
    session.logout().await?;
    Ok(Json(json!({ "message": "Logout successful" })))
}

#[utoipa::path(get, path = "/api/accounts/current-user/", tag = "accounts", security(("session" = []), ("token" = []), ("jwt" = [])),
    responses((status = 200, body = UserOut), AuthErrors))]
async fn current_user(ApiUser(user): ApiUser) -> Json<Value> {
    Json(user_json(&user))
}

/// `GET settings/`: the preferences and the User fields.
#[utoipa::path(get, path = "/api/accounts/settings/", tag = "accounts", security(("session" = []), ("token" = []), ("jwt" = [])),
    responses((status = 200, body = UserOut, description = "The preferences and the User fields"), AuthErrors))]
async fn settings(ApiUser(user): ApiUser) -> Json<Value> {
    Json(user_json(&user))
}

/// Fields the API does not know (a client sending the whole User back: `id`, `username`, `date_joined` …) are
/// ignored, as DRF does.
#[derive(Deserialize, ToSchema)]
struct SettingsBody {
    /// Keys to merge into the stored preferences (`null` removes one).
    #[schema(value_type = Option<Object>)]
    preferences: Option<Value>,
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    email: Option<String>,
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    first_name: Option<String>,
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    last_name: Option<String>,
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    bio: Option<String>,
}

/// `PATCH settings/`: preference keys are merged into the stored ones (`null` removes a key); `ai_model`,
/// `display_mode` and `language` are checked like the settings page does; names, email and bio optional.
#[utoipa::path(patch, path = "/api/accounts/settings/", tag = "accounts", security(("session" = []), ("token" = []), ("jwt" = [])), request_body = SettingsBody,
    responses((status = 200, body = UserOut), AuthErrors, BodyErrors))]
async fn update_settings(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<SettingsBody>,
) -> Result<Json<Value>, ApiError> {
    use crate::accounts::service::{self, ProfileForm};
    let mut extra = match body.preferences {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(map)) => map,
        Some(other) => {
            let kind = match other {
                Value::Array(_) => "list",
                Value::String(_) => "str",
                Value::Bool(_) => "bool",
                _ => "number",
            };
            return Err(
                AppError::invalid("preferences", crate::text!(core.field.not_a_dictionary, kind = kind)).into(),
            );
        }
    };
    let profile = service::profile_of(&user, &state.config.ai.default_model, Vec::new(), Lang::En);
    // Stored only when sent: an account that never chose a language keeps following the browser's.
    let language_sent = extra.get("language").is_some_and(|v| !v.is_null());
    let mut known = |key: &str, current: String| -> Result<String, ApiError> {
        match extra.remove(key) {
            None | Some(Value::Null) => Ok(current),
            Some(Value::String(text)) => Ok(text),
            Some(_) => Err(AppError::invalid(key, crate::text!(core.field.not_a_string)).into()),
        }
    };
    let form = ProfileForm {
        ai_model: known("ai_model", profile.ai_model)?,
        display_mode: known("display_mode", profile.display_mode)?,
        language: if language_sent {
            Some(known("language", profile.language)?)
        } else {
            // Absent or `null`: what is stored stays (a `null` must not reach the merge below, which would remove it).
            extra.remove("language");
            None
        },
        email: body.email.unwrap_or(profile.email),
        first_name: body.first_name.unwrap_or(profile.first_name),
        last_name: body.last_name.unwrap_or(profile.last_name),
        bio: body.bio.unwrap_or(profile.bio),
    };
    let models: Vec<String> = state.chat.provider.models().await.into_iter().map(|m| m.id).collect();
    service::update_profile(&state.db.pool, &user, &models, form, extra)
        .await
        .map_err(fields)?;
    let user = service::user(&state.db.pool, user.id).await.map_err(fields)?;
    Ok(Json(user_json(&user)))
}

#[derive(Deserialize, ToSchema)]
struct ResetBody {
    /// The account's email address.
    #[schema(min_length = 3, format = "email")]
    email: Option<String>,
}

/// `POST api/reset-password/`: the same answer whether or not the address has an account.
#[utoipa::path(post, path = "/api/accounts/api/reset-password/", tag = "accounts", request_body = ResetBody,
    responses((status = 200, body = MessageText, description = "Always the same, whether the address has an account or not"),
        BodyErrors, Throttled))]
async fn reset_request(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Json<Value>, ApiError> {
    let Some(email) = body.email.filter(|e| !e.trim().is_empty()) else {
        return Err(ApiError::Body(
            StatusCode::BAD_REQUEST,
            json!({"error": "Email is required"}),
        ));
    };
    let ip = client.text();
    // The mail is in the account's language, else in the one the client asks for (Accept-Language).
    let lang = crate::core::i18n::from_headers(&headers);
    match crate::accounts::service::request_password_reset(
        &state.db.pool,
        &state.outbox,
        &state.config,
        &email,
        &ip,
        lang,
    )
    .await
    {
        Ok(()) => Ok(Json(json!({
            "message": "If an account exists with this email, a password reset link has been sent."
        }))),
        Err(AppError::Invalid(form)) => Err(ApiError::Body(
            StatusCode::BAD_REQUEST,
            json!({"error": form.fields.values().flatten().next().map(|m| m.english()).unwrap_or_default()}),
        )),
        Err(e) => Err(fields(e)),
    }
}

/// `GET api/verify-reset-token/{token}/`: whether a reset link still works.
#[utoipa::path(get, path = "/api/accounts/api/verify-reset-token/{token}/", tag = "accounts",
    params(("token" = String, Path, description = "The token of a reset link")),
    responses((status = 200, body = ValidOut), NotFound, Throttled))]
async fn reset_verify(State(state): State<AppState>, ApiPath(token): ApiPath<String>) -> Result<Json<Value>, ApiError> {
    let valid = crate::accounts::resets::user_for(&state.db.pool, &token)
        .await?
        .is_some();
    Ok(Json(json!({ "valid": valid })))
}

#[derive(Deserialize, ToSchema)]
struct ResetConfirmBody {
    /// The token of the emailed link.
    #[schema(min_length = 1)]
    token: String,
    /// The new password (same rules as at registration).
    #[schema(min_length = 8)]
    password: String,
}

/// `POST api/reset-password/confirm/`: sets the new password; a bad token or a weak password is a 400 `{error}`
/// (plus `errors` by field, for clients that show them).
#[utoipa::path(post, path = "/api/accounts/api/reset-password/confirm/", tag = "accounts", request_body = ResetConfirmBody,
    responses((status = 200, body = MessageText), BodyErrors, Throttled, Overloaded))]
async fn reset_confirm(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ResetConfirmBody>,
) -> Result<Json<Value>, ApiError> {
    match crate::accounts::service::reset_password(
        &state.db.pool,
        &state.hashing,
        &body.token,
        body.password.clone(),
        body.password,
    )
    .await
    {
        Ok(()) => Ok(Json(json!({"message": "Password has been reset successfully"}))),
        Err(AppError::Invalid(form)) => {
            let errors: std::collections::BTreeMap<String, Vec<String>> = form
                .in_lang(Lang::En)
                .into_iter()
                .map(|(k, v)| {
                    (
                        if k == "new_password1" {
                            "password".to_string()
                        } else {
                            k
                        },
                        v,
                    )
                })
                .collect();
            let error = errors.values().flatten().cloned().collect::<Vec<_>>().join(" ");
            Err(ApiError::Body(
                StatusCode::BAD_REQUEST,
                json!({"error": error, "errors": errors}),
            ))
        }
        Err(e) => Err(fields(e)),
    }
}

/// A personal token as the API shows it.
fn token_json(token: &crate::accounts::api_tokens::ApiToken) -> Value {
    to_json(&TokenOut::from(token))
}

/// `GET tokens/`: the caller's personal API tokens (never their keys).
#[utoipa::path(get, path = "/api/accounts/tokens/", tag = "tokens", security(("session" = []), ("token" = []), ("jwt" = [])),
    responses((status = 200, body = Vec<TokenOut>), AuthErrors))]
async fn tokens(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<Value>, ApiError> {
    let list = crate::accounts::api_tokens::list(&state.db.pool, user.id).await?;
    Ok(Json(Value::Array(list.iter().map(token_json).collect())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    /// What uses it (at most 100 characters).
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    /// Lifetime in days; none = never expires.
    #[schema(minimum = 1, maximum = 3650)]
    #[serde(default, deserialize_with = "crate::api::lenient::integer")]
    expires_in_days: Option<i64>,
    /// `all` (the default: this REST API and the OpenAI-compatible `/v1/`) or `v1` (`/v1/` only).
    #[schema(example = "v1")]
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    scope: Option<String>,
}

/// `POST tokens/`: a new token; its `key` is in this answer only.
#[utoipa::path(post, path = "/api/accounts/tokens/", tag = "tokens", security(("session" = []), ("token" = []), ("jwt" = [])), request_body = TokenBody,
    responses((status = 201, body = TokenOut, description = "Created; `key` is in this answer only"), AuthErrors, BodyErrors))]
async fn create_token(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let scope = match body.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => crate::accounts::api_tokens::Scope::All,
        Some(name) => crate::accounts::api_tokens::Scope::parse(name).ok_or_else(|| {
            ApiError::Body(
                StatusCode::BAD_REQUEST,
                json!({"scope": [format!("\"{name}\" is not a valid choice.")]}),
            )
        })?,
    };
    let created = crate::accounts::api_tokens::create(&state.db.pool, &user, &body.name, body.expires_in_days, scope)
        .await
        .map_err(fields)?;
    let out = TokenOut {
        key: Some(created.key),
        ..TokenOut::from(&created.token)
    };
    Ok((StatusCode::CREATED, Json(to_json(&out))))
}

/// `DELETE tokens/{id}/`: revokes one of the caller's tokens.
#[utoipa::path(delete, path = "/api/accounts/tokens/{id}/", tag = "tokens", security(("session" = []), ("token" = []), ("jwt" = [])),
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"), AuthErrors, NotFound))]
async fn revoke_token(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let not_found = || ApiError::Detail(StatusCode::NOT_FOUND, "Not found.".into());
    let id: i64 = id.parse().map_err(|_| not_found())?;
    if crate::accounts::api_tokens::revoke(&state.db.pool, user.id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}

/// simplejwt's answer to an unusable token.
fn token_not_valid(detail: &str) -> ApiError {
    ApiError::Body(
        StatusCode::UNAUTHORIZED,
        json!({"detail": detail, "code": "token_not_valid"}),
    )
}

/// `POST /api/token/`: a new access/refresh pair for a username (or email) and password; throttled like the login.
#[utoipa::path(post, path = "/api/token/", tag = "jwt", request_body = LoginBody,
    responses((status = 200, body = crate::accounts::jwt::Pair), (status = 401, body = Detail), BodyErrors, Throttled, Overloaded))]
async fn jwt_obtain(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<Value>, ApiError> {
    let ip = client.text();
    let user = match crate::accounts::service::check_credentials(
        &state.db.pool,
        &state.hashing,
        &body.username,
        body.password,
        &ip,
    )
    .await
    {
        Ok(user) => user,
        Err(AppError::Invalid(form)) if form.fields.contains_key(crate::core::error::NON_FIELD) => {
            return Err(ApiError::Detail(
                StatusCode::UNAUTHORIZED,
                "No active account found with the given credentials".into(),
            ));
        }
        Err(e) => return Err(fields(e)),
    };
    match crate::accounts::jwt::obtain(&state.db.pool, &state.jwt, &user).await? {
        Ok(pair) => Ok(Json(json!(pair))),
        // Deactivated, or the password changed, while it was being checked.
        Err(_) => Err(ApiError::Detail(
            StatusCode::UNAUTHORIZED,
            "No active account found with the given credentials".into(),
        )),
    }
}

#[derive(Deserialize, ToSchema)]
struct RefreshBody {
    refresh: String,
}

/// `POST /api/token/refresh/`: the next pair; the refresh token given is spent (reuse revokes its family).
#[utoipa::path(post, path = "/api/token/refresh/", tag = "jwt", request_body = RefreshBody,
    responses((status = 200, body = crate::accounts::jwt::Pair, description = "The next pair; the token sent is spent"),
        (status = 401, body = TokenNotValid, description = "Invalid, expired, revoked, or reused (which revokes its family)"),
        BodyErrors, Throttled))]
async fn jwt_refresh(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Json<Value>, ApiError> {
    use crate::accounts::jwt::{self, Rejected};
    match jwt::refresh(&state.db.pool, &state.jwt, &body.refresh).await? {
        Ok(pair) => Ok(Json(json!(pair))),
        Err(Rejected::Reused) => Err(token_not_valid(
            "Token was already used: every token of this session is now revoked",
        )),
        Err(Rejected::Revoked) => Err(token_not_valid("Token is revoked")),
        Err(Rejected::Invalid | Rejected::NoUser) => Err(token_not_valid("Token is invalid or expired")),
    }
}

/// `POST /api/token/revoke/`: ends the session a refresh token belongs to (every token of its family).
#[utoipa::path(post, path = "/api/token/revoke/", tag = "jwt", request_body = RefreshBody,
    responses((status = 200, body = MessageText), (status = 401, body = TokenNotValid), BodyErrors, Throttled))]
async fn jwt_revoke(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<Json<Value>, ApiError> {
    match crate::accounts::jwt::revoke(&state.db.pool, &state.jwt, &body.refresh).await? {
        Ok(()) => Ok(Json(json!({"message": "Token revoked"}))),
        Err(_) => Err(token_not_valid("Token is invalid or expired")),
    }
}
