//! `/api/admin/…`: what the admin pages do, for scripts — the users (search, sort, activate or deactivate, grant or
//! revoke staff, send a password-reset mail, delete, set their limits), the instance's default limits and the audit
//! log. Staff only: a staff session (with CSRF on unsafe methods), a staff member's personal token or JWT; anyone else
//! gets 403, visitors 401. Same service as the pages (`admin::service`), so the same rules and the same audit trail.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::service::User;
use crate::admin::service::{self, Actor, FlagChange};
use crate::admin::types::{AuditRow, UserOrdering, UserQuery, UserRow};
use crate::api::auth::ApiUser;
use crate::api::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::api::schema::{AuthErrors, BodyErrors, Detail, NotFound};
use crate::chat::quota::{Quota, QuotaOverride};
use crate::core::client::ClientAddr;
use crate::core::error::{AppError, Refusal};
use crate::state::AppState;

/// The admin routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users))
        .routes(routes!(user, update_user, delete_user))
        .routes(routes!(send_reset))
        .routes(routes!(audit))
        .routes(routes!(settings, update_settings))
        .routes(routes!(usage))
        .routes(routes!(mcp_servers, create_mcp_server))
        .routes(routes!(mcp_server, update_mcp_server, delete_mcp_server))
        .routes(routes!(refresh_mcp_server))
        .routes(routes!(mcp_server_tools))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct UsageParams {
    /// First day, `YYYY-MM-DD` (UTC; default: 29 days before `to`).
    from: Option<String>,
    /// Last day, `YYYY-MM-DD` (UTC; default: today). At most 366 days.
    to: Option<String>,
    /// `day` (default), `user` or `model`.
    group_by: Option<String>,
    /// `csv` for CSV (also with `Accept: text/csv`).
    format: Option<String>,
}

/// A usage report (JSON).
#[derive(Debug, Serialize, ToSchema)]
struct UsageReportOut {
    from: String,
    to: String,
    /// `day`, `user` or `model`.
    group_by: String,
    results: Vec<UsageRowOut>,
}

/// One row of a usage report.
#[derive(Debug, Serialize, ToSchema)]
struct UsageRowOut {
    /// The day (`YYYY-MM-DD`), the username or the model.
    key: String,
    messages: i64,
    prompt_tokens: i64,
    completion_tokens: i64,
    errors: i64,
    /// Median time to the first token (ms), null without any.
    median_ttft_ms: Option<i64>,
    /// Tool calls the replies made.
    tool_calls: i64,
    /// Grouped by account: the bytes of files it keeps now (left out otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    files_bytes: Option<i64>,
}

#[utoipa::path(get, path = "/api/admin/usage/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])), params(UsageParams),
    responses((status = 200, body = UsageReportOut, description = "JSON, or CSV with `?format=csv` or `Accept: text/csv`",
        content((UsageReportOut = "application/json"), (String = "text/csv"))),
        (status = 400, body = crate::api::schema::BadRequest), AuthErrors))]
