//! Typing a snapshot's entities against the schema and building Cedar's entity store.
//!
//! Cedar can type entity JSON itself, but it spends most of that time in serde's untagged-enum
//! fallbacks (measured: 5–8 s for 100k entities, docs/performance.md). Knowing the schema, we type
//! each attribute directly into a [`RestrictedExpression`], build entities in parallel and hand
//! Cedar an already-checked set. Doing the checks here also lets every message name the file, the
//! entity and the attribute, with a did-you-mean.

use std::collections::{BTreeMap, HashSet};

use rustc_hash::FxHashMap;
use std::str::FromStr;
use std::sync::{Arc, LazyLock};

use cedar_policy_core::ast::{
    Entity as CoreEntity, EntityUID as CoreUid, ExtensionFunction, Literal, Name, PartialValue,
    RestrictedExpr as CoreRestrictedExpr, UnreservedId, Value as CoreValue, ValueKind,
};
use cedar_policy_core::entities::{Entities as CoreEntities, NoEntitiesSchema, TCComputation};
use cedar_policy_core::extensions::Extensions;

use cedar_policy::{Entities, EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use miette::{Diagnostic, SourceSpan};
use rayon::prelude::*;
use serde_json::Value;
use smol_str::SmolStr;

use crate::findings::Uid;
use crate::schema::{nearest, AttrSpec, AttrType, EntityTypeSpec, SchemaSet};
use crate::snapshot::{self, Snapshot, Source, UncollectedFact};

mod text;

/// One entity in the store, in evaluation order.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Cedar's uid, for requests.
    pub uid: EntityUid,
    /// The same uid as plain strings, shared by its findings.
    pub reference: Arc<Uid>,
    /// Index of the snapshot it came from (its `collected_at` is the request's `now`).
    pub snapshot: usize,
}

/// One snapshot as loaded.
#[derive(Debug, Clone)]
pub struct LoadedSource {
    /// The file it came from.
    pub file: String,
    /// The snapshot's `collected_at`, normalised for Cedar.
    pub collected_at: String,
    /// Its sources, errors included.
    pub sources: Vec<Source>,
}

/// Every entity of one or more snapshots, typed and ready to judge.
///
/// Cedar's own entity store is not held: each entity's typed attributes are kept compactly
/// ([`Held`]) and Cedar's store is built for the entities being judged when their turn comes
/// ([`Store::entities`]). Cedar's per-entity maps cost about 1.7 KB even for three attributes
/// (docs/performance.md), which at 100k entities was the largest part of `check`'s memory.
pub struct Store {
    /// Every entity, sorted by (type, id).
    pub resources: Vec<Resource>,
    /// The typed facts of each resource, by the same index.
    held: Vec<Held>,
    /// Facts not collected, by entity.
    pub unknown: FxHashMap<Uid, Vec<UncollectedFact>>,
    /// Collection errors that name an entity which is not in the store (a list that could not be
    /// read): every rule on that type reports `error` for it.
    pub missing: Vec<(UncollectedFact, usize)>,
    /// The snapshots, in the order given.
    pub snapshots: Vec<LoadedSource>,
    /// Attribute names that hold a reference to an entity on some type of the schema (at any
    /// depth of a record): reading through one reads another entity.
    references: rustc_hash::FxHashSet<String>,
}

/// One entity's typed attributes and ancestors, as Cedar will need them.
struct Held {
    /// Evaluated attributes, in [`attr_order`], sized to what they hold. Values, not Cedar's
    /// `PartialValue`s (128 bytes, against 56): nothing in a snapshot is unknown.
    attrs: Box<[(SmolStr, CoreValue)]>,
    /// Its parents, whether in the store or not (as Cedar keeps them).
    parents: Box<[CoreUid]>,
    /// Its other ancestors: indexes into [`Store::resources`].
    ancestors: Box<[usize]>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("resources", &self.resources.len())
            .field("snapshots", &self.snapshots)
            .finish()
    }
}

/// An entity that does not fit the schema, or a snapshot set that does not fit together.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
pub struct EntityError {
    /// Cedar-style message naming the entity and attribute.
    pub message: String,
    /// What to do.
    #[help]
    pub help: Option<String>,
    /// The snapshot file.
    #[source_code]
    pub src: crate::diagnostics::SourceFile,
    /// Where the entity (or attribute) is in the file, best effort.
    #[label("{label}")]
    pub span: SourceSpan,
    /// Label text.
    pub label: String,
}

/// What could not be loaded: an entity that is not shaped like one (found when the store parses
/// it), or entities that do not fit the schema or each other.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum LoadError {
    /// An entity's JSON is not an entity: the whole document's parser says what and where.
    #[error("{error}")]
    #[diagnostic(forward(error))]
    Snapshot {
        /// Which of the inputs, in the order given (the ones before it read well).
        input: usize,
        /// The document parser's located error.
        error: snapshot::SnapshotError,
    },
    /// Entities that do not fit the schema or each other.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Entity(#[from] EntityError),
}

/// A snapshot to load: its display name, parsed envelope and text (for error locations).
///
/// A snapshot read from text keeps its entities as text until the store is loaded: each is then
/// parsed and typed in one step and its parsed form dropped at once, so the parsed forms of all
/// entities (about six times the file's size) never live side by side. At 100k resources they
/// were the largest part of `check`'s peak memory, and each fresh page costs the kernel a
/// zeroing (docs/performance.md).
pub struct Input {
    /// File name as the user gave it.
    pub name: String,
    /// The parsed envelope; its `entities` are those given in memory ([`Input::in_memory`]),
    /// while those of a snapshot read from text are still in [`Input::text`].
    pub snapshot: Snapshot,
    /// The file's text.
    pub text: String,
    /// Where each entity still to parse is in `text`, in the file's order.
    unparsed: Vec<std::ops::Range<usize>>,
}

/// What [`Input`] keeps of a snapshot's [`snapshot::SnapshotText`] (which borrows the text): the
/// envelope, and where each entity is in the text.
pub struct Envelope {
    snapshot: Snapshot,
    unparsed: Vec<std::ops::Range<usize>>,
}

impl Envelope {
    /// The envelope of `view`, read from `text`.
    pub fn of(text: &str, view: snapshot::SnapshotText<'_>) -> Self {
        let start = text.as_ptr().addr();
        let unparsed = view
            .entities
            .iter()
            .map(|raw| {
                // The entity's text is borrowed from the document: its place is its address. A
                // view of other text gives a place outside this one, which reads as nothing, so
                // the whole document's parser is asked.
                let at = raw.get().as_ptr().addr().wrapping_sub(start);
                let place = at..at.saturating_add(raw.get().len());
                match text.get(place.clone()) {
                    Some(same) if std::ptr::eq(same, raw.get()) => place,
                    _ => usize::MAX..usize::MAX,
                }
            })
            .collect();
        let snapshot = Snapshot {
            format: view.format,
            collected_at: view.collected_at,
            sources: view.sources,
            entities: Vec::new(),
        };
        Self { snapshot, unparsed }
    }
}

impl Input {
    /// Reads a snapshot file and parses its envelope (see [`Input::parse`]).
    pub fn read(path: &std::path::Path) -> Result<Self, snapshot::SnapshotError> {
        let text = snapshot::read_text(path)?;
        Self::parse(path.display().to_string(), text)
    }

    /// Parses snapshot text's envelope and reads over its entities as JSON text; each entity's
    /// own fields are read when the store is loaded ([`Store::load_for`]), which reports an
    /// entity that is not shaped like one as [`snapshot::parse`] would ([`Input::check_entities`]
    /// does it now).
    pub fn parse(name: String, text: String) -> Result<Self, snapshot::SnapshotError> {
        let envelope = Envelope::of(&text, snapshot::view(&name, &text)?);
        Ok(Self::with_envelope(name, text, envelope))
    }

