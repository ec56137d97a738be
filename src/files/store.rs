//! The `files`, `blobs` and `message_files` tables.

use sqlx::any::AnyRow;
use sqlx::{AnyPool, FromRow, Row};

use crate::core::db::now_millis;

/// A file as stored.
#[derive(Debug, Clone)]
pub struct FileRow {
    /// Primary key.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// Sanitised name.
    pub name: String,
    /// MIME type (sniffed).
    pub content_type: String,
    /// `image` or `document`.
    pub kind: String,
    /// Bytes stored.
    pub size: i64,
    /// Hex SHA-256 of the stored bytes.
    pub sha256: String,
    /// Key in the storage.
    pub storage_key: String,
    /// Image size.
    pub width: Option<i64>,
    /// See `width`.
    pub height: Option<i64>,
    /// Pages of a PDF.
    pub pages: Option<i64>,
    /// Whether a message refers (or referred) to it.
    pub attached: bool,
    /// Epoch ms.
    pub created_at: i64,
}

const COLUMNS: &str =
    "id, user_id, name, content_type, kind, size, sha256, storage_key, width, height, pages, attached, created_at";

impl FromRow<'_, AnyRow> for FileRow {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            name: row.try_get("name")?,
            content_type: row.try_get("content_type")?,
            kind: row.try_get("kind")?,
            size: row.try_get("size")?,
            sha256: row.try_get("sha256")?,
            storage_key: row.try_get("storage_key")?,
            width: row.try_get("width")?,
            height: row.try_get("height")?,
            pages: row.try_get("pages")?,
            attached: row.try_get::<i64, _>("attached")? != 0,
            created_at: row.try_get("created_at")?,
        })
    }
}

impl FileRow {
    /// What a message shows of it.
    pub fn attachment(&self) -> crate::files::Attachment {
        crate::files::Attachment {
            id: self.id,
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
            kind: self.kind.clone(),
        }
    }
}

/// A file to insert.
#[derive(Debug, Clone)]
pub struct NewFile {
    /// Owner.
    pub user_id: i64,
    /// Sanitised name.
    pub name: String,
    /// MIME type.
    pub content_type: String,
    /// `image` or `document`.
    pub kind: &'static str,
    /// Bytes stored.
    pub size: i64,
    /// Hex SHA-256.
    pub sha256: String,
    /// Storage key.
    pub storage_key: String,
    /// Image size.
    pub width: Option<i64>,
    /// See `width`.
    pub height: Option<i64>,
    /// Pages of a PDF.
    pub pages: Option<i64>,
    /// Extracted text of a document.
    pub text: Option<String>,
    /// Its chunks, for retrieval.
    pub chunks: Vec<crate::files::chunks::Chunk>,
}

