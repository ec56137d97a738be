//! Security middleware: response headers, the Content-Security-Policy of pages, cross-origin (CSRF) protection of
//! unsafe requests, the request body limit, and the check that keeps redirects on our own site.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body_util::Limited;

use crate::core::document::safe_next;
use crate::core::error::AppError;
use std::sync::Arc;

use crate::core::config::Config;

/// CSP for anything that is not a rendered page (JSON, files, plain error pages): nothing may load or frame it.
pub const STRICT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The CSP nonce of one request, chosen by [`security_headers`] before the request is handled: the page's scripts
/// carry it (the router's context gives it to Leptos) and the same middleware writes it into the page's policy.
#[derive(Debug, Clone)]
pub struct PageNonce(pub leptos::nonce::Nonce);

/// Adds the security headers every response carries, unless a handler set its own. A page (HTML) gets the page
/// policy with the nonce its scripts carry — decided here, from this request's own nonce, so no page can leave without
/// it; everything else gets the strict policy.
pub async fn security_headers(State(config): State<Arc<Config>>, mut req: Request, next: Next) -> Response {
    let nonce = leptos::nonce::Nonce::new();
    req.extensions_mut().insert(PageNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let is_html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    let headers = res.headers_mut();
    if is_html
        && !headers.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(policy) = HeaderValue::from_str(&page_csp(&nonce, !config.is_production()))
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    let mut set = |name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    set(HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(header::CONTENT_SECURITY_POLICY, STRICT_CSP);
    if config.is_production() && config.security.hsts_seconds > 0 {
        let value = format!("max-age={}; includeSubDomains", config.security.hsts_seconds);
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.entry(header::STRICT_TRANSPORT_SECURITY).or_insert(value);
        }
    }
    res
}

/// Gives this request's nonce ([`PageNonce`]) to the page being rendered; the router's context calls it.
pub fn provide_page_nonce() {
    let nonce = leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<PageNonce>().map(|n| n.0.clone()));
    match nonce {
        Some(nonce) => leptos::prelude::provide_context(nonce),
        // Rendered outside the middleware stack (never in the app): a nonce the policy will not name, so the
        // page's scripts are refused rather than allowed.
        None => leptos::nonce::provide_nonce(),
    }
}

/// Runs each request with a reactive owner of its own. Leptos keeps the current owner in a thread-local that a page
/// render sets and leaves behind; a server function or a static file that Leptos handles next on the same worker
/// thread would make its owner a child of that page's, and read — and take — the page's contexts: its response
/// headers (the page policy, a redirect, a cookie of another visitor), its language, its nonce. Under a root owner of
/// its own, a request sees only what it provided itself.
pub async fn isolate_reactive_owner(req: Request, next: Next) -> Response {
    leptos::reactive::computed::ScopedFuture {
        owner: leptos::prelude::Owner::new_root(None),
        observer: None,
        fut: next.run(req),
    }
    .await
}