    /// The snapshot of `text`, whose envelope was read already (`diff` reads it to compare the
    /// entities' text first).
    pub fn with_envelope(name: String, text: String, envelope: Envelope) -> Self {
        Self {
            name,
            snapshot: envelope.snapshot,
            text,
            unparsed: envelope.unparsed,
        }
    }

    /// An in-memory snapshot (tests, `check --collect`).
    pub fn in_memory(name: impl Into<String>, snapshot: Snapshot) -> Self {
        Self {
            name: name.into(),
            text: String::new(),
            snapshot,
            unparsed: Vec::new(),
        }
    }

    /// That every entity still to parse is shaped like one, or [`snapshot::parse`]'s located
    /// error. Each is parsed and dropped: for a caller that must report a bad file before slow
    /// work (`check` before it collects), since [`Store::load_for`] finds it only when it types it.
    pub fn check_entities(&self) -> Result<(), snapshot::SnapshotError> {
        let text = &self.text;
        let readable = self
            .unparsed
            .par_iter()
            .all(|at| text.get(at.clone()).and_then(snapshot::entity).is_some());
        if readable {
            return Ok(());
        }
        snapshot::parse(&self.name, text).map(|_| ())
    }

    /// Each entity of the snapshot made into `T`, in the file's order, on all cores: by
    /// `from_text` from the entity's text where it can, otherwise by `make` from the parsed
    /// entity, dropped as soon as `make` is done with it. An entity that is not shaped like
    /// one makes the whole document's parser say what and where. `init` makes the state each
    /// batch of entities shares (see [`rayon`]'s `map_init`).
    fn map_entities<S, T: Send>(
        &mut self,
        init: impl Fn() -> S + Sync + Send,
        from_text: impl Fn(&mut S, &str) -> Option<T> + Sync + Send,
        make: impl Fn(&mut S, snapshot::Entity) -> T + Sync + Send,
    ) -> Result<Vec<T>, snapshot::SnapshotError> {
        let in_memory = std::mem::take(&mut self.snapshot.entities);
        if self.unparsed.is_empty() {
            return Ok(in_memory.into_par_iter().map_init(init, make).collect());
        }
        let text = &self.text;
        // One result per entity in place (an indexed collect writes into a vector of the exact
        // size), then the first that would not parse sends the document to the one-pass parser.
        let made: Vec<Option<T>> = self
            .unparsed
            .par_iter()
            .map_init(&init, |state, at| {
                let entity = text.get(at.clone())?;
                if let Some(made) = from_text(state, entity) {
                    return Some(made);
                }
                Some(make(state, snapshot::entity(entity)?))
            })
            .collect();
        match made.into_iter().collect::<Option<Vec<T>>>() {
            Some(made) => Ok(made),
            // A document the one-pass parser refuses gets its located error; one it reads after
            // all (an envelope of other text) is made from its parse.
            None => Ok(snapshot::parse(&self.name, text)?
                .entities
                .into_par_iter()
                .map_init(init, make)
                .collect()),
        }
    }
}

struct Problem {
    entity: Uid,
    attr: Option<String>,
    message: String,
    help: Option<String>,
}

impl Store {
    /// Types and loads snapshots. Entities of all snapshots are judged together; a uid that
    /// appears twice is an error naming both places.
    pub fn load(inputs: Vec<Input>, schema: &SchemaSet) -> Result<Self, Box<LoadError>> {
        Self::load_for(inputs, schema, None)
    }

    /// [`Store::load`], holding in Cedar's store only the attributes named in `kept` (when
    /// given): every attribute is still checked against the schema, but one that no rule reads
    /// cannot change a finding, and Cedar's values are large (about 5 KB per entity of the demo
    /// company, docs/performance.md). `kept` comes from [`crate::rules::RuleSet::names_read`] of
    /// every rule set the store will be judged by.
    pub fn load_for(
        mut inputs: Vec<Input>,
        schema: &SchemaSet,
        kept: Option<&rustc_hash::FxHashSet<String>>,
    ) -> Result<Self, Box<LoadError>> {
        let mut seen: FxHashMap<Uid, usize> = FxHashMap::default();
        let mut built: Vec<Built> = Vec::new();
        let mut snapshots = Vec::new();
        let mut unknown: FxHashMap<Uid, Vec<UncollectedFact>> = FxHashMap::default();
        let mut pending_missing = Vec::new();

        for index in 0..inputs.len() {
            // Each raw entity is dropped as soon as it is typed: its memory is reused for Cedar's
            // entities instead of both sets living side by side (fresh pages cost a kernel
            // zeroing each, which showed as a third of a profile). Collected as one result per
            // entity, then the first problem in the file's order is reported: a fallible parallel
            // collect gathers uneven per-thread vectors that grow by doubling, an unpredictable
            // 100 MB at the peak of a 100k-entity load.
            let Some(input) = inputs.get_mut(index) else {
                break;
            };
            let converted: Vec<Result<Built, Problem>> = input
                .map_entities(
                    Shared::default,
                    |shared, entity| {
                        let read = text::entity(entity, schema, kept, shared)?;
                        Some(Ok(Built::new(
                            read.typed,
                            read.reference,
                            read.parents,
                            index,
                        )))
                    },
                    |shared, raw| {
                        let typed = match cedar_entity(&raw, schema, kept, shared) {
                            Some(typed) => typed,
                            // Something is wrong with it (or it is out of the ordinary): Cedar's
                            // own construction says what, or builds it.
                            None => build_entity(&raw, schema, kept)?,
                        };
                        Ok(Built::new(typed, raw.uid, raw.parents, index))
                    },
                )
                .map_err(|error| {
                    Box::new(LoadError::Snapshot {
                        input: index,
                        error,
                    })
                })?;
            let Some(input) = inputs.get(index) else {
                break;
            };
            // A file that does not parse is reported before what is wrong with the entities of
            // the files before it (as when every file was parsed before any was typed).
            let unreadable_after = |error: Box<LoadError>| -> Box<LoadError> {
                inputs
                    .iter()
                    .enumerate()
                    .skip(index + 1)
                    .find_map(|(later, i)| {
                        let error = i.check_entities().err()?;
                        Some(Box::new(LoadError::Snapshot {
                            input: later,
                            error,
                        }))
                    })
                    .unwrap_or(error)
            };
            // In place: the results' vector becomes the entities' (one copy of each at a time).
            let converted: Vec<Built> = converted
                .into_iter()
                .collect::<Result<_, _>>()
                .map_err(|p| unreadable_after(locate(input, p)))?;
            for b in &converted {
                let reference = &b.reference;
                if let Some(first) = seen.insert(reference.clone(), index) {
                    let where_first = if first == index {
                        "earlier in the same file".to_string()
                    } else {
                        let name = inputs.get(first).map_or("", |i| i.name.as_str());
                        format!("also in `{name}`")
                    };
                    return Err(unreadable_after(locate(
                        input,
                        Problem {
                            message: format!("duplicate entity `{reference}` ({where_first})"),
                            help: Some(
                                "each entity must appear once; collect each account or org into one snapshot only"
                                    .into(),
                            ),
                            entity: reference.clone(),
                            attr: None,
                        },
                    )));
                }
            }
            if built.is_empty() {
                built = converted;
            } else {
                built.extend(converted);
            }
            for source in &input.snapshot.sources {
                for e in &source.errors {
                    pending_missing.push((e.clone(), index));
                }
            }
            snapshots.push(LoadedSource {
                file: input.name.clone(),
                // Checked when the envelope was parsed.
                collected_at: snapshot::normalize_utc(&input.snapshot.collected_at)
                    .unwrap_or_else(|| input.snapshot.collected_at.clone()),
                sources: input.snapshot.sources.clone(),
            });
        }

        let mut missing = Vec::new();
        for (fact, index) in pending_missing {
            let entity = fact.entity.clone();
            if seen.contains_key(&entity) {
                unknown.entry(entity).or_default().push(fact);
            } else if schema.entity_type(&entity.type_name).is_some() {
                missing.push((fact, index));
            } else if let Some(input) = inputs.get(index) {
                return Err(locate(
                    input,
                    Problem {
                        message: format!(
                            "collection error names entity `{entity}` of unknown type `{}`",
                            entity.type_name
                        ),
                        help: type_help(schema, &entity.type_name),
                        entity,
                        attr: None,
                    },
                ));
            }
        }
        missing.sort_by(|a, b| (&a.0.entity, &a.0.fact).cmp(&(&b.0.entity, &b.0.fact)));

        // On all cores, and unstable: no two entities have the same uid (checked above), so the
        // order is the same as a stable sort's. Comparing 100k uids' text was 2% of `check`.
        built.par_sort_unstable_by(|a, b| a.reference.cmp(&b.reference));
        let unfit = |message: String| {
            Box::new(LoadError::Entity(EntityError {
                message: format!("entities do not fit together: {message}"),
                help: None,
                src: crate::diagnostics::SourceFile::new("snapshot", ""),
                span: SourceSpan::from((0, 0)),
                label: String::new(),
            }))
        };
        // The ancestors of every entity, worked out here on plain uids: Cedar's own transitive
        // closure hashes and clones its uids over and over (a third of `check` at 100k
        // resources), while a snapshot's hierarchy is shallow and known in full at this point.
        let ancestors = {
            let references: Vec<&Uid> = built.iter().map(|b| &b.reference).collect();
            let parents: Vec<&[Uid]> = built.iter().map(|b| b.parents.as_slice()).collect();
            ancestors(&references, &parents).map_err(|at| {
                unfit(format!(
                    "the parents of `{}` lead back to it (a hierarchy cannot loop)",
                    built
                        .get(at)
                        .map_or_else(String::new, |b| b.reference.to_string())
                ))
            })?
        };
        let mut resources = Vec::with_capacity(built.len());
        let mut held = Vec::with_capacity(built.len());
        for (b, above) in built.into_iter().zip(ancestors) {
            held.push(Held {
                attrs: b.attrs,
                parents: b.cedar_parents,
                ancestors: above.into_boxed_slice(),
            });
            resources.push(Resource {
                uid: b.uid,
                reference: Arc::new(b.reference),
                snapshot: b.snapshot,
            });
        }
        let mut references = rustc_hash::FxHashSet::default();
        for t in schema.entity_types() {
            for (name, attr) in &t.attrs {
                let _ = referencing_names(name, &attr.ty, &mut references);
            }
        }
        Ok(Store {
            resources,
            held,
            unknown,
            missing,
            snapshots,
            references,
        })
    }

