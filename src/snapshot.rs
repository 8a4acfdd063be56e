//! The snapshot: the contract between collectors and the engine.
//!
//! A snapshot is a versioned JSON envelope (`trustcheck.snapshot/v1`) holding when it was taken,
//! which sources were read (with what identity, how many API calls, and which facts could *not* be
//! read, and why) and the entities in Cedar's entity JSON format, sorted by uid.
//!
//! This module parses and writes the envelope; it never judges. Typing the entities against the
//! schema is [`crate::entities`]' job.

use std::path::Path;

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::findings::ResourceRef;

/// The format tag of version 1.
pub const SNAPSHOT_FORMAT: &str = "trustcheck.snapshot/v1";

/// A snapshot document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Always [`SNAPSHOT_FORMAT`].
    pub format: String,
    /// When the snapshot was taken, UTC (`2026-11-22T03:00:00Z`). Rules use it as `context.now`,
    /// so judging the same snapshot gives the same findings on any day.
    pub collected_at: String,
    /// What was read.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// The facts, as Cedar entities, sorted by (type, id).
    #[serde(default)]
    pub entities: Vec<RawEntity>,
}

/// One collection: a provider reading one scope (an AWS account, a GitHub org).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// `aws`, `github`, …
    pub provider: String,
    /// What was read: an account id, an org login.
    pub scope: String,
    /// Who read it (caller ARN, token owner). Never a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// When this source was read, UTC.
    pub collected_at: String,
    /// API requests made, retries included.
    #[serde(default)]
    pub api_calls: u64,
    /// Facts that could not be read. Rules that read them report `error`, never pass.
    #[serde(default)]
    pub errors: Vec<CollectionError>,
}

/// A fact the collector could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectionError {
    /// The entity whose fact is unknown. When the entity itself could not be listed (e.g. the
    /// members of an org), this names a uid that is not among the entities, such as
    /// `Github::Member::"acme/*"`: every rule on that type then reports `error` for it.
    pub entity: ResourceRef,
    /// The attribute that is unknown, or `*` for all of them.
    pub fact: String,
    /// Why, as the API said it (status, error code, message). Never contains a secret.
    pub reason: String,
}

/// One entity in Cedar's entity JSON format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntity {
    /// `{"type": "Aws::IamUser", "id": "arn:…"}`
    pub uid: ResourceRef,
    /// Attribute values; datetimes as UTC strings.
    #[serde(default)]
    pub attrs: Map<String, Value>,
    /// Parent uids.
    #[serde(default)]
    pub parents: Vec<ResourceRef>,
}

/// A snapshot that could not be read.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum SnapshotError {
    /// The file could not be read at all.
    #[error("cannot read snapshot `{path}`: {source}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not well-formed JSON, or not shaped like a snapshot.
    #[error("snapshot `{path}` is not a valid trustcheck snapshot: {message}")]
    #[diagnostic(help(
        "a snapshot is written by `trustcheck collect`; see docs/snapshot-format.md"
    ))]
    Parse {
        /// The path given.
        path: String,
        /// serde's message without its own position suffix.
        message: String,
        /// The file, for the snippet.
        #[source_code]
        src: NamedSource<String>,
        /// Where.
        #[label("here")]
        span: SourceSpan,
    },
    /// The format tag is missing or names another version.
    #[error("snapshot `{path}` has format `{found}`, expected `{SNAPSHOT_FORMAT}`")]
    #[diagnostic(help(
        "this trustcheck reads `{SNAPSHOT_FORMAT}`; re-collect with this version or upgrade trustcheck"
    ))]
    Format {
        /// The path given.
        path: String,
        /// The format found.
        found: String,
        /// The file, for the snippet.
        #[source_code]
        src: NamedSource<String>,
        /// Where the format is.
        #[label("unknown format")]
        span: SourceSpan,
    },
    /// A timestamp is not a UTC datetime.
    #[error("snapshot `{path}`: `{field}` is `{value}`, not a UTC datetime")]
    #[diagnostic(help("use RFC 3339 in UTC, e.g. `2026-11-22T03:00:00Z`"))]
    Time {
        /// The path given.
        path: String,
        /// Which field.
        field: String,
        /// Its value.
        value: String,
    },
}

/// Reads and parses a snapshot file (the envelope only; entities are typed later).
pub fn read(path: &Path) -> Result<(Snapshot, String), SnapshotError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Read {
        path: display.clone(),
        source,
    })?;
    let snapshot = parse(&display, &text)?;
    Ok((snapshot, text))
}

/// Parses snapshot text; `name` is used in messages.
pub fn parse(name: &str, text: &str) -> Result<Snapshot, SnapshotError> {
    // Check the format tag first, so a future version is reported as such rather than as
    // whatever field it renamed.
    #[derive(Deserialize)]
    struct Envelope {
        format: Option<Value>,
    }
    let envelope: Envelope = serde_json::from_str(text).map_err(|e| parse_error(name, text, &e))?;
    let found = match &envelope.format {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "(missing)".to_string(),
    };
    if found != SNAPSHOT_FORMAT {
        let span = text
            .find("\"format\"")
            .map(|at| SourceSpan::from((at, 8)))
            .unwrap_or_else(|| SourceSpan::from((0, 1)));
        return Err(SnapshotError::Format {
            path: name.to_string(),
            found,
            src: NamedSource::new(name, text.to_string()),
            span,
        });
    }
    let snapshot: Snapshot = serde_json::from_str(text).map_err(|e| parse_error(name, text, &e))?;
    check_time(name, "collected_at", &snapshot.collected_at)?;
    for s in &snapshot.sources {
        check_time(name, "sources[].collected_at", &s.collected_at)?;
    }
    Ok(snapshot)
}

