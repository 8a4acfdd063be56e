//! An entity typed straight from its JSON text: the attributes of plain types (booleans, longs,
//! strings, datetimes) become Cedar's values as the parser meets them, without the
//! `serde_json::Value` of each and the map that held them (reading entities that way was about a
//! tenth of `check` at 100k resources, docs/performance.md). Sets, records, references and the
//! other extension types are read as JSON values and typed as before ([`super::Shared::typed`]).
//!
//! It only ever gives what reading the entity ([`crate::snapshot::entity`]) and typing it
//! ([`super::cedar_entity`]) give: at anything out of the ordinary (fields in another order, a
//! key written with escapes, a repeated key, a value of the wrong type, an undeclared attribute,
//! a datetime in Cedar's explicit form) it gives up, and the entity is read the usual way, which
//! says what is wrong. Tests check that both ways agree, on both demo nights and on generated
//! entities.

use cedar_policy_core::ast::Value as CoreValue;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use smol_str::SmolStr;

use super::{attr_order, cedar_parents, cedar_value, uid_of, Extension, Shared, Typed};
use crate::findings::Uid;
use crate::schema::{AttrType, EntityTypeSpec, SchemaSet};
use crate::snapshot;

/// One entity read from its text: typed, with its uid and parents as the snapshot names them.
pub(super) struct Read {
    pub typed: Typed,
    pub reference: Uid,
    pub parents: Vec<Uid>,
}

/// The entity of `text`, typed, or `None` where the usual reading must say what it is.
pub(super) fn entity(
    text: &str,
    schema: &SchemaSet,
    kept: Option<&rustc_hash::FxHashSet<String>>,
    shared: &mut Shared,
) -> Option<Read> {
    if !snapshot::readable_depth(text) {
        return None;
    }
    let mut json = serde_json::Deserializer::from_str(text);
    let read = EntitySeed {
        schema,
        kept,
        shared,
    }
    .deserialize(&mut json)
    .ok()?;
    json.end().ok()?;
    Some(read)
}

/// The error that makes the caller read the entity the usual way; its text is never shown.
fn give_up<E: de::Error>() -> E {
    E::custom("read the usual way")
}

struct EntitySeed<'s> {
    schema: &'s SchemaSet,
    kept: Option<&'s rustc_hash::FxHashSet<String>>,
    shared: &'s mut Shared,
}

impl<'de> DeserializeSeed<'de> for EntitySeed<'_> {
    type Value = Read;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Read, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EntitySeed<'_> {
    type Value = Read;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an entity")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Read, A::Error> {
        let mut uid: Option<(Uid, &EntityTypeSpec)> = None;
        let mut attrs = None;
        let mut parents: Option<Vec<Uid>> = None;
        // A key the entity's own reading does not take, or takes once, gives up; so do
        // `attrs` before `uid` (the type is needed to type the attributes) and no `attrs`.
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "uid" if uid.is_none() => {
                    let read: Uid = map.next_value()?;
                    let spec = self
                        .schema
                        .entity_type(&read.type_name)
                        .ok_or_else(give_up)?;
                    uid = Some((read, spec));
                }
                "attrs" if attrs.is_none() => {
                    let (_, spec) = uid.as_ref().ok_or_else(give_up)?;
                    attrs = Some(map.next_value_seed(AttrsSeed {
                        spec,
                        kept: self.kept,
                        shared: &mut *self.shared,
                    })?);
                }
                "parents" if parents.is_none() => parents = Some(map.next_value()?),
                _ => return Err(give_up()),
            }
        }
        let ((reference, spec), attrs) = uid.zip(attrs).ok_or_else(give_up)?;
        let parents = parents.unwrap_or_default();
        let typed = Typed {
            attrs,
            parents: cedar_parents(&parents, spec).ok_or_else(give_up)?,
            uid: uid_of(&reference).map_err(|_| give_up())?,
        };
        Ok(Read {
            typed,
            reference,
            parents,
        })
    }
}

/// An entity's attributes typed by its type's declarations, each one checked and those `kept`
/// held, in [`attr_order`].
struct AttrsSeed<'s> {
    spec: &'s EntityTypeSpec,
    kept: Option<&'s rustc_hash::FxHashSet<String>>,
    shared: &'s mut Shared,
}

