//! `createsuperuser` and `changepassword` against a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::common::TestDb;
use thicode::accounts::{password, users};
use thicode::core::db;

fn thicode(test_db: &TestDb, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let config = test_db.dir.path().join("empty.toml");
    std::fs::write(&config, "").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_thicode"))
        .env_clear()
        .env("THICODE_CONFIG", &config)
        .env("DATABASE_URL", &test_db.url)
        .envs(env.iter().copied())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn out(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn createsuperuser_without_input_creates_a_staff_superuser() {
    let test_db = TestDb::new().await;
    let env = [("THICODE_SUPERUSER_PASSWORD", "Tr4vel-Lisbon-Blue")];
    let run = thicode(
        &test_db,
        &[
            "createsuperuser",
            "--noinput",
            "--username",
            "root",
            "--email",
            "root@example.com",
        ],
        &env,
        "",
    );
    assert!(run.status.success(), "{}", out(&run));
    assert!(out(&run).contains("Superuser created successfully."));

    let pool = db::connect(&test_db.url).await.unwrap();
    let user = users::by_login(&pool.pool, "ROOT@example.com")
        .await
        .unwrap()
        .expect("created");
    assert!(user.is_staff && user.is_superuser && user.is_active);
    assert!(user.password.starts_with("$argon2id$"), "stored hashed");
    assert!(
        password::Hashing::default()
            .verify("Tr4vel-Lisbon-Blue".into(), Some(user.password))
            .await
            .unwrap()
    );

    // The same username in another case is refused; so is a weak password or a missing one.
    let again = thicode(
        &test_db,
        &[
            "createsuperuser",
            "--noinput",
            "--username",
            "Root",
            "--email",
            "x@example.com",
        ],
        &env,
        "",
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(
        out(&again).contains("A user with that username already exists."),
        "{}",
        out(&again)
    );
    let weak = [("THICODE_SUPERUSER_PASSWORD", "12345678")];
    let run = thicode(
        &test_db,
        &[
            "createsuperuser",
            "--noinput",
            "--username",
            "u2",
            "--email",
            "u2@example.com",
        ],
        &weak,
        "",
    );
    assert!(
        out(&run).contains("This password is too common.") && out(&run).contains("entirely numeric"),
        "{}",
        out(&run)
    );
    let run = thicode(
        &test_db,
        &[
            "createsuperuser",
            "--noinput",
            "--username",
            "u3",
            "--email",
            "u3@example.com",
        ],
        &[],
        "",
    );
    assert!(
        out(&run).contains("THICODE_SUPERUSER_PASSWORD is required with --noinput"),
        "{}",
        out(&run)
    );
    let run = thicode(
        &test_db,
        &[
            "createsuperuser",
            "--noinput",
            "--username",
            "bad name",
            "--email",
            "u4@example.com",
        ],
        &env,
        "",
    );
    assert!(out(&run).contains("username: Enter a valid username."), "{}", out(&run));
}

#[tokio::test]
async fn createsuperuser_prompts_until_the_answers_are_valid() {
    let test_db = TestDb::new().await;
    let answers = "bad name\nadmin\nnot-an-email\nadmin@example.com\nshort\nshort\nGood-Passw0rd-42\nmismatch\nGood-Passw0rd-42\nGood-Passw0rd-42\n";
    let run = thicode(&test_db, &["createsuperuser"], &[], answers);
    let text = out(&run);
    assert!(run.status.success(), "{text}");
    for expected in [
        "Error: Enter a valid username.",
        "Error: Enter a valid email address.",
        "Error: This password is too short.",
        "Error: Your passwords didn't match.",
        "Superuser created successfully.",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in {text}");
    }
}

#[tokio::test]
async fn changepassword_sets_a_valid_password_within_three_attempts() {
    let test_db = TestDb::new().await;
    let env = [("THICODE_SUPERUSER_PASSWORD", "Tr4vel-Lisbon-Blue")];
    let run = thicode(
        &test_db,
        &[
            "createsuperuser",
            "--noinput",
            "--username",
            "ada",
            "--email",
            "ada@example.com",
        ],
        &env,
        "",
    );
    assert!(run.status.success(), "{}", out(&run));

    let run = thicode(
        &test_db,
        &["changepassword", "ada"],
        &[],
        "New-Secret-Phrase-9\nNew-Secret-Phrase-9\n",
    );
    assert!(run.status.success(), "{}", out(&run));
    assert!(out(&run).contains("Password changed successfully for user 'ada'"));
    let pool = db::connect(&test_db.url).await.unwrap();
    let user = users::by_login(&pool.pool, "ada").await.unwrap().unwrap();
    assert!(
        password::Hashing::default()
            .verify("New-Secret-Phrase-9".into(), Some(user.password.clone()))
            .await
            .unwrap()
    );

    let three_bad = "ada1\nada1\n12345678901\n12345678901\npassword\npassword\n";
    let run = thicode(&test_db, &["changepassword", "ada"], &[], three_bad);
    assert_eq!(run.status.code(), Some(1));
    assert!(
        out(&run).contains("aborting password change for user 'ada'"),
        "{}",
        out(&run)
    );
    let unchanged = users::by_login(&pool.pool, "ada").await.unwrap().unwrap();
    assert_eq!(unchanged.password, user.password);

    let run = thicode(&test_db, &["changepassword", "nobody"], &[], "");
    assert!(out(&run).contains("user 'nobody' does not exist"), "{}", out(&run));
}
