//! Reading snapshots: the contract's types (crate `trustcheck-snapshot`), with errors located in
//! the file for the person who has to fix it.
//!
//! This module parses and writes the envelope; it never judges. Typing the entities against the
//! schema is [`crate::entities`]' job.

use std::path::Path;

use miette::{Diagnostic, SourceSpan};
pub use trustcheck_snapshot::strict::value as strict_value;
pub use trustcheck_snapshot::utc::{format_utc, normalize_utc};
pub use trustcheck_snapshot::{
    Entity, ParseError, Snapshot, SnapshotText, Source, Uid, UncollectedFact, SNAPSHOT_FORMAT,
};

use crate::diagnostics::SourceFile;

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
        /// serde's message, with the line and column.
        message: String,
        /// The file, for the snippet.
        #[source_code]
        src: SourceFile,
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
        src: SourceFile,
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
    let text = read_text(path)?;
    let snapshot = parse(&path.display().to_string(), &text)?;
    Ok((snapshot, text))
}

/// Reads a snapshot file's text, unparsed.
pub fn read_text(path: &Path) -> Result<String, SnapshotError> {
    crate::input::read_to_string(path).map_err(|source| SnapshotError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Parses snapshot text; `name` is used in messages.
///
/// The envelope is read first with each entity left as its text, then the entities are parsed
/// on all cores (one thread parsed 100k entities in 0.2 s, a tenth of `check`). Anything wrong
/// sends the text to the one-pass parser of [`Snapshot::parse`], which says what and where.
pub fn parse(name: &str, text: &str) -> Result<Snapshot, SnapshotError> {
    if let Some(snapshot) = parse_on_all_cores(text) {
        return Ok(snapshot);
    }
    Snapshot::parse(text).map_err(|e| located(name, text, e))
}

/// The snapshot, when its envelope and every entity parse (with the checks of
/// [`Snapshot::parse`]: the format tag, the timestamps, each entity's fields).
fn parse_on_all_cores(text: &str) -> Option<Snapshot> {
    use rayon::prelude::*;
    let view = SnapshotText::parse(text).ok()?;
    // One result per entity in place, then into entities in place: a fallible parallel collect
    // would gather per-thread vectors that grow by doubling.
    let parsed: Vec<Option<Entity>> = view
        .entities
        .par_iter()
        .map(|raw| entity(raw.get()))
        .collect();
    let entities: Vec<Entity> = parsed.into_iter().collect::<Option<_>>()?;
    Some(Snapshot {
        format: view.format,
        collected_at: view.collected_at,
        sources: view.sources,
        entities,
    })
}

/// One entity of a snapshot, parsed from its text as it parses in place in the document, or
/// `None` where it would not: then [`parse`] of the whole text says what and where.
pub fn entity(text: &str) -> Option<Entity> {
    readable_depth(text)
        .then(|| serde_json::from_str::<Entity>(text).ok())
        .flatten()
}

/// Whether an entity's text nests no deeper than it may in place. Parsed on its own, an entity
/// would get the whole nesting limit that it shares with the document's two levels above it when
/// parsed in place.
pub fn readable_depth(text: &str) -> bool {
    shallow(text) || nesting(text) <= DEEPEST_ENTITY
}

/// Reads snapshot text's envelope, its entities left as text ([`SnapshotText`]). A document it
/// cannot read is reported as [`parse`] reports it (the format tag first, then the first problem
/// in the file), so that `diff` says what `check` would.
pub fn view<'a>(name: &str, text: &'a str) -> Result<SnapshotText<'a>, SnapshotError> {
    SnapshotText::parse(text).map_err(|e| match Snapshot::parse(text) {
        Err(full) => located(name, text, full),
        Ok(_) => located(name, text, e),
    })
}

/// How deep an entity's own arrays and objects may nest (the entity's object counts as one):
/// serde_json refuses more than 127 levels from a document's root, and an entity sits inside two
/// (the document's object and its `entities` array).
const DEEPEST_ENTITY: usize = 125;

/// Whether JSON text has too few opening brackets to nest deeper than [`DEEPEST_ENTITY`], inside
/// strings or not: true of almost every entity, and counted without [`nesting`]'s walk (a loop
/// without branches, which the compiler vectorises).
fn shallow(text: &str) -> bool {
    let opening = text
        .bytes()
        .fold(0usize, |n, b| n + usize::from(b == b'[' || b == b'{'));
    opening <= DEEPEST_ENTITY
}

