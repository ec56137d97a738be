//! `/api/chat/…`: conversations and messages, on the same services as the chat pages (every lookup scoped to the
//! caller; another user's ids answer 404).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::service::User;
use crate::api::auth::ApiUser;
use crate::api::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::api::schema::{
    AskOut, AuthErrors, BodyErrors, Conflict, ConversationList, ConversationOut, ConversationPage, MessageOut,
    NotFound, SentOut, StatusOut, Throttled, json_body, json_bytes, to_json,
};
use crate::chat::service::{self, ConversationEdit, ListQuery, Message, Ordering};
use crate::core::error::AppError;
use crate::state::AppState;

/// The chat routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(detail, update, remove))
        .routes(routes!(messages, send))
        .routes(routes!(status))
        .routes(routes!(stream))
        .routes(routes!(archive))
        .routes(routes!(restore))
        .routes(routes!(update_metadata))
        .routes(routes!(update_metadata_dash))
        .routes(routes!(ask_mistral))
        .routes(routes!(tools))
        .routes(routes!(approve))
}

#[derive(Deserialize, ToSchema)]
struct ApproveBody {
    /// The call waiting for approval (its `call_id` in the message's `steps`).
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    call_id: Option<String>,
    /// `true` runs it; `false` denies it (the model is told the user refused).
    #[serde(default, deserialize_with = "crate::api::lenient::boolean")]
    allow: Option<bool>,
}

/// Answers a tool call that waits for the user's approval (tools marked "ask first"); the reply goes on.
#[utoipa::path(post, path = "/api/chat/conversations/{id}/messages/{message_id}/approve/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])),
    params(("id" = i64, Path, description = "Conversation id"), ("message_id" = i64, Path, description = "The reply")),
    request_body = ApproveBody,
    responses((status = 200, body = MessageOut, description = "The reply, its call now running or denied"), AuthErrors, BodyErrors, NotFound))]
async fn approve(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath((id, message_id)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ApproveBody>,
) -> Result<Json<Value>, ApiError> {
    let (id, message_id) = (id_of(&id)?, id_of(&message_id)?);
    let call_id = body
        .call_id
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| AppError::invalid("call_id", crate::text!(core.field.required)))?;
    let allow = body
        .allow
        .ok_or_else(|| AppError::invalid("allow", crate::text!(core.field.required)))?;
    service::decide_call(&state, &user, id, message_id, &call_id, allow).await?;
    let reply = service::stored_message(&state, &user, message_id).await?;
    Ok(Json(reply_json(&state, &reply).await?))
}

/// A tool replies may call.
#[derive(serde::Serialize, ToSchema)]
struct ToolOut {
    /// Its name, as conversations' `tools` list it.
    name: String,
    /// What it does.
    description: String,
    /// Its arguments' JSON Schema.
    #[schema(value_type = Object)]
    parameters: Value,
    /// `builtin`, or the MCP server it comes from.
    source: String,
    /// Whether new conversations of the user enable it.
    default: bool,
}

/// The tools the instance offers (none until an administrator configures web search, the page reader or MCP servers),
/// and which of them the user's new conversations enable.
#[utoipa::path(get, path = "/api/chat/tools/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])),
    responses((status = 200, body = Vec<ToolOut>), AuthErrors))]
async fn tools(State(state): State<AppState>, ApiUser(user): ApiUser) -> Json<Vec<ToolOut>> {
    let defaults = service::tools_for(&state, &user, None);
    Json(
        state
            .chat
            .toolbox
            .tools()
            .into_iter()
            .map(|t| ToolOut {
                default: defaults.contains(&t.name),
                name: t.name,
                description: t.description,
                parameters: t.parameters,
                source: t.source,
            })
            .collect(),
    )
}

/// The Message shape of API.md.
pub fn message_json(m: &Message) -> Value {
    to_json(&MessageOut::from(m))
}

/// The Message shape of API.md for a reply, with its tool calls.
async fn reply_json(state: &AppState, m: &Message) -> Result<Value, ApiError> {
    let steps = crate::chat::store::steps_of(&state.db.pool, &[m.id])
        .await
        .map_err(AppError::from)?;
    Ok(to_json(&MessageOut::from(m).with_steps(&steps)))
}

