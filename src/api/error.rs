//! Errors of the REST API in Django REST Framework's shapes, and a JSON body extractor that reports bad input in
//! them (never a 500).

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::core::error::AppError;

/// An API error: a domain error ([`AppError`], rendered in DRF's shapes by `core::error`), or one of the answers
/// only the REST protocol has.
#[derive(Debug)]
pub enum ApiError {
    /// What the services answered.
    App(AppError),
    /// `{"detail": "…"}` for a protocol problem the domain has no word for (an unsupported media type, a bad token).
    Detail(StatusCode, String),
    /// A body of the original backend's own shape (`{error}`, `{errors}`, `{message}`), as API.md names them.
    Body(StatusCode, Value),
    /// DRF's request throttle: 429 `{"detail": "Request was throttled. …"}` with `Retry-After`.
    Throttled(u64),
}

impl ApiError {
    /// 401 for a request without credentials.
    pub fn unauthenticated() -> Self {
        Self::App(AppError::Unauthenticated)
    }

    /// 429 in DRF's words, with `Retry-After: seconds`.
    pub fn throttled(seconds: u64) -> Self {
        Self::Throttled(seconds.max(1))
    }

    /// The error in the services' terms, for a page (a form post's refusal): the protocol's own details become a bad
    /// request with their text.
    pub fn into_app_error(self) -> AppError {
        match self {
            Self::App(error) => error,
            Self::Detail(_, detail) => AppError::BadRequest(crate::core::i18n::Text::new(|_| detail.clone())),
            Self::Body(_, body) => AppError::BadRequest(crate::core::i18n::Text::new(|_| body.to_string())),
            Self::Throttled(seconds) => AppError::Throttled(seconds),
        }
    }

    /// A server failure: the cause is logged, the client gets a fixed message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self::App(AppError::internal("api request", cause))
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self::App(error)
    }
}

/// Failures the services' errors already name, through [`AppError`].
macro_rules! through_app_error {
    ($($cause:ty),*) => {$(
        impl From<$cause> for ApiError {
            fn from(cause: $cause) -> Self {
                Self::App(cause.into())
            }
        }
    )*};
}

through_app_error!(
    sqlx::Error,
    axum_login::Error<crate::accounts::auth::Backend>,
    tower_sessions::session::Error
);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match self {
            Self::App(error) => error.into_response(),
            Self::Detail(status, detail) => (status, axum::Json(json!({ "detail": detail }))).into_response(),
            Self::Body(status, body) => (status, axum::Json(body)).into_response(),
            Self::Throttled(seconds) => {
                let detail = format!("Request was throttled. Expected available in {seconds} seconds.");
                let mut response =
                    (StatusCode::TOO_MANY_REQUESTS, axum::Json(json!({ "detail": detail }))).into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                response
            }
        };
        if response.status() == StatusCode::UNAUTHORIZED {
            let headers = response.headers_mut();
            headers.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Token realm=\"api\""),
            );
            headers.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"api\""),
            );
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
pub(crate) fn form_fields(pairs: impl Iterator<Item = (String, String)>) -> Value {
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
pub(crate) fn decode_error(e: serde_json::Error) -> ApiError {
    let text = e.to_string();
    if let Some(field) = text.strip_prefix("missing field `").and_then(|r| r.split('`').next()) {
        AppError::invalid(field, crate::text!(core.field.required)).into()
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
            .map_err(|_| AppError::NotFound.into())
    }
}
