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
//! not list, which `verify` reports); one interrupted after it has recorded the run. On S3 (see
//! [`super::store`]) each file is one PUT of a locked object version.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::bundle::{decode, Bundle, BundleSummary, RunInput};
use super::store::Store;
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
    /// The S3 version of the bundle object (absent in a local ledger): `verify` reads this
    /// version, the one locked when it was written, whatever was written to the key since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
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

/// A ledger: a folder or an S3 prefix (see [`Store`]).
#[derive(Debug)]
pub struct Ledger {
    store: Store,
}

impl Ledger {
    /// The ledger in the local folder `dir` (nothing is read yet).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self {
            store: Store::Local(dir.into()),
        }
    }

    /// The ledger at `location`: `s3://bucket/prefix` (new objects locked for
    /// `retention_days`) or a local folder.
    pub fn open(location: &Path, retention_days: u32) -> Result<Self, EvidenceError> {
        Ok(Self {
            store: Store::open(location, retention_days)?,
        })
    }

    /// Where it is, for messages.
    pub fn display(&self) -> String {
        self.store.display()
    }

    fn index_display(&self) -> String {
        format!("{}/{INDEX_FILE}", self.display().trim_end_matches('/'))
    }

    /// Reads and parses the index. A missing index is an error: it is never rebuilt.
    pub fn read_index(&self) -> Result<Index, EvidenceError> {
        let text = self.read_index_text()?;
        parse_index(&self.index_display(), &text)
    }

    fn read_index_text(&self) -> Result<String, EvidenceError> {
        match self.store.read(INDEX_FILE, None)? {
            Some(bytes) => String::from_utf8(bytes).map_err(|e| EvidenceError::BadIndex {
                path: self.index_display(),
                line: 1,
                message: format!("not UTF-8 text: {e}"),
            }),
            None => Err(EvidenceError::NoIndex {
                dir: self.display(),
                index: self.index_display(),
            }),
        }
    }

    /// The bytes of the bundle an index entry names (on S3: the version it recorded), or
    /// `None` when it is not there.
    pub fn read_bundle(&self, entry: &IndexEntry) -> Result<Option<Vec<u8>>, EvidenceError> {
        check_bundle_name(&entry.file)?;
        self.store.read(&entry.file, entry.version.as_deref())
    }

    /// The bundle files present, relative to the ledger (temporary files left by an
    /// interrupted local write are not bundles and are left out).
    pub fn bundle_files(&self) -> Result<Vec<String>, EvidenceError> {
        self.store.list(BUNDLES_DIR)
    }

    /// Appends a run: checks that the ledger's last bundle is as the index says, writes the
    /// bundle, then the index with one more line. Returns the new index entry.
    pub fn append(&self, run: RunInput<'_>, written_at: &str) -> Result<IndexEntry, EvidenceError> {
        let (header, previous, index_text) = match self.read_index_text() {
            Ok(text) => {
                let index = parse_index(&self.index_display(), &text)?;
                let head = self.checked_head(&index)?;
                (index.header, head, text)
            }
            Err(EvidenceError::NoIndex { .. }) => {
                self.refuse_foreign_store()?;
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
        let bytes = bundle.encode().map_err(|e| EvidenceError::Io {
            action: "compress",
            path: self.display(),
            source: e,
        })?;
        let sha256 = sha256_hex(&bytes);
        let file = format!(
            "{BUNDLES_DIR}/{sequence:06}-{}.json.zst",
            sha256.get(..12).unwrap_or(&sha256)
        );
        let version = self.store.write_new(&file, &bytes)?;
        let entry = IndexEntry {
            sequence,
            file,
            sha256,
            previous: bundle.previous.clone(),
            collected_at: bundle.collected_at.clone(),
            written_at: bundle.written_at.clone(),
            incomplete: bundle.incomplete,
            version,
        };
        let mut line = serde_json::to_string(&entry).unwrap_or_default();
        line.push('\n');
        self.store
            .replace(INDEX_FILE, format!("{index_text}{line}").as_bytes())?;
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
        let Some(bytes) = self.read_bundle(head)? else {
            return Err(broken(format!(
                "the last bundle `{}` is not there",
                head.file
            )));
        };
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

    /// A new ledger goes where nothing is: bundles without an index are a ledger that lost its
    /// index, anything else is not a ledger.
    fn refuse_foreign_store(&self) -> Result<(), EvidenceError> {
        if self.store.is_empty()? {
            return Ok(());
        }
        Err(if self.bundle_files()?.is_empty() {
            EvidenceError::NotALedger {
                dir: self.display(),
            }
        } else {
            EvidenceError::NoIndex {
                dir: self.display(),
                index: self.index_display(),
            }
        })
    }
}

/// A bundle name from the index, refused when it leaves `bundles/` (an edited index must not
/// make trustcheck read other files).
fn check_bundle_name(file: &str) -> Result<(), EvidenceError> {
    let name = file.strip_prefix("bundles/").unwrap_or("");
    if name.is_empty() || name.contains('/') || name.contains('\\') || name.starts_with('.') {
        return Err(EvidenceError::BadBundle {
            path: file.to_string(),
            message: "not a file in `bundles/`".into(),
        });
    }
    Ok(())
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
