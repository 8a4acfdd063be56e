//! Where a ledger's files live: a local folder, or an S3 bucket with Object Lock.
//!
//! A ledger needs few operations of its store: read a file (a bundle by the version the index
//! recorded), list the bundles, write a new bundle that never replaces one, and replace the index
//! whole. Local folders do the last two with temp file + fsync + rename; S3 writes objects with
//! compliance-mode retention, so every version (every bundle and every index version) is kept
//! until its retention ends, whoever asks to delete it.

use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ObjectLockMode};

use super::EvidenceError;

/// Where the files are.
#[derive(Debug)]
pub enum Store {
    /// A local folder.
    Local(PathBuf),
    /// `s3://bucket/prefix`.
    S3(S3Store),
}

/// What writing an object returned: its S3 version id (`None` locally).
pub type Version = Option<String>;

impl Store {
    /// The store for `--evidence` / `evidence verify` text: `s3://bucket/prefix` or a folder.
    pub fn open(location: &Path, retention_days: u32) -> Result<Self, EvidenceError> {
        let text = location.to_string_lossy();
        match text.strip_prefix("s3://") {
            Some(rest) => Ok(Self::S3(S3Store::new(rest, retention_days)?)),
            None => Ok(Self::Local(location.to_path_buf())),
        }
    }

    /// The location, for messages.
    pub fn display(&self) -> String {
        match self {
            Store::Local(dir) => dir.display().to_string(),
            Store::S3(s3) => format!("s3://{}/{}", s3.bucket, s3.prefix),
        }
    }

    fn io(action: &'static str, path: String, source: std::io::Error) -> EvidenceError {
        EvidenceError::Io {
            action,
            path,
            source,
        }
    }

    /// A file's bytes (the given S3 version, or the latest); `None` when it does not exist.
    pub fn read(
        &self,
        name: &str,
        version: Option<&str>,
    ) -> Result<Option<Vec<u8>>, EvidenceError> {
        match self {
            Store::Local(dir) => {
                let path = dir.join(name);
                match std::fs::read(&path) {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(Self::io("read", path.display().to_string(), e)),
                }
            }
            Store::S3(s3) => s3.get(name, version),
        }
    }

    /// The names of the files in a folder of the store (`bundles`), sorted; temporary files of
    /// an interrupted local write are left out.
    pub fn list(&self, folder: &str) -> Result<Vec<String>, EvidenceError> {
        match self {
            Store::Local(dir) => {
                let path = dir.join(folder);
                let read = match std::fs::read_dir(&path) {
                    Ok(read) => read,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(e) => return Err(Self::io("read", path.display().to_string(), e)),
                };
                let mut names = Vec::new();
                for entry in read {
                    let entry =
                        entry.map_err(|e| Self::io("read", path.display().to_string(), e))?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if !name.starts_with('.') {
                        names.push(format!("{folder}/{name}"));
                    }
                }
                names.sort();
                Ok(names)
            }
            Store::S3(s3) => s3.list(&format!("{folder}/")),
        }
    }

    /// Whether the store holds anything at all (a new ledger goes only where nothing is).
    pub fn is_empty(&self) -> Result<bool, EvidenceError> {
        match self {
            Store::Local(dir) => match std::fs::read_dir(dir) {
                Ok(mut entries) => Ok(entries.next().is_none()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
                Err(e) => Err(Self::io("read", dir.display().to_string(), e)),
            },
            Store::S3(s3) => Ok(s3.list("")?.is_empty()),
        }
    }

    /// Writes a new file, never over an existing one.
    pub fn write_new(&self, name: &str, bytes: &[u8]) -> Result<Version, EvidenceError> {
        match self {
            Store::Local(dir) => {
                let path = dir.join(name);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| Self::io("create", parent.display().to_string(), e))?;
                }
                write_local(&path, bytes, false)?;
                Ok(None)
            }
            Store::S3(s3) => {
                if s3.get(name, None)?.is_some() {
                    return Err(Self::io(
                        "write",
                        s3.key(name),
                        std::io::Error::from(std::io::ErrorKind::AlreadyExists),
                    ));
                }
                s3.put(name, bytes)
            }
        }
    }

    /// Replaces a file whole (the index): atomically locally, as a new locked version on S3.
    pub fn replace(&self, name: &str, bytes: &[u8]) -> Result<Version, EvidenceError> {
        match self {
            Store::Local(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Self::io("create", dir.display().to_string(), e))?;
                write_local(&dir.join(name), bytes, true)?;
                for d in [dir.clone(), dir.join(super::ledger::BUNDLES_DIR)] {
                    // Makes the renames durable; not every platform can sync a folder.
                    if let Ok(f) = std::fs::File::open(&d) {
                        let _ = f.sync_all();
                    }
                }
                Ok(None)
            }
            Store::S3(s3) => s3.put(name, bytes),
        }
    }
}