    /// Cedar's entity store of the resources in `range` (of [`Store::resources`]), for judging
    /// them with rules that read nothing but their resource and the entities it references
    /// through the attributes named in `follow` (see [`crate::rules::Rule::reads_through`]),
    /// up to `depth` references deep: those entities are added. Ancestors outside the store are
    /// kept as uids (what `in` asks about), as in the store of everything.
    pub fn entities(
        &self,
        range: std::ops::Range<usize>,
        follow: &rustc_hash::FxHashSet<String>,
        depth: usize,
    ) -> Result<Entities, String> {
        if range.end > self.resources.len() || range.start > range.end {
            return Err(format!(
                "entities {}..{} are not in a store of {}",
                range.start,
                range.end,
                self.resources.len()
            ));
        }
        let mut chosen: Vec<usize> = range.clone().collect();
        if !follow.is_empty() {
            let mut seen: rustc_hash::FxHashSet<usize> = chosen.iter().copied().collect();
            let mut found = Vec::new();
            // One level of references at a time, as deep as the rules read: a chain of
            // references (a manager's manager's ...) adds what is read, not the whole chain.
            let mut level = 0..chosen.len();
            for _ in 0..depth {
                let next_start = chosen.len();
                for at in level.clone() {
                    let Some(held) = chosen.get(at).and_then(|&i| self.held.get(i)) else {
                        continue;
                    };
                    for (name, value) in held.attrs.iter() {
                        if follow.contains(name.as_str()) {
                            referenced(value, &mut found);
                        }
                    }
                    for uid in found.drain(..) {
                        if let Some(i) = self.index_of(uid) {
                            if seen.insert(i) {
                                chosen.push(i);
                            }
                        }
                    }
                }
                if chosen.len() == next_start {
                    break;
                }
                level = next_start..chosen.len();
            }
        }
        self.cedar_store(chosen)
    }

    /// Cedar's entity store of every resource (for rules that may read any entity, and for the
    /// reference authorizer of the tests).
    pub fn all_entities(&self) -> Result<Entities, String> {
        self.cedar_store(0..self.resources.len())
    }

    /// Cedar's entities of the resources at `indexes`, their ancestors complete.
    fn cedar_store(&self, indexes: impl IntoIterator<Item = usize>) -> Result<Entities, String> {
        let entities = indexes.into_iter().filter_map(|i| {
            let (r, h) = (self.resources.get(i)?, self.held.get(i)?);
            let parents: HashSet<CoreUid> = h.parents.iter().cloned().collect();
            let mut entity = CoreEntity::new_with_attr_partial_value(
                CoreUid::from(r.uid.clone()),
                h.attrs
                    .iter()
                    .map(|(name, value)| (name.clone(), PartialValue::Value(value.clone()))),
                HashSet::new(),
                parents,
                std::iter::empty(),
            );
            for &a in &h.ancestors {
                // Parents are skipped by Cedar itself: only indirect ancestors are added. An
                // ancestor's parents are, whether in the store or not: Cedar's own closure
                // copies them from the ancestor (a grandparent that was not collected is still
                // one, though its own parents are unknown).
                if let Some(above) = self.resources.get(a) {
                    entity.add_indirect_ancestor(CoreUid::from(above.uid.clone()));
                }
                for p in self.held.get(a).into_iter().flat_map(|h| h.parents.iter()) {
                    entity.add_indirect_ancestor(p.clone());
                }
            }
            Some(entity)
        });
        // Types were checked at load and the closure is complete: Cedar only indexes them.
        CoreEntities::from_entities(
            entities,
            None::<&NoEntitiesSchema>,
            TCComputation::AssumeAlreadyComputed,
            Extensions::all_available(),
        )
        .map(Entities::from)
        .map_err(|e| format!("entities do not fit together: {e}"))
    }

    /// The attribute `name` of the entity at `index` (of [`Store::resources`]), as Cedar's store
    /// would hold it: `None` when the entity does not have it (or is not in the store).
    pub(crate) fn attr(&self, index: usize, name: &str) -> Option<&CoreValue> {
        let attrs = &self.held.get(index)?.attrs;
        let at = attrs.binary_search_by(|(n, _)| attr_order(n, name)).ok()?;
        attrs.get(at).map(|(_, v)| v)
    }

    /// Whether the entity at `index` descends from `ancestor`, as Cedar's store answers `in`:
    /// one of its parents, or a parent of one of its ancestors in the store (every ancestor in
    /// the store is a parent of the entity or of another of them).
    pub(crate) fn descends_from(&self, index: usize, ancestor: &CoreUid) -> bool {
        let Some(held) = self.held.get(index) else {
            return false;
        };
        held.parents.contains(ancestor)
            || held.ancestors.iter().any(|&a| {
                self.held
                    .get(a)
                    .is_some_and(|above| above.parents.contains(ancestor))
            })
    }

    /// The index in [`Store::resources`] of the entity `uid` names, when it is in the store.
    pub(crate) fn index_of(&self, uid: &CoreUid) -> Option<usize> {
        let type_name = uid.entity_type().to_string();
        let id: &str = uid.eid().as_ref();
        self.resources
            .binary_search_by(|r| {
                (r.reference.type_name.as_str(), r.reference.id.as_str())
                    .cmp(&(type_name.as_str(), id))
            })
            .ok()
    }

