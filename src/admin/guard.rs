//! The server-side guard of `/admin…`: a request without a logged-in user goes to the login page, which comes back
//! here afterwards, to the same path and query. It covers every method and every path under `/admin`, existing or
//! not, so nothing under it can be reached anonymously by mistake; staff status is checked by the pages and server
//! functions themselves.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::accounts::auth::AuthSession;

/// Whether `path` is under `/admin`.
pub fn is_admin_path(path: &str) -> bool {
    path == "/admin" || path.starts_with("/admin/")
}

/// Sends anonymous `/admin…` requests to `/login?next=<path>`.
pub async fn require_login(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !is_admin_path(path) {
        return next.run(req).await;
    }
    let logged_in = req
        .extensions()
        .get::<AuthSession>()
        .is_some_and(|auth| auth.user.is_some());
    if logged_in {
        return next.run(req).await;
    }
    // Back to the same place, query included (a search, a page).
    let here = match req.uri().query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    };
    let here = crate::core::document::next_value(&here);
    Redirect::to(&format!("/login?next={here}")).into_response()
}

#[cfg(test)]
mod tests {
    use super::is_admin_path;

    #[test]
    fn only_paths_under_admin() {
        assert!(is_admin_path("/admin") && is_admin_path("/admin/") && is_admin_path("/admin/users"));
        assert!(!is_admin_path("/administrator") && !is_admin_path("/") && !is_admin_path("/api/admin"));
    }
}
