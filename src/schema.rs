//! The Cedar schema: one fragment per provider plus the `Trustcheck::` request types.
//!
//! Provider fragments (`providers/*/*.cedarschema`) declare the entity types and their attributes,
//! with `@doc` annotations that feed `trustcheck schema`. The `Trustcheck::` fragment is generated
//! here so that the `evaluate` action applies to every entity type any fragment declares. The
//! build finds the providers' fragments; a team adds its own with `--schema FILE` or `schemas` in
//! trustcheck.toml ([`SchemaSet::with_custom`]).
//!
//! Besides the Cedar [`Schema`], this module keeps a plain description of every entity type
//! ([`EntityTypeSpec`]) that the snapshot loader uses to type attribute values and to explain
//! mistakes in words a snapshot author understands.

use std::collections::BTreeMap;

use cedar_policy::{Schema, SchemaFragment};
use serde_json::Value;

use crate::diagnostics::{InFile, Problem, SourceFile};
pub use crate::suggest::nearest;

/// The built-in schema fragments (`providers/*/*.cedarschema`, found by the build), embedded in
/// the binary.
pub const BUILTIN_FRAGMENTS: &[(&str, &str)] = crate::builtin::FRAGMENTS;

/// The type of the fixed principal of every request.
pub const CHECKER_TYPE: &str = "Trustcheck::Checker";
/// The action of every request.
pub const ACTION_TYPE: &str = "Trustcheck::Action";
/// The id of the action of every request.
pub const ACTION_ID: &str = "evaluate";

/// The type of an attribute, as the schema declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrType {
    /// `Bool`
    Bool,
    /// `Long`
    Long,
    /// `String`
    String,
    /// `datetime` (extension type): a UTC timestamp in the snapshot.
    Datetime,
    /// `duration` (extension type).
    Duration,
    /// `decimal` (extension type).
    Decimal,
    /// `ipaddr` (extension type).
    IpAddr,
    /// `Set<T>`
    Set(Box<AttrType>),
    /// A record with named attributes.
    Record(BTreeMap<String, AttrSpec>),
    /// A reference to an entity of the named type.
    Entity(String),
}

impl std::fmt::Display for AttrType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AttrType::Bool => f.write_str("Bool"),
            AttrType::Long => f.write_str("Long"),
            AttrType::String => f.write_str("String"),
            AttrType::Datetime => f.write_str("datetime"),
            AttrType::Duration => f.write_str("duration"),
            AttrType::Decimal => f.write_str("decimal"),
            AttrType::IpAddr => f.write_str("ipaddr"),
            AttrType::Set(t) => write!(f, "Set<{t}>"),
            AttrType::Record(attrs) => {
                f.write_str("{ ")?;
                for (i, (name, spec)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    let q = if spec.required { "" } else { "?" };
                    write!(f, "{name}{q}: {}", spec.ty)?;
                }
                f.write_str(" }")
            }
            AttrType::Entity(name) => f.write_str(name),
        }
    }
}

/// One attribute of an entity type or record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrSpec {
    /// Its type.
    pub ty: AttrType,
    /// Whether every entity must have it (`false` for `name?: T`).
    pub required: bool,
    /// Its `@doc` annotation.
    pub doc: Option<String>,
}

/// One entity type, as declared in a schema fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTypeSpec {
    /// Fully qualified name, e.g. `Aws::IamUser`.
    pub name: String,
    /// Its `@doc` annotation.
    pub doc: Option<String>,
    /// Its attributes.
    pub attrs: BTreeMap<String, AttrSpec>,
    /// The entity types its parents may have (`in [...]`), fully qualified.
    pub parents: Vec<String>,
    /// The fragment that declares it.
    pub fragment: String,
}

/// A schema problem (only possible with custom or edited fragments).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SchemaError {
    /// A fragment does not parse or does not make sense.
    #[error("schema fragment `{file}` is invalid")]
    Fragment {
        /// The fragment's file.
        file: String,
        /// Cedar's diagnostic, located in the file.
        #[diagnostic_source]
        inner: InFile,
    },
    /// A custom fragment (`--schema`, `schemas` in trustcheck.toml) cannot be read.
    #[error("cannot read schema fragment `{path}`: {source}")]
    #[diagnostic(
        code(schema::read),
        help("`--schema FILE` names a Cedar schema fragment (`.cedarschema`) declaring your own entity types")
    )]
    Read {
        /// The path given.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The fragments do not form one schema (e.g. a type declared twice, an undeclared type).
    #[error("schema fragments do not fit together: {0}")]
    Combine(String),
}

