//! `POST /api/chat/import/` (issue #29): a file exported by ChatGPT, Open WebUI or ThiCode, sent as a multipart
//! form (`file`, and `dry_run` for a preview) or as the request body itself (`?dry_run=true`). Answers what was
//! found, what was (or would be) added and what is not carried; importing the same file again adds nothing.

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::auth::ApiUser;
use crate::api::error::{ApiError, ApiQuery};
use crate::api::schema::{AuthErrors, BodyErrors};
use crate::chat::service;
use crate::chat::types::ImportReport;
use crate::state::AppState;

/// Where the REST API takes imports (its body may be as large as `MAX_IMPORT_BYTES`).
pub const IMPORT_PATH: &str = "/api/chat/import/";

/// The route.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import))
}

#[derive(Debug, Default, Deserialize)]
struct ImportParams {
    #[serde(default, deserialize_with = "crate::api::lenient::boolean")]
    dry_run: Option<bool>,
}

/// The multipart form of an import.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ImportForm {
    /// The export: ChatGPT's `conversations.json` (or its ZIP archive), an Open WebUI export, or a ThiCode export.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `true`: only say what would be imported.
    dry_run: Option<bool>,
}

fn truthy(text: &str) -> bool {
    matches!(text.trim().to_ascii_lowercase().as_str(), "1" | "true" | "on" | "yes")
}

/// The file of an import request and whether it is a dry run: a multipart form's file part (and its `dry_run`
/// field), else the body itself. At most `MAX_IMPORT_BYTES` are read.
pub async fn read_import_body(state: &AppState, request: Request) -> Result<(Vec<u8>, bool), ApiError> {
    let max = state.config.limits.max_import_bytes;
    let headers = request.headers().clone();
    let body = request.into_body();
    if !crate::core::security::is_multipart(&headers) {
        let limit = usize::try_from(max).unwrap_or(usize::MAX);
        let bytes = axum::body::to_bytes(body, limit.saturating_add(1))
            .await
            .map_err(|_| ApiError::from(service::too_large(max)))?;
        if bytes.len() > limit {
            return Err(service::too_large(max).into());
        }
        return Ok((bytes.to_vec(), false));
    }
    read_multipart_file(&headers, body, max).await
}

async fn read_multipart_file(
    headers: &axum::http::HeaderMap,
    body: Body,
    max: u64,
) -> Result<(Vec<u8>, bool), ApiError> {
    let bad = || ApiError::Detail(StatusCode::BAD_REQUEST, "Multipart form parse error.".to_string());
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(media).map_err(|_| bad())?;
    let mut form = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut file: Option<Vec<u8>> = None;
    let mut dry_run = false;
    while let Some(mut field) = form.next_field().await.map_err(|_| bad())? {
        let is_file = field.file_name().is_some() || field.name() == Some("file");
        let name = field.name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| bad())? {
            if (bytes.len() + chunk.len()) as u64 > max {
                return Err(service::too_large(max).into());
            }
            bytes.extend_from_slice(&chunk);
        }
        if is_file {
            if file.as_ref().is_none_or(Vec::is_empty) {
                file = Some(bytes);
            }
        } else if name == "dry_run" {
            dry_run = truthy(&String::from_utf8_lossy(&bytes));
        }
    }
    Ok((file.unwrap_or_default(), dry_run))
}

/// Imports conversations from a file exported by ChatGPT (`conversations.json` or its ZIP archive, its message
/// tree kept as branches), Open WebUI (its JSON export) or ThiCode (the account export, the conversations export or
/// one conversation's JSON: it round-trips exactly, ids renumbered). With `dry_run` nothing is stored: the answer
/// lists what would be. Conversations already imported (their `additional_data.import_source`) are not added
/// again. Images, files and another app's tool calls are not carried: the report counts them.
#[utoipa::path(post, path = "/api/chat/import/", tag = "chat", security(("session" = []), ("token" = []), ("jwt" = [])),
    params(("dry_run" = Option<bool>, Query, description = "Only say what would be imported (also a form field)")),
    request_body(content((ImportForm = "multipart/form-data"), (Object = "application/json")),
        description = "The export, as a form's `file` or as the body itself"),
    responses((status = 201, body = ImportReport, description = "Conversations imported"),
        (status = 200, body = ImportReport, description = "A preview, or nothing new to import"),
        AuthErrors, BodyErrors))]
async fn import(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiQuery(params): ApiQuery<ImportParams>,
    request: Request,
) -> Result<Response, ApiError> {
    let (bytes, form_dry_run) = read_import_body(&state, request).await?;
    let dry_run = params.dry_run.unwrap_or(false) || form_dry_run;
    let found = service::read_import(&state, bytes).await?;
    let report = service::import_found(&state, &user, &found, dry_run).await?;
    let status = if !dry_run && report.imported > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(report)).into_response())
}