/// The policy of a rendered page: scripts only from us or with this response's nonce, WASM allowed to compile,
/// nothing from other origins. Development adds the live-reload websocket of `cargo leptos watch`.
pub fn page_csp(nonce: &str, development: bool) -> String {
    let connect = if development { "'self' ws: wss:" } else { "'self'" };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data: blob:; font-src 'self'; connect-src {connect}; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Marks a request that is authenticated by a credential no browser attaches by itself (an API token in
/// `Authorization`, checked before this middleware runs): it cannot be forged cross-site, so [`check_origin`] lets it
/// through. Nothing else is exempt — not an `Authorization` header as such, since browsers attach saved HTTP
/// Basic/Digest/NTLM credentials to cross-site form posts.
#[derive(Debug, Clone, Copy)]
pub struct CsrfExempt;

/// Refuses unsafe requests (POST, PUT, PATCH, DELETE) that a browser sent from another site.
///
/// A browser says where a request comes from, in `Origin` or at least `Sec-Fetch-Site`; we accept our own origin (the
/// `Host` the browser addressed, or `SITE_URL`) and `CORS_ALLOWED_ORIGINS`. Requests marked [`CsrfExempt`] pass.
/// A request that says neither (an old browser, a proxy that strips both, a script) must carry the CSRF token, as
/// Django asks: the `csrfmiddlewaretoken` field every form has (`core::csrf`) or an `X-CSRFToken` header, equal to
/// the `csrftoken` cookie. The REST API keeps DRF's rule instead (the token only on session-authenticated calls,
/// `api::auth`), so scripts of the original backend keep working.
pub async fn check_origin(State(config): State<Arc<Config>>, req: Request, next: Next) -> Response {
    if matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) || req.extensions().get::<CsrfExempt>().is_some()
    {
        return next.run(req).await;
    }
    let path = req.uri().path().to_string();
    if let Err(reason) = origin_allowed(&config, req.headers()) {
        tracing::warn!(%reason, "cross-origin request refused");
        return AppError::Forbidden(crate::core::error::Refusal::Csrf(reason.to_string())).render(&path, req.headers());
    }
    let says_where = req.headers().contains_key(header::ORIGIN)
        || req.headers().contains_key(HeaderName::from_static("sec-fetch-site"));
    let is_api = path == "/api" || path.starts_with("/api/");
    if says_where || is_api {
        return next.run(req).await;
    }
    let (req, outcome) = carries_token(&config, req).await;
    match outcome {
        Ok(()) => next.run(req).await,
        Err(TOO_LARGE) => AppError::PayloadTooLarge(config.limits.max_request_body_bytes).render(&path, req.headers()),
        Err(reason) => {
            tracing::warn!(%reason, "request without origin or token refused");
            AppError::Forbidden(crate::core::error::Refusal::Csrf(reason.to_string())).render(&path, req.headers())
        }
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn request_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| crate::core::document::cookie_value(v, name))
}

/// The body could not be read within `MAX_REQUEST_BODY_BYTES` (413, not a CSRF failure).
const TOO_LARGE: &str = "too large";

/// Whether the request carries the CSRF token of its `csrftoken` cookie, in `X-CSRFToken` or in a form body's
/// `csrfmiddlewaretoken` field (Django's reasons when not). The body is read to look and handed on unchanged.
async fn carries_token(config: &Config, req: Request) -> (Request, Result<(), &'static str>) {
    let Some(expected) = request_cookie(req.headers(), CSRF_COOKIE).filter(|t| is_csrf_token(t)) else {
        return (req, Err("CSRF cookie not set."));
    };
    let expected = expected.to_string();
    if let Some(sent) = req.headers().get("x-csrftoken").and_then(|v| v.to_str().ok()) {
        let outcome = if sent == expected {
            Ok(())
        } else {
            Err("CSRF token incorrect.")
        };
        return (req, outcome);
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (req, Err("CSRF token missing."));
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, config.limits.max_request_body_bytes).await else {
        return (Request::from_parts(parts, Body::empty()), Err(TOO_LARGE));
    };
    let sent = form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == crate::core::csrf::FORM_FIELD)
        .map(|(_, value)| value.into_owned());
    let outcome = match sent {
        None => Err("CSRF token missing."),
        Some(sent) if sent == expected => Ok(()),
        Some(_) => Err("CSRF token incorrect."),
    };
    (Request::from_parts(parts, Body::from(bytes)), outcome)
}

/// Gives every page the CSRF token its forms carry ([`crate::core::csrf::CsrfToken`]): the browser's `csrftoken`
/// cookie, or a new one, sent with the page (as Django's `get_token` does).
pub async fn ensure_csrf_cookie(State(config): State<Arc<Config>>, mut req: Request, next: Next) -> Response {
    let existing = request_cookie(req.headers(), CSRF_COOKIE)
        .filter(|t| is_csrf_token(t))
        .map(str::to_string);
    let fresh = existing.is_none();
    let token = existing.unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    req.extensions_mut().insert(crate::core::csrf::CsrfToken(token.clone()));
    let mut response = next.run(req).await;
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let sets_one = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.as_bytes().starts_with(CSRF_COOKIE.as_bytes()));
    if fresh
        && is_page
        && !sets_one
        && let Ok(value) = HeaderValue::from_str(&csrf_cookie(&config, &token))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Whether `origin` (`scheme://host[:port]`, lower case) is the `Host` the browser addressed: over HTTPS, or plain
/// HTTP outside production.
fn addresses_host(config: &Config, origin: &str, host: Option<&str>) -> bool {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://").filter(|_| !config.is_production()));
    host.is_some() && rest == host
}

/// Whether `origin` (lower case) is this site: the `Host` the browser addressed, or `SITE_URL`.
fn is_our_origin(config: &Config, origin: &str, host: Option<&str>) -> bool {
    addresses_host(config, origin, host) || origin == config.site_url.trim_end_matches('/').to_ascii_lowercase()
}

fn lower_header(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
}