/// A path id; anything not a number is simply not found.
pub(crate) fn id_of(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| AppError::NotFound.into())
}

pub(crate) async fn load(state: &AppState, user: &User, id: i64) -> Result<Value, ApiError> {
    let (c, messages) = service::conversation_with_messages(state, user, id).await?;
    let steps = service::steps_of(state, &[c.id]).await?;
    Ok(to_json(&service::conversation_out(state, user, &c, messages, &steps)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// `active` (default) or `archived`.
    status: Option<String>,
    /// Only this category.
    category: Option<String>,
    /// Words to find in titles and message text.
    search: Option<String>,
    /// `-updated_at` (default), `created_at`, `last_message_at`, each with or without `-`.
    ordering: Option<String>,
    /// Page number (from 1): the answer becomes a page object.
    #[param(value_type = Option<i64>, minimum = 1)]
    page: Option<String>,
    /// Conversations per page (default 20, at most 100).
    #[param(value_type = Option<i64>, minimum = 1)]
    page_size: Option<String>,
}

#[utoipa::path(get, path = "/api/chat/conversations/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])), params(ListParams),
    responses((status = 200, body = ConversationList, description = "A bare array without `page`; a page object with it"),
        (status = 400, body = crate::api::schema::BadRequest), AuthErrors))]
async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    uri: axum::http::Uri,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    // Read the version before the data: a write in between makes the kept answer look older, never newer.
    let cache_key = uri.query().unwrap_or_default();
    let version = service::list_version(&state, &user).await?;
    if let Some(body) = state.list_cache.get(user.id, cache_key, version) {
        return Ok(json_body(body));
    }
    let status = params.status.unwrap_or_else(|| "active".into());
    if !["active", "archived"].contains(&status.as_str()) {
        return Err(AppError::invalid("status", crate::text!(chat.limit.status_choice)).into());
    }
    let ordering = params.ordering.unwrap_or_else(|| "-updated_at".into());
    let (descending, key) = ordering
        .strip_prefix('-')
        .map_or((false, ordering.as_str()), |k| (true, k));
    let ordering = match key {
        "updated_at" => Ordering::UpdatedAt,
        "created_at" => Ordering::CreatedAt,
        "last_message_at" => Ordering::LastMessageAt,
        _ => return Err(AppError::invalid("ordering", crate::text!(chat.limit.ordering_choice)).into()),
    };
    let number = |name: &str, raw: Option<String>, default: i64| -> Result<i64, ApiError> {
        raw.map_or(Ok(default), |v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| AppError::invalid(name, crate::text!(core.field.positive_number)).into())
        })
    };
    let paged = params.page.is_some();
    let page = number("page", params.page, 1)?;
    let page_size = number("page_size", params.page_size, 20)?.min(100);
    let (list, generating) = if let Some(search) = params.search.filter(|s| !s.trim().is_empty()) {
        let rows = service::search_with_messages(&state, &user, &search, &status).await?;
        let generating = rows.iter().any(|(c, _)| c.generating_id.is_some());
        let ids: Vec<i64> = rows.iter().map(|(c, _)| c.id).collect();
        let steps = service::steps_of(&state, &ids).await?;
        let results = rows
            .into_iter()
            .map(|(c, messages)| service::conversation_out(&state, &user, &c, messages, &steps))
            .collect();
        (ConversationList::All(results), generating)
    } else {
        let query = ListQuery {
            status: status.clone(),
            category: params.category.unwrap_or_default(),
            ordering,
            descending,
            limit: if paged { page_size } else { 1000 },
            offset: if paged { (page - 1).saturating_mul(page_size) } else { 0 },
            count: paged,
        };
        let (rows, total) = service::list_with_messages(&state, &user, &query).await?;
        let generating = rows.iter().any(|(c, _)| c.generating_id.is_some());
        let ids: Vec<i64> = rows.iter().map(|(c, _)| c.id).collect();
        let steps = service::steps_of(&state, &ids).await?;
        let results = rows
            .into_iter()
            .map(|(c, messages)| service::conversation_out(&state, &user, &c, messages, &steps))
            .collect();
        let list = if paged {
            let link = |p: i64| format!("/api/chat/conversations/?page={p}&page_size={page_size}");
            ConversationList::Page(ConversationPage {
                count: total,
                next: (page.saturating_mul(page_size) < total).then(|| link(page + 1)),
                previous: (page > 1).then(|| link(page - 1)),
                results,
            })
        } else {
            ConversationList::All(results)
        };
        (list, generating)
    };
    let body = json_bytes(&list, LIST_SIZE_HINT)?;
    if !generating {
        state.list_cache.put(user.id, cache_key, version, body.clone());
    }
    Ok(json_body(body))
}

