//! Type 2 evidence: a tamper-evident ledger of runs, and the period report an auditor relies on.
//!
//! Every `check --evidence DIR` run appends one **bundle** to a **ledger** (a folder): the
//! snapshots, the findings, the rules, schema fragments, configuration and exceptions file used,
//! who collected and where it ran, chained to the previous bundle by its SHA-256. `evidence
//! verify` recomputes every hash and the chain; `evidence report` summarises a period from the
//! findings recorded in the bundles, without judging anything again. The format is described in
//! `docs/evidence.md`.
//!
//! - [`bundle`]: what one run records, and reading it back.
//! - [`ledger`]: the index and the folder that hold the bundles; appending atomically.
//! - [`verify`]: checking hashes, the chain and the cadence.
//! - [`period`]: the period model (exception windows, held shares) built by streaming bundles.
//! - [`render`]: the period report as Markdown, JSON, CSV and HTML.
//! - [`store`]: a local folder or an S3 prefix with Object Lock.
//! - [`times`]: dates, durations and cadences.

pub mod bundle;
pub mod html;
pub mod ledger;
pub mod period;
pub mod render;
pub mod store;
pub mod times;
pub mod verify;

pub use bundle::{Bundle, BundleSummary, RunInput};
pub use ledger::{Index, IndexEntry, Ledger};

/// Hex SHA-256 of bytes: the one hash every part of the ledger uses.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Something about the evidence ledger that stops a command: always says where.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum EvidenceError {
    /// A file of the ledger cannot be read or written.
    #[error("cannot {action} `{path}`: {source}")]
    #[diagnostic(code(evidence::io))]
    Io {
        /// `read`, `write`, …
        action: &'static str,
        /// The file or folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The folder holds bundles but no index, or is not a ledger at all.
    #[error("`{dir}` has no ledger index `{index}`")]
    #[diagnostic(
        code(evidence::no_index),
        help("a ledger is the folder given to `check --evidence`; its index lists the bundles in order and is never rebuilt by trustcheck: restore it from your copy (S3 version, git history)")
    )]
    NoIndex {
        /// The ledger folder.
        dir: String,
        /// The index path expected.
        index: String,
    },
    /// The folder is not empty and is not a ledger: nothing is written into it.
    #[error("`{dir}` is not an evidence ledger (it holds other files and no `index.jsonl`)")]
    #[diagnostic(
        code(evidence::not_a_ledger),
        help("give `--evidence` an empty or new folder, or the folder of an existing ledger")
    )]
    NotALedger {
        /// The folder.
        dir: String,
    },
    /// A line of the index is not an index entry.
    #[error("{path}:{line}: {message}")]
    #[diagnostic(
        code(evidence::bad_index),
        help("the index is append-only JSON lines written by trustcheck; a line that does not parse was cut off or edited: run `trustcheck evidence verify`")
    )]
    BadIndex {
        /// The index.
        path: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A bundle cannot be decoded.
    #[error("bundle `{path}` cannot be read: {message}")]
    #[diagnostic(
        code(evidence::bad_bundle),
        help("a bundle is zstd-compressed JSON written by trustcheck; one that does not decode was cut off or altered: run `trustcheck evidence verify`")
    )]
    BadBundle {
        /// The bundle.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The ledger does not verify: nothing is appended to it and no report is made from it.
    #[error("the ledger `{dir}` does not verify: {first}{more}")]
    #[diagnostic(
        code(evidence::broken),
        help("`trustcheck evidence verify {dir}` lists every problem; trustcheck never repairs evidence: restore the altered files from your write-once copy")
    )]
    Broken {
        /// The ledger.
        dir: String,
        /// The first problem.
        first: String,
        /// `(and N more)`, or nothing.
        more: String,
    },
    /// A date, time or duration given on the command line.
    #[error("{0}")]
    #[diagnostic(code(evidence::usage))]
    Usage(String),
}