/// The combined schema and the plain description of its entity types.
#[derive(Debug)]
pub struct SchemaSet {
    schema: Schema,
    types: BTreeMap<String, EntityTypeSpec>,
    fragments: Vec<SourceFile>,
}

impl SchemaSet {
    /// The schema made of the built-in provider fragments.
    pub fn builtin() -> Result<Self, SchemaError> {
        Self::from_fragments(
            BUILTIN_FRAGMENTS
                .iter()
                .map(|(name, text)| SourceFile::new(*name, *text))
                .collect(),
        )
    }

    /// The built-in fragments plus a team's own (`--schema FILE`, `schemas` in trustcheck.toml),
    /// which may declare entity types of any namespace the built-in ones do not.
    pub fn with_custom(paths: &[std::path::PathBuf]) -> Result<Self, SchemaError> {
        let mut fragments: Vec<SourceFile> = BUILTIN_FRAGMENTS
            .iter()
            .map(|(name, text)| SourceFile::new(*name, *text))
            .collect();
        for path in paths {
            let text = crate::input::read_to_string(path).map_err(|source| SchemaError::Read {
                path: path.display().to_string(),
                source,
            })?;
            fragments.push(SourceFile::new(path.display().to_string(), text));
        }
        Self::from_fragments(fragments)
    }

    /// Builds the schema from provider fragments (Cedar schema syntax) and adds the generated
    /// `Trustcheck::` fragment.
    pub fn from_fragments(fragments: Vec<SourceFile>) -> Result<Self, SchemaError> {
        let mut parsed = Vec::new();
        let mut types = BTreeMap::new();
        for file in &fragments {
            let (fragment, _warnings) =
                SchemaFragment::from_cedarschema_str(&file.text).map_err(|e| {
                    SchemaError::Fragment {
                        file: file.name.to_string(),
                        inner: InFile::new(e, file),
                    }
                })?;
            // Of a copy: `to_json_value` consumes the fragment, which was parsed a second time
            // (Cedar's schema parser was a fifth of the fixed cost of `check`).
            let json = fragment
                .clone()
                .to_json_value()
                .map_err(|e| SchemaError::Combine(e.to_string()))?;
            collect_types(&json, &file.name, &mut types);
            parsed.push(fragment);
        }
        let request_fragment = request_fragment(types.keys().map(String::as_str));
        let (fragment, _) = SchemaFragment::from_cedarschema_str(&request_fragment)
            .map_err(|e| SchemaError::Combine(e.to_string()))?;
        parsed.push(fragment);
        let schema = Schema::from_schema_fragments(parsed)
            .map_err(|e| locate_combine_error(&e.to_string(), &fragments))?;
        Ok(Self {
            schema,
            types,
            fragments,
        })
    }

    /// The Cedar schema, for validation and typed entity loading.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The description of one entity type, by its fully qualified name.
    pub fn entity_type(&self, name: &str) -> Option<&EntityTypeSpec> {
        self.types.get(name)
    }

    /// Every entity type, sorted by name.
    pub fn entity_types(&self) -> impl Iterator<Item = &EntityTypeSpec> {
        self.types.values()
    }

    /// The fragments this schema was built from.
    pub fn fragments(&self) -> &[SourceFile] {
        &self.fragments
    }

    /// The entity type names closest to `name`, for did-you-mean hints.
    pub fn nearest_type(&self, name: &str) -> Option<&str> {
        nearest(name, self.types.keys().map(String::as_str))
    }
}

/// Cedar reports problems across fragments (an undeclared type, a type declared twice) without a
/// location. Point at the fragment, last first (custom fragments come after the built-in ones),
/// whose text holds the name the message ends with.
fn locate_combine_error(message: &str, fragments: &[SourceFile]) -> SchemaError {
    let name = message
        .rsplit([':', ' ', '`'])
        .find(|w| !w.is_empty())
        .unwrap_or_default()
        .trim_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
    let local = name.rsplit("::").next().unwrap_or(name);
    let found = fragments
        .iter()
        .rev()
        .find_map(|file| word_offset(&file.text, local).map(|at| (file, at)));
    match found {
        Some((file, at)) if !local.is_empty() => SchemaError::Fragment {
            file: file.name.to_string(),
            inner: InFile::new(
                Problem {
                    message: message.to_string(),
                    help: Some(
                        "declare the type in a schema fragment (`--schema FILE`), or fix its name; `trustcheck schema` lists the declared types"
                            .into(),
                    ),
                    span: miette::SourceSpan::from((at, local.len())),
                    label: "here".into(),
                },
                file,
            ),
        },
        _ => SchemaError::Combine(message.to_string()),
    }
}