/// Starting size of the buffer of a list answer.
const LIST_SIZE_HINT: usize = 64 * 1024;

#[derive(Deserialize, ToSchema)]
struct CreateBody {
    /// The first message (required; not blank).
    #[schema(min_length = 1)]
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    initial_message: Option<String>,
    /// A title (default: the first message's beginning, until the model names the conversation).
    #[schema(min_length = 1, max_length = 255)]
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    title: Option<String>,
    /// A model the provider lists.
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    model: Option<String>,
    /// Sent first to the model.
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    system_prompt: Option<String>,
    /// Files (ids from `POST /api/files/`) the first message carries; with multipart, `files` parts instead.
    #[serde(default, deserialize_with = "crate::api::lenient::ids")]
    attachments: Option<Vec<i64>>,
    /// The tools its replies may call (names from `GET /api/chat/tools/`); default: the user's default.
    #[serde(default, deserialize_with = "crate::api::lenient::tags")]
    tools: Option<Vec<String>>,
    /// A temporary chat: kept in the server's memory only (never stored, listed, searched or exported), without
    /// files or tools, forgotten after `TEMPORARY_CHAT_IDLE_MINUTES` idle. Its ids are negative. Refused while staff
    /// turned temporary chats off; every new chat is one while they enforce them.
    #[serde(default, deserialize_with = "crate::api::lenient::boolean")]
    temporary: Option<bool>,
}

/// `POST conversations/` as `multipart/form-data`: the same fields as text parts, and the files as `files` parts.
#[derive(ToSchema)]
#[allow(dead_code)]
struct CreateForm {
    /// The first message (may be empty when files go with it).
    initial_message: Option<String>,
    /// A title.
    title: Option<String>,
    /// A model the provider lists.
    model: Option<String>,
    /// Sent first to the model.
    system_prompt: Option<String>,
    /// Files the first message carries, uploaded with it.
    #[schema(value_type = Vec<String>, format = Binary)]
    files: Vec<Vec<u8>>,
    /// `true`: a temporary chat (no files then).
    temporary: Option<bool>,
}

#[utoipa::path(post, path = "/api/chat/conversations/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])),
    request_body(content((CreateBody = "application/json"), (CreateForm = "multipart/form-data"))),
    responses((status = 201, body = ConversationOut, description = "Created with the first message; the reply is generated in the background",
        links(
            ("detail" = (operation_id = "detail", parameters(("id" = "$response.body#/id")))),
            ("update" = (operation_id = "update", parameters(("id" = "$response.body#/id")))),
            ("remove" = (operation_id = "remove", parameters(("id" = "$response.body#/id")))),
            ("messages" = (operation_id = "messages", parameters(("id" = "$response.body#/id")))),
            ("send" = (operation_id = "send", parameters(("id" = "$response.body#/id")))),
            ("archive" = (operation_id = "archive", parameters(("id" = "$response.body#/id")))),
            ("restore" = (operation_id = "restore", parameters(("id" = "$response.body#/id")))),
            ("update_metadata" = (operation_id = "update_metadata", parameters(("id" = "$response.body#/id")))),
            ("update_metadata_dash" = (operation_id = "update_metadata_dash", parameters(("id" = "$response.body#/id"))))
        )),
        AuthErrors, BodyErrors, Throttled))]