/// The deepest nesting of arrays and objects in JSON text (brackets inside strings skipped).
fn nesting(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in text.as_bytes() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// A parse error, located in the text.
fn located(name: &str, text: &str, e: ParseError) -> SnapshotError {
    match e {
        ParseError::Json {
            message,
            line,
            column,
            offset,
        } => SnapshotError::Parse {
            path: name.to_string(),
            message: format!("{message} (line {line}, column {column})"),
            src: SourceFile::new(name, text).with_language("json"),
            span: SourceSpan::from((offset, 1)),
        },
        ParseError::Format { found, offset } => SnapshotError::Format {
            path: name.to_string(),
            found,
            src: SourceFile::new(name, text).with_language("json"),
            span: offset.map_or_else(|| SourceSpan::from((0, 1)), |at| SourceSpan::from((at, 8))),
        },
        ParseError::Time { field, value } => SnapshotError::Time {
            path: name.to_string(),
            field,
            value,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entities parsed on all cores are the one-pass parser's, and a problem in an entity
    /// is still located by it.
    #[test]
    fn parsing_on_all_cores_gives_the_one_pass_result() {
        let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for file in [
            "examples/demo/snapshot.json",
            "examples/demo/snapshot-previous.json",
        ] {
            let text = std::fs::read_to_string(demo.join(file)).unwrap();
            let fast = parse_on_all_cores(&text).unwrap();
            assert_eq!(fast, Snapshot::parse(&text).unwrap());
            assert_eq!(parse(file, &text).unwrap(), fast);
            // A key repeated inside one entity's attributes: refused, at its line.
            let broken = text.replacen("\"attrs\": {", "\"attrs\": {\"x\": 1, \"x\": 2,", 1);
            assert!(parse_on_all_cores(&broken).is_none());
            let msg = parse(file, &broken).unwrap_err().to_string();
            assert!(msg.contains("line "), "{msg}");
        }
    }

    /// An entity nested as deep as the document's limit allows is read by both parsers; one level
    /// more is refused by both, located (the parallel parse must not grant an entity the two
    /// levels of the document above it).
    #[test]
    fn the_nesting_limit_is_the_documents() {
        let doc = |levels: usize| {
            format!(
                r#"{{"format": "trustcheck.snapshot/v1", "collected_at": "2026-11-22T03:00:00Z", "entities": [{{"uid": {{"type": "T", "id": "u"}}, "attrs": {{"zz": {}1{}}}}}]}}"#,
                "[".repeat(levels),
                "]".repeat(levels)
            )
        };
        // The entity object and its `attrs` object are two levels of its own.
        let deepest = DEEPEST_ENTITY - 2;
        assert_eq!(nesting(&doc(deepest)), deepest + 4);
        assert!(Snapshot::parse(&doc(deepest)).is_ok());
        assert!(parse_on_all_cores(&doc(deepest)).is_some());
        assert!(Snapshot::parse(&doc(deepest + 1)).is_err());
        assert!(parse_on_all_cores(&doc(deepest + 1)).is_none());
        let msg = parse("s.json", &doc(deepest + 1)).unwrap_err().to_string();
        assert!(msg.contains("recursion limit"), "{msg}");
        assert_eq!(nesting(r#"{"a": "[[[{{", "b": ["\"]"]}"#), 2);
        // Few brackets in all cannot nest deep; many send the text to the walk.
        assert!(shallow(r#"{"a": "[[[{{", "b": [[1]]}"#));
        assert!(!shallow(&"[".repeat(DEEPEST_ENTITY + 1)));
        assert!(shallow(&"[".repeat(DEEPEST_ENTITY)));
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

    /// `diff` reads envelopes with [`view`]: a wrong format tag is named as [`parse`] names it,
    /// even when the rest of the envelope does not read either.
    #[test]
    fn a_view_names_the_format_tag_first() {
        let text = r#"{"format": "trustcheck.snapshot/v2", "taken_at": "2026-01-01T00:00:00Z"}"#;
        assert!(matches!(
            view("s.json", text),
            Err(SnapshotError::Format { .. })
        ));
        assert!(matches!(
            parse("s.json", text),
            Err(SnapshotError::Format { .. })
        ));
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

    /// `jq -c` and `json.dump` write a snapshot on one line: a located error must show a window
    /// around the location, with its real line and column, never the whole line.
    #[test]
    fn a_located_error_in_a_one_line_snapshot_shows_a_window() {
        let filler = "é".repeat(300_000);
        let text = format!(
            r#"{{"format":"trustcheck.snapshot/v1","collected_at":"2026-11-22T03:00:00Z","entities":[{{"uid":{{"type":"A","id":"{filler}"}},"attrs":{{}},"parents":[]}} oops]}}"#
        );
        let err = parse("big.json", &text).unwrap_err();
        let column = text.find(" oops").unwrap() + 2;
        let shown = crate::diagnostics::render_plain(&err);
        assert!(shown.len() < 3_000, "{} bytes shown", shown.len());
        assert!(
            shown.contains(&format!("big.json:1:{column}")),
            "{}",
            crate::text::shorten(&shown, 2_000)
        );
        assert!(shown.contains("oops"), "{shown}");
    }
}