/// Writes through a synced temporary file renamed into place; `replace: false` never replaces.
fn write_local(path: &Path, bytes: &[u8], replace: bool) -> Result<(), EvidenceError> {
    let io = |source| EvidenceError::Io {
        action: "write",
        path: path.display().to_string(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".trustcheck-").suffix(".tmp");
    // Readable like any file the user writes (a temp file is 0600 by default).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(io)?;
    std::io::Write::write_all(tmp.as_file_mut(), bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    if replace {
        tmp.persist(path).map_err(|e| io(e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| io(e.error))?;
    }
    Ok(())
}

/// An S3 prefix written with Object Lock retention in compliance mode, through the AWS SDK and
/// the standard credential chain (`AWS_ENDPOINT_URL` honoured, with path-style addressing).
pub struct S3Store {
    bucket: String,
    prefix: String,
    retention_days: u32,
    client: aws_sdk_s3::Client,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

impl S3Store {
    fn new(rest: &str, retention_days: u32) -> Result<Self, EvidenceError> {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(EvidenceError::Usage(format!(
                "`s3://{rest}` names no bucket: give `s3://BUCKET/PREFIX`"
            )));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| EvidenceError::Io {
                action: "start",
                path: "the S3 client".into(),
                source: e,
            })?;
        let endpoint = std::env::var("AWS_ENDPOINT_URL_S3")
            .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
            .ok();
        let sdk = runtime.block_on(trustcheck_aws::collect::load_base_config(
            None,
            endpoint.clone(),
            5,
        ));
        let config = aws_sdk_s3::config::Builder::from(&sdk)
            // An S3-compatible endpoint (moto, MinIO) serves buckets by path.
            .force_path_style(endpoint.is_some())
            .build();
        Ok(Self {
            bucket: bucket.to_string(),
            prefix: prefix.trim_end_matches('/').to_string(),
            retention_days,
            client: aws_sdk_s3::Client::from_conf(config),
            runtime,
        })
    }

    fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    fn error(&self, action: &'static str, name: &str, e: impl std::fmt::Display) -> EvidenceError {
        EvidenceError::Io {
            action,
            path: format!("s3://{}/{}", self.bucket, self.key(name)),
            source: std::io::Error::other(e.to_string()),
        }
    }

    fn get(&self, name: &str, version: Option<&str>) -> Result<Option<Vec<u8>>, EvidenceError> {
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(self.key(name))
            .set_version_id(version.map(String::from));
        self.runtime.block_on(async {
            match request.send().await {
                Ok(out) => match out.body.collect().await {
                    Ok(body) => Ok(Some(body.into_bytes().to_vec())),
                    Err(e) => Err(self.error("read", name, e)),
                },
                Err(e) => {
                    if e.as_service_error().is_some_and(|s| s.is_no_such_key()) {
                        Ok(None)
                    } else {
                        Err(self.error("read", name, aws_sdk_s3::error::DisplayErrorContext(e)))
                    }
                }
            }
        })
    }

    fn list(&self, folder: &str) -> Result<Vec<String>, EvidenceError> {
        let prefix = self.key(folder);
        let strip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        self.runtime.block_on(async {
            let mut names = Vec::new();
            let mut pages = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(&prefix)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| {
                    self.error("list", folder, aws_sdk_s3::error::DisplayErrorContext(e))
                })?;
                for object in page.contents() {
                    if let Some(name) = object.key().and_then(|k| k.get(strip..)) {
                        names.push(name.to_string());
                    }
                }
            }
            names.sort();
            Ok(names)
        })
    }

    fn put(&self, name: &str, bytes: &[u8]) -> Result<Version, EvidenceError> {
        let until =
            time::OffsetDateTime::now_utc() + time::Duration::days(i64::from(self.retention_days));
        let until = aws_sdk_s3::primitives::DateTime::from_secs(until.unix_timestamp());
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key(name))
            .body(ByteStream::from(bytes.to_vec()))
            // S3 requires an integrity checksum on a PUT with Object Lock parameters.
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .object_lock_mode(ObjectLockMode::Compliance)
            .object_lock_retain_until_date(until);
        self.runtime.block_on(async {
            request
                .send()
                .await
                .map(|out| out.version_id().map(String::from))
                .map_err(|e| self.error("write", name, aws_sdk_s3::error::DisplayErrorContext(e)))
        })
    }
}