fn origin_allowed(config: &Config, headers: &HeaderMap) -> Result<(), String> {
    let text = |name: HeaderName| lower_header(headers, name);
    match text(header::ORIGIN) {
        // Privacy-sensitive contexts send the literal "null": never ours.
        Some(origin) if origin != "null" => {
            let host = text(header::HOST);
            if addresses_host(config, &origin, host.as_deref())
                || config.trusted_origins().any(|trusted| trusted == origin)
            {
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

/// Whether a request was started by this site or by the person (typed address, bookmark), not by another site: its
/// `Sec-Fetch-Site` is `same-origin` or `none`; a browser that does not send that header must send an `Origin` (a
/// script's call) or a `Referer` (a navigation) of this site. For reads that leave a trace (a staff member's audited reading), which a cross-site link must not cause.
pub fn came_from_this_site(config: &Config, headers: &HeaderMap) -> bool {
    match lower_header(headers, HeaderName::from_static("sec-fetch-site")).as_deref() {
        Some("same-origin" | "none") => true,
        Some(_) => false,
        None => match lower_header(headers, header::ORIGIN) {
            Some(origin) => is_our_origin(config, &origin, lower_header(headers, header::HOST).as_deref()),
            None => same_origin_referer(config, headers).is_some(),
        },
    }
}

/// The page each server function's form is on, by the server function's path: where a failed no-JavaScript post goes
/// back to when its `Referer` is not a page of this site. The features list their forms; the router collects them.
#[derive(Debug, Clone, Default)]
pub struct FormPages(std::sync::Arc<std::collections::HashMap<&'static str, &'static str>>);

impl FormPages {
    /// The table of `(server function path, page)` pairs.
    pub fn new(pages: impl IntoIterator<Item = (&'static str, &'static str)>) -> Self {
        Self(std::sync::Arc::new(pages.into_iter().collect()))
    }

    /// The page of the form posting to `path`; the home page for a server function no form posts to.
    pub fn page_of(&self, path: &str) -> &'static str {
        self.0.get(path).copied().unwrap_or("/")
    }
}

/// Leptos sends a plain form post to a server function back to its `Referer`, as given (with the error in the
/// query). Before it runs, the `Referer` of every server-function request becomes a path on this site: its own path
/// when it is a page of this origin, else the page of the form ([`FormPages`]) — never another site.
pub async fn safe_referer(
    State((config, pages)): State<(Arc<Config>, FormPages)>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if path.starts_with(env!("SERVER_FN_PREFIX")) {
        let target = same_origin_referer(&config, req.headers())
            .unwrap_or_else(|| format!("{}{}", own_origin(&config, req.headers()), pages.page_of(path)));
        let value = HeaderValue::from_str(&target).unwrap_or(HeaderValue::from_static("/"));
        req.headers_mut().insert(header::REFERER, value);
    }
    next.run(req).await
}

/// Our origin as the browser addressed it: its `Origin` header when that names the `Host` it sent the request to,
/// else `SITE_URL`. (Leptos puts the error into the query of an absolute URL; a path alone would lose it.)
fn own_origin(config: &Config, headers: &HeaderMap) -> String {
    let host = lower_header(headers, header::HOST);
    match lower_header(headers, header::ORIGIN) {
        Some(origin) if addresses_host(config, &origin, host.as_deref()) => origin,
        _ => config.site_url.trim_end_matches('/').to_string(),
    }
}

/// The request's `Referer` when it is a page of this site ([`is_our_origin`]) with a path that [`safe_next`] accepts.
fn same_origin_referer(config: &Config, headers: &HeaderMap) -> Option<String> {
    let text = headers.get(header::REFERER)?.to_str().ok()?;
    let referer: axum::http::Uri = text.parse().ok()?;
    let origin = format!("{}://{}", referer.scheme_str()?, referer.authority()?).to_ascii_lowercase();
    if !is_our_origin(config, &origin, lower_header(headers, header::HOST).as_deref()) {
        return None;
    }
    let path = referer.path_and_query().map_or("/", |p| p.as_str());
    (safe_next(path) == path).then(|| text.to_string())
}

/// Whether the request's body is `multipart/form-data`.
pub fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// The routes that take files (`multipart/form-data` posts, each file streamed to storage as it arrives), as path
/// templates whose `{…}` segments match any one segment. The features list them; the router collects them.
#[derive(Debug, Clone, Default)]
pub struct UploadRoutes(
    std::sync::Arc<Vec<&'static str>>,
    std::sync::Arc<Vec<&'static str>>,
    std::sync::Arc<Vec<&'static str>>,
);

impl UploadRoutes {
    /// The templates (`/api/files/`, `/api/chat/conversations/{id}/messages/` …).
    pub fn new(templates: impl IntoIterator<Item = &'static str>) -> Self {
        Self(
            std::sync::Arc::new(templates.into_iter().collect()),
            Default::default(),
            Default::default(),
        )
    }

    /// The same, with the paths that take a file of conversations to import (`MAX_IMPORT_BYTES`, in any encoding).
    pub fn with_imports(self, paths: impl IntoIterator<Item = &'static str>) -> Self {
        Self(self.0, std::sync::Arc::new(paths.into_iter().collect()), self.2)
    }

    /// The same, with the paths whose JSON body may carry images inline (the OpenAI-compatible completions): as
    /// large as an upload.
    pub fn with_json(self, paths: impl IntoIterator<Item = &'static str>) -> Self {
        Self(self.0, self.1, std::sync::Arc::new(paths.into_iter().collect()))
    }

    /// Whether `path` takes an import.
    pub fn is_import(&self, path: &str) -> bool {
        self.1.contains(&path)
    }

    /// Whether `path` is one of them.
    pub fn matches(&self, path: &str) -> bool {
        self.0.iter().any(|template| {
            let mut wanted = template.split('/');
            let mut given = path.split('/');
            loop {
                match (wanted.next(), given.next()) {
                    (None, None) => return true,
                    (Some(w), Some(g)) if w == g || (w.starts_with('{') && !g.is_empty()) => {}
                    _ => return false,
                }
            }
        })
    }
}

/// Answers 413 for a declared body over the limit, and caps streamed bodies at the same size. A `multipart/form-data`
/// post to an upload route may be as large as the files a message may carry; every other body keeps
/// `MAX_REQUEST_BODY_BYTES` (so no other route can be made to buffer more).
pub async fn limit_body(
    State((config, uploads)): State<(Arc<Config>, UploadRoutes)>,
    req: Request,
    next: Next,
) -> Response {
    let upload = *req.method() == Method::POST
        && ((is_multipart(req.headers()) && uploads.matches(req.uri().path()))
            || uploads.2.contains(&req.uri().path()));
    let import = *req.method() == Method::POST && uploads.is_import(req.uri().path());
    let limit = if import {
        usize::try_from(config.limits.max_import_bytes)
            .unwrap_or(usize::MAX)
            .saturating_add(config.limits.max_request_body_bytes)
    } else if upload {
        usize::try_from(config.max_upload_body_bytes()).unwrap_or(usize::MAX)
    } else {
        config.limits.max_request_body_bytes
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        let path = req.uri().path().to_string();
        return AppError::PayloadTooLarge(limit).render(&path, req.headers());
    }
    next.run(req.map(|body| Body::new(Limited::new(body, limit)))).await
}

/// Name of the CSRF cookie (Django's).
pub const CSRF_COOKIE: &str = "csrftoken";

/// Whether `token` has the shape of the CSRF tokens we hand out (32 hex digits).
pub fn is_csrf_token(token: &str) -> bool {
    token.len() == 32 && token.chars().all(|c| c.is_ascii_hexdigit())
}

/// `Set-Cookie` value that gives the browser the CSRF token `token`: readable by scripts (they send it back as
/// `X-CSRFToken`), SameSite=Lax, Secure when session cookies are.
pub fn csrf_cookie(config: &Config, token: &str) -> String {
    let secure = if config.security.session_cookie_secure {
        "; Secure"
    } else {
        ""
    };
    format!("{CSRF_COOKIE}={token}; Path=/; Max-Age=31449600; SameSite=Lax{secure}")
}

/// A fresh CSRF token as a `Set-Cookie` value: logging in rotates the token, as Django does, so a token seen before
/// login is worthless after it.
pub fn new_csrf_cookie(config: &Config) -> String {
    csrf_cookie(config, &uuid::Uuid::new_v4().simple().to_string())
}

#[cfg(test)]
mod tests {
    use super::UploadRoutes;

    #[test]
    fn upload_routes_match_their_templates_only() {
        let routes = UploadRoutes::new(["/api/files/", "/api/chat/conversations/{id}/messages/"]);
        assert!(routes.matches("/api/files/"));
        assert!(routes.matches("/api/chat/conversations/12/messages/"));
        assert!(!routes.matches("/api/files/3/"));
        assert!(!routes.matches("/api/chat/conversations//messages/"));
        assert!(!routes.matches("/api/chat/conversations/12/messages/9/stream/"));
        assert!(!routes.matches("/_server/login"));
    }
}
