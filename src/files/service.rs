//! The file use cases: upload (spool, sniff, process, store), read, delete, the sweeper that removes what nothing
//! refers to any more, and the parts of a prompt the attachments of a conversation make.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};

use super::extract::{self, ExtractError};
use super::images::{self, ImageError};
use super::kinds::{self, Kind};
use super::storage::{Storage, StorageError};
use super::store::{self, InsertError, NewFile};
// The record the REST API renders; it reads files only through this service.
pub use super::store::FileRow;
use super::{Attachment, human_size};
use crate::accounts::users::User;
use crate::core::config::FilesConfig;
use crate::core::error::AppError;
use crate::core::workers::{WorkError, Workers};
use crate::state::AppState;
use crate::text;

/// How long reading one document may take, from the moment a worker starts on it.
pub const EXTRACT_BUDGET: Duration = Duration::from_secs(30);
/// Uploads that may wait for a worker, per worker; one more is refused at once (503).
const QUEUE_PER_SLOT: usize = 2;
/// How long an upload waits for its worker's answer (its place in the queue, then its budget) before it gives up.
const ANSWER_WAIT: Duration = Duration::from_secs(120);
/// A file uploaded but never sent with a message is deleted after this long.
pub const UNATTACHED_TTL_MS: i64 = 24 * 3600 * 1000;
/// Most XML a DOCX may unpack to.
const MAX_DOCX_XML: u64 = 64 << 20;
/// Most of a text file read as the document's text (about a million tokens, far beyond any context window): the
/// file is kept whole, its text is its first 4 MB. Reading no more keeps a large upload's memory small.
pub const MAX_TEXT_BYTES: usize = 4 << 20;
/// The beginning of an upload kept in memory while it is spooled, to tell text from the rest.
const HEAD_BYTES: usize = 64 << 10;

/// The storage, the limits and the workers that decode images and read documents.
#[derive(Clone, Debug)]
pub struct Files {
    /// Where the bytes are.
    pub storage: Storage,
    /// The limits.
    pub config: Arc<FilesConfig>,
    /// Decoding and extraction run on at most (cores − 1) threads of their own at once, below the request workers'
    /// priority.
    workers: Workers,
}

impl Files {
    /// The files of the configured storage.
    pub fn new(config: &FilesConfig) -> Result<Self, StorageError> {
        Ok(Self {
            storage: Storage::from_config(&config.storage)?,
            config: Arc::new(config.clone()),
            workers: Workers::per_core("thicode-files", QUEUE_PER_SLOT),
        })
    }

    /// Runs `job` on a worker with a deadline [`EXTRACT_BUDGET`] after it starts; `Overloaded` when every worker
    /// and the queue are busy, `None` when no answer came within [`ANSWER_WAIT`] (the job stops at its deadline).
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(Instant) -> T + Send + 'static,
    ) -> Result<Option<T>, AppError> {
        let work = self.workers.run(move || job(Instant::now() + EXTRACT_BUDGET));
        match tokio::time::timeout(ANSWER_WAIT, work).await {
            Err(_) => Ok(None),
            Ok(Ok(out)) => Ok(Some(out)),
            Ok(Err(WorkError::Overloaded)) => Err(AppError::FilesBusy(5)),
            Ok(Err(e)) => Err(AppError::internal("file worker", e)),
        }
    }
}

/// What the worker made of an upload.
enum Made {
    /// A re-encoded image.
    Image(images::Processed),
    /// A document stored as uploaded, with its text, cut into chunks for retrieval.
    Document {
        kind: Kind,
        text: String,
        pages: Option<u32>,
        chunks: Vec<super::chunks::Chunk>,
    },
}

fn refuse(message: crate::core::i18n::Text) -> AppError {
    AppError::invalid("file", message)
}

