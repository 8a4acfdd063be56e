//! The envelope: `trustcheck.snapshot/v1`, its sources, and reading and writing it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::entity::Entity;
use crate::uncollected::UncollectedFact;
use crate::utc::normalize_utc;

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
    /// The facts, as Cedar entities, sorted by uid.
    #[serde(default)]
    pub entities: Vec<Entity>,
}

/// One collection: a provider reading one scope (an AWS account, a GitHub org, an MDM fleet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// `aws`, `github`, or any name a team's own collector gives itself.
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
    pub errors: Vec<UncollectedFact>,
}

impl Source {
    /// A source of `provider` reading `scope` at `collected_at`, with nothing recorded yet.
    pub fn new(
        provider: impl Into<String>,
        scope: impl Into<String>,
        collected_at: impl Into<String>,
    ) -> Self {
        Self {
            provider: provider.into(),
            scope: scope.into(),
            identity: None,
            collected_at: collected_at.into(),
            api_calls: 0,
            errors: Vec::new(),
        }
    }
}

/// Text that is not a `trustcheck.snapshot/v1` document. Positions are for the caller to render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not well-formed JSON, or not shaped like a snapshot.
    #[error("{message} (line {line}, column {column})")]
    Json {
        /// serde's message without its position suffix.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column (bytes).
        column: usize,
        /// Byte offset of that position in the text.
        offset: usize,
    },
    /// The format tag is missing or names another version.
    #[error("format `{found}`, expected `{SNAPSHOT_FORMAT}`")]
    Format {
        /// The format found (`(missing)` when there is none).
        found: String,
        /// Byte offset of the `"format"` key, when there is one.
        offset: Option<usize>,
    },
    /// A timestamp is not a UTC datetime.
    #[error("`{field}` is `{value}`, not a UTC datetime")]
    Time {
        /// Which field.
        field: String,
        /// Its value.
        value: String,
    },
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

    /// Parses snapshot text: the format tag first (so a future version is reported as such
    /// rather than as whatever field it renamed), then the document, then its timestamps.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        #[derive(Deserialize)]
        struct Envelope {
            format: Option<Value>,
        }
        // One pass in the common case (a 100k-resource snapshot is tens of MB): the document is
        // parsed whole, and only when that fails or the tag is not ours is the envelope read to
        // say which it was.
        let parsed = serde_json::from_str::<Snapshot>(text);
        let snapshot = match parsed {
            Ok(snapshot) if snapshot.format == SNAPSHOT_FORMAT => snapshot,
            parsed => {
                let envelope: Envelope =
                    serde_json::from_str(text).map_err(|e| json_error(text, &e))?;
                let found = match &envelope.format {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => "(missing)".to_string(),
                };
                if found != SNAPSHOT_FORMAT {
                    return Err(ParseError::Format {
                        found,
                        offset: text.find("\"format\""),
                    });
                }
                parsed.map_err(|e| json_error(text, &e))?
            }
        };
        check_time("collected_at", &snapshot.collected_at)?;
        for s in &snapshot.sources {
            check_time("sources[].collected_at", &s.collected_at)?;
        }
        Ok(snapshot)
    }

    /// Sorts entities by uid, each entity's parents and each source's uncollected facts, so that
    /// equal facts give equal files.
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

    /// Adds another snapshot's sources and entities (its `collected_at` is dropped: the earliest
    /// of the two is kept, the time the oldest fact was true).
    pub fn merge(&mut self, other: Snapshot) {
        if other.collected_at < self.collected_at {
            self.collected_at = other.collected_at;
        }
        self.sources.extend(other.sources);
        self.entities.extend(other.entities);
    }

    /// Pretty JSON with a trailing newline: the on-disk form.
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Every uncollected fact of every source.
    pub fn uncollected(&self) -> impl Iterator<Item = &UncollectedFact> {
        self.sources.iter().flat_map(|s| &s.errors)
    }
}

/// A snapshot read to compare its facts with another's: the envelope parsed, each entity left as
/// its JSON text, borrowed from the document (nothing of it is allocated). `trustcheck diff`
/// compares two 100k-entity snapshots this way instead of holding both parsed (several times
/// their files' size); an entity whose text is the same on both sides has the same facts.
///
/// Checked less than [`Snapshot::parse`] (the entities' own fields are not read): a command that
/// goes on to judge the snapshot parses it in full too.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotText<'a> {
    /// Always [`SNAPSHOT_FORMAT`].
    pub format: String,
    /// When the snapshot was taken, UTC.
    pub collected_at: String,
    /// What was read.
    #[serde(default)]
    pub sources: Vec<Source>,
    /// Each entity's JSON text.
    #[serde(default, borrow)]
    pub entities: Vec<&'a serde_json::value::RawValue>,
}

