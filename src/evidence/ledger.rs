//! The ledger: a folder holding `index.jsonl` and `bundles/`, and appending a run to it.
//!
//! ```text
//! DIR/index.jsonl                          header line, then one line per bundle, in order
//! DIR/bundles/000001-<sha256[..12]>.json.zst
//! DIR/bundles/000002-<sha256[..12]>.json.zst
//! ```
//!
//! Appending is atomic: the bundle is written to a temporary file beside its final name, synced
//! and renamed; then the index is rewritten the same way with one more line. A run interrupted
//! before the index is renamed leaves the index as it was (at most a bundle file the index does
//! not list, which `verify` reports); one interrupted after it has recorded the run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic_write;

use super::bundle::{decode, Bundle, BundleSummary, RunInput};
use super::{sha256_hex, EvidenceError};

/// The format tag of the index's header line.
pub const LEDGER_FORMAT: &str = "trustcheck.evidence-ledger/v1";
/// The index file's name in the ledger folder.
pub const INDEX_FILE: &str = "index.jsonl";
/// The folder of bundle files in the ledger folder.
pub const BUNDLES_DIR: &str = "bundles";

/// The first line of the index: which ledger this is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexHeader {
    /// Always [`LEDGER_FORMAT`].
    pub format: String,
    /// The ledger's id: every bundle names it.
    pub ledger: String,
    /// When the ledger was started (the first bundle's written time).
    pub created_at: String,
}

/// One line of the index: a bundle, where it is and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// Position, from 1.
    pub sequence: u64,
    /// The bundle file, relative to the ledger folder.
    pub file: String,
    /// Hex SHA-256 of the bundle file.
    pub sha256: String,
    /// Hex SHA-256 of the previous bundle file (as recorded inside this bundle too).
    pub previous: Option<String>,
    /// When its facts were true.
    pub collected_at: String,
    /// When it was written.
    pub written_at: String,
    /// Whether collection failed.
    pub incomplete: bool,
}

/// The index as read: its header, its entries, and the lines that did not parse.
#[derive(Debug, Clone)]
pub struct Index {
    /// The header line.
    pub header: IndexHeader,
    /// The bundle lines that parsed, with their 1-based line numbers.
    pub entries: Vec<(usize, IndexEntry)>,
    /// Lines that did not parse (cut off or edited): line number and why.
    pub bad_lines: Vec<(usize, String)>,
}

/// A ledger folder.
#[derive(Debug, Clone)]
pub struct Ledger {
    dir: PathBuf,
}

impl Ledger {
    /// The ledger in `dir` (nothing is read yet).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The folder, for messages.
    pub fn display(&self) -> String {
        self.dir.display().to_string()
    }

    /// The index file's path.
    pub fn index_path(&self) -> PathBuf {
        self.dir.join(INDEX_FILE)
    }

    fn io(action: &'static str, path: &Path, source: std::io::Error) -> EvidenceError {
        EvidenceError::Io {
            action,
            path: path.display().to_string(),
            source,
        }
    }

