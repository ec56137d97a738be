//! The management CLI, in the spirit of Django's `manage.py`: `serve` (default), `migrate`, `createsuperuser` and
//! `changepassword`. Every failure prints one line naming what to fix and exits non-zero.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::accounts::commands::{self, SuperuserOptions};
use crate::core::config::Config;
use crate::core::{db, telemetry};
use crate::server;
use crate::state::AppState;

/// ThiCode — a fast, self-hostable AI chat assistant.
#[derive(Debug, Parser)]
#[command(name = "thicode", version, propagate_version = true)]
struct Cli {
    /// Settings file (default: ./Leptos.toml, else the nearest one above the binary). Also THICODE_CONFIG.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server at LEPTOS_SITE_ADDR, applying pending migrations first (the default command).
    Serve,
    /// Apply pending database migrations to DATABASE_URL and exit.
    Migrate {
        /// Only list the migrations that would run; exit 1 if there are any, 0 when up to date (changes nothing).
        #[arg(long)]
        check: bool,
    },
    /// Write a consistent copy of the SQLite database to FILE while the server runs (PostgreSQL: pg_dump).
    Backup {
        /// The file to write (must not exist).
        file: PathBuf,
    },
    /// Bring a backup back into an empty data folder (DATABASE_URL must not hold a database yet); upgrades it.
    Restore {
        /// The backup to restore.
        file: PathBuf,
    },
    /// Create a staff superuser (prompts for what is missing; passwords are checked like every password).
    Createsuperuser {
        /// Login name.
        #[arg(long, env = "THICODE_SUPERUSER_USERNAME")]
        username: Option<String>,
        /// Email address.
        #[arg(long, env = "THICODE_SUPERUSER_EMAIL")]
        email: Option<String>,
        /// Never prompt: take the password from THICODE_SUPERUSER_PASSWORD (for scripts).
        #[arg(long)]
        noinput: bool,
    },
    /// Set a new password for a user (prompts twice; ends the user's other sessions).
    Changepassword {
        /// Username or email of the user.
        username: String,
    },
    /// Run a fake of the Mistral API for tests and benchmarks (prints its address, serves until killed).
    #[command(hide = true)]
    FakeMistral {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: std::net::SocketAddr,
        /// Streaming rate.
        #[arg(long, default_value_t = 50.0)]
        tokens_per_second: f64,
        /// The API key clients must send.
        #[arg(long, default_value = "fake-key")]
        api_key: String,
    },
}

/// Exit code for a configuration problem (as `EX_CONFIG` in sysexits).
const EXIT_CONFIG: u8 = 78;
/// Exit code for an unavailable service (database, port).
const EXIT_UNAVAILABLE: u8 = 69;

/// Parses the command line and runs the chosen command.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::FakeMistral {
        addr,
        tokens_per_second,
        api_key,
    }) = cli.command
    {
        return fake_mistral(addr, tokens_per_second, api_key).await;
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => return fail(EXIT_CONFIG, &format!("configuration error: {e}")),
    };
    if let Err(e) = telemetry::init(&config.log) {
        return fail(EXIT_CONFIG, &format!("configuration error: {e}"));
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate { check } => migrate(config, check).await,
        Command::Backup { file } => backup(config, &file).await,
        Command::Restore { file } => restore(config, &file).await,
        Command::Createsuperuser {
            username,
            email,
            noinput,
        } => {
            let password = std::env::var("THICODE_SUPERUSER_PASSWORD").ok();
            let options = SuperuserOptions {
                username,
                email,
                password,
                noinput,
            };
            account_command(config, |pool| async move {
                commands::create_superuser(&pool, options)
                    .await
                    .map(|_| "Superuser created successfully.".to_string())
            })
            .await
        }
        Command::FakeMistral { .. } => ExitCode::SUCCESS,
        Command::Changepassword { username } => {
            account_command(config, |pool| async move {
                let name = commands::change_password(&pool, &username).await?;
                Ok(format!("Password changed successfully for user '{name}'"))
            })
            .await
        }
    }
}