/// Takes an upload: `body` is written to a spool file as it arrives (at most the size limit is read), then sniffed
/// and processed, stored, and recorded as the user's file. Every refusal names its reason and limit.
pub async fn upload<S, E>(state: &AppState, user: &User, raw_name: &str, mut body: S) -> Result<FileRow, AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let files = &state.files;
    let limits = files.config.clone();
    let name = kinds::clean_name(raw_name).unwrap_or_else(|| "upload".to_string());
    let max_storage = storage_limit(state, user.id).await?;
    let used = store::used_bytes(&state.db.pool, user.id).await?;
    if max_storage > 0 && used >= max_storage {
        return Err(storage_full(used + 1, max_storage));
    }

    let mut spool = files.storage.spool().await?;
    let mut size: u64 = 0;
    // The hash of the bytes as uploaded (a document's key), and their beginning.
    let mut hasher = Sha256::new();
    let mut head: Vec<u8> = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            let detail = e.to_string();
            AppError::BadRequest(crate::core::i18n::Text::new(move |_| detail.clone()))
        })?;
        size += chunk.len() as u64;
        if size > limits.max_file_bytes {
            return Err(refuse(text!(
                files.refuse.too_large,
                name = name.clone(),
                size = format!("> {}", human_size(limits.max_file_bytes)),
                max = human_size(limits.max_file_bytes)
            )));
        }
        spool.write(&chunk).await.map_err(StorageError::from)?;
        hasher.update(&chunk);
        if head.len() < HEAD_BYTES {
            head.extend_from_slice(&chunk[..chunk.len().min(HEAD_BYTES - head.len())]);
        }
    }
    let uploaded_hash = hex(&hasher.finalize());
    spool.close().await.map_err(StorageError::from)?;
    if size == 0 {
        return Err(refuse(text!(files.refuse.empty, name = name.clone())));
    }

    // Text is read up to its limit; anything else whole (images are decoded, PDFs and DOCX parsed).
    let bytes = if size as usize > MAX_TEXT_BYTES && looks_like_text(&head) {
        read_prefix(&spool.path, MAX_TEXT_BYTES)
            .await
            .map_err(StorageError::from)?
    } else {
        tokio::fs::read(&spool.path).await.map_err(StorageError::from)?
    };
    drop(head);
    let max_pixels = limits.max_image_pixels;
    let job_name = name.clone();
    let made = files
        .run(move |deadline| {
            // With the stored bytes' hash: the re-encoded image, or the document as uploaded.
            make(&job_name, bytes, max_pixels, deadline).map(|made| {
                let hash = match &made {
                    Made::Image(image) => hex(&Sha256::digest(&image.bytes)),
                    Made::Document { .. } => uploaded_hash,
                };
                (made, hash)
            })
        })
        .await?;
    let Some(made) = made else {
        return Err(refuse(text!(
            files.refuse.too_slow,
            name = name.clone(),
            seconds = EXTRACT_BUDGET.as_secs()
        )));
    };
    let (made, sha256) = made.map_err(|refusal| refusal.into_error(&name, max_pixels))?;
    // A PDF without a text layer (a scan) is read by the provider's OCR, or refused as having no text.
    let made = match made {
        Made::Document {
            kind: Kind::Pdf, text, ..
        } if text.trim().is_empty() => read_scan(state, &name, &spool.path).await?,
        made => made,
    };

    let key = Storage::key(user.id, &sha256);
    let (new, image_bytes) = match made {
        Made::Image(image) => (
            NewFile {
                user_id: user.id,
                name: with_extension(&name, image.content_type),
                content_type: image.content_type.to_string(),
                kind: "image",
                size: image.bytes.len() as i64,
                sha256,
                storage_key: key.clone(),
                width: Some(i64::from(image.width)),
                height: Some(i64::from(image.height)),
                pages: None,
                text: None,
                chunks: Vec::new(),
            },
            Some(Bytes::from(image.bytes)),
        ),
        Made::Document {
            kind,
            text,
            pages,
            chunks,
        } => (
            NewFile {
                user_id: user.id,
                name: name.clone(),
                content_type: kind.mime().to_string(),
                kind: "document",
                size: i64::try_from(size).unwrap_or(i64::MAX),
                sha256,
                storage_key: key.clone(),
                width: None,
                height: None,
                pages: pages.map(i64::from),
                text: Some(text),
                chunks,
            },
            None,
        ),
    };
    if max_storage > 0 && used + new.size > max_storage {
        return Err(storage_full(used + new.size, max_storage));
    }

    // The blob is registered before its bytes go up, so a failure after this point leaves it to the sweeper.
    store::register_blob(&state.db.pool, &key).await?;
    let put = |bytes: Option<Bytes>| {
        let storage = &files.storage;
        let key = key.clone();
        let path = spool.path.clone();
        async move {
            match bytes {
                Some(bytes) => storage.put_bytes(&key, bytes).await,
                None => storage.put_file(&key, &path).await,
            }
        }
    };
    put(image_bytes.clone()).await?;
    let row = match store::insert(&state.db.pool, &new, max_storage).await {
        Ok(row) => row,
        Err(InsertError::OverLimit(total)) => return Err(storage_full(total, max_storage)),
        Err(InsertError::NoUser) => return Err(AppError::Unauthenticated),
        Err(InsertError::Db(e)) => return Err(e.into()),
    };
    // The sweeper may have removed an orphaned blob of the same bytes between the upload and the row's insert; now
    // that a row refers to it, it stays — put it back if it went.
    if !files.storage.exists(&key).await? {
        put(image_bytes).await?;
    }
    state.metrics.file_uploaded(&row.kind, row.size);
    if row.kind == "document" {
        super::retrieval::embed_soon(state, row.id);
    }
    Ok(row)
}