async fn usage(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    headers: axum::http::HeaderMap,
    ApiQuery(params): ApiQuery<UsageParams>,
) -> Result<axum::response::Response, ApiError> {
    use crate::admin::types::UsageGroup;
    use axum::response::IntoResponse;
    staff(user, client)?;
    let group = match params.group_by.as_deref().filter(|g| !g.is_empty()) {
        None => UsageGroup::Day,
        Some(text) => UsageGroup::parse(text)
            .ok_or_else(|| AppError::invalid("group_by", crate::text!(admin.api.group_by_choice)))?,
    };
    let now = crate::core::db::now_millis();
    let (start, end) = crate::admin::usage::period(params.from.as_deref(), params.to.as_deref(), now)?;
    let report = crate::admin::usage::report(&state.db, start, end, group).await?;
    let wants_csv = params.format.as_deref() == Some("csv")
        || headers
            .get(axum::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/csv"));
    if wants_csv {
        let name = format!(
            "attachment; filename=\"thicode-usage-{}-{}-by-{}.csv\"",
            report.from,
            report.to,
            group.name()
        );
        // Written out line by line as the body is sent, not built as one string first.
        let lines = std::iter::once(crate::admin::usage::csv_header(group))
            .chain(report.rows.into_iter().map(|row| crate::admin::usage::csv_line(&row)))
            .map(|line| Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(line)));
        return Ok((
            [
                (axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (axum::http::header::CONTENT_DISPOSITION, name),
            ],
            axum::body::Body::from_stream(futures_util::stream::iter(lines)),
        )
            .into_response());
    }
    Ok(Json(UsageReportOut {
        from: report.from,
        to: report.to,
        group_by: group.name().to_string(),
        results: report
            .rows
            .into_iter()
            .map(|r| UsageRowOut {
                key: r.key,
                messages: r.messages,
                prompt_tokens: r.prompt_tokens,
                completion_tokens: r.completion_tokens,
                errors: r.errors,
                median_ttft_ms: r.median_ttft_ms,
                tool_calls: r.tool_calls,
                files_bytes: r.files_bytes,
            })
            .collect(),
    })
    .into_response())
}

/// The caller, if staff (403 otherwise), with their address for the audit log.
fn staff(user: User, client: ClientAddr) -> Result<Actor, ApiError> {
    if user.is_staff && user.is_active {
        Ok(Actor {
            user,
            addr: client.text(),
        })
    } else {
        Err(AppError::Forbidden(Refusal::Permission).into())
    }
}

/// A refusal of the rules as DRF words it: errors about the whole request under `non_field_errors`.
fn drf(error: AppError) -> ApiError {
    match error {
        AppError::Invalid(mut form) => {
            if let Some(messages) = form.fields.remove(crate::core::error::NON_FIELD) {
                form.fields.insert("non_field_errors".into(), messages);
            }
            AppError::Invalid(form).into()
        }
        other => other.into(),
    }
}

fn id_of(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| AppError::NotFound.into())
}

/// An account as the admin routes show it.
#[derive(Debug, Serialize, ToSchema)]
struct AdminUserOut {
    id: i64,
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    is_active: bool,
    is_staff: bool,
    /// Made with `thicode createsuperuser`: only another superuser may deactivate, demote or delete it.
    is_superuser: bool,
    /// RFC 3339.
    date_joined: String,
    /// RFC 3339, or null before the first login.
    last_login: Option<String>,
    /// Messages sent since the first of this month (UTC).
    messages_this_month: i64,
    /// Tokens used by the replies since the first of this month (UTC).
    tokens_this_month: i64,
}

impl From<UserRow> for AdminUserOut {
    fn from(row: UserRow) -> Self {
        Self {
            id: row.id,
            username: row.username,
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            is_active: row.is_active,
            is_staff: row.is_staff,
            is_superuser: row.is_superuser,
            date_joined: crate::core::time::iso(row.date_joined),
            last_login: row.last_login.map(crate::core::time::iso),
            messages_this_month: row.messages_this_month,
            tokens_this_month: row.tokens_this_month,
        }
    }
}

/// One account with its limits and its usage now.
#[derive(Debug, Serialize, ToSchema)]
struct AdminUserDetail {
    #[serde(flatten)]
    user: AdminUserOut,
    /// The account's own limits (`null`: the instance's default; 0: unlimited).
    quota: QuotaOverride,
    /// The limits that apply (own or default; 0: unlimited).
    limits: Quota,
    /// What it used today and this month (UTC).
    #[schema(value_type = UsageOut)]
    usage: crate::chat::quota::Usage,
    /// Its files.
    storage: StorageOut,
}

/// The files an account keeps.
#[derive(Debug, Serialize, ToSchema)]
struct StorageOut {
    /// Bytes of files it keeps.
    used_bytes: i64,
    /// The most it may keep (its own limit or the instance's; 0: no limit).
    limit_bytes: i64,
}

/// Usage in the current UTC day and month.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageOut {
    /// Replies asked today.
    pub messages_today: i64,
    /// Tokens used today.
    pub tokens_today: i64,
    /// Tokens used this month.
    pub tokens_this_month: i64,
}

async fn detail(state: &AppState, id: i64) -> Result<AdminUserDetail, ApiError> {
    use crate::chat::quota;
    let user = service::user_row(&state.db, id).await?.into();
    let pool = &state.db.pool;
    Ok(AdminUserDetail {
        user,
        quota: quota::override_of(pool, id).await?,
        limits: quota::effective(pool, id).await?,
        usage: quota::usage(pool, id, crate::core::db::now_millis()).await?,
        storage: StorageOut {
            used_bytes: crate::files::store::used_bytes(pool, id).await?,
            limit_bytes: crate::files::service::storage_limit(state, id).await?,
        },
    })
}