    /// Whether the attribute `name` holds a reference to another entity on some type (reading
    /// through it, as in `resource.name.x`, reads that entity).
    pub fn holds_references(&self, name: &str) -> bool {
        self.references.contains(name)
    }

    /// The facts of `resource` that were not collected.
    pub fn unknown_facts(&self, resource: &Uid) -> &[UncollectedFact] {
        if self.unknown.is_empty() {
            return &[];
        }
        self.unknown.get(resource).map_or(&[], Vec::as_slice)
    }
}

/// Every entity uid in a value (in its sets and records too).
fn referenced<'a>(v: &'a CoreValue, out: &mut Vec<&'a CoreUid>) {
    match &v.value {
        ValueKind::Lit(Literal::EntityUID(uid)) => out.push(uid),
        ValueKind::Set(set) => set.authoritative.iter().for_each(|e| referenced(e, out)),
        ValueKind::Record(fields) => fields.values().for_each(|e| referenced(e, out)),
        ValueKind::Lit(_) | ValueKind::ExtensionValue(_) => {}
    }
}

/// Collects `name` when its type holds an entity reference at any depth (a record attribute
/// whose field is a reference: reading through it reads that entity), and the names of the
/// fields inside that do. Returns whether `ty` holds one.
fn referencing_names(name: &str, ty: &AttrType, out: &mut rustc_hash::FxHashSet<String>) -> bool {
    let holds = match ty {
        AttrType::Entity(_) => true,
        AttrType::Set(element) => referencing_names(name, element, out),
        AttrType::Record(fields) => {
            let mut any = false;
            for (field, spec) in fields {
                any |= referencing_names(field, &spec.ty, out);
            }
            any
        }
        _ => false,
    };
    if holds {
        out.insert(name.to_string());
    }
    holds
}

fn type_help(schema: &SchemaSet, type_name: &str) -> Option<String> {
    Some(match schema.nearest_type(type_name) {
        Some(t) => format!("did you mean `{t}`? `trustcheck schema` lists every entity type"),
        None => "`trustcheck schema` lists every entity type".to_string(),
    })
}

/// One entity typed into the values Cedar's store holds: its attributes in [`attr_order`], its
/// parents without repeats.
struct Typed {
    attrs: Box<[(SmolStr, CoreValue)]>,
    parents: Box<[CoreUid]>,
    uid: EntityUid,
}

/// An entity typed straight into Cedar's values: what [`build_entity`] gives (a test checks it on
/// both demo nights), without building a restricted expression per value for Cedar's evaluator to
/// walk and drop, nor Cedar's entity and its maps. `None` at the first thing that is not plain
/// (an undeclared attribute, a wrong type, a value an extension constructor refuses, a parent of
/// a type not allowed): [`build_entity`] then says what, with Cedar's words.
fn cedar_entity(
    raw: &snapshot::Entity,
    schema: &SchemaSet,
    kept: Option<&rustc_hash::FxHashSet<String>>,
    shared: &mut Shared,
) -> Option<Typed> {
    let spec = schema.entity_type(&raw.uid.type_name)?;
    let uid = uid_of(&raw.uid).ok()?;
    let is_kept = |name: &String| kept.is_none_or(|k| k.contains(name));
    // Sized to what is kept: a slice shrunk from a larger vector can stay in its block (mimalloc
    // keeps a block shrunk by less than half), 30 MiB at 100k resources.
    let mut attrs = Vec::with_capacity(raw.attrs.keys().filter(|n| is_kept(n)).count());
    for (name, value) in &raw.attrs {
        let attr = spec.attrs.get(name)?;
        if is_kept(name) {
            let typed = shared.typed(value, &attr.ty)?;
            attrs.push((SmolStr::from(name), typed));
        } else {
            cedar_value(value, &attr.ty)?;
        }
    }
    let required = spec
        .attrs
        .iter()
        .all(|(name, attr)| !attr.required || raw.attrs.contains_key(name));
    if !required {
        return None;
    }
    attrs.sort_unstable_by(|a, b| attr_order(&a.0, &b.0));
    Some(Typed {
        attrs: attrs.into_boxed_slice(),
        parents: cedar_parents(&raw.parents, spec)?,
        uid,
    })
}

/// The parents Cedar's store holds for an entity of type `spec`: each once (Cedar keeps them in
/// a set), in the snapshot's order; `None` at a parent of a type not allowed or a uid Cedar
/// refuses ([`build_entity`] then says which).
fn cedar_parents(parents: &[Uid], spec: &EntityTypeSpec) -> Option<Box<[CoreUid]>> {
    let mut cedar = Vec::with_capacity(parents.len());
    for p in parents {
        if !spec.parents.contains(&p.type_name) {
            return None;
        }
        let parent = CoreUid::from(uid_of(p).ok()?);
        if !cedar.contains(&parent) {
            cedar.push(parent);
        }
    }
    Some(cedar.into_boxed_slice())
}

/// Sets and records typed once per distinct JSON value and attribute type, and shared: Cedar's
/// values are reference-counted, and a set costs a tree node of about 700 bytes (and a hash set
/// beside it) however few its elements. Snapshots repeat such values a lot (the same policy ARNs
/// on many users, empty lists everywhere): about 30 MiB of `check`'s peak at 100k resources of
/// the demo mix (docs/performance.md).
#[derive(Default)]
struct Shared(FxHashMap<usize, FxHashMap<Value, CoreValue>>);

impl Shared {
    /// [`cedar_value`], shared with an equal value of the same attribute type typed before.
    fn typed(&mut self, v: &Value, ty: &AttrType) -> Option<CoreValue> {
        if !matches!(ty, AttrType::Set(_) | AttrType::Record(_)) {
            return cedar_value(v, ty);
        }
        // Equal JSON typed by the same type is the same value: keyed by the type's place in the
        // schema, which outlives the load.
        let of_type = self.0.entry(std::ptr::from_ref(ty).addr()).or_default();
        if let Some(known) = of_type.get(v) {
            return Some(known.clone());
        }
        let typed = cedar_value(v, ty)?;
        of_type.insert(v.clone(), typed.clone());
        Some(typed)
    }
}

/// The value Cedar evaluates [`typed`]'s expression to, or `None` where [`typed`] fails or the
/// extension constructor refuses the text.
fn cedar_value(v: &Value, ty: &AttrType) -> Option<CoreValue> {
    match ty {
        AttrType::Bool => v.as_bool().map(CoreValue::from),
        AttrType::Long => v.as_i64().map(CoreValue::from),
        AttrType::String => v.as_str().map(CoreValue::from),
        AttrType::Datetime => {
            let s = Extension::Datetime.text(v)?;
            Extension::Datetime.value(&snapshot::normalize_utc(s)?)
        }
        AttrType::Duration => Extension::Duration.value(Extension::Duration.text(v)?),
        AttrType::Decimal => Extension::Decimal.value(Extension::Decimal.text(v)?),
        AttrType::IpAddr => Extension::Ip.value(Extension::Ip.text(v)?),
        AttrType::Set(element) => {
            let items = v.as_array()?;
            let values = items
                .iter()
                .map(|i| cedar_value(i, element))
                .collect::<Option<Vec<_>>>()?;
            Some(CoreValue::set(values, None))
        }
        AttrType::Record(fields) => {
            let obj = v.as_object()?;
            let mut out = Vec::with_capacity(obj.len());
            for (k, val) in obj {
                out.push((SmolStr::from(k), cedar_value(val, &fields.get(k)?.ty)?));
            }
            let complete = fields
                .iter()
                .all(|(k, spec)| !spec.required || obj.contains_key(k));
            complete.then(|| CoreValue::record(out, None))
        }
        AttrType::Entity(type_name) => {
            let obj = v.get("__entity").unwrap_or(v);
            let r = <Uid as serde::Deserialize>::deserialize(obj).ok()?;
            if &r.type_name != type_name {
                return None;
            }
            Some(CoreValue::from(CoreUid::from(uid_of(&r).ok()?)))
        }
    }
}

