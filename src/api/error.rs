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

/// A JSON request body; malformed JSON, a wrong media type or missing fields answer in DRF's shapes.
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
        if !media.starts_with("application/json") {
            return Err(ApiError::Detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("Unsupported media type \"{media}\" in request."),
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::Detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large.".to_string())
            } else {
                ApiError::Detail(
                    StatusCode::BAD_REQUEST,
                    "The request body could not be read.".to_string(),
                )
            }
        })?;
        serde_json::from_slice(&bytes).map(ApiJson).map_err(|e| {
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
        })
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