/// Why a file could not be added.
#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    /// The account would keep more than its limit (bytes it would hold).
    #[error("storage limit")]
    OverLimit(i64),
    /// The account is gone.
    #[error("no such user")]
    NoUser,
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Inserts `file` and its blob's row in one transaction under the account's row lock (so two uploads cannot both
/// pass the storage limit), refusing it when the account would then keep more than `max_bytes` (0: no limit).
pub async fn insert(pool: &AnyPool, file: &NewFile, max_bytes: i64) -> Result<FileRow, InsertError> {
    let mut tx = pool.begin().await?;
    let locked = sqlx::query("UPDATE users SET is_active = is_active WHERE id = $1")
        .bind(file.user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if locked == 0 {
        return Err(InsertError::NoUser);
    }
    if max_bytes > 0 {
        let used: i64 =
            sqlx::query_scalar("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files WHERE user_id = $1")
                .bind(file.user_id)
                .fetch_one(&mut *tx)
                .await?;
        if used + file.size > max_bytes {
            return Err(InsertError::OverLimit(used + file.size));
        }
    }
    let now = now_millis();
    // The blob's row, locked (an update on conflict locks the existing row): the sweeper cannot remove it meanwhile.
    sqlx::query(
        "INSERT INTO blobs (storage_key, created_at) VALUES ($1, $2) \
         ON CONFLICT (storage_key) DO UPDATE SET created_at = blobs.created_at",
    )
    .bind(&file.storage_key)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let row: FileRow = sqlx::query_as(&format!(
        "INSERT INTO files (user_id, name, content_type, kind, size, sha256, storage_key, width, height, pages, text, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {COLUMNS}"
    ))
    .bind(file.user_id)
    .bind(&file.name)
    .bind(&file.content_type)
    .bind(file.kind)
    .bind(file.size)
    .bind(&file.sha256)
    .bind(&file.storage_key)
    .bind(file.width)
    .bind(file.height)
    .bind(file.pages)
    .bind(file.text.as_deref())
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    insert_chunks(&mut tx, row.id, file.text.as_deref().unwrap_or_default(), &file.chunks).await?;
    tx.commit().await?;
    Ok(row)
}

/// Rows per insert of chunks (four values each, well under SQLite's limit of bound values).
const CHUNK_BATCH: usize = 200;

/// Inserts the chunks of file `file_id` (the full-text index follows: a trigger on SQLite, a generated column on
/// PostgreSQL).
async fn insert_chunks(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    file_id: i64,
    text: &str,
    chunks: &[crate::files::chunks::Chunk],
) -> Result<(), sqlx::Error> {
    for batch in chunks.chunks(CHUNK_BATCH) {
        let values: Vec<String> = (0..batch.len())
            .map(|i| format!("(${}, ${}, ${}, ${})", i * 4 + 1, i * 4 + 2, i * 4 + 3, i * 4 + 4))
            .collect();
        let sql = format!(
            "INSERT INTO file_chunks (file_id, position, page, text) VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for chunk in batch {
            query = query
                .bind(file_id)
                .bind(chunk.position)
                .bind(chunk.page)
                .bind(chunk.text(text));
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Every file of the user, oldest first (for the personal data export).
pub async fn all_of(pool: &AnyPool, user_id: i64) -> Result<Vec<FileRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM files WHERE user_id = $1 ORDER BY created_at, id"
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await
}

/// The user's file `id`.
pub async fn file(pool: &AnyPool, user_id: i64, id: i64) -> Result<Option<FileRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM files WHERE id = $1 AND user_id = $2"))
        .bind(id)
        .bind(user_id)
        .fetch_optional(pool)
        .await
}

/// The user's files `ids` with the text of the documents among them (one query), in the order of `ids`; ids that are
/// not the user's files are left out.
pub async fn with_text(
    pool: &AnyPool,
    user_id: i64,
    ids: &[i64],
) -> Result<Vec<(FileRow, Option<String>)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (2..ids.len() + 2).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT {COLUMNS}, text FROM files WHERE user_id = $1 AND id IN ({})",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(user_id);
    for id in ids {
        query = query.bind(*id);
    }
    let mut rows = Vec::with_capacity(ids.len());
    for row in query.fetch_all(pool).await? {
        rows.push((FileRow::from_row(&row)?, row.try_get::<Option<String>, _>("text")?));
    }
    rows.sort_by_key(|(file, _)| ids.iter().position(|id| *id == file.id));
    Ok(rows)
}

/// What deleting a file did.
#[derive(Debug, PartialEq, Eq)]
pub enum Deleted {
    /// Gone.
    Yes,
    /// No such file of this user.
    NotFound,
    /// A message refers to it.
    Attached,
}

/// Deletes the user's file `id` unless a message refers to it.
pub async fn delete(pool: &AnyPool, user_id: i64, id: i64) -> Result<Deleted, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM files WHERE id = $1 AND user_id = $2 \
         AND NOT EXISTS (SELECT 1 FROM message_files WHERE file_id = $1)",
    )
    .bind(id)
    .bind(user_id)
    .execute(pool)
    .await?
    .rows_affected();
    if done > 0 {
        return Ok(Deleted::Yes);
    }
    Ok(if file(pool, user_id, id).await?.is_some() {
        Deleted::Attached
    } else {
        Deleted::NotFound
    })
}

