//! Where the bytes of files live: a local folder (default, `data/files`) or an S3-compatible bucket, behind one
//! `object_store` trait. Keys are content-addressed per user (`u<user id>/<sha256>`), never built from a client's
//! file name. Large files go up in parts from a spool file, so an upload is never held whole in memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use tokio::io::AsyncReadExt;

use crate::core::config::FileStorage;

/// Size of the parts a spool file is sent in.
const PART_BYTES: usize = 1 << 20;

/// The configured storage, cheap to clone.
#[derive(Clone, Debug)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    spool: PathBuf,
    /// `local` or `s3`, for the log and `/healthz`.
    pub kind: &'static str,
}

/// A storage failure (the cause goes to the log, never to the user).
#[derive(Debug, thiserror::Error)]
#[error("file storage: {0}")]
pub struct StorageError(String);

impl From<object_store::Error> for StorageError {
    fn from(e: object_store::Error) -> Self {
        Self(e.to_string())
    }
}

impl From<std::io::Error> for StorageError {
    fn from(e: std::io::Error) -> Self {
        Self(e.to_string())
    }
}

impl From<StorageError> for crate::core::error::AppError {
    fn from(e: StorageError) -> Self {
        tracing::error!(error = %e, "file storage failed");
        Self::Internal
    }
}

impl Storage {
    /// The storage the settings name. A local folder (and the spool folder) is created when missing.
    pub fn from_config(config: &FileStorage) -> Result<Self, StorageError> {
        match config {
            FileStorage::Local(dir) => {
                std::fs::create_dir_all(dir)?;
                let spool = dir.join(".spool");
                std::fs::create_dir_all(&spool)?;
                Ok(Self {
                    store: Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?),
                    spool,
                    kind: "local",
                })
            }
            FileStorage::S3(s3) => {
                // reqwest without a default crypto provider: ring, as for the AI provider.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"))
                        .with_virtual_hosted_style_request(false);
                }
                if let Some(id) = &s3.access_key_id {
                    builder = builder.with_access_key_id(id);
                }
                if let Some(secret) = &s3.secret_access_key {
                    builder = builder.with_secret_access_key(secret.expose());
                }
                let spool = std::env::temp_dir().join("thicode-spool");
                std::fs::create_dir_all(&spool)?;
                Ok(Self {
                    store: Arc::new(builder.build()?),
                    spool,
                    kind: "s3",
                })
            }
        }
    }

    /// The key of `user_id`'s file with this SHA-256 (hex).
    pub fn key(user_id: i64, sha256: &str) -> String {
        format!("u{user_id}/{sha256}")
    }

    /// The folder spool files are written in.
    pub fn spool_dir(&self) -> &Path {
        &self.spool
    }

    /// A new spool file for an upload in progress (removed when dropped).
    pub async fn spool(&self) -> Result<Spool, StorageError> {
        let path = self.spool.join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let file = options.open(&path).await?;
        Ok(Spool { path, file: Some(file) })
    }

    /// Stores the bytes of the file at `path` under `key`, in parts.
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<(), StorageError> {
        let mut file = tokio::fs::File::open(path).await?;
        let upload = self.store.put_multipart(&Key::from(key)).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES * 5);
        let mut buffer = vec![0u8; PART_BYTES];
        loop {
            let read = match file.read(&mut buffer).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = writer.abort().await;
                    return Err(e.into());
                }
            };
            if let Err(e) = writer.wait_for_capacity(2).await {
                return Err(e.into());
            }
            writer.write(&buffer[..read]);
        }
        writer.finish().await?;
        Ok(())
    }

    /// Stores `bytes` under `key`.
    pub async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        self.store.put(&Key::from(key), bytes.into()).await?;
        Ok(())
    }

    /// Whether an object is stored under `key`.
    pub async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        match self.store.head(&Key::from(key)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The whole object (files sent to the model: images of at most a few MB).
    pub async fn read(&self, key: &str) -> Result<Bytes, StorageError> {
        Ok(self.store.get(&Key::from(key)).await?.bytes().await?)
    }

    /// The object as a stream of chunks, for a download.
    pub async fn stream(&self, key: &str) -> Result<BoxStream<'static, Result<Bytes, StorageError>>, StorageError> {
        let result = self.store.get(&Key::from(key)).await?;
        Ok(result
            .into_stream()
            .map(|chunk| chunk.map_err(StorageError::from))
            .boxed())
    }

    /// Deletes the object under `key`; one already gone is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&Key::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// A file an upload is written to while it arrives; deleted when dropped.
#[derive(Debug)]
pub struct Spool {
    /// Where it is.
    pub path: PathBuf,
    file: Option<tokio::fs::File>,
}

impl Spool {
    /// Appends `bytes`.
    pub async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        match self.file.as_mut() {
            Some(file) => file.write_all(bytes).await,
            None => Err(std::io::Error::other("spool closed")),
        }
    }

    /// Flushes and closes the file (it stays until dropped).
    pub async fn close(&mut self) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        if let Some(mut file) = self.file.take() {
            file.flush().await?;
        }
        Ok(())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
