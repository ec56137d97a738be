//! `/api/files/…`: uploads (multipart, streamed), a file's details, its bytes and its deletion — only ever the
//! caller's own files (another user's ids answer 404). Also the multipart reading that the send routes share.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::users::User;
use crate::api::auth::ApiUser;
use crate::api::error::{ApiError, ApiPath};
use crate::api::schema::{AuthErrors, BodyErrors, NotFound};
use crate::core::error::AppError;
use crate::core::time::iso;
use crate::files::service::{self, FileRow};
use crate::state::AppState;

/// The file routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(detail, remove))
        .routes(routes!(content))
}

/// The routes that take `multipart/form-data` with files: only their bodies may be larger than
/// `MAX_REQUEST_BODY_BYTES` (`core::security::limit_body`).
pub const UPLOAD_ROUTES: &[&str] = &[
    "/api/files/",
    "/api/chat/conversations/",
    "/api/chat/conversations/{id}/messages/",
];

/// A file.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileOut {
    /// Primary key: what `attachments` lists when sending a message.
    pub id: i64,
    /// The name (sanitised; an image re-encoded to PNG or JPEG takes that extension).
    pub name: String,
    /// MIME type, sniffed from the bytes.
    #[serde(rename = "type")]
    pub content_type: String,
    /// Bytes stored.
    pub size: i64,
    /// RFC 3339.
    pub created_at: String,
    /// `image` (sent to vision models) or `document` (its text goes into the prompt).
    pub kind: String,
    /// Pixels, for an image (after downscaling).
    pub width: Option<i64>,
    /// See `width`.
    pub height: Option<i64>,
    /// Pages, for a PDF.
    pub pages: Option<i64>,
    /// Where its bytes are.
    pub content_url: String,
}

impl From<&FileRow> for FileOut {
    fn from(f: &FileRow) -> Self {
        Self {
            id: f.id,
            name: f.name.clone(),
            content_type: f.content_type.clone(),
            size: f.size,
            created_at: iso(f.created_at),
            kind: f.kind.clone(),
            width: f.width,
            height: f.height,
            pages: f.pages,
            content_url: format!("/api/files/{}/content/", f.id),
        }
    }
}

/// The multipart body of an upload.
#[derive(ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    /// The file (any field name; one file per request).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// What a multipart body held: its text fields (in order) and the files it carried, already uploaded.
#[derive(Debug, Default)]
pub struct Multipart {
    /// Text fields.
    pub fields: Vec<(String, String)>,
    /// Files, stored as the user's.
    pub files: Vec<FileRow>,
}

fn parse_error() -> ApiError {
    ApiError::Detail(StatusCode::BAD_REQUEST, "Multipart form parse error.".to_string())
}