async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let (body, uploaded) = crate::api::files::body_with_files::<CreateBody>(&state, &user, request).await?;
    let carries_files = !uploaded.is_empty() || body.attachments.as_ref().is_some_and(|a| !a.is_empty());
    let first = body.initial_message.unwrap_or_default();
    if first.trim().is_empty() && !carries_files {
        return Err(ApiError::Body(
            StatusCode::BAD_REQUEST,
            json!({"error": "initial_message is required"}),
        ));
    }
    let edit = ConversationEdit {
        title: body.title,
        model: body.model,
        system_prompt: body.system_prompt,
        tools: body.tools,
        ..Default::default()
    };
    let mut attachments = body.attachments.unwrap_or_default();
    attachments.extend(uploaded.iter().map(|f| f.id));
    let temporary = body.temporary.unwrap_or(false);
    let sent = service::start_conversation(&state, &user, &first, edit, &attachments, temporary).await?;
    Ok((
        StatusCode::CREATED,
        Json(load(&state, &user, sent.conversation_id).await?),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/chat/conversations/{id}/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 200, body = ConversationOut), AuthErrors, NotFound))]
async fn detail(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(load(&state, &user, id_of(&id)?).await?))
}

#[derive(Deserialize, ToSchema)]
struct UpdateBody {
    /// Not blank, at most 255 characters.
    #[schema(min_length = 1, max_length = 255)]
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    title: Option<String>,
    /// At most 50 characters.
    #[schema(max_length = 50)]
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    category: Option<String>,
    /// At most 20 tags of at most 50 characters.
    #[schema(max_items = 20)]
    #[serde(default, deserialize_with = "crate::api::lenient::tags")]
    tags: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    summary: Option<String>,
    #[serde(default, deserialize_with = "crate::api::lenient::boolean")]
    is_pinned: Option<bool>,
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    model: Option<String>,
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    system_prompt: Option<String>,
    /// The tools its replies may call (names from `GET /api/chat/tools/`); `[]` for none.
    #[serde(default, deserialize_with = "crate::api::lenient::tags")]
    tools: Option<Vec<String>>,
}

#[utoipa::path(patch, path = "/api/chat/conversations/{id}/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "Conversation id")), request_body = UpdateBody,
    responses((status = 200, body = ConversationOut), AuthErrors, BodyErrors, NotFound))]
async fn update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    let id = id_of(&id)?;
    let edit = ConversationEdit {
        title: body.title,
        is_pinned: body.is_pinned,
        tags: body.tags,
        model: body.model,
        system_prompt: body.system_prompt,
        category: body.category,
        summary: body.summary,
        tools: body.tools,
        ..Default::default()
    };
    service::update_conversation(&state, &user, id, edit).await?;
    Ok(Json(load(&state, &user, id).await?))
}

/// `POST update_metadata/`: the same as PATCH (the original client used both spellings).
#[utoipa::path(post, path = "/api/chat/conversations/{id}/update_metadata/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "Conversation id")), request_body = UpdateBody,
    responses((status = 200, body = ConversationOut), AuthErrors, BodyErrors, NotFound))]
async fn update_metadata(
    state: State<AppState>,
    user: ApiUser,
    id: ApiPath<String>,
    body: ApiJson<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    update(state, user, id, body).await
}

/// `POST update-metadata/`: the same as PATCH.
#[utoipa::path(post, path = "/api/chat/conversations/{id}/update-metadata/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "Conversation id")), request_body = UpdateBody,
    responses((status = 200, body = ConversationOut), AuthErrors, BodyErrors, NotFound))]
async fn update_metadata_dash(
    state: State<AppState>,
    user: ApiUser,
    id: ApiPath<String>,
    body: ApiJson<UpdateBody>,
) -> Result<Json<Value>, ApiError> {
    update(state, user, id, body).await
}

