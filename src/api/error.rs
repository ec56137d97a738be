//! Errors of the REST API in Django REST Framework's shapes, and a JSON body extractor that reports bad input in
//! them (never a 500).

use std::collections::BTreeMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// Message DRF sends for anonymous requests to protected routes.
pub const NOT_AUTHENTICATED: &str = "Authentication credentials were not provided.";

/// An API error.
#[derive(Debug)]
pub enum ApiError {
    /// `{"detail": "…"}` with a status (401 also gets `WWW-Authenticate`).
    Detail(StatusCode, String),
    /// 400 `{"field": ["message", …]}`.
    Fields(BTreeMap<String, Vec<String>>),
    /// A body of the original backend's own shape (`{error}`, `{errors}`, `{message}`), as API.md names them.
    Body(StatusCode, Value),
    /// 429 `{"detail": "…"}` with `Retry-After`.
    Throttled {
        /// Seconds to wait.
        seconds: u64,
        /// What to tell the client.
        detail: String,
    },
}

impl ApiError {
    /// 401 for a request without credentials.
    pub fn unauthenticated() -> Self {
        Self::Detail(StatusCode::UNAUTHORIZED, NOT_AUTHENTICATED.to_string())
    }

    /// 429 in DRF's words, with `Retry-After: seconds`.
    pub fn throttled(seconds: u64) -> Self {
        let seconds = seconds.max(1);
        Self::Throttled {
            seconds,
            detail: format!("Request was throttled. Expected available in {seconds} seconds."),
        }
    }

    /// A server failure: the cause is logged, the client gets a fixed message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "api request failed");
        Self::Detail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "A server error occurred.".to_string(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            Self::Throttled { seconds, .. } => Some(*seconds),
            _ => None,
        };
        let (status, body) = match self {
            Self::Detail(status, detail) => (status, json!({ "detail": detail })),
            Self::Fields(fields) => (StatusCode::BAD_REQUEST, json!(fields)),
            Self::Body(status, body) => (status, body),
            Self::Throttled { detail, .. } => (StatusCode::TOO_MANY_REQUESTS, json!({ "detail": detail })),
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            headers.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Token realm=\"api\""),
            );
            headers.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"api\""),
            );
        }
        if let Some(seconds) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// A request body in any encoding DRF's default parsers read — JSON, a URL-encoded form, or a multipart form (its
/// text fields) — so clients of the original backend keep working whatever they send. Malformed bodies, other media
/// types or missing fields answer in DRF's shapes.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let media = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let kind = media.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        let unreadable = |e: axum::extract::rejection::BytesRejection| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::Detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large.".to_string())
            } else {
                ApiError::Detail(
                    StatusCode::BAD_REQUEST,
                    "The request body could not be read.".to_string(),
                )
            }
        };
        if kind == "application/json" || (kind.starts_with("application/") && kind.ends_with("+json")) {
            let bytes = axum::body::Bytes::from_request(req, state).await.map_err(unreadable)?;
            return serde_json::from_slice(&bytes).map(ApiJson).map_err(decode_error);
        }
        let fields = if kind == "application/x-www-form-urlencoded" {
            let bytes = axum::body::Bytes::from_request(req, state).await.map_err(unreadable)?;
            form_fields(form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), v.into_owned())))
        } else if kind == "multipart/form-data" {
            multipart_fields(req, state).await?
        } else {
            return Err(ApiError::Detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported media type \"{media}\" in request."),
            ));
        };
        serde_json::from_value(fields).map(ApiJson).map_err(decode_error)
    }
}

/// Form fields as a JSON object of texts; a name sent several times becomes a list.
fn form_fields(pairs: impl Iterator<Item = (String, String)>) -> Value {
    let mut object = serde_json::Map::new();
    for (key, value) in pairs {
        match object.get_mut(&key) {
            None => {
                object.insert(key, Value::String(value));
            }
            Some(Value::Array(items)) => items.push(Value::String(value)),
            Some(first) => {
                let first = first.take();
                object.insert(key, Value::Array(vec![first, Value::String(value)]));
            }
        }
    }
    Value::Object(object)
}

/// The text fields of a multipart form (files are not read).
async fn multipart_fields<S: Send + Sync>(req: Request, state: &S) -> Result<Value, ApiError> {
    let bad = || ApiError::Detail(StatusCode::BAD_REQUEST, "Multipart form parse error.".to_string());
    let mut form = axum::extract::Multipart::from_request(req, state)
        .await
        .map_err(|_| bad())?;
    let mut pairs = Vec::new();
    while let Some(field) = form.next_field().await.map_err(|_| bad())? {
        let Some(name) = field.name().map(str::to_string) else {
            continue;
        };
        if field.file_name().is_some() {
            continue;
        }
        pairs.push((name, field.text().await.map_err(|_| bad())?));
    }
    Ok(form_fields(pairs.into_iter()))
}

/// A body that does not fit the route's fields, in DRF's shapes.
fn decode_error(e: serde_json::Error) -> ApiError {
    let text = e.to_string();
    if let Some(field) = text.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
        ApiError::Fields(BTreeMap::from([(
            field.to_string(),
            vec!["This field is required.".to_string()],
        )]))
    } else if e.is_data() {
        ApiError::Detail(
            StatusCode::BAD_REQUEST,
            format!("Invalid data: {}", text.split(" at line").next().unwrap_or_default()),
        )
    } else {
        ApiError::Detail(StatusCode::BAD_REQUEST, "JSON parse error.".to_string())
    }
}

/// Query parameters; ones that cannot be read (a repeated or malformed field) answer 400 `{detail}`.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|e| {
                ApiError::Detail(
                    StatusCode::BAD_REQUEST,
                    format!("Invalid query string: {}", e.body_text()),
                )
            })
    }
}

/// Path parameters; ones that cannot be read (not UTF-8 once decoded) name nothing that exists: 404 `{detail}`.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|_| ApiError::Detail(StatusCode::NOT_FOUND, "Not found.".to_string()))
    }
}
