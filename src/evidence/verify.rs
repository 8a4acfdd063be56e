//! `evidence verify`: recompute every hash and the chain, find cadence gaps. Reads only; never
//! repairs.
//!
//! Each bundle records the hash of the one before it, so a bundle that is altered, removed or
//! inserted breaks the chain at the next bundle even when the index was edited to match. The
//! last bundle has no successor: anchor the head hash `verify` prints (a write-once store, a git
//! commit, the CI log) to protect it too.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::bundle::{decode, BundleSummary};
use super::ledger::{Ledger, INDEX_FILE};
use super::{sha256_hex, times, EvidenceError};

/// What is wrong with a ledger's integrity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// An index line does not parse (cut off or edited).
    BadIndexLine,
    /// A bundle the index lists is not there.
    Missing,
    /// A bundle's bytes do not have the hash the index records.
    Altered,
    /// A bundle does not decode (cut off, or not a bundle).
    Unreadable,
    /// A bundle does not follow the one before it: one was removed or inserted between them.
    ChainBreak,
    /// A bundle belongs to another ledger (another organisation's, or another copy's).
    ForeignLedger,
    /// A bundle's own header disagrees with its index line.
    IndexMismatch,
    /// A bundle's facts are older than the previous bundle's.
    OutOfOrder,
    /// A bundle file the index does not list (inserted, or left by an interrupted write).
    Unlisted,
}

/// One integrity problem, located.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What kind.
    pub kind: ProblemKind,
    /// Where: `index.jsonl:7` or a bundle file.
    pub location: String,
    /// What was found.
    pub message: String,
}

/// A run of the ledger, named for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRef {
    /// Its sequence number.
    pub sequence: u64,
    /// When its facts were true.
    pub collected_at: String,
}

/// A stretch longer than the cadence with no run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// The start: the last run before it, or the period's start.
    pub from: String,
    /// The end: the next run, or the period's end.
    pub to: String,
    /// The run before it, when there is one in the period.
    pub after: Option<u64>,
    /// The run after it, when there is one in the period.
    pub before: Option<u64>,
    /// How long, for people.
    pub length: String,
}

/// What `verify` asks for.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The expected interval between runs.
    pub cadence: Duration,
    /// The period's start; `None`: the first run.
    pub from: Option<OffsetDateTime>,
    /// The period's end (exclusive); `None`: the last run.
    pub to: Option<OffsetDateTime>,
}

/// The outcome of verifying a ledger.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// The ledger folder.
    pub dir: String,
    /// The ledger id.
    pub ledger: String,
    /// Bundles the index lists.
    pub bundles: usize,
    /// Runs in the period.
    pub runs_in_period: usize,
    /// The period checked.
    pub from: Option<String>,
    /// The period's end.
    pub to: Option<String>,
    /// Hash of the last bundle: anchor it elsewhere to protect the head.
    pub head: Option<String>,
    /// Integrity problems.
    pub problems: Vec<Problem>,
    /// Cadence gaps in the period.
    pub gaps: Vec<Gap>,
    /// Runs in the period whose collection failed.
    pub incomplete: Vec<RunRef>,
}

impl Verification {
    /// No bundle altered, removed, inserted or unreadable.
    pub fn intact(&self) -> bool {
        self.problems.is_empty()
    }

    /// Intact, and a run at every cadence interval of the period, each complete.
    pub fn complete(&self) -> bool {
        self.intact()
            && self.gaps.is_empty()
            && self.incomplete.is_empty()
            && self.runs_in_period > 0
    }
}