#[utoipa::path(delete, path = "/api/chat/conversations/{id}/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 204, description = "Deleted with its messages"), AuthErrors, NotFound))]
async fn remove(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    service::delete_conversation(&state, &user, id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_archived(state: &AppState, user: &User, id: &str, archived: bool) -> Result<Json<Value>, ApiError> {
    let id = id_of(id)?;
    let edit = ConversationEdit {
        archived: Some(archived),
        ..Default::default()
    };
    service::update_conversation(state, user, id, edit).await?;
    Ok(Json(load(state, user, id).await?))
}

#[utoipa::path(post, path = "/api/chat/conversations/{id}/archive/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 200, body = ConversationOut), AuthErrors, NotFound))]
async fn archive(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    set_archived(&state, &user, &id, true).await
}

#[utoipa::path(post, path = "/api/chat/conversations/{id}/restore/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 200, body = ConversationOut), AuthErrors, NotFound))]
async fn restore(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    set_archived(&state, &user, &id, false).await
}

#[utoipa::path(get, path = "/api/chat/conversations/{id}/messages/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 200, body = Vec<MessageOut>, description = "Every message, oldest first"), AuthErrors, NotFound))]
async fn messages(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let (c, messages) = service::conversation_with_messages(&state, &user, id_of(&id)?).await?;
    let steps = service::steps_of(&state, &[c.id]).await?;
    Ok(Json(Value::Array(
        messages
            .iter()
            .map(|m| to_json(&MessageOut::from(m).with_steps(&steps)))
            .collect(),
    )))
}

#[derive(Deserialize, ToSchema)]
struct SendBody {
    /// The message (not blank, unless it carries files; required without them, as the original had it).
    #[serde(default)]
    content: Option<String>,
    /// `text`, `markdown` (default) or `code` (or their MIME types); any other text of at most 50 characters is
    /// accepted as the default, as the original backend did.
    #[schema(max_length = 50)]
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    content_type: Option<String>,
    /// A model the provider lists, for this reply only.
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    model: Option<String>,
    /// Continue from this message of the conversation instead of the latest one (a new branch).
    #[serde(default, deserialize_with = "crate::api::lenient::integer")]
    parent_id: Option<i64>,
    /// Files (ids from `POST /api/files/`) the message carries; with multipart, `files` parts instead.
    #[serde(default, deserialize_with = "crate::api::lenient::ids")]
    attachments: Option<Vec<i64>>,
}

/// `POST messages/` as `multipart/form-data`: the same fields as text parts, and the files as `files` parts.
#[derive(ToSchema)]
#[allow(dead_code)]
struct SendForm {
    /// The message (may be empty when files go with it).
    content: Option<String>,
    /// `text`, `markdown` (default) or `code`.
    content_type: Option<String>,
    /// A model the provider lists, for this reply only.
    model: Option<String>,
    /// Continue from this message instead of the latest one.
    parent_id: Option<i64>,
    /// Files the message carries, uploaded with it.
    #[schema(value_type = Vec<String>, format = Binary)]
    files: Vec<Vec<u8>>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct StreamParam {
    /// `true`: answer with Server-Sent Events (as `Accept: text/event-stream` does).
    stream: Option<String>,
}

/// Whether the client asked for Server-Sent Events (`Accept: text/event-stream` or `?stream=true`).
fn wants_stream(headers: &axum::http::HeaderMap, param: &StreamParam) -> bool {
    param.stream.as_deref().is_some_and(|v| matches!(v, "true" | "1"))
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/event-stream"))
}

/// `POST messages/`: stores the user message and starts the reply in the background; 201 with the message, or —
/// asked for a stream — Server-Sent Events: `user_message`, then `delta`s, then `done` with the saved reply.
#[utoipa::path(post, path = "/api/chat/conversations/{id}/messages/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "Conversation id"), StreamParam),
    request_body(content((SendBody = "application/json"), (SendForm = "multipart/form-data"))),
    responses((status = 201, body = SentOut, description = "Stored; the reply is generated in the background (poll `status/` or stream it)",
        links(
            ("status" = (operation_id = "status", parameters(("id" = "$request.path.id"), ("message_id" = "$response.body#/assistant_message_id")))),
            ("stream" = (operation_id = "stream", parameters(("id" = "$request.path.id"), ("message_id" = "$response.body#/assistant_message_id"))))
        )),
        (status = 200, content_type = "text/event-stream", body = crate::api::schema::SseEvent,
            description = "With `Accept: text/event-stream` or `?stream=true`: events `user_message`, `delta` {text}, `done` {message}"),
        AuthErrors, BodyErrors, NotFound, Conflict, Throttled))]
async fn send(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(param): ApiQuery<StreamParam>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let headers = request.headers().clone();
    let (body, uploaded) = crate::api::files::body_with_files::<SendBody>(&state, &user, request).await?;
    let mut attachments = body.attachments.unwrap_or_default();
    attachments.extend(uploaded.iter().map(|f| f.id));
    if body.content.is_none() && attachments.is_empty() {
        return Err(AppError::invalid("content", crate::text!(core.field.required)).into());
    }
    let content = body.content.unwrap_or_default();
    let options = service::SendOptions {
        content_type: body.content_type,
        model: body.model,
        parent_id: body.parent_id,
        attachments,
        ..Default::default()
    };
    let sent = service::send_message_with(&state, &user, Some(id_of(&id)?), &content, options).await?;
    let user_message = match sent.user_message_id {
        Some(mid) => Some(message_json(&service::any_message(&state, &user, mid).await?)),
        None => None,
    };
    if wants_stream(&headers, &param) {
        return Ok(sse_reply(state, user, sent.assistant_message_id, user_message));
    }
    let mut response = (
        StatusCode::CREATED,
        Json(json!({"user_message": user_message, "status": "pending",
                    "assistant_message_id": sent.assistant_message_id})),
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!(
        "/api/chat/conversations/{}/messages/{}/status/",
        sent.conversation_id,
        sent.user_message_id.unwrap_or(sent.assistant_message_id)
    )) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The events of the reply `message_id` for API clients (`chat::stream`): an optional first `user_message`, the text
/// so far as `snapshot`, live `delta`s, and `done` with the saved Message (status, usage in `metadata`).
fn sse_reply(state: AppState, user: User, message_id: i64, first: Option<Value>) -> Response {
    use axum::response::sse::Event;
    let head = first.map(|m| Event::default().event("user_message").data(m.to_string()));
    crate::chat::stream::sse(state, message_id, head, None, move |state, id| {
        let user = user.clone();
        async move {
            let message = match service::any_message(&state, &user, id).await {
                Ok(m) => reply_json(&state, &m).await.ok(),
                Err(_) => None,
            };
            Some(json!({"message": message}).to_string())
        }
    })
}

/// `GET messages/{message_id}/stream/`: re-attaches to a reply (or a user message's reply): what was produced so
/// far, then live deltas, then `done`.
#[utoipa::path(get, path = "/api/chat/conversations/{id}/messages/{message_id}/stream/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "Conversation id"), ("message_id" = i64, Path, description = "Message id")),
    responses((status = 200, content_type = "text/event-stream", body = crate::api::schema::SseEvent,
            description = "Events `snapshot` {content} (the text so far), `delta` {text}, then `done` {message}"),
        AuthErrors, NotFound))]