/// A page of accounts (DRF's page shape).
#[derive(Debug, Serialize, ToSchema)]
struct AdminUserPage {
    count: i64,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<AdminUserOut>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct UsersParams {
    /// Words to find in username, email or name.
    search: Option<String>,
    /// `date_joined` (default `-date_joined`), `last_login`, `messages`, `tokens`, `username`; `-` for descending.
    ordering: Option<String>,
    /// Page number, from 1 (50 accounts a page).
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
}

/// A page number from the query: missing is 1, anything but a positive integer a field error.
fn page_of(raw: Option<String>) -> Result<i64, ApiError> {
    raw.map_or(Ok(1), |v| {
        v.parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| AppError::invalid("page", crate::text!(core.field.positive_number)).into())
    })
}

/// Links to the pages before and after `page`, keeping the other parameters.
fn links(base: &str, params: &[(&str, &str)], page: i64, count: i64) -> (Option<String>, Option<String>) {
    let link = |p: i64| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in params.iter().filter(|(_, v)| !v.is_empty()) {
            query.append_pair(k, v);
        }
        query.append_pair("page", &p.to_string());
        format!("{base}?{}", query.finish())
    };
    let pages = (count + service::PAGE_SIZE - 1) / service::PAGE_SIZE;
    (
        (page < pages).then(|| link(page + 1)),
        (page > 1).then(|| link(page - 1)),
    )
}

#[utoipa::path(get, path = "/api/admin/users/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])), params(UsersParams),
    responses((status = 200, body = AdminUserPage), (status = 400, body = crate::api::schema::BadRequest), AuthErrors))]
async fn users(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiQuery(params): ApiQuery<UsersParams>,
) -> Result<Json<AdminUserPage>, ApiError> {
    staff(user, client)?;
    let ordering_text = params.ordering.unwrap_or_default();
    let (ordering, descending) = if ordering_text.is_empty() {
        (UserOrdering::Joined, true)
    } else {
        UserOrdering::parse(&ordering_text)
            .ok_or_else(|| AppError::invalid("ordering", crate::text!(admin.api.ordering_choice)))?
    };
    let search = params.search.unwrap_or_default();
    let query = UserQuery {
        search: search.trim().chars().take(150).collect(),
        ordering,
        descending,
        page: page_of(params.page)?,
    };
    let (rows, count) = service::list_users(&state.db, &query).await?;
    let (next, previous) = links(
        "/api/admin/users/",
        &[("search", &search), ("ordering", &ordering_text)],
        query.page,
        count,
    );
    Ok(Json(AdminUserPage {
        count,
        next,
        previous,
        results: rows.into_iter().map(AdminUserOut::from).collect(),
    }))
}

#[utoipa::path(get, path = "/api/admin/users/{id}/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = AdminUserDetail), AuthErrors, NotFound))]
async fn user(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AdminUserDetail>, ApiError> {
    staff(user, client)?;
    Ok(Json(detail(&state, id_of(&id)?).await?))
}

#[derive(Deserialize, ToSchema)]
struct UpdateUserBody {
    /// `false` deactivates the account (its sessions, tokens and JWT refresh tokens end at once), `true` activates it.
    #[serde(default, deserialize_with = "crate::api::lenient::boolean")]
    is_active: Option<bool>,
    /// Grant (`true`) or revoke (`false`) staff status.
    #[serde(default, deserialize_with = "crate::api::lenient::boolean")]
    is_staff: Option<bool>,
    /// The account's own limits, replacing the ones it had: each `null` or left out takes the instance's default, 0
    /// is unlimited.
    #[serde(default)]
    quota: Option<QuotaBody>,
}

/// Limits as a body gives them.
#[derive(Debug, Default, Deserialize, ToSchema)]
struct QuotaBody {
    #[serde(default, deserialize_with = "crate::api::lenient::integer")]
    messages_per_day: Option<i64>,
    #[serde(default, deserialize_with = "crate::api::lenient::integer")]
    tokens_per_day: Option<i64>,
    #[serde(default, deserialize_with = "crate::api::lenient::integer")]
    tokens_per_month: Option<i64>,
    /// Megabytes of files the account may keep (an account's own limits only; `null`: the instance's setting).
    #[serde(default, deserialize_with = "crate::api::lenient::integer")]
    storage_mb: Option<i64>,
}

#[utoipa::path(patch, path = "/api/admin/users/{id}/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "User id")), request_body = UpdateUserBody,
    responses((status = 200, body = AdminUserDetail), AuthErrors, BodyErrors, NotFound))]
