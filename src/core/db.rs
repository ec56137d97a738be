//! The database: one `sqlx::AnyPool` for SQLite and PostgreSQL, and the embedded migrations of each.
//!
//! Why `Any`: every query is written once and runs on both backends (`$1` placeholders, timestamps as BIGINT
//! epoch milliseconds, JSON as TEXT). Where the two dialects differ (DDL, full-text search) the migrations are kept
//! per backend in `migrations/sqlite` and `migrations/postgres`, and [`Backend`] lets code pick a dialect.

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Which database server is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend a `DATABASE_URL` selects.
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Self::Postgres)
        } else {
            None
        }
    }
}

/// The application's connection pool and its backend.
#[derive(Debug, Clone)]
pub struct Db {
    /// The pool every query runs on.
    pub pool: AnyPool,
    /// Which dialect the pool speaks.
    pub backend: Backend,
}

/// Why the database could not be opened; each message says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL is neither SQLite nor PostgreSQL.
    #[error("DATABASE_URL: expected sqlite://PATH or postgres://USER@HOST/NAME")]
    UnsupportedUrl,
    /// The folder for the SQLite file cannot be created or written.
    #[error("DATABASE_URL: cannot use folder {folder}: {cause}")]
    Folder {
        /// The folder.
        folder: String,
        /// The OS error.
        cause: std::io::Error,
    },
    /// The server is unreachable or refused the connection.
    #[error("DATABASE_URL: cannot connect to the database: {0}")]
    Connect(sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database was upgraded by a newer ThiCode: running this one against it could lose data.
    #[error(
        "the database was upgraded by a newer ThiCode (its schema is at migration {database}; this ThiCode knows up \
         to {known}): run that newer version, or restore a backup made before the upgrade"
    )]
    Newer {
        /// The newest migration the database has.
        database: i64,
        /// The newest migration this binary knows.
        known: i64,
    },
    /// A migration the database has applied is not the one this binary has under the same number.
    #[error(
        "migration {0} applied to the database differs from this ThiCode's: the database comes from another build; \
         restore a backup made by this version"
    )]
    Changed(i64),
}

/// A migration this binary would apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Its number (the date it was written and its place).
    pub version: i64,
    /// What it does.
    pub description: String,
}

/// Opens the pool: creates the SQLite file (and its folder) on first use, with WAL, a busy timeout and foreign keys.
pub async fn connect(url: &str) -> Result<Db, DbError> {
    install_default_drivers();
    let backend = Backend::of_url(url).ok_or(DbError::UnsupportedUrl)?;
    let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(5));
    let pool = match backend {
        Backend::Sqlite => {
            let url = sqlite_url_with_create(url)?;
            options
                .max_connections(8)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        // WAL lets readers work while a reply is being written; the busy timeout turns short write
                        // contention into waiting instead of errors.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await
        }
        Backend::Postgres => options.max_connections(16).connect(url).await,
    }
    .map_err(DbError::Connect)?;
    Ok(Db { pool, backend })
}

/// Makes sure the SQLite file's folder exists and is writable, and asks SQLite to create the file.
fn sqlite_url_with_create(url: &str) -> Result<String, DbError> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (file, query) = rest.split_once('?').map_or((rest, ""), |(f, q)| (f, q));
    if file != ":memory:" {
        let folder = Path::new(file)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let folder_error = |cause| DbError::Folder {
            folder: folder.display().to_string(),
            cause,
        };
        std::fs::create_dir_all(folder).map_err(folder_error)?;
        // Probe writability now: SQLite would otherwise fail later with a vaguer message.
        let probe = folder.join(format!(".thicode-write-test-{}", std::process::id()));
        std::fs::write(&probe, b"").map_err(folder_error)?;
        let _ = std::fs::remove_file(&probe);
    }
    let has_mode = query.split('&').any(|p| p.starts_with("mode="));
    Ok(match (query.is_empty(), has_mode) {
        (true, _) => format!("sqlite://{file}?mode=rwc"),
        (false, true) => format!("sqlite://{file}?{query}"),
        (false, false) => format!("sqlite://{file}?{query}&mode=rwc"),
    })
}

fn migrator(db: &Db) -> &'static Migrator {
    match db.backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

/// The migrations the database has applied: version and checksum (none before the first run, when the table does
/// not exist yet).
async fn applied(db: &Db) -> Result<Vec<(i64, Vec<u8>)>, DbError> {
    let rows = sqlx::query_as("SELECT version, checksum FROM _sqlx_migrations WHERE success = TRUE ORDER BY version")
        .fetch_all(&db.pool)
        .await;
    match rows {
        Ok(rows) => Ok(rows),
        Err(sqlx::Error::Database(e)) if e.message().contains("_sqlx_migrations") => Ok(Vec::new()),
        Err(e) => Err(DbError::Connect(e)),
    }
}

/// The migrations that would run now, oldest first; an error when the database is newer than this binary (a
/// downgrade) or was migrated by a different build, which no migration can fix.
pub async fn pending(db: &Db) -> Result<Vec<Pending>, DbError> {
    let migrator = migrator(db);
    let known: Vec<_> = migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .collect();
    let applied = applied(db).await?;
    let newest_known = known.iter().map(|m| m.version).max().unwrap_or(0);
    if let Some((database, _)) = applied
        .iter()
        .filter(|(v, _)| *v > newest_known)
        .max_by_key(|(v, _)| *v)
    {
        return Err(DbError::Newer {
            database: *database,
            known: newest_known,
        });
    }
    for (version, checksum) in &applied {
        match known.iter().find(|m| m.version == *version) {
            Some(m) if m.checksum.as_ref() != checksum.as_slice() => return Err(DbError::Changed(*version)),
            Some(_) => {}
            None => return Err(DbError::Changed(*version)),
        }
    }
    Ok(known
        .into_iter()
        .filter(|m| !applied.iter().any(|(v, _)| *v == m.version))
        .map(|m| Pending {
            version: m.version,
            description: m.description.to_string(),
        })
        .collect())
}

/// Applies every pending migration of the pool's backend; returns how many were applied. Refuses (before changing
/// anything) a database that a newer ThiCode has upgraded.
pub async fn migrate(db: &Db) -> Result<usize, DbError> {
    let migrator = migrator(db);
    pending(db).await?;
    let before = applied_count(db).await;
    migrator.run(&db.pool).await?;
    Ok(applied_count(db).await.saturating_sub(before))
}

async fn applied_count(db: &Db) -> usize {
    // The table does not exist before the first run; that simply means nothing is applied.
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
        .fetch_one(&db.pool)
        .await
        .map_or(0, |n| usize::try_from(n).unwrap_or(0))
}

/// Whether the database answers a trivial query (used by `/readyz`).
pub async fn ping(db: &Db) -> bool {
    sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&db.pool)
        .await
        .is_ok()
}

/// Milliseconds since the Unix epoch: how every timestamp is stored.
pub fn now_millis() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
