//! The REST API under `/api/`, the contract of the original backend (../shared/API.md): DRF-shaped errors, session
//! authentication with CSRF, and routes that call the same services as the pages. Server only.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod chat;
pub mod docs;
pub mod error;
pub mod files;
pub mod imports;
pub mod lenient;
pub mod limits;
pub mod list_cache;
pub mod openai;
pub mod schema;
pub mod shares;

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::cors::{AllowOrigin, CorsLayer};
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::error::ApiError;
use crate::state::AppState;

/// The frame of the OpenAPI document; the paths and shapes come from the routes themselves.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "ThiCode API",
        description = "The REST API of ThiCode: the routes and JSON shapes of the original thiCodeDjango backend, \
            plus personal tokens, JWT and streaming. Errors use Django REST Framework's shapes.",
        license(name = "MIT")
    ),
    modifiers(&SecuritySchemes),
    // Shapes only reachable through the shared error responses (`schema::AuthErrors` …) are listed here; the rest are
    // collected from the routes.
    components(schemas(
        schema::Detail, schema::BadRequest, schema::FieldErrors, schema::QuotaErrors, schema::ErrorText, schema::ErrorsOut,
        schema::ResetError, schema::TokenNotValid
    )),
    tags(
        (name = "accounts", description = "Register, log in, the current user, settings, password reset"),
        (name = "tokens", description = "Personal API tokens (`Authorization: Token <key>` or `Bearer <key>`)"),
        (name = "jwt", description = "JSON Web Tokens: short-lived access, rotating refresh"),
        (name = "chat", description = "Conversations and messages; replies generated in the background"),
        (name = "files", description = "Attachments: upload, read, delete; send them with `attachments` on a message"),
        (name = "admin", description = "Administration, for staff: users and the audit log"),
        (name = "openai", description = "The OpenAI-compatible API under `/v1/`: point any OpenAI or Mistral SDK at \
            `<site>/v1` with a personal API token as its key. Errors have OpenAI's shape `{error: {message, type, \
            param, code}}`.")
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::accounts::auth::SESSION_COOKIE,
                "The web session (log in with `POST /api/accounts/api/login/`). Unsafe methods need the \
                 `X-CSRFToken` header equal to the `csrftoken` cookie (from `GET /api/csrf/`), or a trusted `Origin`.",
            ))),
        );
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Token <key>` with a personal API token (created in Settings → API tokens or with \
                 `POST /api/accounts/tokens/`). No CSRF token needed.",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "`Bearer <key>` with a personal API token, of either scope (the `/v1/` API only).",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "jwt",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "`Bearer <access>` from `POST /api/token/` (or `Bearer <key>` with a personal token).",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every API route with its OpenAPI document: CORS, DRF-shaped 405s, the per-address limit on the anonymous routes,
/// `/api/openapi.json` and the `/api/docs/` page.
pub fn routes(state: &AppState) -> Router<AppState> {
    let (router, mut doc) = documented(state).split_for_parts();
    let (v1, v1_doc) = openai::documented().split_for_parts();
    doc.merge(v1_doc);
    let doc = std::sync::Arc::new(document_json(&doc));
    let json = doc.clone();
    router
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = json.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route("/api/docs/", get(move || docs::page(doc.clone())))
        .layer(middleware::from_fn(method_not_allowed))
        .layer(cors(state))
        .merge(openai::layered(v1))
}

/// The OpenAPI document of the API, as `/api/openapi.json` serves it.
pub fn openapi(state: &AppState) -> serde_json::Value {
    let mut doc = documented(state).split_for_parts().1;
    doc.merge(openai::documented().split_for_parts().1);
    document_json(&doc)
}

/// The document as JSON. utoipa 5.5 writes the fields of Link objects in snake case (`operation_id`); the
/// specification (and every client) expects `operationId`, `operationRef` and `requestBody`.
fn document_json(doc: &Document) -> serde_json::Value {
    let mut value = serde_json::to_value(doc).unwrap_or_default();
    if let Some(paths) = value.get_mut("paths").and_then(serde_json::Value::as_object_mut) {
        for operation in paths.values_mut().filter_map(serde_json::Value::as_object_mut) {
            for op in operation.values_mut() {
                let Some(responses) = op.get_mut("responses").and_then(serde_json::Value::as_object_mut) else {
                    continue;
                };
                for response in responses.values_mut() {
                    let Some(links) = response.get_mut("links").and_then(serde_json::Value::as_object_mut) else {
                        continue;
                    };
                    for link in links.values_mut().filter_map(serde_json::Value::as_object_mut) {
                        for (from, to) in [
                            ("operation_id", "operationId"),
                            ("operation_ref", "operationRef"),
                            ("request_body", "requestBody"),
                        ] {
                            if let Some(v) = link.remove(from) {
                                link.insert(to.to_string(), v);
                            }
                        }
                    }
                }
            }
        }
    }
    value
}

fn documented(state: &AppState) -> OpenApiRouter<AppState> {
    let anonymous = OpenApiRouter::new()
        .routes(routes!(auth::csrf))
        .merge(accounts::anonymous_routes())
        .merge(shares::anonymous_routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), limits::anonymous));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(anonymous)
        .merge(accounts::routes())
        .merge(chat::routes())
        .merge(shares::routes())
        .merge(imports::routes())
        .merge(files::routes())
        .merge(admin::routes())
}

/// CORS for the configured origins: credentials allowed, `X-CSRFToken` and `Authorization` accepted, preflight
/// answers cached for a day.
fn cors(state: &AppState) -> CorsLayer {
    let origins: Vec<_> = state
        .config
        .security
        .cors_allowed_origins
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::ACCEPT,
            header::HeaderName::from_static("x-csrftoken"),
            header::HeaderName::from_static("x-requested-with"),
        ])
        .expose_headers([header::LOCATION, header::RETRY_AFTER, header::WWW_AUTHENTICATE])
        .max_age(std::time::Duration::from_secs(86_400))
}

/// axum answers a known path with the wrong method by an empty 405 carrying `Allow`; API clients get DRF's body.
async fn method_not_allowed(req: Request, next: Next) -> Response {
    with_405_body(req, next, |method| {
        ApiError::Detail(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Method \"{method}\" not allowed."),
        )
        .into_response()
    })
    .await
}

/// Runs the request; an empty 405 from axum is replaced by `body(method)`, keeping its `Allow` header.
pub(crate) async fn with_405_body(req: Request, next: Next, body: impl FnOnce(&Method) -> Response) -> Response {
    let method = req.method().clone();
    let res = next.run(req).await;
    if res.status() != StatusCode::METHOD_NOT_ALLOWED {
        return res;
    }
    let allow = res.headers().get(header::ALLOW).cloned();
    let mut out = body(&method);
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}