/// Reads a `multipart/form-data` body: text fields are kept, each file part is uploaded as it streams in (at most
/// `max_files`). On a refusal the files already stored by this request are deleted again.
pub async fn read_multipart(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    body: Body,
    max_files: usize,
) -> Result<Multipart, ApiError> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(media).map_err(|_| {
        ApiError::Detail(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Unsupported media type \"{media}\" in request."),
        )
    })?;
    let limits = &state.files.config;
    let constraints = multer::Constraints::new().size_limit(
        multer::SizeLimit::new()
            // Above the file limit: the upload's own count refuses first, with a message that names the limit.
            .per_field(limits.max_file_bytes.saturating_add(64 << 10))
            .whole_stream(state.config.max_upload_body_bytes()),
    );
    let mut form = multer::Multipart::with_constraints(body.into_data_stream(), boundary, constraints);
    let mut out = Multipart::default();
    let mut text_bytes = 0usize;
    let outcome = async {
        while let Some(field) = form.next_field().await.map_err(|_| parse_error())? {
            let name = field.name().unwrap_or_default().to_string();
            match field.file_name().map(str::to_string) {
                // A form's file input with nothing chosen still sends a part, nameless and empty.
                // A file with content but no name is refused, never dropped.
                Some(file_name) if file_name.is_empty() => {
                    let mut field = field;
                    while let Some(chunk) = field.chunk().await.map_err(|_| parse_error())? {
                        if !chunk.is_empty() {
                            return Err(AppError::invalid("file", crate::text!(files.refuse.name_required)).into());
                        }
                    }
                }
                Some(file_name) => {
                    if out.files.len() >= max_files {
                        return Err(AppError::invalid(
                            "attachments",
                            crate::text!(files.refuse.too_many, max = max_files),
                        )
                        .into());
                    }
                    let row = service::upload(state, user, &file_name, Box::pin(field)).await?;
                    out.files.push(row);
                }
                None => {
                    // Text fields together stay within the ordinary body limit; only files may be large.
                    let mut field = field;
                    let mut bytes = Vec::new();
                    while let Some(chunk) = field.chunk().await.map_err(|_| parse_error())? {
                        text_bytes += chunk.len();
                        if text_bytes > state.config.limits.max_request_body_bytes {
                            return Err(ApiError::Detail(
                                StatusCode::PAYLOAD_TOO_LARGE,
                                "Request body is too large.".to_string(),
                            ));
                        }
                        bytes.extend_from_slice(&chunk);
                    }
                    let text = String::from_utf8(bytes).map_err(|_| parse_error())?;
                    out.fields.push((name, text));
                }
            }
        }
        Ok::<(), ApiError>(())
    }
    .await;
    if let Err(e) = outcome {
        service::discard(state, user, &out.files).await;
        return Err(e);
    }
    Ok(out)
}

/// A route's body as [`ApiJson`](crate::api::error::ApiJson) reads it, and — when it is `multipart/form-data` —
/// the files its parts carry, uploaded first (at most a message's worth). Files are never dropped silently.
pub async fn body_with_files<T: serde::de::DeserializeOwned>(
    state: &AppState,
    user: &User,
    request: Request,
) -> Result<(T, Vec<FileRow>), ApiError> {
    use axum::extract::FromRequest;
    if !crate::core::security::is_multipart(request.headers()) {
        let crate::api::error::ApiJson(body) = crate::api::error::ApiJson::<T>::from_request(request, state).await?;
        return Ok((body, Vec::new()));
    }
    let (parts, body) = request.into_parts();
    let form = read_multipart(
        state,
        user,
        &parts.headers,
        body,
        state.files.config.max_files_per_message,
    )
    .await?;
    let fields = crate::api::error::form_fields(form.fields.into_iter());
    match serde_json::from_value::<T>(fields) {
        Ok(body) => Ok((body, form.files)),
        Err(e) => {
            service::discard(state, user, &form.files).await;
            Err(crate::api::error::decode_error(e))
        }
    }
}

/// Uploads one file (`multipart/form-data`, any field name). Images are re-encoded (upright, at most 1540 px a side,
/// without metadata); a document's text is extracted. The type is sniffed from the bytes.
#[utoipa::path(post, path = "/api/files/", tag = "files", security(("session" = []), ("token" = []), ("jwt" = [])),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = FileOut, description = "Stored",
        links(
            ("detail" = (operation_id = "detail_file", parameters(("id" = "$response.body#/id")))),
            ("content" = (operation_id = "content", parameters(("id" = "$response.body#/id")))),
            ("remove" = (operation_id = "remove_file", parameters(("id" = "$response.body#/id"))))
        )),
        AuthErrors, BodyErrors))]
async fn upload(State(state): State<AppState>, ApiUser(user): ApiUser, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let form = read_multipart(&state, &user, &parts.headers, body, 1).await?;
    let Some(file) = form.files.first() else {
        return Err(AppError::invalid("file", crate::text!(core.field.required)).into());
    };
    let mut response = (StatusCode::CREATED, axum::Json(FileOut::from(file))).into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/files/{}/", file.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

fn id_of(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| AppError::NotFound.into())
}