fn build_entity(
    raw: &snapshot::Entity,
    schema: &SchemaSet,
    kept: Option<&rustc_hash::FxHashSet<String>>,
) -> Result<Typed, Problem> {
    let problem = |attr: Option<&str>, message: String, help: Option<String>| Problem {
        entity: raw.uid.clone(),
        attr: attr.map(str::to_string),
        message,
        help,
    };
    let Some(spec) = schema.entity_type(&raw.uid.type_name) else {
        return Err(problem(
            None,
            format!(
                "entity `{}` has type `{}`, which no schema declares",
                raw.uid, raw.uid.type_name
            ),
            type_help(schema, &raw.uid.type_name),
        ));
    };
    let uid = uid_of(&raw.uid).map_err(|m| problem(None, m, None))?;
    // Plain lists: Cedar collects attributes and parents into its own maps.
    let mut attrs = Vec::with_capacity(raw.attrs.len());
    for (name, value) in &raw.attrs {
        let Some(attr) = spec.attrs.get(name) else {
            let hint = nearest(name, spec.attrs.keys().map(String::as_str))
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            return Err(problem(
                Some(name),
                format!(
                    "attribute `{name}` on `{}` is not declared for `{}`",
                    raw.uid, spec.name
                ),
                Some(format!(
                    "{hint}`trustcheck schema` lists the attributes of each type"
                )),
            ));
        };
        let expr = typed(value, &attr.ty).map_err(|m| {
            problem(
                Some(name),
                format!("in attribute `{name}` on `{}`: {m}", raw.uid),
                None,
            )
        })?;
        if kept.is_none_or(|k| k.contains(name)) {
            attrs.push((name.clone(), expr));
        }
    }
    for (name, attr) in &spec.attrs {
        if attr.required && !raw.attrs.contains_key(name) {
            return Err(problem(
                None,
                format!(
                    "entity `{}` lacks the required attribute `{name}` ({})",
                    raw.uid, attr.ty
                ),
                Some(
                    "only attributes marked `?` in the schema may be absent (and then only with a collection error saying why)"
                        .into(),
                ),
            ));
        }
    }
    let mut parents = Vec::with_capacity(raw.parents.len());
    for p in &raw.parents {
        if !spec.parents.contains(&p.type_name) {
            let allowed = if spec.parents.is_empty() {
                "none".to_string()
            } else {
                spec.parents.join(", ")
            };
            return Err(problem(
                None,
                format!(
                    "entity `{}` may not have the parent `{p}` (allowed parent types: {allowed})",
                    raw.uid
                ),
                None,
            ));
        }
        parents.push(uid_of(p).map_err(|m| problem(None, m, None))?);
    }
    let entity = CoreEntity::new(
        CoreUid::from(uid.clone()),
        attrs
            .into_iter()
            .map(|(name, expr)| (smol_str::SmolStr::from(name), expr.as_ref().clone())),
        HashSet::new(),
        parents.into_iter().map(CoreUid::from).collect(),
        std::iter::empty(),
        Extensions::all_available(),
    )
    .map_err(|e| {
        problem(
            None,
            format!("entity `{}` is invalid: {e}", raw.uid),
            Some("datetimes must be UTC like `2026-11-22T03:00:00Z`".into()),
        )
    })?;
    let (_, attrs, _, parents, _) = entity.into_inner();
    let mut attrs: Box<[(SmolStr, CoreValue)]> = attrs
        .into_iter()
        .map(|(name, value)| match value {
            PartialValue::Value(v) => Ok((name, v)),
            // The expressions built from a snapshot call no `unknown`: not expected, but not
            // a value either.
            PartialValue::Residual(_) => Err(problem(
                Some(&name),
                format!("attribute `{name}` on `{}` is not a value", raw.uid),
                None,
            )),
        })
        .collect::<Result<_, _>>()?;
    attrs.sort_unstable_by(|a, b| attr_order(&a.0, &b.0));
    Ok(Typed {
        attrs,
        parents: parents.into_iter().collect(),
        uid,
    })
}

/// The order of an entity's held attributes ([`Store::attr`] searches them): by length, then by
/// name. Most names differ in length, so a step of the search compares two numbers, not two
/// strings (the string compares were 3.5% of `check`).
fn attr_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// One typed entity waiting for its ancestors.
struct Built {
    attrs: Box<[(SmolStr, CoreValue)]>,
    cedar_parents: Box<[CoreUid]>,
    uid: EntityUid,
    reference: Uid,
    parents: Vec<Uid>,
    snapshot: usize,
}

impl Built {
    /// `typed`, read from the snapshot numbered `snapshot` as `reference` under `parents`.
    fn new(typed: Typed, reference: Uid, parents: Vec<Uid>, snapshot: usize) -> Self {
        Self {
            attrs: typed.attrs,
            cedar_parents: typed.parents,
            uid: typed.uid,
            reference,
            parents,
            snapshot,
        }
    }
}

/// The ancestors of every entity, as indices into `references` (sorted): the parents present in
/// the set and, through them, theirs. A parent that is not in the set ends its branch, as in
/// Cedar. A loop is an error naming an entity on it. Iterative: a hierarchy may be deep.
fn ancestors(references: &[&Uid], parents: &[&[Uid]]) -> Result<Vec<Vec<usize>>, usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done,
    }
    let direct: Vec<Vec<usize>> = parents
        .iter()
        .map(|ps| {
            ps.iter()
                .filter_map(|p| references.binary_search(&p).ok())
                .collect()
        })
        .collect();
    let n = references.len();
    let mut state = vec![State::New; n];
    let mut all: Vec<Vec<usize>> = vec![Vec::new(); n];
    for start in 0..n {
        if state.get(start) != Some(&State::New) {
            continue;
        }
        // (entity, how many of its parents were visited)
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        if let Some(s) = state.get_mut(start) {
            *s = State::Open;
        }
        while let Some(&(node, next)) = stack.last() {
            let node_parents = direct.get(node).map_or(&[][..], Vec::as_slice);
            if let Some(&p) = node_parents.get(next) {
                if let Some(top) = stack.last_mut() {
                    top.1 += 1;
                }
                match state.get(p) {
                    Some(State::New) => {
                        if let Some(s) = state.get_mut(p) {
                            *s = State::Open;
                        }
                        stack.push((p, 0));
                    }
                    Some(State::Open) => return Err(p),
                    _ => {}
                }
            } else {
                let mut above: Vec<usize> = Vec::new();
                for &p in node_parents {
                    above.push(p);
                    above.extend_from_slice(all.get(p).map_or(&[][..], Vec::as_slice));
                }
                above.sort_unstable();
                above.dedup();
                if let Some(slot) = all.get_mut(node) {
                    *slot = above;
                }
                if let Some(s) = state.get_mut(node) {
                    *s = State::Done;
                }
                stack.pop();
            }
        }
    }
    Ok(all)
}

/// Cedar's uid for a `{type, id}` pair (ids may hold any character).
pub fn uid_of(r: &Uid) -> Result<EntityUid, String> {
    let t = type_name(&r.type_name)?;
    Ok(EntityUid::from_type_name_and_id(t, EntityId::new(&r.id)))
}

/// Type names already parsed on this thread, at most this many (a snapshot has a few dozen).
const TYPE_NAMES_HELD: usize = 256;

thread_local! {
    static TYPE_NAMES: std::cell::RefCell<FxHashMap<String, EntityTypeName>> =
        std::cell::RefCell::new(FxHashMap::default());
}

/// A type name parsed as Cedar's, each distinct name once per thread: Cedar parses it with its
/// policy parser, which builds a lexer and a regex cache per call (2% of `diff` at 100k
/// resources, docs/performance.md, when done per entity and per parent).
fn type_name(name: &str) -> Result<EntityTypeName, String> {
    if let Some(t) = TYPE_NAMES.with_borrow(|held| held.get(name).cloned()) {
        return Ok(t);
    }
    let t = EntityTypeName::from_str(name)
        .map_err(|e| format!("`{name}` is not an entity type name: {e}"))?;
    TYPE_NAMES.with_borrow_mut(|held| {
        // Bounded: many distinct names (never expected) only cost their parse.
        if held.len() >= TYPE_NAMES_HELD {
            held.clear();
        }
        held.insert(name.to_string(), t.clone());
    });
    Ok(t)
}