impl<'de> DeserializeSeed<'de> for AttrsSeed<'_> {
    type Value = Box<[(SmolStr, CoreValue)]>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AttrsSeed<'_> {
    type Value = Box<[(SmolStr, CoreValue)]>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an entity's attributes")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut names: Vec<&'de str> = Vec::with_capacity(self.spec.attrs.len());
        let mut attrs = Vec::with_capacity(self.spec.attrs.len());
        while let Some(name) = map.next_key::<&'de str>()? {
            let attr = self.spec.attrs.get(name).ok_or_else(give_up)?;
            names.push(name);
            let keep = self.kept.is_none_or(|k| k.contains(name));
            let value = map.next_value_seed(ValueSeed {
                ty: &attr.ty,
                keep,
                shared: &mut *self.shared,
            })?;
            if keep {
                attrs.push((SmolStr::from(name), value));
            }
        }
        // A key given twice is refused by the entity's own reading.
        names.sort_unstable();
        let repeated = names.windows(2).any(|w| w.first() == w.get(1));
        let complete = self
            .spec
            .attrs
            .iter()
            .all(|(name, a)| !a.required || names.binary_search(&name.as_str()).is_ok());
        if repeated || !complete {
            return Err(give_up());
        }
        attrs.sort_unstable_by(|a, b| attr_order(&a.0, &b.0));
        // Copied into a slice of the exact size: a slice shrunk from a larger vector can stay in
        // its block (see `cedar_entity`).
        Ok(attrs.drain(..).collect())
    }
}

/// One attribute's value typed as [`cedar_value`] types its JSON.
struct ValueSeed<'s> {
    ty: &'s AttrType,
    keep: bool,
    shared: &'s mut Shared,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = CoreValue;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<CoreValue, D::Error> {
        match self.ty {
            // As `Value::as_bool` and `as_i64`: serde's own readings take the same JSON (an
            // integer out of an i64's range, or written as a float, is refused by both).
            AttrType::Bool => <bool as serde::Deserialize>::deserialize(d).map(CoreValue::from),
            AttrType::Long => <i64 as serde::Deserialize>::deserialize(d).map(CoreValue::from),
            AttrType::String => d.deserialize_str(Text(|s: &str| CoreValue::from(s))),
            AttrType::Datetime => d
                .deserialize_str(Text(|s: &str| {
                    snapshot::normalize_utc(s).and_then(|utc| Extension::Datetime.value(&utc))
                }))?
                .ok_or_else(give_up),
            ty => {
                let json = snapshot::strict_value(d)?;
                let typed = if self.keep {
                    self.shared.typed(&json, ty)
                } else {
                    cedar_value(&json, ty)
                };
                typed.ok_or_else(give_up)
            }
        }
    }
}

/// A JSON string (escaped or not) made into `T`; anything else is refused.
struct Text<F>(F);

