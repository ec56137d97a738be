//! Share links, forks and copies of shared conversations (issue #29): `/api/chat/conversations/{id}/share/` (make or
//! update, revoke), `/api/chat/shares/` (the caller's links), `/api/chat/conversations/{id}/fork/`, and the public
//! `/api/shared/{token}/` (no account needed: the token is the credential) with its `continue/`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::ApiUser;
use crate::api::chat::{id_of, load};
use crate::api::error::{ApiError, ApiJson, ApiPath};
use crate::api::schema::{AuthErrors, BodyErrors, ConversationOut, NotFound, Throttled};
use crate::chat::service;
use crate::chat::types::ShareLink;
use crate::core::client::ClientAddr;
use crate::core::error::AppError;
use crate::core::time::iso;
use crate::state::AppState;

/// Routes of a logged-in caller.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(share, revoke))
        .routes(routes!(list))
        .routes(routes!(fork))
        .routes(routes!(continue_shared))
}

/// Routes anyone may call.
pub fn anonymous_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(shared))
}

/// A share link.
#[derive(Debug, Serialize, ToSchema)]
struct ShareOut {
    /// The link's secret part.
    token: String,
    /// The public page (`{SITE_URL}/s/{token}`); its JSON is `/api/shared/{token}/`.
    url: String,
    /// The conversation shared.
    conversation_id: i64,
    /// Its current title.
    title: String,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339: when the snapshot was taken.
    updated_at: String,
}

impl From<ShareLink> for ShareOut {
    fn from(link: ShareLink) -> Self {
        Self {
            token: link.token,
            url: link.url,
            conversation_id: link.conversation_id,
            title: link.title,
            created_at: iso(link.created_at),
            updated_at: iso(link.updated_at),
        }
    }
}

/// Makes a public, read-only link to the branch on screen, or takes its snapshot again (the link stays the same).
#[utoipa::path(post, path = "/api/chat/conversations/{id}/share/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 201, body = ShareOut, description = "Link made"), (status = 200, body = ShareOut, description = "Snapshot taken again"),
        AuthErrors, BodyErrors, NotFound))]
async fn share(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let id = id_of(&id)?;
    let (link, created) = service::share(&state, &user, id, &client.text()).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(ShareOut::from(link))).into_response())
}

/// Revokes the conversation's link: it answers 404 from now on.
#[utoipa::path(delete, path = "/api/chat/conversations/{id}/share/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])),
    params(("id" = i64, Path, description = "Conversation id")),
    responses((status = 204, description = "Revoked"), AuthErrors, NotFound))]
async fn revoke(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    service::revoke_share(&state, &user, id_of(&id)?, &client.text()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's share links, newest snapshot first.
#[utoipa::path(get, path = "/api/chat/shares/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])),
    responses((status = 200, body = Vec<ShareOut>), AuthErrors))]
async fn list(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<Vec<ShareOut>>, ApiError> {
    let links = service::shares(&state, &user).await?;
    Ok(Json(links.into_iter().map(ShareOut::from).collect()))
}

#[derive(Deserialize, ToSchema)]
struct ForkBody {
    /// The last message the new conversation holds (with the branch that leads to it).
    #[serde(default, deserialize_with = "crate::api::lenient::integer")]
    message_id: Option<i64>,
}

/// Branches the conversation into a new one holding the branch up to and including `message_id`; the original is
/// unchanged.
#[utoipa::path(post, path = "/api/chat/conversations/{id}/fork/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])),
    params(("id" = i64, Path, description = "Conversation id")), request_body = ForkBody,
    responses((status = 201, body = ConversationOut, description = "The new conversation"), AuthErrors, BodyErrors, NotFound))]
async fn fork(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ForkBody>,
) -> Result<Response, ApiError> {
    let id = id_of(&id)?;
    let message_id = body
        .message_id
        .ok_or_else(|| AppError::invalid("message_id", crate::text!(core.field.required)))?;
    let message = service::stored_message(&state, &user, message_id).await?;
    if message.conversation_id != id {
        return Err(AppError::invalid("message_id", crate::text!(chat.limit.no_such_message)).into());
    }
    let new = service::fork(&state, &user, message_id).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &user, new).await?)).into_response())
}

/// Copies a shared conversation into a new conversation of the caller.
#[utoipa::path(post, path = "/api/shared/{token}/continue/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])),
    params(("token" = String, Path, description = "The link's token")),
    responses((status = 201, body = ConversationOut, description = "The caller's copy"), AuthErrors, NotFound, Throttled))]
async fn continue_shared(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    client: ClientAddr,
    ApiPath(token): ApiPath<String>,
) -> Result<Response, ApiError> {
    let new = service::continue_shared(&state, &user, &token, &client.text()).await?;
    Ok((StatusCode::CREATED, Json(load(&state, &user, new).await?)).into_response())
}

/// A shared conversation, read-only.
#[derive(Debug, Serialize, ToSchema)]
struct SharedOut {
    /// Title at the time of the snapshot.
    title: String,
    /// The conversation's own model ('' when it used its owner's default).
    model: String,
    /// RFC 3339.
    created_at: String,
    /// RFC 3339: when the snapshot was taken.
    updated_at: String,
    /// The branch, oldest first.
    messages: Vec<SharedMessageOut>,
}

/// A message of a shared conversation.
#[derive(Debug, Serialize, ToSchema)]
struct SharedMessageOut {
    /// `user` or `assistant`.
    role: String,
    /// Its text (Markdown for replies).
    content: String,
    /// RFC 3339.
    created_at: String,
    /// The model that wrote a reply.
    model: Option<String>,
    /// Its files, served through the link.
    files: Vec<SharedFileOut>,
}

/// A file of a shared message.
#[derive(Debug, Serialize, ToSchema)]
struct SharedFileOut {
    name: String,
    /// MIME type.
    #[serde(rename = "type")]
    content_type: String,
    size: i64,
    /// `image` or `document`.
    kind: String,
    /// Its bytes (`/s/{token}/files/{n}`).
    url: String,
}

/// A shared conversation, for anyone with its link. 404 for a link that does not exist (any more); too many misses
/// from one address answer 429.
#[utoipa::path(get, path = "/api/shared/{token}/", tag = "chat", params(("token" = String, Path, description = "The link's token")),
    responses((status = 200, body = SharedOut), NotFound, Throttled))]
async fn shared(
    State(state): State<AppState>,
    client: ClientAddr,
    ApiPath(token): ApiPath<String>,
) -> Result<Json<SharedOut>, ApiError> {
    let view = service::shared(&state, &token, &client.text(), false, crate::core::i18n::Lang::En).await?;
    Ok(Json(SharedOut {
        title: view.title,
        model: view.model,
        created_at: iso(view.created_at),
        updated_at: iso(view.updated_at),
        messages: view
            .messages
            .into_iter()
            .map(|m| SharedMessageOut {
                role: m.role,
                content: m.content,
                created_at: iso(m.created_at),
                model: m.model,
                files: m
                    .files
                    .into_iter()
                    .map(|f| SharedFileOut {
                        name: f.name,
                        content_type: f.content_type,
                        size: f.size,
                        kind: f.kind,
                        url: f.url,
                    })
                    .collect(),
            })
            .collect(),
    }))
}