/// The text of a scanned PDF, read by the provider's OCR model page by page and cut into chunks; refused as having no
/// text when there is no OCR (another provider, or `OCR_MODEL` empty) or it found none.
async fn read_scan(state: &AppState, name: &str, path: &std::path::Path) -> Result<Made, AppError> {
    let no_text = || refuse(text!(files.refuse.no_text, name = name.to_string()));
    if state.chat.provider.ocr_model().is_none() {
        return Err(no_text());
    }
    let bytes = tokio::fs::read(path).await.map_err(StorageError::from)?;
    let Some(pages) = state.chat.provider.ocr_pdf(&bytes).await else {
        return Err(no_text());
    };
    drop(bytes);
    if pages.iter().all(|p| p.trim().is_empty()) {
        return Err(refuse(text!(files.refuse.no_text_ocr, name = name.to_string())));
    }
    let count = u32::try_from(pages.len()).ok();
    let text = pages.join("\x0c");
    let (text, chunks) = state
        .files
        .run(move |deadline| {
            let chunks = super::chunks::split(&text, true, deadline);
            (text, chunks)
        })
        .await?
        .ok_or_else(|| {
            refuse(text!(
                files.refuse.too_slow,
                name = name.to_string(),
                seconds = EXTRACT_BUDGET.as_secs()
            ))
        })?;
    Ok(Made::Document {
        kind: Kind::Pdf,
        text,
        pages: count,
        chunks,
    })
}

/// The bytes of files `user_id` may keep (0: no limit): the account's own limit (admin, in megabytes) or the
/// instance's `MAX_FILE_STORAGE_PER_USER`.
pub async fn storage_limit(state: &AppState, user_id: i64) -> Result<i64, AppError> {
    let own = crate::chat::quota::override_of(&state.db.pool, user_id)
        .await?
        .storage_mb;
    Ok(match own {
        Some(mb) => mb.saturating_mul(1 << 20),
        None => i64::try_from(state.files.config.max_storage_per_user).unwrap_or(i64::MAX),
    })
}

fn storage_full(total: i64, max: i64) -> AppError {
    refuse(text!(
        files.refuse.storage_full,
        total = human_size(u64::try_from(total).unwrap_or(0)),
        max = human_size(u64::try_from(max).unwrap_or(0))
    ))
}

/// Why the worker refused an upload.
enum Refusal {
    NotAccepted(String),
    Image(ImageError),
    Extract(ExtractError),
}

impl Refusal {
    fn into_error(self, name: &str, max_pixels: u64) -> AppError {
        let name = name.to_string();
        refuse(match self {
            Self::NotAccepted(detected) => text!(files.refuse.not_accepted, name = name, detected = detected),
            Self::Image(ImageError::TooLarge(width, height)) => text!(
                files.refuse.image_too_large,
                name = name,
                width = width,
                height = height,
                max = max_pixels / 1_000_000
            ),
            Self::Image(ImageError::Animated) => text!(files.refuse.animated_gif, name = name),
            Self::Image(ImageError::Broken) => text!(files.refuse.image_broken, name = name),
            Self::Extract(ExtractError::Encrypted) => text!(files.refuse.pdf_encrypted, name = name),
            Self::Extract(ExtractError::BrokenPdf) => text!(files.refuse.pdf_broken, name = name),
            Self::Extract(ExtractError::BrokenDocx) => text!(files.refuse.docx_broken, name = name),
            Self::Extract(ExtractError::UnpacksTooLarge(max)) => {
                text!(files.refuse.unpacks_too_large, name = name, max = human_size(max))
            }
            Self::Extract(ExtractError::TooSlow) => {
                text!(files.refuse.too_slow, name = name, seconds = EXTRACT_BUDGET.as_secs())
            }
        })
    }
}