    /// Reads and parses the index. A missing index is an error: it is never rebuilt.
    pub fn read_index(&self) -> Result<Index, EvidenceError> {
        let path = self.index_path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(EvidenceError::NoIndex {
                    dir: self.display(),
                    index: path.display().to_string(),
                })
            }
            Err(e) => return Err(Self::io("read", &path, e)),
        };
        parse_index(&path.display().to_string(), &text)
    }

    /// The bytes of a bundle file named by the index (relative to the ledger folder).
    pub fn read_bundle(&self, file: &str) -> Result<Vec<u8>, EvidenceError> {
        let path = self.bundle_path(file)?;
        std::fs::read(&path).map_err(|e| Self::io("read", &path, e))
    }

    /// Whether the bundle file named by the index exists.
    pub fn has_bundle(&self, file: &str) -> bool {
        self.bundle_path(file).is_ok_and(|p| p.is_file())
    }

    /// A bundle path from the index, refused when it leaves `bundles/` (an edited index must
    /// not make trustcheck read other files).
    fn bundle_path(&self, file: &str) -> Result<PathBuf, EvidenceError> {
        let name = file.strip_prefix("bundles/").unwrap_or("");
        if name.is_empty() || name.contains('/') || name.contains('\\') || name.starts_with('.') {
            return Err(EvidenceError::BadBundle {
                path: file.to_string(),
                message: "not a file in `bundles/`".into(),
            });
        }
        Ok(self.dir.join(BUNDLES_DIR).join(name))
    }

    /// The bundle files present, relative to the ledger folder (temporary files left by an
    /// interrupted write are not bundles and are left out).
    pub fn bundle_files(&self) -> Result<Vec<String>, EvidenceError> {
        let dir = self.dir.join(BUNDLES_DIR);
        let read = match std::fs::read_dir(&dir) {
            Ok(read) => read,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Self::io("read", &dir, e)),
        };
        let mut files = Vec::new();
        for entry in read {
            let entry = entry.map_err(|e| Self::io("read", &dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') {
                files.push(format!("{BUNDLES_DIR}/{name}"));
            }
        }
        files.sort();
        Ok(files)
    }

    /// Appends a run: checks that the ledger's last bundle is as the index says, writes the
    /// bundle, then the index with one more line. Returns the new index entry.
    pub fn append(&self, run: RunInput<'_>, written_at: &str) -> Result<IndexEntry, EvidenceError> {
        let (header, previous, index_text) = match self.read_index() {
            Ok(index) => {
                let head = self.checked_head(&index)?;
                let text = std::fs::read_to_string(self.index_path())
                    .map_err(|e| Self::io("read", &self.index_path(), e))?;
                (index.header, head, text)
            }
            Err(EvidenceError::NoIndex { .. }) => {
                self.refuse_foreign_folder()?;
                let header = new_header(&run, written_at);
                let mut text = serde_json::to_string(&header).unwrap_or_default();
                text.push('\n');
                (header, None, text)
            }
            Err(e) => return Err(e),
        };
        if let Some(head) = &previous {
            if run.collected_at < head.collected_at {
                return Err(EvidenceError::Usage(format!(
                    "the run's facts are from {}, before the last bundle's ({}): a ledger records runs in the order their facts were true",
                    run.collected_at, head.collected_at
                )));
            }
        }
        let sequence = previous.as_ref().map_or(1, |h| h.sequence + 1);
        let bundle = Bundle::new(
            run,
            &header.ledger,
            sequence,
            previous.as_ref().map(|h| h.sha256.clone()),
            written_at.to_string(),
        );
        let bytes = bundle
            .encode()
            .map_err(|e| Self::io("compress", &self.dir, e))?;
        let sha256 = sha256_hex(&bytes);
        let file = format!(
            "{BUNDLES_DIR}/{sequence:06}-{}.json.zst",
            sha256.get(..12).unwrap_or(&sha256)
        );
        let entry = IndexEntry {
            sequence,
            file,
            sha256,
            previous: bundle.previous.clone(),
            collected_at: bundle.collected_at.clone(),
            written_at: bundle.written_at.clone(),
            incomplete: bundle.incomplete,
        };
        let bundles = self.dir.join(BUNDLES_DIR);
        std::fs::create_dir_all(&bundles).map_err(|e| Self::io("create", &bundles, e))?;
        let path = self.bundle_path(&entry.file)?;
        write_new(&path, &bytes)?;
        let mut line = serde_json::to_string(&entry).unwrap_or_default();
        line.push('\n');
        let index_path = self.index_path();
        atomic_write::write(&index_path, format!("{index_text}{line}").as_bytes()).map_err(
            |e| EvidenceError::Io {
                action: "write",
                path: e.path,
                source: e.source,
            },
        )?;
        sync_dir(&self.dir);
        Ok(entry)
    }

    /// The last bundle, checked against the index: a ledger whose head was altered or whose
    /// index has bad lines is not extended.
    fn checked_head(&self, index: &Index) -> Result<Option<IndexEntry>, EvidenceError> {
        let broken = |first: String| EvidenceError::Broken {
            dir: self.display(),
            first,
            more: String::new(),
        };
        if let Some((line, why)) = index.bad_lines.first() {
            return Err(broken(format!("{INDEX_FILE}:{line}: {why}")));
        }
        let Some((_, head)) = index.entries.last() else {
            return Ok(None);
        };
        let bytes = self.read_bundle(&head.file)?;
        if sha256_hex(&bytes) != head.sha256 {
            return Err(broken(format!(
                "the last bundle `{}` does not have the hash the index records",
                head.file
            )));
        }
        let summary: BundleSummary = decode(&head.file, &bytes)?;
        if summary.ledger != index.header.ledger {
            return Err(broken(format!(
                "the last bundle `{}` belongs to ledger {}, not {}",
                head.file, summary.ledger, index.header.ledger
            )));
        }
        Ok(Some(head.clone()))
    }

    /// A new ledger goes into a new or empty folder only.
    fn refuse_foreign_folder(&self) -> Result<(), EvidenceError> {
        match std::fs::read_dir(&self.dir) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(if self.dir.join(BUNDLES_DIR).is_dir() {
                        EvidenceError::NoIndex {
                            dir: self.display(),
                            index: self.index_path().display().to_string(),
                        }
                    } else {
                        EvidenceError::NotALedger {
                            dir: self.display(),
                        }
                    });
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.dir).map_err(|e| Self::io("create", &self.dir, e))
            }
            Err(e) => Err(Self::io("read", &self.dir, e)),
        }
    }
}