impl<'a> SnapshotText<'a> {
    /// Reads the envelope of snapshot text and checks the format tag and the timestamps. On a
    /// document that does not read, [`Snapshot::parse`] says better what is wrong (it reads the
    /// format tag before anything else).
    pub fn parse(text: &'a str) -> Result<Self, ParseError> {
        let view: Self = serde_json::from_str(text).map_err(|e| json_error(text, &e))?;
        if view.format != SNAPSHOT_FORMAT {
            return Err(ParseError::Format {
                found: view.format,
                offset: text.find("\"format\""),
            });
        }
        check_time("collected_at", &view.collected_at)?;
        for s in &view.sources {
            check_time("sources[].collected_at", &s.collected_at)?;
        }
        Ok(view)
    }
}

fn json_error(text: &str, e: &serde_json::Error) -> ParseError {
    let full = e.to_string();
    // serde appends " at line L column C"; the caller shows the position its own way.
    let message = match full.rfind(" at line ") {
        Some(cut) => full.get(..cut).unwrap_or(&full).to_string(),
        None => full.clone(),
    };
    ParseError::Json {
        message,
        line: e.line(),
        column: e.column(),
        offset: offset_of(text, e.line(), e.column()),
    }
}

/// Byte offset of a 1-based line and column (serde's column counts bytes, 1-based).
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return (offset + column.saturating_sub(1)).min(text.len().saturating_sub(1));
        }
        offset += l.len();
    }
    text.len().saturating_sub(1)
}

fn check_time(field: &str, value: &str) -> Result<(), ParseError> {
    match normalize_utc(value) {
        Some(_) => Ok(()),
        None => Err(ParseError::Time {
            field: field.to_string(),
            value: value.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Uid;

    #[test]
    fn malformed_json_reports_line_and_column() {
        let err =
            Snapshot::parse("{\n  \"format\": \"trustcheck.snapshot/v1\",\n  oops\n}").unwrap_err();
        assert!(
            matches!(
                err,
                ParseError::Json {
                    line: 3,
                    column: 3,
                    offset: 42,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn unknown_format_is_named() {
        let err = Snapshot::parse(
            r#"{"format": "trustcheck.snapshot/v9", "collected_at": "2026-01-01T00:00:00Z"}"#,
        )
        .unwrap_err();
        assert_eq!(
            err,
            ParseError::Format {
                found: "trustcheck.snapshot/v9".into(),
                offset: Some(1)
            }
        );
    }

    #[test]
    fn non_utc_times_are_rejected() {
        let err = Snapshot::parse(
            r#"{"format": "trustcheck.snapshot/v1", "collected_at": "2026-01-01T00:00:00+02:00"}"#,
        )
        .unwrap_err();
        assert!(matches!(err, ParseError::Time { ref field, .. } if field == "collected_at"));
    }

    #[test]
    fn round_trips_and_normalises() {
        let mut s = Snapshot::new("2026-11-22T03:00:00Z");
        s.entities.push(Entity::new(Uid::new("Github::Repo", "b")));
        s.entities.push(Entity::new(Uid::new("Github::Org", "a")));
        s.normalize();
        assert_eq!(s.entities[0].uid.type_name, "Github::Org");
        let back = Snapshot::parse(&s.to_json()).unwrap();
        assert_eq!(back, s);
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// JSON leaves a collector might write, hostile ones included.
        fn leaf() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                // Short decimals (Cedar has no floats): serde_json without its
                // `float_roundtrip` feature may read a 17-digit float back one ulp off.
                (-1_000_000i64..1_000_000, 0u32..4).prop_map(|(n, k)| {
                    serde_json::Number::from_f64(n as f64 / f64::from(1u32 << k))
                        .map_or(Value::Null, Value::Number)
                }),
                ".{0,40}".prop_map(Value::from),
                Just(Value::from("2026-11-22T03:00:00Z")),
            ]
        }

        fn entity() -> impl Strategy<Value = Entity> {
            (
                prop_oneof![
                    Just("Aws::IamUser"),
                    Just("Mdm::Laptop"),
                    Just(""),
                    Just("::")
                ],
                ".{0,20}",
                prop::collection::btree_map("[a-zA-Z]{1,8}", leaf(), 0..4),
            )
                .prop_map(|(t, id, attrs)| {
                    let mut e = Entity::new(Uid::new(t, id));
                    e.attrs = attrs.into_iter().collect();
                    e
                })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn any_text_parses_or_says_where(text in "\\PC{0,200}") {
                match Snapshot::parse(&text) {
                    Ok(_) => {}
                    Err(ParseError::Json { offset, .. }) => prop_assert!(offset <= text.len()),
                    Err(ParseError::Format { offset, .. }) => {
                        prop_assert!(offset.is_none_or(|o| o < text.len()))
                    }
                    Err(ParseError::Time { .. }) => {}
                }
            }

            #[test]
            fn written_snapshots_read_back_equal(entities in prop::collection::vec(entity(), 0..6)) {
                let mut s = Snapshot::new("2026-11-22T03:00:00Z");
                s.entities = entities;
                s.normalize();
                let back = Snapshot::parse(&s.to_json());
                prop_assert_eq!(back, Ok(s));
            }
        }
    }
}