/// Whether an upload's beginning is text (a partial character at its end aside): such a file is read only up to
/// [`MAX_TEXT_BYTES`].
fn looks_like_text(head: &[u8]) -> bool {
    let whole = match std::str::from_utf8(head) {
        Ok(_) => head,
        Err(e) if e.error_len().is_none() => &head[..e.valid_up_to()],
        Err(_) => return false,
    };
    infer::get(whole).is_none_or(|found| found.mime_type().starts_with("text/")) && kinds::is_text(whole)
}

/// The first `max` bytes of the file at `path`, cut back to a whole UTF-8 character.
async fn read_prefix(path: &std::path::Path, max: usize) -> std::io::Result<Vec<u8>> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path).await?;
    let mut bytes = Vec::with_capacity(max);
    file.take(max as u64).read_to_end(&mut bytes).await?;
    if let Err(e) = std::str::from_utf8(&bytes)
        && e.error_len().is_none()
    {
        bytes.truncate(e.valid_up_to());
    }
    Ok(bytes)
}

/// Sniffs and processes an upload (on a worker thread): an image re-encoded, a document's text extracted and cut
/// into chunks.
fn make(name: &str, bytes: Vec<u8>, max_pixels: u64, deadline: Instant) -> Result<Made, Refusal> {
    let kind = kinds::sniff(name, &bytes).map_err(|n| Refusal::NotAccepted(n.0))?;
    let document = |text: String, pages: Option<u32>| {
        let chunks = super::chunks::split(&text, pages.is_some(), deadline);
        Ok(Made::Document {
            kind,
            text,
            pages,
            chunks,
        })
    };
    match kind {
        Kind::Image(format) => images::process(&bytes, format, max_pixels)
            .map(Made::Image)
            .map_err(Refusal::Image),
        Kind::Pdf => {
            let out = extract::pdf(&bytes, deadline).map_err(Refusal::Extract)?;
            drop(bytes);
            document(out.text, out.pages)
        }
        Kind::Docx => {
            let out = extract::docx(&bytes, MAX_DOCX_XML, deadline).map_err(Refusal::Extract)?;
            drop(bytes);
            document(out.text, None)
        }
        Kind::Text(mime) => {
            // The bytes become the text without a copy (they were checked as UTF-8).
            let mut raw =
                String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            if raw.starts_with('\u{feff}') {
                raw.replace_range(..3, "");
            }
            let text = if mime == "text/html" { extract::html(&raw) } else { raw };
            document(text, None)
        }
    }
}