/// Cedar's extension constructors an attribute's type can call for.
#[derive(Clone, Copy)]
enum Extension {
    Datetime,
    Duration,
    Decimal,
    Ip,
}

/// The constructors' names, each parsed once (in [`Extension`] order). Cedar's own
/// `RestrictedExpression::new_datetime` (and its siblings) parse the constructor's name with the
/// policy parser on every call, building a lexer and a regex cache per value: 8% of `diff` at
/// 100k resources (docs/performance.md). `None` if a name did not parse (never expected): then
/// Cedar's constructors are used.
static CONSTRUCTORS: LazyLock<Option<[Name; 4]>> = LazyLock::new(|| {
    let name = |e: Extension| {
        e.name()
            .parse::<UnreservedId>()
            .ok()
            .map(Name::unqualified_name)
    };
    Some([
        name(Extension::Datetime)?,
        name(Extension::Duration)?,
        name(Extension::Decimal)?,
        name(Extension::Ip)?,
    ])
});

/// Cedar's extension functions for the constructors (in [`Extension`] order).
static FUNCTIONS: LazyLock<Option<[&'static ExtensionFunction; 4]>> = LazyLock::new(|| {
    let names = CONSTRUCTORS.as_ref()?;
    let function = |at: usize| Extensions::all_available().func(names.get(at)?).ok();
    Some([function(0)?, function(1)?, function(2)?, function(3)?])
});

impl Extension {
    /// The constructor's name.
    fn name(self) -> &'static str {
        match self {
            Extension::Datetime => "datetime",
            Extension::Duration => "duration",
            Extension::Decimal => "decimal",
            Extension::Ip => "ip",
        }
    }

    /// The constructor's text in a snapshot value: a string, or Cedar's explicit extension form
    /// `{"__extn": {"fn": "datetime", "arg": "…"}}`.
    fn text(self, v: &Value) -> Option<&str> {
        v.as_str().or_else(|| {
            let e = v.get("__extn")?;
            (e.get("fn")?.as_str()? == self.name()).then_some(())?;
            e.get("arg")?.as_str()
        })
    }

    /// The value Cedar's constructor makes of `arg`, or `None` when it refuses it.
    fn value(self, arg: &str) -> Option<CoreValue> {
        match self.function()?.call(&[CoreValue::from(arg)]).ok()? {
            PartialValue::Value(v) => Some(v),
            PartialValue::Residual(_) => None,
        }
    }

    /// Cedar's function behind the constructor.
    fn function(self) -> Option<&'static ExtensionFunction> {
        FUNCTIONS.as_ref()?.get(self as usize).copied()
    }

    /// `constructor("arg")`, the expression Cedar's `RestrictedExpression::new_<constructor>`
    /// builds.
    fn call(self, arg: &str) -> RestrictedExpression {
        match CONSTRUCTORS
            .as_ref()
            .and_then(|names| names.get(self as usize))
        {
            Some(name) => {
                CoreRestrictedExpr::call_extension_fn(name.clone(), [CoreRestrictedExpr::val(arg)])
                    .into()
            }
            None => self.cedars(arg),
        }
    }

    /// Cedar's own constructor (the parsing one).
    fn cedars(self, arg: &str) -> RestrictedExpression {
        match self {
            Extension::Datetime => RestrictedExpression::new_datetime(arg),
            Extension::Duration => RestrictedExpression::new_duration(arg),
            Extension::Decimal => RestrictedExpression::new_decimal(arg),
            Extension::Ip => RestrictedExpression::new_ip(arg),
        }
    }
}

fn describe(v: &Value) -> String {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    format!("{kind} `{}`", crate::text::shorten(&v.to_string(), 60))
}

/// Types one JSON value as `ty`.
fn typed(v: &Value, ty: &AttrType) -> Result<RestrictedExpression, String> {
    let mismatch = || format!("expected {ty}, found {}", describe(v));
    match ty {
        AttrType::Bool => v
            .as_bool()
            .map(RestrictedExpression::new_bool)
            .ok_or_else(mismatch),
        AttrType::Long => v
            .as_i64()
            .map(RestrictedExpression::new_long)
            .ok_or_else(mismatch),
        AttrType::String => v
            .as_str()
            .map(|s| RestrictedExpression::new_string(s.to_string()))
            .ok_or_else(mismatch),
        AttrType::Datetime => {
            let s = Extension::Datetime.text(v).ok_or_else(mismatch)?;
            let norm = snapshot::normalize_utc(s).ok_or_else(|| {
                format!("`{s}` is not a UTC datetime like `2026-11-22T03:00:00Z`")
            })?;
            Ok(Extension::Datetime.call(&norm))
        }
        AttrType::Duration => Extension::Duration
            .text(v)
            .map(|a| Extension::Duration.call(a))
            .ok_or_else(mismatch),
        AttrType::Decimal => Extension::Decimal
            .text(v)
            .map(|a| Extension::Decimal.call(a))
            .ok_or_else(mismatch),
        AttrType::IpAddr => Extension::Ip
            .text(v)
            .map(|a| Extension::Ip.call(a))
            .ok_or_else(mismatch),
        AttrType::Set(element) => {
            let items = v.as_array().ok_or_else(mismatch)?;
            let typed_items = items
                .iter()
                .map(|i| typed(i, element))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(RestrictedExpression::new_set(typed_items))
        }
        AttrType::Record(fields) => {
            typed_record(v, fields).map_err(|m| if m.is_empty() { mismatch() } else { m })
        }
        AttrType::Entity(type_name) => {
            let obj = v.get("__entity").unwrap_or(v);
            let r: Uid = serde_json::from_value(obj.clone()).map_err(|_| mismatch())?;
            if &r.type_name != type_name {
                return Err(format!("expected a `{type_name}` reference, found `{r}`"));
            }
            Ok(RestrictedExpression::new_entity_uid(uid_of(&r)?))
        }
    }
}

fn typed_record(
    v: &Value,
    fields: &BTreeMap<String, AttrSpec>,
) -> Result<RestrictedExpression, String> {
    let obj = v.as_object().ok_or_else(String::new)?;
    let mut out = Vec::with_capacity(obj.len());
    for (k, val) in obj {
        let spec = fields.get(k).ok_or_else(|| {
            let hint = nearest(k, fields.keys().map(String::as_str))
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            format!("record field `{k}` is not declared{hint}")
        })?;
        out.push((
            k.clone(),
            typed(val, &spec.ty).map_err(|m| format!("field `{k}`: {m}"))?,
        ));
    }
    for (k, spec) in fields {
        if spec.required && !obj.contains_key(k) {
            return Err(format!(
                "record lacks the required field `{k}` ({})",
                spec.ty
            ));
        }
    }
    RestrictedExpression::new_record(out).map_err(|e| e.to_string())
}