async fn update_user(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateUserBody>,
) -> Result<Json<AdminUserDetail>, ApiError> {
    let actor = staff(user, client)?;
    let id = id_of(&id)?;
    // The limits are checked before anything changes: a refused body changes nothing.
    if let Some(quota) = &body.quota {
        for (field, value) in [
            ("messages_per_day", quota.messages_per_day),
            ("tokens_per_day", quota.tokens_per_day),
            ("tokens_per_month", quota.tokens_per_month),
            ("storage_mb", quota.storage_mb),
        ] {
            if let Some(value) = value {
                crate::chat::quota::check_limit(field, value).map_err(quota_field)?;
            }
        }
    }
    let change = FlagChange {
        is_active: body.is_active,
        is_staff: body.is_staff,
    };
    let quota = body.quota.map(|quota| QuotaOverride {
        messages_per_day: quota.messages_per_day,
        tokens_per_day: quota.tokens_per_day,
        tokens_per_month: quota.tokens_per_month,
        storage_mb: quota.storage_mb,
    });
    // Flags and limits in one transaction: both change or neither does.
    service::update_user(&state.db, &actor, id, change, quota)
        .await
        .map_err(drf)?;
    Ok(Json(detail(&state, id).await?))
}

/// Errors of a limit, under `quota` as the body nests them.
fn quota_field(error: AppError) -> ApiError {
    match error {
        AppError::Invalid(form) => ApiError::Body(
            StatusCode::BAD_REQUEST,
            serde_json::json!({ "quota": form.in_lang(crate::core::i18n::Lang::En) }),
        ),
        other => other.into(),
    }
}

/// The instance's settings that staff change.
#[derive(Debug, Serialize, ToSchema)]
struct SettingsOut {
    /// Default limits of every account without its own (0: unlimited).
    quota: Quota,
    /// Whether users may make public share links (when off, existing links answer 404 until it is on again).
    sharing_enabled: bool,
    /// Temporary chats: `off`, `allowed` (the default) or `enforced` (every new chat is temporary).
    #[schema(example = "allowed")]
    temporary_chats: String,
    /// The OpenAI-compatible API under `/v1/`: on or off, and the models it offers (empty: every model).
    openai_api: OpenAiApiOut,
}

/// The OpenAI-compatible API's setting.
#[derive(Debug, Serialize, ToSchema)]
struct OpenAiApiOut {
    /// Whether `/v1/` answers.
    enabled: bool,
    /// The models it offers; empty: every model of the provider.
    models: Vec<String>,
}

/// A change of the OpenAI-compatible API's setting; what is left out stays as it is.
#[derive(Deserialize, ToSchema)]
struct OpenAiApiBody {
    /// On or off.
    #[serde(default, deserialize_with = "crate::api::lenient::boolean")]
    enabled: Option<bool>,
    /// The models offered: a list, or one string of names separated by commas or spaces; empty for every model.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    models: Option<Value>,
}

use crate::admin::instance::OpenAiApi;

async fn settings_out(state: &AppState) -> Result<SettingsOut, ApiError> {
    Ok(SettingsOut {
        quota: crate::chat::quota::defaults(&state.db.pool).await?,
        sharing_enabled: crate::admin::instance::sharing_enabled(&state.db.pool).await?,
        temporary_chats: crate::admin::instance::temporary_chats(&state.db.pool)
            .await?
            .as_str()
            .to_string(),
        openai_api: {
            let setting = crate::admin::instance::openai_api(&state.db.pool).await?;
            OpenAiApiOut {
                enabled: setting.enabled,
                models: setting.models,
            }
        },
    })
}

#[utoipa::path(get, path = "/api/admin/settings/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])),
    responses((status = 200, body = SettingsOut), AuthErrors))]