/// The offset of `word` in `text` as a whole word (not inside a longer identifier).
fn word_offset(text: &str, word: &str) -> Option<usize> {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).map(|(at, _)| at).find(|&at| {
        let before = text.get(..at).and_then(|t| t.chars().next_back());
        let after = text.get(at + word.len()..).and_then(|t| t.chars().next());
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// The `Trustcheck::` fragment: the checker principal and the `evaluate` action over every type,
/// with the snapshot time and the parameters ([`crate::params`]) as context.
fn request_fragment<'a>(types: impl Iterator<Item = &'a str>) -> String {
    let resources: Vec<&str> = types.collect();
    format!(
        "namespace Trustcheck {{\n  entity Checker;\n  action \"{ACTION_ID}\" appliesTo {{\n    \
         principal: [Checker],\n    resource: [{}],\n    context: {{ now: datetime, params: {} }}\n  }};\n}}\n",
        resources.join(", "),
        crate::params::cedar_type()
    )
}

/// Reads entity types out of a fragment's JSON form.
fn collect_types(json: &Value, fragment: &str, out: &mut BTreeMap<String, EntityTypeSpec>) {
    let Some(namespaces) = json.as_object() else {
        return;
    };
    for (ns, body) in namespaces {
        let common = body.get("commonTypes").and_then(Value::as_object);
        let entity_names: Vec<&str> = body
            .get("entityTypes")
            .and_then(Value::as_object)
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let ctx = NameContext {
            namespace: ns,
            common,
            entities: &entity_names,
        };
        let Some(entities) = body.get("entityTypes").and_then(Value::as_object) else {
            continue;
        };
        for (name, decl) in entities {
            let attrs = decl
                .get("shape")
                .map(|shape| match ctx.resolve(shape) {
                    AttrType::Record(attrs) => attrs,
                    _ => BTreeMap::new(),
                })
                .unwrap_or_default();
            let parents = decl
                .get("memberOfTypes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(|p| ctx.qualify(p))
                        .collect()
                })
                .unwrap_or_default();
            let full = ctx.qualify(name);
            out.insert(
                full.clone(),
                EntityTypeSpec {
                    name: full,
                    doc: doc_of(decl),
                    attrs,
                    parents,
                    fragment: fragment.to_string(),
                },
            );
        }
    }
}

fn doc_of(decl: &Value) -> Option<String> {
    decl.get("annotations")
        .and_then(|a| a.get("doc"))
        .and_then(Value::as_str)
        .map(str::to_string)
}

struct NameContext<'a> {
    namespace: &'a str,
    common: Option<&'a serde_json::Map<String, Value>>,
    entities: &'a [&'a str],
}

impl NameContext<'_> {
    fn qualify(&self, name: &str) -> String {
        if name.contains("::") || self.namespace.is_empty() {
            name.to_string()
        } else {
            format!("{}::{name}", self.namespace)
        }
    }

    fn resolve(&self, ty: &Value) -> AttrType {
        let kind = ty.get("type").and_then(Value::as_str).unwrap_or("");
        let name = ty.get("name").and_then(Value::as_str).unwrap_or("");
        match kind {
            "Boolean" | "Bool" => AttrType::Bool,
            "Long" => AttrType::Long,
            "String" => AttrType::String,
            "Set" => AttrType::Set(Box::new(
                ty.get("element")
                    .map(|e| self.resolve(e))
                    .unwrap_or(AttrType::String),
            )),
            "Record" => {
                let mut attrs = BTreeMap::new();
                if let Some(map) = ty.get("attributes").and_then(Value::as_object) {
                    for (attr, spec) in map {
                        attrs.insert(
                            attr.clone(),
                            AttrSpec {
                                ty: self.resolve(spec),
                                required: spec
                                    .get("required")
                                    .and_then(Value::as_bool)
                                    .unwrap_or(true),
                                doc: doc_of(spec),
                            },
                        );
                    }
                }
                AttrType::Record(attrs)
            }
            "Entity" => AttrType::Entity(self.qualify(name)),
            "Extension" => extension(name),
            // Cedar syntax leaves `Long`, `datetime`, common and entity names ambiguous.
            "EntityOrCommon" | "" => self.resolve_name(name),
            other => self.resolve_name(other),
        }
    }

    fn resolve_name(&self, name: &str) -> AttrType {
        let bare = name.strip_prefix("__cedar::").unwrap_or(name);
        let local = bare
            .strip_prefix(self.namespace)
            .and_then(|r| r.strip_prefix("::"))
            .unwrap_or(bare);
        if let Some(common) = self.common.and_then(|c| c.get(local)) {
            return self.resolve(common);
        }
        if self.entities.contains(&local) {
            return AttrType::Entity(self.qualify(local));
        }
        match bare {
            "Bool" | "Boolean" => AttrType::Bool,
            "Long" => AttrType::Long,
            "String" => AttrType::String,
            "datetime" | "duration" | "decimal" | "ipaddr" => extension(bare),
            other => AttrType::Entity(other.to_string()),
        }
    }
}

