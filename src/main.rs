//! The `thicode` binary: web server and management commands (`thicode --help`).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    thicode::cli::run().await
}
