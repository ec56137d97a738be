//! `thicode backup FILE` and `thicode restore FILE` for a SQLite database: a consistent copy taken while the server
//! runs (`VACUUM INTO`, one read transaction, so writes going on meanwhile are either wholly in it or not at all), and
//! its return into an empty data folder, checked and upgraded. PostgreSQL has `pg_dump` for this (see the README).

use std::path::{Path, PathBuf};

use crate::core::db::{self, Backend, Db, DbError};

/// Why a backup or a restore did not happen; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database is PostgreSQL.
    #[error(
        "thicode backup and restore copy a SQLite database; for PostgreSQL use pg_dump and pg_restore (see the README, \
         \"Backups\")"
    )]
    Postgres,
    /// The file to write already exists.
    #[error("{0} already exists: choose a new file name (a backup never overwrites a file)")]
    Exists(PathBuf),
    /// The file to restore is missing or unreadable.
    #[error("cannot read {0}: {1}")]
    Unreadable(PathBuf, String),
    /// The file to restore is not a sound ThiCode database.
    #[error("{0} is not a ThiCode backup: {1}")]
    NotABackup(PathBuf, String),
    /// The target database already has data.
    #[error(
        "DATABASE_URL already holds a database ({0}): restore into an empty data folder, or move that file away first"
    )]
    NotEmpty(String),
    /// The database failed.
    #[error("{0}")]
    Database(#[from] DbError),
    /// A query failed.
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

/// The file of a `sqlite://` URL.
fn sqlite_file(url: &str) -> PathBuf {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    PathBuf::from(rest.split('?').next().unwrap_or(rest))
}

/// Writes a consistent copy of the database to `file` (which must not exist), checks it and returns its size.
pub async fn backup(db: &Db, file: &Path) -> Result<u64, BackupError> {
    if db.backend != Backend::Sqlite {
        return Err(BackupError::Postgres);
    }
    if file.exists() {
        return Err(BackupError::Exists(file.to_path_buf()));
    }
    let target = file.to_string_lossy().into_owned();
    sqlx::query("VACUUM INTO $1").bind(&target).execute(&db.pool).await?;
    let copy = open_checked(file).await?;
    copy.pool.close().await;
    Ok(std::fs::metadata(file).map(|m| m.len()).unwrap_or(0))
}

/// Opens a database file read-only and checks it: SQLite's integrity check, and ThiCode's migrations table with
/// nothing newer than this binary knows.
async fn open_checked(file: &Path) -> Result<Db, BackupError> {
    if let Err(e) = std::fs::File::open(file) {
        return Err(BackupError::Unreadable(file.to_path_buf(), e.to_string()));
    }
    // Read-only and without the server's connection settings (they would switch the file to WAL, a write).
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", file.display());
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .map_err(|e| BackupError::NotABackup(file.to_path_buf(), e.to_string()))?;
    let db = Db {
        pool,
        backend: Backend::Sqlite,
    };
    let not_a_backup = |why: String| BackupError::NotABackup(file.to_path_buf(), why);
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&db.pool)
        .await
        .map_err(|e| not_a_backup(e.to_string()))?;
    if check != "ok" {
        return Err(not_a_backup(format!("the integrity check says {check}")));
    }
    let migrated: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = '_sqlx_migrations'")
        .fetch_one(&db.pool)
        .await?;
    if migrated == 0 {
        return Err(not_a_backup("it has no ThiCode schema".into()));
    }
    db::pending(&db).await?;
    Ok(db)
}

/// What a restore brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// Accounts in the restored database.
    pub accounts: i64,
    /// Conversations in it.
    pub conversations: i64,
    /// Migrations applied to bring it up to this version.
    pub upgraded: usize,
}

/// Brings the backup `file` back as the database of `target_url` (SQLite), which must not hold data yet; the copy is
/// checked first and upgraded to this version's schema after.
pub async fn restore(file: &Path, target_url: &str) -> Result<Restored, BackupError> {
    if Backend::of_url(target_url) != Some(Backend::Sqlite) {
        return Err(BackupError::Postgres);
    }
    let target = sqlite_file(target_url);
    let source = open_checked(file).await?;
    let target_db = db::connect(target_url).await?;
    let tables: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'")
        .fetch_one(&target_db.pool)
        .await?;
    target_db.pool.close().await;
    if tables > 0 {
        source.pool.close().await;
        return Err(BackupError::NotEmpty(target.display().to_string()));
    }
    // The empty file `connect` made (and its journal files) make way for the copy.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
    }
    sqlx::query("VACUUM INTO $1")
        .bind(target.to_string_lossy().into_owned())
        .execute(&source.pool)
        .await?;
    source.pool.close().await;
    let restored = db::connect(target_url).await?;
    let upgraded = db::migrate(&restored).await?;
    let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql).fetch_one(&restored.pool);
    let accounts = count("SELECT COUNT(*) FROM users").await?;
    let conversations = count("SELECT COUNT(*) FROM conversations").await.unwrap_or(0);
    restored.pool.close().await;
    Ok(Restored {
        accounts,
        conversations,
        upgraded,
    })
}