async fn settings(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
) -> Result<Json<SettingsOut>, ApiError> {
    staff(user, client)?;
    Ok(Json(settings_out(&state).await?))
}

#[derive(Deserialize, ToSchema)]
struct SettingsBody {
    /// The default limits; a limit left out stays as it is (0: unlimited).
    #[serde(default)]
    quota: Option<QuotaBody>,
    /// Share links on or off.
    #[serde(default, deserialize_with = "crate::api::lenient::boolean")]
    sharing_enabled: Option<bool>,
    /// `off`, `allowed` or `enforced`.
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    temporary_chats: Option<String>,
    /// The OpenAI-compatible API's switch and models.
    #[serde(default)]
    openai_api: Option<OpenAiApiBody>,
}

#[utoipa::path(patch, path = "/api/admin/settings/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])), request_body = SettingsBody,
    responses((status = 200, body = SettingsOut), AuthErrors, BodyErrors))]
async fn update_settings(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiJson(body): ApiJson<SettingsBody>,
) -> Result<Json<SettingsOut>, ApiError> {
    let actor = staff(user, client)?;
    let pool = &state.db.pool;
    let temporary = match body.temporary_chats.as_deref() {
        Some(name) => Some(crate::admin::instance::TemporaryChats::from_field(name)?),
        None => None,
    };
    // Read whole before anything is written: a bad model list changes nothing.
    let openai_api = match body.openai_api {
        None => None,
        Some(change) => {
            let names = match change.models {
                None => None,
                Some(Value::Null) => Some(String::new()),
                Some(Value::String(text)) => Some(text),
                Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                    Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","))
                }
                Some(_) => {
                    return Err(ApiError::Body(
                        StatusCode::BAD_REQUEST,
                        serde_json::json!({"openai_api_models": ["Expected a list of model names."]}),
                    ));
                }
            };
            let models = names.map(|n| OpenAiApi::models_from_field(&n)).transpose()?;
            Some((change.enabled, models))
        }
    };
    if let Some(change) = body.quota {
        let now = crate::chat::quota::defaults(pool).await?;
        let quota = Quota {
            messages_per_day: change.messages_per_day.unwrap_or(now.messages_per_day),
            tokens_per_day: change.tokens_per_day.unwrap_or(now.tokens_per_day),
            tokens_per_month: change.tokens_per_month.unwrap_or(now.tokens_per_month),
        };
        service::set_default_quota(&state.db, &actor, quota)
            .await
            .map_err(quota_field)?;
    }
    if let Some(enabled) = body.sharing_enabled {
        crate::admin::instance::set_sharing(pool, &actor, enabled).await?;
    }
    if let Some(mode) = temporary {
        crate::admin::instance::set_temporary_chats(pool, &actor, mode).await?;
    }
    if let Some((enabled, models)) = openai_api {
        crate::admin::instance::set_openai_api(pool, &actor, enabled, models).await?;
    }
    Ok(Json(settings_out(&state).await?))
}

#[utoipa::path(delete, path = "/api/admin/users/{id}/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "User id")),
    responses((status = 204, description = "Deleted, with everything the account owned"), (status = 400, body = crate::api::schema::BadRequest), AuthErrors, NotFound))]
async fn delete_user(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let actor = staff(user, client)?;
    service::delete_user(&state.db, &actor, id_of(&id)?)
        .await
        .map_err(drf)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/admin/users/{id}/send-reset/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "User id")),
    responses((status = 202, body = Detail, description = "The mail is on its way"), (status = 400, body = crate::api::schema::BadRequest), AuthErrors, NotFound))]