#[allow(clippy::print_stdout)] // the address is the command's output
async fn fake_mistral(addr: std::net::SocketAddr, tokens_per_second: f64, api_key: String) -> ExitCode {
    use crate::chat::fake_mistral::{FakeSettings, serve};
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => return fail(EXIT_UNAVAILABLE, &format!("cannot listen on {addr}: {e}")),
    };
    match listener.local_addr() {
        Ok(bound) => println!("http://{bound}"),
        Err(e) => return fail(EXIT_UNAVAILABLE, &format!("cannot listen on {addr}: {e}")),
    }
    let settings = FakeSettings {
        api_key,
        tokens_per_second,
    };
    match serve(listener, settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(EXIT_UNAVAILABLE, &format!("fake server failed: {e}")),
    }
}

#[allow(clippy::print_stdout)] // the command's answer is its output
async fn account_command<F, Fut>(config: Config, command: F) -> ExitCode
where
    F: FnOnce(sqlx::AnyPool) -> Fut,
    Fut: std::future::Future<Output = Result<String, String>>,
{
    let db = match open(&config).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    let result = command(db.pool.clone()).await;
    db.pool.close().await;
    match result {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, &e),
    }
}

async fn open(config: &Config) -> Result<db::Db, ExitCode> {
    let db = db::connect(&config.database_url)
        .await
        .map_err(|e| fail(EXIT_UNAVAILABLE, &e.to_string()))?;
    db::migrate(&db)
        .await
        .map_err(|e| fail(EXIT_UNAVAILABLE, &e.to_string()))?;
    Ok(db)
}

async fn serve(config: Config) -> ExitCode {
    let db = match open(&config).await {
        Ok(db) => db,
        Err(code) => return code,
    };
    if config.ai.api_key.is_none() {
        tracing::warn!("MISTRAL_API_KEY is not set: no AI model is configured");
    }
    if let Some(file) = &config.security.secret_key_file {
        tracing::info!(path = %file.display(), "SECRET_KEY is not set: using the development secret kept in this file");
    }
    let state = match AppState::new(config, db) {
        Ok(state) => state,
        Err(e) => return fail(EXIT_CONFIG, &format!("configuration error: {e}")),
    };
    match server::serve(state).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(EXIT_UNAVAILABLE, &e),
    }
}

#[allow(clippy::print_stdout)] // the command's answer is its output
async fn migrate(config: Config, check: bool) -> ExitCode {
    let db = match db::connect(&config.database_url).await {
        Ok(db) => db,
        Err(e) => return fail(EXIT_UNAVAILABLE, &e.to_string()),
    };
    let code = if check {
        match db::pending(&db).await {
            Ok(pending) if pending.is_empty() => {
                println!("No migrations to apply; the database is up to date.");
                ExitCode::SUCCESS
            }
            Ok(pending) => {
                println!("{} migration(s) would be applied:", pending.len());
                for m in pending {
                    println!("  {} {}", m.version, m.description);
                }
                ExitCode::from(1)
            }
            Err(e) => fail(EXIT_UNAVAILABLE, &e.to_string()),
        }
    } else {
        match db::migrate(&db).await {
            Ok(0) => {
                println!("No migrations to apply; the database is up to date.");
                ExitCode::SUCCESS
            }
            Ok(n) => {
                println!("Applied {n} migration(s); the database is up to date.");
                ExitCode::SUCCESS
            }
            Err(e) => fail(EXIT_UNAVAILABLE, &e.to_string()),
        }
    };
    db.pool.close().await;
    code
}

#[allow(clippy::print_stdout)] // the command's answer is its output
async fn backup(config: Config, file: &std::path::Path) -> ExitCode {
    let db = match db::connect(&config.database_url).await {
        Ok(db) => db,
        Err(e) => return fail(EXIT_UNAVAILABLE, &e.to_string()),
    };
    let result = crate::core::backup::backup(&db, file).await;
    db.pool.close().await;
    match result {
        Ok(bytes) => {
            println!("Backed up the database to {} ({bytes} bytes, checked).", file.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, &e.to_string()),
    }
}

#[allow(clippy::print_stdout)] // the command's answer is its output
async fn restore(config: Config, file: &std::path::Path) -> ExitCode {
    match crate::core::backup::restore(file, &config.database_url).await {
        Ok(done) => {
            println!(
                "Restored {} into {}: {} account(s), {} conversation(s); {} migration(s) applied.",
                file.display(),
                config.database_url,
                done.accounts,
                done.conversations,
                done.upgraded
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, &e.to_string()),
    }
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("thicode: {message}");
    ExitCode::from(code)
}