fn parse_error(name: &str, text: &str, e: &serde_json::Error) -> SnapshotError {
    let offset = offset_of(text, e.line(), e.column());
    let full = e.to_string();
    // serde appends " at line L column C"; the rendered snippet shows that already.
    let message = match full.rfind(" at line ") {
        Some(cut) => full[..cut].to_string(),
        None => full,
    };
    SnapshotError::Parse {
        path: name.to_string(),
        message: format!("{message} (line {}, column {})", e.line(), e.column()),
        src: NamedSource::new(name, text.to_string()).with_language("json"),
        span: SourceSpan::from((offset, 1)),
    }
}

/// Byte offset of a 1-based line and column (serde's column counts bytes, 1-based).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return (offset + column.saturating_sub(1)).min(text.len().saturating_sub(1));
        }
        offset += l.len();
    }
    text.len().saturating_sub(1)
}

fn check_time(path: &str, field: &str, value: &str) -> Result<(), SnapshotError> {
    if normalize_utc(value).is_some() {
        Ok(())
    } else {
        Err(SnapshotError::Time {
            path: path.to_string(),
            field: field.to_string(),
            value: value.to_string(),
        })
    }
}

/// Normalises an RFC 3339 UTC timestamp to the form Cedar's `datetime` accepts
/// (`YYYY-MM-DDThh:mm:ssZ`, or with exactly three fractional digits). `None` if it is not UTC.
pub fn normalize_utc(value: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(value, &Rfc3339).ok()?;
    if t.offset() != time::UtcOffset::UTC || !(value.ends_with('Z') || value.ends_with("+00:00")) {
        return None;
    }
    Some(format_utc(t))
}

/// Formats a UTC time as Cedar's `datetime` accepts it, milliseconds only when non-zero.
pub fn format_utc(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    match t.millisecond() {
        0 => format!("{base}Z"),
        ms => format!("{base}.{ms:03}Z"),
    }
}

impl Snapshot {
    /// A new, empty snapshot taken at `collected_at`.
    pub fn new(collected_at: impl Into<String>) -> Self {
        Self {
            format: SNAPSHOT_FORMAT.to_string(),
            collected_at: collected_at.into(),
            sources: Vec::new(),
            entities: Vec::new(),
        }
    }

    /// Sorts entities by uid, and each entity's parents, so that equal facts give equal files.
    pub fn normalize(&mut self) {
        self.entities.sort_by(|a, b| a.uid.cmp(&b.uid));
        for e in &mut self.entities {
            e.parents.sort();
            e.parents.dedup();
        }
        for s in &mut self.sources {
            s.errors
                .sort_by(|a, b| (&a.entity, &a.fact).cmp(&(&b.entity, &b.fact)));
        }
    }

    /// Pretty JSON with a trailing newline: the on-disk form.
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_normalisation_matches_cedar() {
        assert_eq!(
            normalize_utc("2026-11-22T03:00:00Z").as_deref(),
            Some("2026-11-22T03:00:00Z")
        );
        assert_eq!(
            normalize_utc("2026-11-22T03:00:00.123456Z").as_deref(),
            Some("2026-11-22T03:00:00.123Z")
        );
        assert_eq!(
            normalize_utc("2026-11-22T03:00:00+00:00").as_deref(),
            Some("2026-11-22T03:00:00Z")
        );
        assert!(normalize_utc("2026-11-22T03:00:00+01:00").is_none());
        assert!(normalize_utc("yesterday").is_none());
    }

    #[test]
    fn malformed_json_reports_line_and_column() {
        let err = parse(
            "s.json",
            "{\n  \"format\": \"trustcheck.snapshot/v1\",\n  oops\n}",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("line 3, column 3"), "{msg}");
    }

    #[test]
    fn unknown_format_is_named() {
        let err = parse(
            "s.json",
            r#"{"format": "trustcheck.snapshot/v9", "collected_at": "2026-01-01T00:00:00Z"}"#,
        )
        .unwrap_err();
        assert!(
            matches!(err, SnapshotError::Format { ref found, .. } if found == "trustcheck.snapshot/v9")
        );
    }

    #[test]
    fn round_trips() {
        let mut s = Snapshot::new("2026-11-22T03:00:00Z");
        s.entities.push(RawEntity {
            uid: ResourceRef {
                type_name: "Github::Org".into(),
                id: "acme".into(),
            },
            attrs: Map::new(),
            parents: vec![],
        });
        let back = parse("x", &s.to_json()).unwrap();
        assert_eq!(back, s);
    }
}