async fn send_reset(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Detail>), ApiError> {
    let actor = staff(user, client)?;
    service::send_reset(&state.db, &state.outbox, &state.config, &actor, id_of(&id)?)
        .await
        .map_err(drf)?;
    let detail = "Password reset email sent.".to_string();
    Ok((StatusCode::ACCEPTED, Json(Detail { detail })))
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
struct AuditOut {
    id: i64,
    /// RFC 3339.
    at: String,
    actor_id: i64,
    /// The staff member's username at the time.
    actor: String,
    /// `user.activate`, `user.deactivate`, `user.grant_staff`, `user.revoke_staff`, `user.send_reset`, `user.delete`.
    action: String,
    target_id: Option<i64>,
    /// The account's username at the time.
    target: String,
    /// More about the action.
    #[schema(value_type = Object)]
    details: serde_json::Value,
    /// The client address the action came from.
    client_addr: String,
}

impl From<AuditRow> for AuditOut {
    fn from(row: AuditRow) -> Self {
        Self {
            id: row.id,
            at: row.at_iso,
            actor_id: row.actor_id,
            actor: row.actor,
            action: row.action,
            target_id: row.target_id,
            target: row.target,
            details: serde_json::from_str(&row.details).unwrap_or_default(),
            client_addr: row.client_addr,
        }
    }
}

/// A page of the audit log (DRF's page shape), newest first.
#[derive(Debug, Serialize, ToSchema)]
struct AuditPage {
    count: i64,
    next: Option<String>,
    previous: Option<String>,
    results: Vec<AuditOut>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditParams {
    /// Page number, from 1 (50 entries a page).
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
}

#[utoipa::path(get, path = "/api/admin/audit/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])), params(AuditParams),
    responses((status = 200, body = AuditPage), (status = 400, body = crate::api::schema::BadRequest), AuthErrors))]
async fn audit(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    staff(user, client)?;
    let page = page_of(params.page)?;
    let (rows, count) = service::audit_page(&state.db.pool, page).await?;
    let (next, previous) = links("/api/admin/audit/", &[], page, count);
    Ok(Json(AuditPage {
        count,
        next,
        previous,
        results: rows.into_iter().map(AuditOut::from).collect(),
    }))
}

/// An MCP server as staff see it: its headers by name only (their values are secrets), its tools with their choices.
#[derive(Serialize, ToSchema)]
struct McpServerOut {
    id: i64,
    /// Short name; its tools are offered to the model as `<name>__<tool>`.
    name: String,
    /// `http` (streamable HTTP) or `stdio` (a local command).
    transport: String,
    /// The endpoint (`http`).
    url: String,
    /// The names of the headers sent to it (never their values).
    headers: Vec<String>,
    /// The program and its arguments (`stdio`).
    command: Vec<String>,
    /// Whether its tools are offered.
    enabled: bool,
    /// Its tools as last listed.
    tools: Vec<McpToolOut>,
    /// RFC 3339: when the tools were last listed.
    listed_at: Option<String>,
    /// Why the last listing failed.
    last_error: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct McpToolOut {
    /// Its name on the server.
    name: String,
    /// The name the model calls it by.
    offered_as: String,
    description: String,
    /// Its arguments' JSON Schema.
    #[schema(value_type = Object)]
    input_schema: serde_json::Value,
    /// The server says it may destroy or change things.
    destructive: bool,
    /// Offered to the model.
    enabled: bool,
    /// Each call waits for the user's approval.
    ask_first: bool,
}

impl From<crate::tools::store::McpServer> for McpServerOut {
    fn from(s: crate::tools::store::McpServer) -> Self {
        // What the admin page shows of it (headers by name, each tool with its choices), plus the input schemas.
        let row = crate::admin::mcp::row(&s);
        let tools = row
            .tools
            .into_iter()
            .zip(s.tools)
            .map(|(t, tool)| McpToolOut {
                name: t.name,
                offered_as: t.offered_as,
                description: t.description,
                input_schema: tool.input_schema,
                destructive: t.destructive,
                enabled: t.enabled,
                ask_first: t.ask_first,
            })
            .collect();
        let transport = match s.transport {
            crate::tools::mcp::Transport::Http { .. } => "http",
            crate::tools::mcp::Transport::Stdio { .. } => "stdio",
        };
        Self {
            id: row.id,
            name: row.name,
            transport: transport.to_string(),
            url: row.url,
            headers: row.headers,
            command: row.command,
            enabled: row.enabled,
            tools,
            listed_at: s.listed_at.map(crate::core::time::iso),
            last_error: row.last_error,
        }
    }
}

#[derive(Deserialize, ToSchema)]
struct McpServerBody {
    /// 1–24 lowercase letters, digits or dashes, starting with a letter.
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    name: Option<String>,
    /// Its streamable HTTP endpoint (public addresses, or hosts in `MCP_ALLOWED_HOSTS`).
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    url: Option<String>,
    /// Headers sent to it, e.g. `{"Authorization": "Bearer …"}`; replaces the stored ones.
    #[serde(default)]
    headers: Option<std::collections::BTreeMap<String, String>>,
    /// A local command instead of a URL: the program, then its arguments (`MCP_STDIO_ENABLED` only).
    #[serde(default, deserialize_with = "crate::api::lenient::tags")]
    command: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::api::lenient::boolean")]
    enabled: Option<bool>,
    /// Choices per tool: `{"<tool>": {"enabled": bool, "ask_first": bool}}`.
    #[serde(default)]
    tools: Option<std::collections::BTreeMap<String, crate::admin::mcp::ToolChoice>>,
}

impl McpServerBody {
    fn edit(self) -> crate::admin::mcp::ServerEdit {
        crate::admin::mcp::ServerEdit {
            name: self.name,
            url: self.url,
            headers: self.headers,
            command: self.command,
            enabled: self.enabled,
            tools: self.tools,
        }
    }
}

#[utoipa::path(get, path = "/api/admin/mcp-servers/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])),
    responses((status = 200, body = Vec<McpServerOut>), AuthErrors))]