impl<T, F: FnOnce(&str) -> T> Visitor<'_> for Text<F> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok((self.0)(v))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::super::tests::properties::value;
    use super::super::tests::{demo_nights, same};
    use super::super::{build_entity, cedar_entity, Input};
    use super::*;

    /// The usual reading of `text`: parsed, then typed (by Cedar's construction where the plain
    /// typing gives up), or `None` where either refuses it.
    fn usual(
        text: &str,
        schema: &SchemaSet,
        kept: Option<&rustc_hash::FxHashSet<String>>,
    ) -> Option<Typed> {
        let raw = snapshot::entity(text)?;
        match cedar_entity(&raw, schema, kept, &mut Shared::default()) {
            Some(typed) => Some(typed),
            None => build_entity(&raw, schema, kept).ok(),
        }
    }

    /// Every entity of both demo nights, as it stands in the file, is read from its text into
    /// what the usual reading gives, pruned or not.
    #[test]
    fn demo_entities_read_from_text_are_the_usual_reading() {
        let (schema, files, kept) = demo_nights();
        for file in &files {
            let input = Input::read(file).unwrap();
            assert!(input.unparsed.len() > 50);
            for at in &input.unparsed {
                let text = input.text.get(at.clone()).unwrap();
                for kept in [None, Some(&kept)] {
                    let read = entity(text, &schema, kept, &mut Shared::default())
                        .unwrap_or_else(|| panic!("given up on {text}"));
                    let usual = usual(text, &schema, kept).unwrap();
                    assert!(same(&read.typed, &usual), "{text}");
                    let raw = snapshot::entity(text).unwrap();
                    assert_eq!((read.reference, read.parents), (raw.uid, raw.parents));
                }
            }
        }
    }

    /// What the entity's own reading refuses, or reads in a way this one does not, is given up:
    /// the usual reading then says what is wrong, or reads it.
    #[test]
    fn the_out_of_the_ordinary_is_given_up() {
        let schema = SchemaSet::builtin().unwrap();
        let key = |attrs: &str| {
            format!(r#"{{"uid": {{"type": "Aws::AccessKey", "id": "k"}}, "attrs": {{{attrs}}}}}"#)
        };
        let plain = key(r#""slot": 1, "active": true, "createdAt": "2026-01-01T00:00:00Z""#);
        assert!(entity(&plain, &schema, None, &mut Shared::default()).is_some());
        let refused = [
            key(r#""slot": 1, "slot": 2, "active": true, "createdAt": "2026-01-01T00:00:00Z""#),
            key(r#""slot": 1.0, "active": true, "createdAt": "2026-01-01T00:00:00Z""#),
            key(r#""slot": 9223372036854775808, "active": true, "createdAt": "2026-01-01T00:00:00Z""#),
            key(r#""slot": 1, "active": "yes", "createdAt": "2026-01-01T00:00:00Z""#),
            key(r#""slot": 1, "active": null, "createdAt": "2026-01-01T00:00:00Z""#),
            key(r#""slot": 1, "active": true, "createdAt": "2026-13-01T00:00:00Z""#),
            key(r#""slot": 1, "active": true, "createdAt": "2026-01-01T00:00:00+01:00""#),
            key(r#""slot": 1, "active": true"#),
            key(r#""slot": 1, "active": true, "createdAt": "2026-01-01T00:00:00Z", "nope": 1"#),
            format!("{plain} x"),
            plain.replacen('{', r#"{"extra": 1, "#, 1),
            plain.replacen(r#""uid""#, r#""\u0075id""#, 1),
            plain.replacen(r#""uid": {"type": "Aws::AccessKey", "id": "k"}"#, r#""uid": {"type": "Aws::AccessKey", "id": "k"}, "uid": {"type": "Aws::AccessKey", "id": "k"}"#, 1),
            plain.replacen(r#""Aws::AccessKey""#, r#""Aws::Nope""#, 1),
            plain.replacen('}', r#"}, "parents": [{"type": "Aws::Account", "id": "a"}]"#, 1),
            r#"{"attrs": {"slot": 1, "active": true, "createdAt": "2026-01-01T00:00:00Z"}, "uid": {"type": "Aws::AccessKey", "id": "k"}}"#.into(),
            r#"{"uid": {"type": "Aws::AccessKey", "id": "k"}}"#.into(),
        ];
        for text in &refused {
            assert!(
                entity(text, &schema, None, &mut Shared::default()).is_none(),
                "{text}"
            );
        }
        assert!(usual(&refused[9], &schema, None).is_none());
        // Cedar's explicit form of a datetime is read the usual way, and read.
        let explicit = key(
            r#""slot": 1, "active": true, "createdAt": {"__extn": {"fn": "datetime", "arg": "2026-01-01T00:00:00Z"}}"#,
        );
        assert!(entity(&explicit, &schema, None, &mut Shared::default()).is_none());
        assert!(usual(&explicit, &schema, None).is_some());
        // An escaped string value is read here.
        let escaped = key(r#""slot": 1, "active": true, "createdAt": "2026-01-01T00:00:00\u005a""#);
        let read = entity(&escaped, &schema, None, &mut Shared::default()).unwrap();
        assert!(same(&read.typed, &usual(&escaped, &schema, None).unwrap()));
    }

    /// Mostly a value of the attribute's type, sometimes any value, sometimes none.
    fn typed_or_not(typed: impl Strategy<Value = Value> + 'static) -> BoxedStrategy<Option<Value>> {
        prop::option::weighted(0.95, prop_oneof![12 => typed, 1 => value()]).boxed()
    }

    fn datetime() -> impl Strategy<Value = Value> {
        prop_oneof![
            6 => Just(json!("2026-11-22T03:00:00Z")),
            2 => Just(json!("2026-11-22T03:00:00.250Z")),
            1 => Just(json!("2026-11-22")),
            1 => Just(json!("2026-11-22T03:00:00+02:00")),
            1 => Just(json!("2026-02-30T03:00:00Z")),
        ]
    }

    /// An IAM user or an access key: (type, attributes), each attribute mostly well typed, and
    /// now and then one the type does not declare.
    fn entity_attrs() -> impl Strategy<Value = (&'static str, Vec<(String, Option<Value>)>)> {
        let text = || "\\PC{0,12}".prop_map(Value::from);
        let flag = || any::<bool>().prop_map(Value::from);
        let stranger = prop::option::weighted(0.05, "[a-zA-Z]{1,8}");
        let user = (
            typed_or_not(datetime()),
            typed_or_not(text()),
            typed_or_not(flag()),
            typed_or_not(any::<i64>().prop_map(Value::from)),
            typed_or_not(prop::collection::vec(text(), 0..3).prop_map(Value::from)),
        )
            .prop_map(|(c, n, m, k, a)| {
                let attrs = [
                    ("createdAt", c),
                    ("name", n),
                    ("mfaActive", m),
                    ("activeAccessKeys", k),
                    ("attachedPolicyArns", a),
                ];
                (
                    "Aws::IamUser",
                    attrs.map(|(k, v)| (k.to_string(), v)).to_vec(),
                )
            });
        let key = (
            typed_or_not(datetime()),
            typed_or_not(prop_oneof![
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from)
            ]),
            typed_or_not(flag()),
            typed_or_not(datetime()),
        )
            .prop_map(|(c, s, a, l)| {
                let attrs = [
                    ("createdAt", c),
                    ("slot", s),
                    ("active", a),
                    ("lastUsed", l),
                ];
                (
                    "Aws::AccessKey",
                    attrs.map(|(k, v)| (k.to_string(), v)).to_vec(),
                )
            });
        (prop_oneof![user, key], stranger, value()).prop_map(|((t, mut attrs), stranger, v)| {
            if let Some(name) = stranger {
                attrs.push((name, Some(v)));
            }
            (t, attrs)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// An entity read from its text is the usual reading of it, attribute by attribute.
        #[test]
        fn entities_read_from_text_are_the_usual_reading(
            (type_name, attrs) in entity_attrs(),
            parents in prop::collection::vec(prop_oneof![4 => Just(json!({"type": "Aws::Account", "id": "a"})), 4 => Just(json!({"type": "Aws::IamUser", "id": "u"})), 1 => Just(json!({"type": "Github::Org", "id": "o"}))], 0..2),
            kept in any::<bool>(),
        ) {
            static SCHEMA: std::sync::LazyLock<SchemaSet> =
                std::sync::LazyLock::new(|| SchemaSet::builtin().unwrap());
            let schema = &*SCHEMA;
            let kept_names: rustc_hash::FxHashSet<String> = ["active".to_string(), "name".to_string()].into_iter().collect();
            let kept = kept.then_some(&kept_names);
            let attrs: serde_json::Map<String, Value> = attrs.into_iter().filter_map(|(k, v)| Some((k, v?))).collect();
            let text = json!({"uid": {"type": type_name, "id": "e"}, "attrs": attrs, "parents": parents}).to_string();
            let usual = usual(&text, schema, kept);
            match entity(&text, schema, kept, &mut Shared::default()) {
                Some(read) => prop_assert!(usual.as_ref().is_some_and(|u| same(&read.typed, u)), "{text}"),
                // Given up on what the plain typing takes: only a value in Cedar's explicit form.
                None => prop_assert!(usual.is_none() || text.contains("__extn"), "{text}"),
            }
        }
    }
}