/// Turns a problem into a located diagnostic: finds the entity (and attribute) in the file text.
fn locate(input: &Input, p: Problem) -> Box<LoadError> {
    let text = &input.text;
    let id_json = serde_json::to_string(&p.entity.id).unwrap_or_default();
    let entities_at = text.find("\"entities\"").unwrap_or(0);
    let mut span = SourceSpan::from((0, 0));
    let mut label = "in this snapshot".to_string();
    if let Some(rel) = text.get(entities_at..).and_then(|t| t.find(&id_json)) {
        let at = entities_at + rel;
        span = SourceSpan::from((at, id_json.len()));
        label = "this entity".into();
        if let Some(attr) = &p.attr {
            let key = format!("\"{attr}\"");
            if let Some(r2) = text.get(at..).and_then(|t| t.find(&key)) {
                span = SourceSpan::from((at + r2, key.len()));
                label = "this attribute".into();
            }
        }
    }
    Box::new(LoadError::Entity(EntityError {
        message: format!("{}: {}", input.name, p.message),
        help: p.help,
        src: crate::diagnostics::SourceFile::new(input.name.as_str(), text.as_str())
            .with_language("json"),
        span,
        label,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_close_over_parents_skip_strangers_and_refuse_loops() {
        let u = |id: &str| Uid {
            type_name: "T".into(),
            id: id.into(),
        };
        let (a, b, c, d) = (u("a"), u("b"), u("c"), u("d"));
        let refs = [&a, &b, &c, &d];
        // a in b, b in c and in a stranger, d in a and c.
        let parents: [&[Uid]; 4] = [
            &[u("b")],
            &[u("c"), u("zz-not-loaded")],
            &[],
            &[u("a"), u("c")],
        ];
        let all = ancestors(&refs, &parents).unwrap();
        assert_eq!(all, vec![vec![1, 2], vec![2], vec![], vec![0, 1, 2]]);

        let looped: [&[Uid]; 4] = [&[u("b")], &[u("c")], &[u("a")], &[]];
        assert!(ancestors(&refs, &looped).is_err());
        let own: [&[Uid]; 4] = [&[], &[], &[], &[u("d")]];
        assert_eq!(ancestors(&refs, &own), Err(3));

        // A chain deeper than a recursive walk would want on a thread's stack.
        let chain: Vec<Uid> = (0..3000).map(|i| u(&format!("{i:06}"))).collect();
        let chain_refs: Vec<&Uid> = chain.iter().collect();
        let chain_parents: Vec<&[Uid]> = (0..chain.len())
            .map(|i| chain.get(i + 1..i + 2).unwrap_or(&[]))
            .collect();
        let deep = ancestors(&chain_refs, &chain_parents).unwrap();
        assert_eq!(deep[0].len(), 2999);
        assert_eq!(deep[2998], vec![2999]);
    }

    fn load(json: &str) -> Result<Store, Box<LoadError>> {
        let schema = SchemaSet::builtin().unwrap();
        let input = Input::parse("t.json".into(), json.to_string()).unwrap();
        Store::load(vec![input], &schema)
    }

    const ORG: &str = r#"{"uid": {"type": "Github::Org", "id": "acme"}, "attrs": {"login": "acme", "twoFactorRequirementEnabled": true}}"#;

    fn snap(entities: &str, errors: &str) -> String {
        format!(
            r#"{{"format": "trustcheck.snapshot/v1", "collected_at": "2026-11-22T03:00:00Z",
  "sources": [{{"provider": "github", "scope": "acme", "collected_at": "2026-11-22T03:00:00Z", "errors": [{errors}]}}],
  "entities": [{entities}]}}"#
        )
    }

    #[test]
    fn loads_typed_entities_with_parents() {
        let member = r#"{"uid": {"type": "Github::Member", "id": "acme/bob"}, "attrs": {"login": "bob", "twoFactorDisabled": false}, "parents": [{"type": "Github::Org", "id": "acme"}]}"#;
        let store = load(&snap(&format!("{ORG},{member}"), "")).unwrap();
        assert_eq!(store.resources.len(), 2);
        assert_eq!(store.resources[0].reference.type_name, "Github::Member");
    }

    #[test]
    fn wrong_type_names_entity_and_attribute() {
        let bad = r#"{"uid": {"type": "Github::Org", "id": "acme"}, "attrs": {"login": "acme", "twoFactorRequirementEnabled": "yes"}}"#;
        let err = load(&snap(bad, "")).unwrap_err();
        assert!(
            err.to_string().contains("twoFactorRequirementEnabled"),
            "{err}"
        );
        assert!(err.to_string().contains(r#"Github::Org::"acme""#), "{err}");
        assert!(err.to_string().contains("expected Bool"), "{err}");
    }

    #[test]
    fn unknown_type_and_attribute_get_did_you_mean() {
        let bad = r#"{"uid": {"type": "Github::Orgg", "id": "acme"}, "attrs": {}}"#;
        let err = load(&snap(bad, "")).unwrap_err();
        assert!(err.help().unwrap().to_string().contains("Github::Org"));
        let bad = r#"{"uid": {"type": "Github::Org", "id": "acme"}, "attrs": {"login": "a", "twoFactorRequirementEnabld": true}}"#;
        let err = load(&snap(bad, "")).unwrap_err();
        assert!(err
            .help()
            .unwrap()
            .to_string()
            .contains("twoFactorRequirementEnabled"));
    }

    #[test]
    fn duplicates_are_rejected() {
        let err = load(&snap(&format!("{ORG},{ORG}"), "")).unwrap_err();
        assert!(err.to_string().contains("duplicate entity"), "{err}");
    }

    #[test]
    fn a_file_that_does_not_parse_is_reported_before_the_entities_of_those_before_it() {
        let schema = SchemaSet::builtin().unwrap();
        let input = |name: &str, text: String| Input::parse(name.into(), text).unwrap();
        let mistyped = r#"{"uid": {"type": "Github::Org", "id": "acme"}, "attrs": {"login": 1}}"#;
        let member = r#"{"uid": {"type": "Github::Member", "id": "m"}, "attrs": {}}"#;
        // An entity whose uid is not one: the envelope reads, the entity does not.
        let shapeless = r#"{"uid": "Github::Org::acme", "attrs": {}}"#;
        let inputs = || {
            vec![
                input("a.json", snap(mistyped, "")),
                input("b.json", snap(member, "")),
                input("c.json", snap(shapeless, "")),
            ]
        };
        assert!(inputs()[2].check_entities().is_err());
        assert!(inputs()[0].check_entities().is_ok());
        let err = Store::load(inputs(), &schema).unwrap_err();
        let LoadError::Snapshot { input: at, error } = *err else {
            panic!("{err}");
        };
        assert_eq!(at, 2);
        assert!(error.to_string().contains("c.json"), "{error}");
        // A repeated entity across files waits for the same check.
        let err = Store::load(
            vec![
                input("a.json", snap(ORG, "")),
                input("b.json", snap(ORG, "")),
                input("c.json", snap(shapeless, "")),
            ],
            &schema,
        )
        .unwrap_err();
        assert!(
            matches!(*err, LoadError::Snapshot { input: 2, .. }),
            "{err}"
        );
        // Alone, each file's own problem.
        let err = Store::load(vec![input("a.json", snap(mistyped, ""))], &schema).unwrap_err();
        assert!(matches!(*err, LoadError::Entity(_)), "{err}");
    }

    #[test]
    fn an_envelope_read_from_other_text_falls_back_to_the_documents_parse() {
        let schema = SchemaSet::builtin().unwrap();
        let text = snap(ORG, "");
        let other = text.clone();
        let view = snapshot::view("other.json", &other).unwrap();
        let envelope = Envelope::of(&text, view);
        assert!(envelope
            .unparsed
            .iter()
            .all(|r| text.get(r.clone()).is_none()));
        let input = Input::with_envelope("t.json".into(), text, envelope);
        let store = Store::load(vec![input], &schema).unwrap();
        assert_eq!(store.resources.len(), 1);
    }

    #[test]
    fn collection_errors_split_into_unknown_and_missing() {
        let errors = r#"{"entity": {"type": "Github::Org", "id": "acme"}, "fact": "twoFactorRequirementEnabled", "reason": "403"},
                        {"entity": {"type": "Github::Member", "id": "acme/*"}, "fact": "*", "reason": "403 members"}"#;
        let store = load(&snap(ORG, errors)).unwrap();
        let org = &store.resources[0].reference;
        assert_eq!(store.unknown_facts(org)[0].reason, "403");
        assert_eq!(store.missing.len(), 1);
    }

    /// The constructors built with names parsed once are Cedar's own, and evaluate alike.
    #[test]
    fn extension_calls_are_cedars_constructors() {
        let cases = [
            (Extension::Datetime, "2026-11-22T03:00:00Z"),
            (Extension::Duration, "90d"),
            (Extension::Decimal, "1.5"),
            (Extension::Ip, "10.0.0.0/8"),
        ];
        assert!(CONSTRUCTORS.is_some());
        for (extension, arg) in cases {
            let (a, b) = (extension.call(arg), extension.cedars(arg));
            assert_eq!(a.as_ref(), b.as_ref(), "{arg}");
            assert_eq!(a.as_ref().to_string(), b.as_ref().to_string());
        }
    }

    /// Type names come from the per-thread cache as Cedar parses them, past its bound too; a
    /// bad name is still refused with Cedar's reason.
    #[test]
    fn type_names_are_parsed_once_and_alike() {
        for round in 0..2 {
            for i in 0..TYPE_NAMES_HELD + 10 {
                let name = format!("Ns::Type{i}");
                let t = type_name(&name).unwrap();
                assert_eq!(t, EntityTypeName::from_str(&name).unwrap(), "round {round}");
            }
        }
        assert!(TYPE_NAMES.with_borrow(|held| held.len()) <= TYPE_NAMES_HELD);
        let bad = type_name("not a type").unwrap_err();
        assert!(
            bad.starts_with("`not a type` is not an entity type name: "),
            "{bad}"
        );
    }

    /// Whether two typings of an entity are the same: uid, attributes (sorted), parents (a set).
    pub(super) fn same(a: &Typed, b: &Typed) -> bool {
        let set = |t: &Typed| t.parents.iter().cloned().collect::<HashSet<CoreUid>>();
        a.uid == b.uid
            && a.attrs == b.attrs
            && a.attrs
                .iter()
                .map(|(n, v)| format!("{n}={v}"))
                .collect::<Vec<_>>()
                == b.attrs
                    .iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
            && set(a) == set(b)
    }

    /// For the tests that type both demo nights, pruned and not: the built-in schema, the
    /// demo's files, and the names kept when pruned.
    pub(super) fn demo_nights() -> (
        SchemaSet,
        [std::path::PathBuf; 2],
        rustc_hash::FxHashSet<String>,
    ) {
        let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
        let kept = ["active", "createdAt", "policy", "bypassActors"]
            .into_iter()
            .map(String::from)
            .collect();
        (
            SchemaSet::builtin().unwrap(),
            ["snapshot.json", "snapshot-previous.json"].map(|file| demo.join(file)),
            kept,
        )
    }

    /// Every entity of both demo nights is typed straight into the values Cedar's construction
    /// gives, pruned to the names kept or not; values Cedar refuses are left to it.
    #[test]
    fn entities_typed_straight_into_cedar_values_are_cedars() {
        let (schema, files, kept) = demo_nights();
        for file in &files {
            let (snapshot, _) = snapshot::read(file).unwrap();
            assert!(snapshot.entities.len() > 50);
            for raw in &snapshot.entities {
                for kept in [None, Some(&kept)] {
                    let fast = cedar_entity(raw, &schema, kept, &mut Shared::default())
                        .expect("plain entity");
                    let Ok(cedar) = build_entity(raw, &schema, kept) else {
                        panic!("{}: {} refused", file.display(), raw.uid);
                    };
                    assert!(same(&fast, &cedar), "{}: {}", file.display(), raw.uid);
                }
            }
        }
        let refused = [
            r#"{"uid": {"type": "Aws::AccessKey", "id": "k"}, "attrs": {"slot": 1, "active": true, "createdAt": "2026-13-01T00:00:00Z"}}"#,
            r#"{"uid": {"type": "Aws::AccessKey", "id": "k"}, "attrs": {"slot": 1, "active": "yes", "createdAt": "2026-01-01T00:00:00Z"}}"#,
            r#"{"uid": {"type": "Aws::AccessKey", "id": "k"}, "attrs": {"slot": 1, "createdAt": "2026-01-01T00:00:00Z"}}"#,
        ];
        for text in refused {
            let raw: snapshot::Entity = serde_json::from_str(text).unwrap();
            assert!(
                cedar_entity(&raw, &schema, None, &mut Shared::default()).is_none(),
                "{text}"
            );
            assert!(build_entity(&raw, &schema, None).is_err(), "{text}");
        }
    }

    #[test]
    fn non_utc_datetimes_are_rejected() {
        let key = r#"{"uid": {"type": "Aws::AccessKey", "id": "k"}, "attrs": {"slot": 1, "active": true, "createdAt": "2026-01-01T00:00:00+01:00"}}"#;
        let err = load(&snap(key, "")).unwrap_err();
        assert!(err.to_string().contains("createdAt"), "{err}");
    }

    pub(super) mod properties {
        use proptest::prelude::*;
        use serde_json::json;

        use super::*;
        use crate::diagnostics::render_plain;

        /// Any JSON an attribute may hold, and some it may not: plain values, timestamps in and
        /// out of UTC, Cedar's explicit form (good and bad), an entity reference, nested.
        pub(in crate::entities) fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                Just(json!(1.5)),
                "\\PC{0,70}".prop_map(Value::from),
                Just(json!("2026-11-22T03:00:00Z")),
                Just(json!("2026-11-22T03:00:00+02:00")),
                Just(json!({"__extn": {"fn": "datetime", "arg": "nope"}})),
                Just(json!({"__extn": {"fn": "datetime", "arg": "2026-11-22T03:00:00Z"}})),
                Just(json!({"type": "Aws::Account", "id": "a"})),
            ];
            leaf.prop_recursive(2, 8, 3, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                    prop::collection::btree_map("[a-zA-Z]{1,6}", inner, 0..3)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn entity() -> impl Strategy<Value = Value> {
            (
                prop_oneof![
                    Just("Aws::IamUser"),
                    Just("Aws::Account"),
                    Just("Github::Repo"),
                    Just("Github::Branch"),
                    Just("Nope::Thing"),
                ],
                "[a-zé:/]{0,12}",
                prop::collection::btree_map(
                    prop_oneof![
                        Just("mfaActive".to_string()),
                        Just("createdAt".to_string()),
                        Just("attachedPolicyArns".to_string()),
                        Just("passwordPolicy".to_string()),
                        "[a-zA-Z]{1,8}",
                    ],
                    value(),
                    0..4,
                ),
            )
                .prop_map(|(t, id, attrs)| json!({"uid": {"type": t, "id": id}, "attrs": attrs, "parents": []}))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(128))]

            /// Any snapshot-shaped document loads into a store or into one located error, and
            /// rendering the error never panics.
            #[test]
            fn any_entities_load_or_are_explained(entities in prop::collection::vec(entity(), 0..5)) {
                let text = json!({
                    "format": "trustcheck.snapshot/v1",
                    "collected_at": "2026-11-22T03:00:00Z",
                    "entities": entities,
                })
                .to_string();
                let snapshot = match crate::snapshot::parse("p.json", &text) {
                    Ok(s) => s,
                    Err(e) => {
                        prop_assert!(!render_plain(&e).is_empty());
                        return Ok(());
                    }
                };
                let schema = SchemaSet::builtin().unwrap();
                // Typed straight into Cedar's values only where Cedar's construction succeeds,
                // and then into the same values.
                for raw in &snapshot.entities {
                    match (cedar_entity(raw, &schema, None, &mut Shared::default()), build_entity(raw, &schema, None)) {
                        (Some(fast), Ok(cedar)) => prop_assert!(same(&fast, &cedar)),
                        (Some(_), Err(p)) => prop_assert!(false, "{}", p.message),
                        (None, _) => {}
                    }
                }
                let input = Input { name: "p.json".into(), snapshot, text, unparsed: Vec::new() };
                if let Err(e) = Store::load(vec![input], &schema) {
                    prop_assert!(!render_plain(e.as_ref()).is_empty());
                }
            }
        }
    }
}