async fn stream(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath((id, message_id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let (id, message_id) = (id_of(&id)?, id_of(&message_id)?);
    let reply = service::reply_of(&state, &user, id, message_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(sse_reply(state, user, reply.id, None))
}

/// The reply to a user message (its newest assistant child), or the assistant message itself.
#[utoipa::path(get, path = "/api/chat/conversations/{id}/messages/{message_id}/status/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])), params(("id" = i64, Path, description = "Conversation id"), ("message_id" = i64, Path, description = "Message id")),
    responses((status = 200, body = StatusOut), AuthErrors, NotFound))]
async fn status(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath((id, message_id)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let (id, message_id) = (id_of(&id)?, id_of(&message_id)?);
    let Some(reply) = service::reply_of(&state, &user, id, message_id).await? else {
        return Ok(Json(json!({"status": "pending"})));
    };
    let ai_message = reply_json(&state, &reply).await?;
    Ok(Json(match reply.status.as_str() {
        "pending" | "streaming" => json!({"status": reply.status}),
        "error" | "interrupted" => json!({
            "status": "error",
            "error": crate::chat::generation::error_of(&reply.metadata)
                .map_or_else(|| "The reply was interrupted.".to_string(), |e| e.english().to_string()),
            "ai_message": ai_message,
        }),
        _ => json!({"status": "completed", "ai_message": ai_message}),
    }))
}

#[derive(Deserialize, ToSchema)]
struct AskBody {
    /// The question (required; not blank).
    #[schema(min_length = 1)]
    #[serde(default, deserialize_with = "crate::api::lenient::text")]
    message: Option<String>,
}

/// One question to the model, answered whole and not stored (the original's `ask-mistral`).
#[utoipa::path(post, path = "/api/chat/ask-mistral/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])), request_body = AskBody,
    responses((status = 200, body = AskOut, description = "The model's whole answer; nothing is stored"),
        (status = 502, body = crate::api::schema::ErrorText, description = "The provider refused the request"),
        (status = 503, body = crate::api::schema::ErrorText, description = "The provider is unavailable"),
        AuthErrors, BodyErrors, Throttled))]
