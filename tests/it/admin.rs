//! The admin area: every `/admin…` path sends visitors to the login page, users who are not staff get 403, staff see
//! the overview — on the server, for any method and for paths that do not exist.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use leptos::server_fn::ServerFn;
use thicode::admin::server_fns::AdminOverview;

use crate::common::{
    ORIGIN, PASSWORD, TestApp, form_post, header, logged_in, page, text, with_staff, with_user, without_markers,
};

async fn get_as(app: &TestApp, uri: &str, cookie: Option<&str>) -> (StatusCode, String, String) {
    let mut req = Request::get(uri).header("host", "127.0.0.1:3000");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    let res = app.send(req.body(Body::empty()).unwrap()).await;
    let status = res.status();
    let location = header(&res, "location").to_string();
    (status, location, without_markers(&text(res).await))
}

#[tokio::test]
async fn visitors_are_sent_to_the_login_page_from_any_admin_path() {
    let app = TestApp::new(&[]).await;
    for (uri, next) in [
        ("/admin", "/admin"),
        ("/admin/", "/admin/"),
        ("/admin/users/7?edit=1", "/admin/users/7%3Fedit%3D1"),
        (
            "/admin/users?search=a+b&page=2",
            "/admin/users%3Fsearch%3Da%2Bb%26page%3D2",
        ),
        ("/admin/a&b", "/admin/a%26b"),
    ] {
        let (status, location, _) = get_as(&app, uri, None).await;
        assert!(status.is_redirection(), "{uri}: {status}");
        assert_eq!(location, format!("/login?next={next}"), "{uri}");
    }
    let res = app
        .send(form_post("/admin/users/7/delete", "/admin", "", None, ORIGIN))
        .await;
    assert!(res.status().is_redirection(), "unsafe methods too");
    assert!(header(&res, "location").starts_with("/login?next=/admin/users/7/delete"));
    // Not under /admin: untouched.
    let (status, _, _) = get_as(&app, "/administrator", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Logging in from there comes back to the admin page.
    with_staff(&app, "root").await;
    let res = app
        .send(form_post(
            thicode::accounts::server_fns::Login::PATH,
            "/login?next=/admin",
            &format!("login=root&password={PASSWORD}&next=%2Fadmin"),
            None,
            ORIGIN,
        ))
        .await;
    assert_eq!(header(&res, "location"), "/admin");
}

#[tokio::test]
async fn users_who_are_not_staff_get_403_and_see_nothing() {
    let app = TestApp::new(&[]).await;
    with_user(&app, "ada", PASSWORD).await;
    with_user(&app, "bob", PASSWORD).await;
    let cookie = logged_in(&app, "ada").await;
    for uri in ["/admin", "/admin/users"] {
        let (status, _, html) = get_as(&app, uri, Some(&cookie)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri}");
        assert!(
            html.contains("You do not have permission to view this page."),
            "{uri}: {html}"
        );
        assert!(!html.contains("bob@example.com"), "no data leaks");
    }
    // A script calling the server function gets 403 as well.
    let req = Request::post(AdminOverview::PATH)
        .header("host", "127.0.0.1:3000")
        .header("origin", ORIGIN)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", &cookie)
        .body(Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!text(res).await.contains("bob"));
    // No link to the admin area in the menu.
    assert!(!page(&app, "/", Some(&cookie)).await.contains("admin-link"));
}

#[tokio::test]
async fn staff_see_the_overview_and_unknown_admin_paths_are_404() {
    let app = TestApp::new(&[]).await;
    with_staff(&app, "root").await;
    with_user(&app, "ada", PASSWORD).await;
    let cookie = logged_in(&app, "root").await;
    let (status, _, html) = get_as(&app, "/admin", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<strong>2</strong> accounts"), "{html}");
    assert!(html.contains("<strong>0</strong> conversations"));
    assert!(html.contains("<td>ada@example.com</td>") && html.contains("<td>root@example.com</td>"));
    assert!(!html.contains("argon2"), "never a password hash");
    assert!(
        page(&app, "/", Some(&cookie))
            .await
            .contains(r#"data-testid="admin-link""#)
    );

    let (status, _, html) = get_as(&app, "/admin/nothing-here", Some(&cookie)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("Page not found"));

    let (_, _, french) = get_as(&app, "/admin", Some(&format!("{cookie}; lang=fr"))).await;
    assert!(french.contains("<strong>2</strong> comptes") && french.contains("Derniers comptes"));
}