/// A file's details.
#[utoipa::path(get, path = "/api/files/{id}/", tag = "files", operation_id = "detail_file", security(("session" = []), ("token" = []), ("jwt" = [])),
    params(("id" = i64, Path, description = "File id")),
    responses((status = 200, body = FileOut), AuthErrors, NotFound))]
async fn detail(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<axum::Json<FileOut>, ApiError> {
    let file = service::file(&state, &user, id_of(&id)?).await?;
    Ok(axum::Json(FileOut::from(&file)))
}

/// Deletes a file that no message carries (one that is attached goes with its message or conversation).
#[utoipa::path(delete, path = "/api/files/{id}/", tag = "files", operation_id = "remove_file", security(("session" = []), ("token" = []), ("jwt" = [])),
    params(("id" = i64, Path, description = "File id")),
    responses((status = 204, description = "Deleted"), (status = 400, body = crate::api::schema::BadRequest, description = "Attached to a message"), AuthErrors, NotFound))]
async fn remove(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    service::delete(&state, &user, id_of(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The file's bytes: raster images inline, everything else as a download; never rendered as a page.
#[utoipa::path(get, path = "/api/files/{id}/content/", tag = "files", security(("session" = []), ("token" = []), ("jwt" = [])),
    params(("id" = i64, Path, description = "File id")),
    responses((status = 200, description = "The bytes, as the file's type (JSON and other text as `text/*`)", content(
            (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/webp"), (Vec<u8> = "image/gif"),
            (Vec<u8> = "application/pdf"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
            (String = "text/plain"), (String = "text/markdown"), (String = "text/csv"), (String = "text/html"),
            (String = "text/x-code"))),
        (status = 304, description = "Not modified (`If-None-Match`)"), AuthErrors, NotFound))]
async fn content(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let file = service::file(&state, &user, id_of(&id)?).await?;
    serve(&state, &file, &headers).await
}

/// The response for a file's bytes, with the headers that keep it from being run as a page: `nosniff`, a sandbox
/// CSP, `attachment` for everything but raster images, the name sanitised for the header.
pub async fn serve(state: &AppState, file: &FileRow, request: &HeaderMap) -> Result<Response, ApiError> {
    let etag = format!("\"{}\"", file.sha256);
    let mut response = if request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let stream = state
            .files
            .storage
            .stream(&file.storage_key)
            .await
            .map_err(AppError::from)?;
        let mut response = Response::new(Body::from_stream(stream));
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(file.size.max(0)));
        response
    };
    let inline = matches!(
        file.content_type.as_str(),
        "image/png" | "image/jpeg" | "image/webp" | "image/gif"
    );
    let headers = response.headers_mut();
    // JSON is served as text: a download either way, and never a body the API's clients would parse as an answer.
    let media = match file.content_type.as_str() {
        "application/json" => "text/plain; charset=utf-8".to_string(),
        text if text.starts_with("text/") => format!("{text}; charset=utf-8"),
        other => other.to_string(),
    };
    if let Ok(value) = HeaderValue::from_str(&media) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(&content_disposition(inline, &file.name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"),
    );
    headers.insert(
        header::HeaderName::from_static("cross-origin-resource-policy"),
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    Ok(response)
}

/// `inline` or `attachment` with the name: an ASCII fallback and the UTF-8 name (RFC 6266).
pub fn content_disposition(inline: bool, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && !matches!(c, '"' | '\\' | ';' | '%') || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    let kind = if inline { "inline" } else { "attachment" };
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn names_in_headers_cannot_break_out() {
        assert_eq!(
            content_disposition(false, "re\"port;.pdf"),
            "attachment; filename=\"re_port_.pdf\"; filename*=UTF-8''re%22port%3B.pdf"
        );
        assert_eq!(
            content_disposition(true, "été.png"),
            "inline; filename=\"_t_.png\"; filename*=UTF-8''%C3%A9t%C3%A9.png"
        );
    }
}