/// Verifies a ledger. Errors only when there is no index to verify against.
pub fn verify(ledger: &Ledger, options: Options) -> Result<Verification, EvidenceError> {
    let index = ledger.read_index()?;
    let mut problems: Vec<Problem> = index
        .bad_lines
        .iter()
        .map(|(line, why)| Problem {
            kind: ProblemKind::BadIndexLine,
            location: format!("{INDEX_FILE}:{line}"),
            message: why.clone(),
        })
        .collect();
    let mut previous: Option<&super::IndexEntry> = None;
    let mut listed = std::collections::BTreeSet::new();
    let mut runs: Vec<(RunRef, OffsetDateTime, bool)> = Vec::new();
    for (line, entry) in &index.entries {
        let location = format!("{INDEX_FILE}:{line} ({})", entry.file);
        let mut problem = |kind, message: String| {
            problems.push(Problem {
                kind,
                location: location.clone(),
                message,
            })
        };
        listed.insert(entry.file.clone());
        let expected_sequence = previous.map_or(1, |p| p.sequence + 1);
        let expected_previous = previous.map(|p| p.sha256.clone());
        if entry.sequence != expected_sequence || entry.previous != expected_previous {
            let after = previous.map_or("the start of the ledger".to_string(), |p| {
                format!("bundle {}", p.sequence)
            });
            problem(
                ProblemKind::ChainBreak,
                format!(
                    "bundle {} does not follow {after}: a bundle was removed or inserted here",
                    entry.sequence
                ),
            );
        }
        if let (Some(p), Some(at), Some(before)) = (
            previous,
            times::instant(&entry.collected_at),
            previous.and_then(|p| times::instant(&p.collected_at)),
        ) {
            if at < before {
                problem(
                    ProblemKind::OutOfOrder,
                    format!(
                        "its facts ({}) are older than bundle {}'s ({})",
                        entry.collected_at, p.sequence, p.collected_at
                    ),
                );
            }
        }
        previous = Some(entry);
        let bytes = match ledger.read_bundle(entry) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                problem(ProblemKind::Missing, "the bundle file is not there".into());
                continue;
            }
            Err(e) => {
                problem(ProblemKind::Unreadable, e.to_string());
                continue;
            }
        };
        let actual = sha256_hex(&bytes);
        if actual != entry.sha256 {
            problem(
                ProblemKind::Altered,
                format!(
                    "SHA-256 is {actual}, the index records {} ({} bytes now)",
                    entry.sha256,
                    bytes.len()
                ),
            );
        }
        let summary: BundleSummary = match decode(&entry.file, &bytes) {
            Ok(s) => s,
            Err(e) => {
                problem(ProblemKind::Unreadable, e.to_string());
                continue;
            }
        };
        if summary.ledger != index.header.ledger {
            let scopes: Vec<String> = summary
                .sources
                .iter()
                .map(|s| format!("{}:{}", s.provider, s.scope))
                .collect();
            problem(
                ProblemKind::ForeignLedger,
                format!(
                    "it belongs to ledger {} (collected from {}), not to this ledger {}",
                    summary.ledger,
                    if scopes.is_empty() {
                        "nothing".to_string()
                    } else {
                        scopes.join(", ")
                    },
                    index.header.ledger
                ),
            );
        }
        if summary.sequence != entry.sequence
            || summary.previous != entry.previous
            || summary.collected_at != entry.collected_at
        {
            problem(
                ProblemKind::IndexMismatch,
                format!(
                    "the bundle says it is bundle {} of {} after {}, the index line says bundle {} of {}",
                    summary.sequence,
                    summary.collected_at,
                    summary.previous.as_deref().unwrap_or("nothing"),
                    entry.sequence,
                    entry.collected_at
                ),
            );
        }
        if let Some(at) = times::instant(&entry.collected_at) {
            runs.push((
                RunRef {
                    sequence: entry.sequence,
                    collected_at: entry.collected_at.clone(),
                },
                at,
                summary.incomplete,
            ));
        }
    }
    for file in ledger.bundle_files()? {
        if !listed.contains(&file) {
            problems.push(Problem {
                kind: ProblemKind::Unlisted,
                location: file,
                message: "the index does not list this bundle (inserted, or left by an interrupted write)".into(),
            });
        }
    }
    let in_period: Vec<(RunRef, OffsetDateTime, bool)> = runs
        .into_iter()
        .filter(|(_, at, _)| {
            options.from.is_none_or(|from| *at >= from) && options.to.is_none_or(|to| *at < to)
        })
        .collect();
    let instants: Vec<(u64, OffsetDateTime)> = in_period
        .iter()
        .map(|(r, at, _)| (r.sequence, *at))
        .collect();
    Ok(Verification {
        dir: ledger.display(),
        ledger: index.header.ledger.clone(),
        bundles: index.entries.len(),
        runs_in_period: in_period.len(),
        from: options.from.map(times::format),
        to: options.to.map(times::format),
        head: index.entries.last().map(|(_, e)| e.sha256.clone()),
        problems,
        gaps: gaps(&instants, options),
        incomplete: in_period
            .into_iter()
            .filter(|(_, _, incomplete)| *incomplete)
            .map(|(r, _, _)| r)
            .collect(),
    })
}

/// The cadence gaps among runs `(sequence, time)` in time order: between consecutive runs, and,
/// when the period has bounds, between a bound and the nearest run.
pub fn gaps(runs: &[(u64, OffsetDateTime)], options: Options) -> Vec<Gap> {
    let mut points: Vec<(Option<u64>, OffsetDateTime)> = Vec::new();
    if let Some(from) = options.from {
        points.push((None, from));
    }
    points.extend(runs.iter().map(|(s, at)| (Some(*s), *at)));
    if let Some(to) = options.to {
        points.push((None, to));
    }
    points
        .windows(2)
        .filter_map(|w| match w {
            [(after, a), (before, b)] if times::is_gap(*b - *a, options.cadence) => Some(Gap {
                from: times::format(*a),
                to: times::format(*b),
                after: *after,
                before: *before,
                length: times::human(*b - *a),
            }),
            _ => None,
        })
        .collect()
}

/// Fails unless the ledger is intact: what `record` and `report` require before they use it.
pub fn require_intact(v: &Verification) -> Result<(), EvidenceError> {
    match v.problems.first() {
        None => Ok(()),
        Some(p) => Err(EvidenceError::Broken {
            dir: v.dir.clone(),
            first: format!("{}: {}", p.location, p.message),
            more: match v.problems.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            },
        }),
    }
}
