//! Security middleware: response headers, the Content-Security-Policy of pages, cross-origin (CSRF) protection of
//! unsafe requests, the request body limit, and the check that keeps redirects on our own site.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::Limited;

use crate::core::error::AppError;
use crate::core::state::AppState;

/// CSP for anything that is not a rendered page (JSON, files): nothing may load or frame it.
const STRICT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Adds the security headers every response carries, unless a handler set its own.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    set(HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(header::CONTENT_SECURITY_POLICY, STRICT_CSP);
    if state.config.is_production() && state.config.security.hsts_seconds > 0 {
        let value = format!("max-age={}; includeSubDomains", state.config.security.hsts_seconds);
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.entry(header::STRICT_TRANSPORT_SECURITY).or_insert(value);
        }
    }
    res
}

/// The policy of a rendered page: scripts only from us or with this response's nonce, WASM allowed to compile,
/// nothing from other origins. Development adds the live-reload websocket of `cargo leptos watch`.
pub fn page_csp(nonce: &str, development: bool) -> String {
    let connect = if development { "'self' ws: wss:" } else { "'self'" };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; font-src 'self'; connect-src {connect}; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Refuses unsafe requests (POST, PUT, PATCH, DELETE) that a browser sent from another site.
///
/// A browser always says where a request comes from, in `Origin` or at least `Sec-Fetch-Site`; we accept our own
/// origin (the `Host` the browser addressed, or `SITE_URL`) and `CORS_ALLOWED_ORIGINS`. Requests carrying an
/// `Authorization` header hold no ambient credential and are exempt, as are non-browser clients that send neither
/// header. Plain HTML form posts keep working, since browsers send `Origin` on them.
pub async fn check_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) || req.headers().contains_key(header::AUTHORIZATION)
    {
        return next.run(req).await;
    }
    if let Err(reason) = origin_allowed(&state, req.headers()) {
        tracing::warn!(%reason, "cross-origin request refused");
        let path = req.uri().path().to_string();
        return AppError::Forbidden(format!("CSRF Failed: {reason}")).render(&path, req.headers());
    }
    next.run(req).await
}

fn origin_allowed(state: &AppState, headers: &HeaderMap) -> Result<(), String> {
    let text = |name: HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase)
    };
    match text(header::ORIGIN) {
        // Privacy-sensitive contexts send the literal "null": never ours.
        Some(origin) if origin != "null" => {
            let host = text(header::HOST).unwrap_or_default();
            let same_host = origin.strip_prefix("https://").or_else(|| {
                // Plain HTTP counts as our own origin only outside production.
                if state.config.is_production() {
                    None
                } else {
                    origin.strip_prefix("http://")
                }
            }) == Some(host.as_str());
            if same_host || state.config.trusted_origins().any(|trusted| trusted == origin) {
                Ok(())
            } else {
                Err(format!(
                    "Origin checking failed - {origin} does not match any trusted origins."
                ))
            }
        }
        Some(_) => Err("Origin checking failed - null does not match any trusted origins.".into()),
        None => match text(HeaderName::from_static("sec-fetch-site")).as_deref() {
            Some("cross-site") | Some("same-site") => Err("the request came from another site.".into()),
            _ => Ok(()),
        },
    }
}

/// Answers 413 for a declared body over the limit, and caps streamed bodies at the same size.
pub async fn limit_body(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = state.config.limits.max_request_body_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        let path = req.uri().path().to_string();
        return AppError::PayloadTooLarge { limit }.render(&path, req.headers());
    }
    next.run(req.map(|body| Body::new(Limited::new(body, limit)))).await
}

/// `next` if it is a path on this site (`/…`, not `//host` or `/\host`), otherwise `/`: no open redirects.
pub fn safe_next(next: &str) -> &str {
    let same_site = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if same_site { next } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_our_site() {
        assert_eq!(safe_next("/chat/3?x=1"), "/chat/3?x=1");
        for hostile in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/a\nb",
        ] {
            assert_eq!(safe_next(hostile), "/", "{hostile:?}");
        }
    }
}