async fn ask_mistral(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<AskBody>,
) -> Result<Json<Value>, ApiError> {
    use crate::chat::provider::{ChatRequest, ProviderError, StreamEvent, WireMessage};
    use futures_util::StreamExt;
    let Some(message) = body.message.filter(|m| !m.trim().is_empty()) else {
        return Err(ApiError::Body(
            StatusCode::BAD_REQUEST,
            json!({"error": "message is required"}),
        ));
    };
    let message = service::check_content(&state, &message)?;
    state.api_limits.ask(user.id).map_err(ApiError::throttled)?;
    let model = service::model_for(&state, &user, None);
    let request = ChatRequest::new(
        model,
        vec![WireMessage {
            role: "user".into(),
            content: message,
            ..Default::default()
        }],
    );
    // Counted against the account's limits like any reply, though nothing else is stored.
    let prompt_chars: usize = request.messages.iter().map(WireMessage::cost).sum();
    let prompt_tokens = crate::chat::quota::estimate_tokens(prompt_chars);
    let ledger =
        crate::chat::quota::begin_unstored(&state.db.pool, user.id, &request.model, prompt_tokens, "chat").await?;
    // The call and its bookkeeping run as a task of their own: a client that hangs up does not leave the ledger's row
    // open (or its tokens uncounted).
    let task_state = state.clone();
    let task = tokio::spawn(async move {
        let started = std::time::Instant::now();
        let (mut first_token, mut usage) = (None, None);
        let mut response = String::new();
        let outcome = async {
            let mut stream = task_state.chat.provider.stream(&request).await?;
            let mut finished = false;
            while let Some(event) = stream.next().await {
                match event {
                    Ok(StreamEvent::Delta(text)) => {
                        first_token
                            .get_or_insert_with(|| i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX));
                        response.push_str(&text);
                    }
                    Ok(StreamEvent::Finish { usage: reported, .. }) => {
                        finished = true;
                        usage = reported;
                    }
                    // No tools are offered to this endpoint's one-shot question.
                    Ok(StreamEvent::ToolCall(_)) => {}
                    Err(_) if finished => break,
                    Err(e) => return Err(e),
                }
            }
            Ok::<_, ProviderError>(())
        }
        .await;
        let status = if outcome.is_ok() { "delivered" } else { "error" };
        if let Err(e) = &outcome {
            task_state.metrics.provider_error(e.code());
        }
        // A call the provider did not count (it failed, or was cut off) counts by estimate, as a stopped reply does.
        let (prompt, completion) = match usage {
            Some(u) => (
                i64::try_from(u.prompt_tokens).unwrap_or(i64::MAX),
                i64::try_from(u.completion_tokens).unwrap_or(i64::MAX),
            ),
            None => (
                prompt_tokens,
                crate::chat::quota::estimate_tokens(response.chars().count()),
            ),
        };
        let pool = &task_state.db.pool;
        if let Err(e) = crate::chat::quota::end_unstored(pool, ledger, status, prompt, completion, first_token).await {
            tracing::error!(error = %e, "ask-mistral: usage not recorded");
        }
        outcome.map(|()| response)
    });
    let outcome = task.await.map_err(ApiError::internal)?;
    let response = outcome.map_err(|e| ApiError::from(AppError::from(e)))?;
    Ok(Json(json!({ "response": response })))
}
