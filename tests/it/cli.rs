//! The `thicode` binary as an operator uses it: help, migrate, configuration errors, start-up and graceful shutdown.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{TestDb, free_port};

/// The binary with a clean environment and an empty settings file, so only what a test sets counts.
fn thicode(dir: &std::path::Path) -> Command {
    let config = dir.join("empty.toml");
    std::fs::write(&config, "").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_thicode"));
    cmd.env_clear()
        .env("THICODE_CONFIG", &config)
        .env("RUST_LOG", "info")
        .current_dir(dir);
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_lists_the_commands() {
    let dir = tempfile::tempdir().unwrap();
    let out = thicode(dir.path()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for command in ["serve", "migrate", "--config"] {
        assert!(help.contains(command), "{help}");
    }
    let out = thicode(dir.path()).args(["migrate", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("Apply pending database migrations"));
}

#[tokio::test]
async fn migrate_applies_once_then_reports_up_to_date() {
    let db = TestDb::new().await;
    let run = || {
        thicode(db.dir.path())
            .env("DATABASE_URL", &db.url)
            .arg("migrate")
            .output()
            .unwrap()
    };
    let first = run();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        String::from_utf8_lossy(&first.stdout).starts_with("Applied "),
        "{:?}",
        first
    );
    let second = run();
    assert!(second.status.success());
    assert_eq!(
        String::from_utf8_lossy(&second.stdout),
        "No migrations to apply; the database is up to date.\n"
    );
}

#[tokio::test]
async fn migrate_check_lists_what_would_run_and_changes_nothing() {
    let db = TestDb::new().await;
    let run = |args: &[&str]| {
        thicode(db.dir.path())
            .env("DATABASE_URL", &db.url)
            .args(args)
            .output()
            .unwrap()
    };
    let check = run(&["migrate", "--check"]);
    assert_eq!(check.status.code(), Some(1), "{}", stderr(&check));
    let listed = String::from_utf8_lossy(&check.stdout).into_owned();
    assert!(listed.contains("migration(s) would be applied:"), "{listed}");
    assert!(
        listed.contains("20261125000001 users") && listed.contains("keep usage"),
        "{listed}"
    );
    let again = run(&["migrate", "--check"]);
    assert_eq!(String::from_utf8_lossy(&again.stdout), listed, "nothing was applied");
    assert!(run(&["migrate"]).status.success());
    let check = run(&["migrate", "--check"]);
    assert_eq!(check.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&check.stdout),
        "No migrations to apply; the database is up to date.\n"
    );
}

#[tokio::test]
async fn a_database_upgraded_by_a_newer_thicode_is_refused_before_anything_runs() {
    let db = TestDb::new().await;
    let run = |args: &[&str]| {
        thicode(db.dir.path())
            .env("DATABASE_URL", &db.url)
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", free_port()))
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&["migrate"]).status.success());
    // A newer ThiCode applied a migration this one does not know.
    let pool = thicode::core::db::connect(&db.url).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (29991231000099, 'from the future', TRUE, $1, 1)",
    )
    .bind(vec![0u8; 48])
    .execute(&pool.pool)
    .await
    .unwrap();
    pool.pool.close().await;
    for args in [
        &["serve"][..],
        &["migrate"],
        &["migrate", "--check"],
        &["createsuperuser", "--noinput"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(69), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(
                "the database was upgraded by a newer ThiCode (its schema is at migration 29991231000099; this \
                 ThiCode knows up to"
            ),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[tokio::test]
async fn backup_and_restore_from_the_command_line() {
    let db = TestDb::new().await;
    let file = db.dir.path().join("copy.db");
    let run = |url: &str, args: &[&str]| {
        thicode(db.dir.path())
            .env("DATABASE_URL", url)
            .args(args)
            .output()
            .unwrap()
    };
    assert!(run(&db.url, &["migrate"]).status.success());
    let out = run(&db.url, &["backup", file.to_str().unwrap()]);
    if db.is_postgres() {
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("for PostgreSQL use pg_dump and pg_restore"),
            "{}",
            stderr(&out)
        );
        return;
    }
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Backed up the database to "));
    let target = format!("sqlite://{}/restored/thicode.db", db.dir.path().display());
    let out = run(&target, &["restore", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("0 account(s), 0 conversation(s); 0 migration(s) applied."),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let again = run(&target, &["restore", file.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("DATABASE_URL already holds a database"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn default_database_is_created_under_data_beside_the_settings_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = thicode(dir.path()).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.path().join("data/thicode.db").is_file());
}

#[test]
fn bad_configuration_is_one_line_naming_the_key_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value, expected) in [
        (
            "EMAIL_PORT",
            "abc",
            "thicode: configuration error: EMAIL_PORT: expected a port number (1-65535), got \"abc\"\n",
        ),
        (
            "THICODE_ENV",
            "production",
            "thicode: configuration error: SECRET_KEY: required in production",
        ),
        (
            "RUST_LOG",
            "info,=[",
            "thicode: configuration error: RUST_LOG: invalid filter",
        ),
    ] {
        let out = thicode(dir.path()).env(key, value).arg("migrate").output().unwrap();
        assert_eq!(out.status.code(), Some(78), "{key}");
        let err = stderr(&out);
        assert!(err.starts_with(expected), "{key}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    let missing = thicode(dir.path())
        .env("THICODE_CONFIG", "/no/such/Leptos.toml")
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(78));
    assert!(stderr(&missing).contains("THICODE_CONFIG: no such file: /no/such/Leptos.toml"));
    std::fs::write(dir.path().join("bad.toml"), "[email]\nport = \"x\"\n").unwrap();
    let bad = thicode(dir.path())
        .env("THICODE_CONFIG", dir.path().join("bad.toml"))
        .output()
        .unwrap();
    assert!(
        stderr(&bad).contains("EMAIL_PORT: expected a port number"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn dotenv_beside_the_settings_file_is_read_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "EMAIL_PORT=abc\nDATABASE_URL=sqlite://from-dotenv/app.db\n",
    )
    .unwrap();
    let out = thicode(dir.path()).arg("migrate").output().unwrap();
    assert!(stderr(&out).contains("EMAIL_PORT"), ".env is read: {}", stderr(&out));
    let out = thicode(dir.path())
        .env("EMAIL_PORT", "2525")
        .arg("migrate")
        .output()
        .unwrap();
    assert!(out.status.success(), "the environment wins over .env: {}", stderr(&out));
    assert!(dir.path().join("from-dotenv/app.db").is_file());
}

#[test]
fn unusable_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = thicode(dir.path())
        .env("DATABASE_URL", "sqlite:///proc/thicode/app.db")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(69));
    let err = stderr(&out);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("thicode: DATABASE_URL: cannot use folder /proc/thicode"),
        "{err}"
    );
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

#[tokio::test]
async fn serve_starts_migrates_and_stops_gracefully_on_sigterm() {
    let db = TestDb::new().await;
    let port = free_port();
    let mut child = thicode(db.dir.path())
        .env("DATABASE_URL", &db.url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let ready = loop {
        if let Some(answer) = http_get(port, "/readyz") {
            break answer;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");

    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "graceful shutdown exits 0");
    let mut logs = String::new();
    child.stderr.take().unwrap().read_to_string(&mut logs).unwrap();
    assert!(
        logs.contains("ThiCode listening on") && logs.contains("ThiCode stopped"),
        "{logs}"
    );
    assert!(logs.contains("path=/readyz"), "requests are logged: {logs}");
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let out = thicode(dir.path())
        .env("LEPTOS_SITE_ADDR", addr.to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(69));
    assert!(
        stderr(&out).contains(&format!("LEPTOS_SITE_ADDR: cannot listen on {addr}")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn another_programs_variable_that_is_not_utf8_does_not_stop_the_start() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let out = thicode(dir.path())
        .env("OTHER_TOOL_SETTING", std::ffi::OsStr::from_bytes(b"caf\xe9"))
        .arg("migrate")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