/// Attaches the user's files `ids` (in order) to the message `message_id` inside the transaction that created it,
/// and records their list on the message. `Err(id)` names a file that is not the user's (nothing is attached then:
/// the caller rolls back).
pub async fn attach(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
    message_id: i64,
    ids: &[i64],
) -> Result<Result<(), i64>, sqlx::Error> {
    let mut list = Vec::with_capacity(ids.len());
    for (position, id) in ids.iter().enumerate() {
        let row: Option<FileRow> =
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM files WHERE id = $1 AND user_id = $2"))
                .bind(id)
                .bind(user_id)
                .fetch_optional(&mut **tx)
                .await?;
        let Some(row) = row else {
            return Ok(Err(*id));
        };
        sqlx::query("INSERT INTO message_files (message_id, file_id, position) VALUES ($1, $2, $3)")
            .bind(message_id)
            .bind(id)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .execute(&mut **tx)
            .await?;
        sqlx::query("UPDATE files SET attached = 1 WHERE id = $1 AND attached = 0")
            .bind(id)
            .execute(&mut **tx)
            .await?;
        list.push(row.attachment());
    }
    let json = serde_json::to_string(&list).unwrap_or_else(|_| "[]".into());
    sqlx::query("UPDATE messages SET attachments = $1 WHERE id = $2")
        .bind(json)
        .bind(message_id)
        .execute(&mut **tx)
        .await?;
    Ok(Ok(()))
}

/// Bytes the user's files take.
pub async fn used_bytes<'e, E>(db: E, user_id: i64) -> Result<i64, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query_scalar("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(db)
        .await
}

/// Registers the blob `key` (if new) before its bytes are stored, so that a failure afterwards leaves it to the
/// sweeper rather than nowhere.
pub async fn register_blob(pool: &AnyPool, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO blobs (storage_key, created_at) VALUES ($1, $2) ON CONFLICT (storage_key) DO NOTHING")
        .bind(key)
        .bind(now_millis())
        .execute(pool)
        .await
        .map(|_| ())
}

/// Deletes files never attached to a message and uploaded before `before` (epoch ms); how many went.
pub async fn expire_unattached(pool: &AnyPool, before: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "DELETE FROM files WHERE attached = 0 AND created_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM message_files WHERE file_id = files.id)",
    )
    .bind(before)
    .execute(pool)
    .await?
    .rows_affected())
}

/// Keys of blobs no file refers to any more (at most `limit`).
pub async fn orphan_blobs(pool: &AnyPool, limit: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT b.storage_key FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.storage_key = b.storage_key) \
         ORDER BY b.created_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Removes the blob `key` if no file refers to it: its row is locked first (an upload of the same bytes waits, then
/// stores them again), the object deleted by `remove`, then the row. Returns whether it was removed.
pub async fn remove_blob<F, Fut, E>(pool: &AnyPool, key: &str, remove: F) -> Result<bool, E>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: From<sqlx::Error>,
{
    let mut tx = pool.begin().await?;
    let locked = sqlx::query("UPDATE blobs SET created_at = created_at WHERE storage_key = $1")
        .bind(key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if locked == 0 {
        return Ok(false);
    }
    let used: Option<i64> = sqlx::query_scalar("SELECT id FROM files WHERE storage_key = $1 LIMIT 1")
        .bind(key)
        .fetch_optional(&mut *tx)
        .await?;
    if used.is_some() {
        return Ok(false);
    }
    remove().await?;
    sqlx::query("DELETE FROM blobs WHERE storage_key = $1")
        .bind(key)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(true)
}