/// The name with the extension of what it now is (an image re-encoded from WEBP to PNG is `x.png`).
fn with_extension(name: &str, content_type: &str) -> String {
    let extension = match content_type {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        _ => return name.to_string(),
    };
    let stem = match name.rsplit_once('.') {
        Some((stem, ext)) if ext.len() <= 5 && !stem.is_empty() => stem,
        _ => name,
    };
    let current = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    if current.as_deref() == Some(extension) || (extension == "jpg" && current.as_deref() == Some("jpeg")) {
        return name.to_string();
    }
    format!("{stem}.{extension}")
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The user's file `id`.
pub async fn file(state: &AppState, user: &User, id: i64) -> Result<FileRow, AppError> {
    store::file(&state.db.pool, user.id, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Deletes the user's file `id` (refused while a message refers to it), and its bytes when nothing else does.
pub async fn delete(state: &AppState, user: &User, id: i64) -> Result<(), AppError> {
    match store::delete(&state.db.pool, user.id, id).await? {
        store::Deleted::Yes => {
            sweep_soon(state);
            Ok(())
        }
        store::Deleted::NotFound => Err(AppError::NotFound),
        store::Deleted::Attached => Err(AppError::invalid("file", text!(files.refuse.attached))),
    }
}

/// Deletes files a request stored before it failed (unattached ones only), so a refused send leaves nothing behind.
pub async fn discard(state: &AppState, user: &User, files: &[FileRow]) {
    for file in files {
        if let Err(e) = store::delete(&state.db.pool, user.id, file.id).await {
            tracing::warn!(error = %e, "could not discard an upload");
        }
    }
    if !files.is_empty() {
        sweep_soon(state);
    }
}

/// Removes, in the background, the bytes nothing refers to any more (after a file, message, conversation or
/// account was deleted).
pub fn sweep_soon(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = sweep(&state, false).await {
            tracing::warn!(error = %e, "file sweep failed");
        }
    });
}

/// Deletes files never attached (when `expire`, those older than a day) and the blobs no file refers to; how many
/// blobs went.
pub async fn sweep(state: &AppState, expire: bool) -> Result<usize, AppError> {
    let pool = &state.db.pool;
    if expire {
        store::expire_unattached(pool, crate::core::db::now_millis() - UNATTACHED_TTL_MS).await?;
    }
    let mut removed = 0;
    loop {
        let keys = store::orphan_blobs(pool, 100).await?;
        if keys.is_empty() {
            break;
        }
        let mut progress = false;
        for key in keys {
            let storage = state.files.storage.clone();
            let target = key.clone();
            let gone = store::remove_blob(pool, &key, || async move {
                storage.delete(&target).await.map_err(AppError::from)
            })
            .await?;
            if gone {
                removed += 1;
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    Ok(removed)
}

/// Sweeps every ten minutes (files uploaded but never sent expire after a day) until aborted.
pub fn spawn_sweeper(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(e) = sweep(&state, true).await {
                tracing::warn!(error = %e, "file sweep failed");
            }
        }
    })
}

/// Checks the files a message is to carry: at most the per-message limit, each the user's. Returns them in order.
pub async fn check_attachments(state: &AppState, user: &User, ids: &[i64]) -> Result<Vec<FileRow>, AppError> {
    let max = state.files.config.max_files_per_message;
    if ids.len() > max {
        return Err(AppError::invalid(
            "attachments",
            text!(files.refuse.too_many, max = max),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if !seen.insert(*id) {
            continue;
        }
        let row = store::file(&state.db.pool, user.id, *id)
            .await?
            .ok_or_else(|| AppError::invalid("attachments", text!(files.refuse.no_such_file, id = *id)))?;
        out.push(row);
    }
    Ok(out)
}

/// The attachments stored on a message (its `attachments` JSON).
pub fn attachments_of(json: &str) -> Vec<Attachment> {
    serde_json::from_str(json).unwrap_or_default()
}

/// Most images sent in one request (Mistral's limit); the newest are kept.
pub const MAX_IMAGES_PER_REQUEST: usize = 8;

/// What the attachments of one message add to its prompt: the documents' text, delimited with their names, before
/// the message's own text; the images as `data:` URLs.
#[derive(Debug, Default, Clone)]
pub struct PromptFiles {
    /// `<document name="…">…</document>` blocks.
    pub documents: String,
    /// `data:image/…;base64,…`.
    pub images: Vec<String>,
}

/// Loads what `attachments` add to a prompt; images only when `with_images` (the newest messages' images, within
/// the per-request limit, are chosen by the caller); documents whole, or only named when `whole_documents` is false
/// (their relevant parts are quoted elsewhere, `retrieval`).
pub async fn prompt_files(
    state: &AppState,
    owner_id: i64,
    attachments: &[Attachment],
    with_images: bool,
    whole_documents: bool,
) -> Result<PromptFiles, AppError> {
    use base64::Engine;
    let mut out = PromptFiles::default();
    let ids: Vec<i64> = attachments.iter().map(|a| a.id).collect();
    for (row, text) in store::with_text(&state.db.pool, owner_id, &ids).await? {
        if row.kind == "image" {
            if with_images {
                let bytes = state.files.storage.read(&row.storage_key).await?;
                let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
                out.images.push(format!("data:{};base64,{encoded}", row.content_type));
            }
        } else if whole_documents {
            out.documents
                .push_str(&document_block(&row, text.as_deref().unwrap_or_default()));
        } else {
            out.documents.push_str(&document_block(
                &row,
                "[Too long to include whole: the parts relevant to the latest message are quoted with it.]",
            ));
        }
    }
    Ok(out)
}

/// One document as the prompt shows it, delimited and named (the name's markup characters escaped).
pub fn document_block(row: &FileRow, text: &str) -> String {
    let name = row
        .name
        .replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;");
    let pages = row.pages.map(|p| format!(" pages=\"{p}\"")).unwrap_or_default();
    format!(
        "<document name=\"{name}\" type=\"{}\"{pages}>\n{}\n</document>\n\n",
        row.content_type,
        text.trim_end()
    )
}

#[cfg(test)]
mod tests {
    use super::with_extension;

    #[test]
    fn a_reencoded_image_takes_its_new_extension() {
        assert_eq!(with_extension("shot.webp", "image/png"), "shot.png");
        assert_eq!(with_extension("photo.JPEG", "image/jpeg"), "photo.JPEG");
        assert_eq!(with_extension("photo.png", "image/png"), "photo.png");
        assert_eq!(with_extension("noext", "image/jpeg"), "noext.jpg");
    }
}
