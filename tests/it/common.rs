//! Test support: a fresh database per test — a SQLite file in a temporary folder, or, when `TEST_DATABASE_URL`
//! points at PostgreSQL, a new database on that server that is dropped afterwards — and the app built on it.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use http_body_util::BodyExt;
use thicode::core::config::{Config, Sources};
use thicode::core::db::{self, Db};
use thicode::state::AppState;
use tower::ServiceExt;

/// A database that exists for one test.
pub struct TestDb {
    /// URL to connect to it.
    pub url: String,
    /// Folder for files of this test (the SQLite file lives here).
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// Creates an empty database on the backend chosen by `TEST_DATABASE_URL` (SQLite when unset).
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            None => {
                let url = format!("sqlite://{}/db/test.db", dir.path().display());
                Self {
                    url,
                    dir,
                    postgres: None,
                }
            }
            Some(admin_url) => {
                let name = format!("thicode_test_{}", uuid::Uuid::new_v4().simple());
                let admin = db::connect(&admin_url)
                    .await
                    .expect("TEST_DATABASE_URL must be reachable");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&admin.pool)
                    .await
                    .unwrap();
                admin.pool.close().await;
                let url = with_database_name(&admin_url, &name);
                Self {
                    url,
                    dir,
                    postgres: Some((admin_url, name)),
                }
            }
        }
    }

    /// Whether this test runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async context; a short-lived runtime on its own thread does the clean-up.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(admin) = db::connect(&admin_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&admin.pool)
                        .await;
                    admin.pool.close().await;
                }
            });
        })
        .join();
    }
}