/// A new ledger's header: its id is derived from when it was started and what it collects, so
/// two organisations' ledgers never share one.
fn new_header(run: &RunInput<'_>, written_at: &str) -> IndexHeader {
    let mut seed = format!("{written_at}\n{}\n", run.collected_at);
    for s in &run.sources {
        seed.push_str(&format!("{}:{}\n", s.provider, s.scope));
    }
    let id = sha256_hex(seed.as_bytes());
    IndexHeader {
        format: LEDGER_FORMAT.into(),
        ledger: id.get(..32).unwrap_or(&id).to_string(),
        created_at: written_at.into(),
    }
}

/// Parses index text. The header must parse; bundle lines that do not are collected, not fatal,
/// so `verify` can report each.
pub fn parse_index(path: &str, text: &str) -> Result<Index, EvidenceError> {
    let mut lines = text.split_inclusive('\n').enumerate();
    let bad = |line: usize, message: String| EvidenceError::BadIndex {
        path: path.to_string(),
        line,
        message,
    };
    let header: IndexHeader = match lines.next() {
        Some((_, line)) => serde_json::from_str(line.trim_end())
            .map_err(|e| bad(1, format!("not the ledger's header line: {e}")))?,
        None => return Err(bad(1, "the index is empty".into())),
    };
    if header.format != LEDGER_FORMAT {
        return Err(bad(
            1,
            format!("format `{}`, expected `{LEDGER_FORMAT}`", header.format),
        ));
    }
    let mut entries = Vec::new();
    let mut bad_lines = Vec::new();
    for (i, line) in lines {
        let number = i + 1;
        if !line.ends_with('\n') {
            bad_lines.push((number, "the line is cut off (no line end)".to_string()));
            continue;
        }
        match serde_json::from_str::<IndexEntry>(line.trim_end()) {
            Ok(entry) => entries.push((number, entry)),
            Err(e) => bad_lines.push((number, format!("not an index entry: {e}"))),
        }
    }
    Ok(Index {
        header,
        entries,
        bad_lines,
    })
}

/// Writes a bundle file atomically, never over an existing file: evidence is never rewritten.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), EvidenceError> {
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
    // `persist_noclobber` fails rather than replace a file of the same name.
    tmp.persist_noclobber(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Makes the renames durable (best effort: not every platform can sync a folder).
fn sync_dir(dir: &Path) {
    for d in [dir.to_path_buf(), dir.join(BUNDLES_DIR)] {
        if let Ok(f) = std::fs::File::open(&d) {
            let _ = f.sync_all();
        }
    }
}