fn extension(name: &str) -> AttrType {
    match name {
        "datetime" => AttrType::Datetime,
        "duration" => AttrType::Duration,
        "decimal" => AttrType::Decimal,
        _ => AttrType::IpAddr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_schema_loads_with_typed_attributes() {
        let s = SchemaSet::builtin().unwrap();
        let user = s.entity_type("Aws::IamUser").unwrap();
        assert_eq!(user.attrs["createdAt"].ty, AttrType::Datetime);
        assert!(user.attrs["createdAt"].required);
        assert!(!user.attrs["mfaActive"].required);
        assert_eq!(user.attrs["mfaActive"].ty, AttrType::Bool);
        assert_eq!(
            user.attrs["attachedPolicyArns"].ty,
            AttrType::Set(Box::new(AttrType::String))
        );
        assert_eq!(user.parents, vec!["Aws::Account", "Aws::IamGroup"]);
        assert!(user.doc.as_deref().unwrap().contains("IAM user"));
        let account = s.entity_type("Aws::Account").unwrap();
        let AttrType::Record(pp) = &account.attrs["passwordPolicy"].ty else {
            panic!("passwordPolicy is a record")
        };
        assert_eq!(pp["minimumLength"].ty, AttrType::Long);
        assert!(s.entity_type("Github::Branch").is_some());
    }

    #[test]
    fn did_you_mean_for_types() {
        let s = SchemaSet::builtin().unwrap();
        assert_eq!(s.nearest_type("Aws::IamUsr"), Some("Aws::IamUser"));
    }

    #[test]
    fn a_broken_fragment_is_reported_with_its_file() {
        let err = SchemaSet::from_fragments(vec![SourceFile::new(
            "custom.cedarschema",
            "namespace X { entity A = { a: Lng }; }",
        )])
        .unwrap_err();
        let SchemaError::Fragment { file, .. } = &err else {
            panic!("expected a located fragment error, got {err:?}")
        };
        assert_eq!(file, "custom.cedarschema");
        let shown = crate::diagnostics::render_plain(&err);
        assert!(shown.contains("custom.cedarschema:1:"), "{shown}");
        assert!(shown.contains("Lng"), "{shown}");
    }

    #[test]
    fn custom_fragments_add_types_and_cannot_redeclare_builtin_ones() {
        let dir = tempfile::tempdir().unwrap();
        let mdm = dir.path().join("mdm.cedarschema");
        std::fs::write(
            &mdm,
            "namespace Mdm { @doc(\"a laptop\") entity Laptop = { diskEncrypted?: Bool }; }",
        )
        .unwrap();
        let s = SchemaSet::with_custom(std::slice::from_ref(&mdm)).unwrap();
        assert!(s.entity_type("Mdm::Laptop").is_some());
        assert!(s.entity_type("Aws::IamUser").is_some());
        std::fs::write(&mdm, "namespace Aws { entity IamUser; }").unwrap();
        let err = SchemaSet::with_custom(std::slice::from_ref(&mdm)).unwrap_err();
        let shown = crate::diagnostics::render_plain(&err);
        assert!(shown.contains("IamUser"), "{shown}");
        let missing = dir.path().join("missing.cedarschema");
        let err = SchemaSet::with_custom(&[missing]).unwrap_err();
        assert!(matches!(err, SchemaError::Read { .. }), "{err:?}");
    }
}