/// `postgres://u@h:5432/old?x=1` with the database name replaced.
pub fn with_database_name(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (rest, query) = rest.split_once('?').map_or((rest, None), |(r, q)| (r, Some(q)));
    let authority = rest.split('/').next().unwrap();
    match query {
        Some(q) => format!("{scheme}://{authority}/{name}?{q}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

/// The app on a fresh, migrated database, with extra settings.
pub struct TestApp {
    pub state: AppState,
    pub db: TestDb,
}

impl TestApp {
    pub async fn new(settings: &[(&str, &str)]) -> Self {
        Self::on(TestDb::new().await, settings).await
    }

    /// The app on an existing database, migrated to the current schema.
    pub async fn on(db: TestDb, settings: &[(&str, &str)]) -> Self {
        let site_root = repo_path("public");
        let site_root = site_root.to_str().unwrap();
        let emails = db.dir.path().join("emails");
        let emails = emails.to_str().unwrap();
        let mut pairs = vec![
            ("DATABASE_URL", db.url.as_str()),
            ("LEPTOS_SITE_ROOT", site_root),
            ("RUST_LOG", "warn"),
            ("EMAIL_BACKEND", "file"),
            ("EMAIL_FILE_PATH", emails),
        ];
        pairs.extend_from_slice(settings);
        let config = Config::from_sources(&Sources::from_pairs(db.dir.path(), pairs)).unwrap();
        let pool = thicode::core::db::connect(&config.database_url).await.unwrap();
        db::migrate(&pool).await.unwrap();
        Self {
            state: AppState::new(config, pool).unwrap(),
            db,
        }
    }

    pub fn router(&self) -> Router {
        thicode::server::router(self.state.clone())
    }

    /// Sends one request through the whole middleware stack.
    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.router().oneshot(req).await.unwrap()
    }

    pub fn pool(&self) -> &Db {
        &self.state.db
    }
}

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// A GET request to `uri`.
pub fn get(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header("host", "127.0.0.1:3000")
        .body(Body::empty())
        .unwrap()
}

/// A JSON request with optional cookie and headers.
pub fn json_request(
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
    cookie: Option<&str>,
    extra: &[(&str, &str)],
) -> Request<Body> {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1:3000");
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap()
}

/// The body as text (decompressed responses only).
pub async fn text(res: Response<Body>) -> String {
    String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

/// The body as JSON.
pub async fn json(res: Response<Body>) -> serde_json::Value {
    serde_json::from_str(&text(res).await).unwrap()
}

/// A header as text, or "" when absent.
pub fn header<'a>(res: &'a Response<Body>, name: &str) -> &'a str {
    res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The origin of the test site.
pub const ORIGIN: &str = "http://127.0.0.1:3000";

/// Creates an ordinary user with this password; returns its id.
pub async fn with_user(app: &TestApp, username: &str, secret: &str) -> i64 {
    let hash = thicode::accounts::password::Hashing::default()
        .hash(secret.to_string())
        .await
        .unwrap();
    let new = thicode::accounts::users::NewUser {
        username: username.into(),
        email: format!("{username}@example.com"),
        password_hash: hash,
        ..Default::default()
    };
    thicode::accounts::users::create(&app.pool().pool, &new).await.unwrap()
}

/// Creates a staff account with the usual test password; returns its id.
pub async fn with_staff(app: &TestApp, username: &str) -> i64 {
    let new = thicode::accounts::users::NewUser {
        username: username.into(),
        email: format!("{username}@example.com"),
        password_hash: thicode::accounts::password::Hashing::default()
            .hash(PASSWORD.to_string())
            .await
            .unwrap(),
        is_staff: true,
        ..Default::default()
    };
    thicode::accounts::users::create(&app.pool().pool, &new).await.unwrap()
}

/// The CSRF token [`api_session`] sets as cookie, to send back as `X-CSRFToken`.
pub const CSRF: &str = "0123456789abcdef0123456789abcdef";

/// Logs `username` (password [`PASSWORD`]) in through the REST API; returns the `Cookie` header of that session with
/// the CSRF cookie [`CSRF`].
pub async fn api_session(app: &TestApp, username: &str) -> String {
    let res = app
        .send(json_request(
            "POST",
            "/api/accounts/api/login/",
            Some(serde_json::json!({"username": username, "password": PASSWORD})),
            None,
            &[],
        ))
        .await;
    assert_eq!(res.status(), axum::http::StatusCode::OK, "{username} logs in");
    format!("{}; csrftoken={CSRF}", session_cookie(&res).unwrap())
}

/// A form post as a browser without JavaScript sends it from the page `from` (a path with its query).
pub fn form_post(path: &str, from: &str, body: &str, cookie: Option<&str>, origin: &str) -> Request<Body> {
    let mut req = Request::post(path)
        .header("host", "127.0.0.1:3000")
        .header("origin", origin)
        .header("referer", format!("{ORIGIN}{from}"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

/// The password `with_user` accounts get in most tests.
pub const PASSWORD: &str = "Tr4vel-Lisbon-Blue";

/// Logs `username` (password [`PASSWORD`]) in through the login form; returns the session cookie.
pub async fn logged_in(app: &TestApp, username: &str) -> String {
    use leptos::server_fn::ServerFn;
    let body = format!("login={username}&password={PASSWORD}");
    let res = app
        .send(form_post(
            thicode::accounts::server_fns::Login::PATH,
            "/login",
            &body,
            None,
            ORIGIN,
        ))
        .await;
    session_cookie(&res).unwrap()
}

/// The `sessionid=…` pair a response sets, if any.
pub fn session_cookie(res: &Response<Body>) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("sessionid="))
        .map(|c| c.split(';').next().unwrap().to_string())
}

/// A page as HTML, with an optional cookie. The empty comments (`<!>`) that mark where hydration resumes are left out,
/// so assertions can read text as a browser shows it (`>ada</a>`).
pub async fn page(app: &TestApp, uri: &str, cookie: Option<&str>) -> String {
    let mut req = Request::get(uri).header("host", "127.0.0.1:3000");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    without_markers(&text(app.send(req.body(Body::empty()).unwrap()).await).await)
}

/// `html` without the hydration markers `<!>`.
pub fn without_markers(html: &str) -> String {
    html.replace("<!>", "")
}

/// The emails the file backend wrote for this test, as raw RFC 5322 text, once the outbox has sent what was queued.
pub async fn sent_emails(app: &TestApp) -> Vec<String> {
    app.state.outbox.idle().await;
    let Ok(entries) = std::fs::read_dir(app.db.dir.path().join("emails")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect()
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