async fn mcp_servers(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
) -> Result<Json<Vec<McpServerOut>>, ApiError> {
    staff(user, client)?;
    let servers = crate::admin::mcp::servers(&state).await?;
    Ok(Json(servers.into_iter().map(McpServerOut::from).collect()))
}

#[utoipa::path(post, path = "/api/admin/mcp-servers/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])), request_body = McpServerBody,
    responses((status = 201, body = McpServerOut, description = "Added (audited), with its tools listed or why they could not be"), AuthErrors, BodyErrors))]
async fn create_mcp_server(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiJson(body): ApiJson<McpServerBody>,
) -> Result<(StatusCode, Json<McpServerOut>), ApiError> {
    let actor = staff(user, client)?;
    let server = crate::admin::mcp::create(&state, &actor, body.edit()).await?;
    Ok((StatusCode::CREATED, Json(server.into())))
}

#[utoipa::path(get, path = "/api/admin/mcp-servers/{id}/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "MCP server id")),
    responses((status = 200, body = McpServerOut), AuthErrors, NotFound))]
async fn mcp_server(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<McpServerOut>, ApiError> {
    staff(user, client)?;
    let id = id_of(&id)?;
    let server = crate::admin::mcp::server(&state, id).await?;
    Ok(Json(server.into()))
}

#[utoipa::path(patch, path = "/api/admin/mcp-servers/{id}/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "MCP server id")), request_body = McpServerBody,
    responses((status = 200, body = McpServerOut, description = "Changed (audited)"), AuthErrors, BodyErrors, NotFound))]
async fn update_mcp_server(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<McpServerBody>,
) -> Result<Json<McpServerOut>, ApiError> {
    let actor = staff(user, client)?;
    let server = crate::admin::mcp::update(&state, &actor, id_of(&id)?, body.edit()).await?;
    Ok(Json(server.into()))
}

#[utoipa::path(delete, path = "/api/admin/mcp-servers/{id}/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "MCP server id")),
    responses((status = 204, description = "Removed (audited)"), AuthErrors, NotFound))]
async fn delete_mcp_server(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let actor = staff(user, client)?;
    crate::admin::mcp::delete(&state, &actor, id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/admin/mcp-servers/{id}/refresh/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "MCP server id")),
    responses((status = 200, body = McpServerOut, description = "Its tools listed again (or why they could not be)"), AuthErrors, NotFound))]
async fn refresh_mcp_server(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<McpServerOut>, ApiError> {
    staff(user, client)?;
    Ok(Json(crate::admin::mcp::refresh(&state, id_of(&id)?).await?.into()))
}

#[utoipa::path(get, path = "/api/admin/mcp-servers/{id}/tools/", tag = "admin", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "MCP server id")),
    responses((status = 200, body = Vec<McpToolOut>, description = "Its tools as last listed, with staff's choices"), AuthErrors, NotFound))]
async fn mcp_server_tools(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vec<McpToolOut>>, ApiError> {
    staff(user, client)?;
    let id = id_of(&id)?;
    let server = crate::admin::mcp::server(&state, id).await?;
    Ok(Json(McpServerOut::from(server).tools))
}
