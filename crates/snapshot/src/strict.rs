//! JSON objects read strictly: a key twice in one object is an error, not "the last one wins".
//!
//! serde_json keeps the last value of a repeated key, so `{"mfaActive": false, "mfaActive": true}`
//! would read as MFA on: a snapshot could flip a fact without any tool that shows it noticing.
//! Attribute maps and the values inside them are read through here; serde_json then reports the
//! error at the repeated key's line and column.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// `deserialize_with` for an attribute map: every object, at any depth, without repeated keys.
pub fn attrs<'de, D: Deserializer<'de>>(d: D) -> Result<Map<String, Value>, D::Error> {
    match d.deserialize_map(StrictValue)? {
        Value::Object(map) => Ok(map),
        _ => Err(de::Error::custom("expected an object")),
    }
}

/// Any JSON value, read as [`attrs`] reads the values in an attribute map (no object at any
/// depth repeats a key).
pub fn value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    d.deserialize_any(StrictValue)
}

/// A JSON value whose objects reject repeated keys.
struct Strict(Value);

impl<'de> de::Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictValue).map(Strict)
    }
}

struct StrictValue;

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictValue)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // Gathered in a list first, then moved into a map of the exact size: growing the map
        // key by key reallocated it several times per entity (a seventh of `check` at 100k
        // entities). Repeats are looked for as each key is read, so the error points at it: in
        // the list while it is short, in a set of the keys once it is not.
        const SHORT: usize = 16;
        let mut entries: Vec<(String, Value)> = Vec::with_capacity(SHORT);
        let mut keys: Option<std::collections::HashSet<String>> = None;
        while let Some(key) = map.next_key::<String>()? {
            let repeated = match &mut keys {
                Some(keys) => !keys.insert(key.clone()),
                None => entries.iter().any(|(k, _)| *k == key),
            };
            if repeated {
                return Err(de::Error::custom(format_args!(
                    "duplicate key `{key}` in one object (a repeated key could silently replace a fact)"
                )));
            }
            let Strict(v) = map.next_value()?;
            entries.push((key, v));
            if keys.is_none() && entries.len() >= SHORT {
                keys = Some(entries.iter().map(|(k, _)| k.clone()).collect());
            }
        }
        let mut out = Map::with_capacity(entries.len());
        out.extend(entries);
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use crate::Entity;

    #[test]
    fn a_repeated_attribute_is_an_error_at_its_position() {
        let text = r#"{"uid": {"type": "Aws::IamUser", "id": "u"},
 "attrs": {"mfaActive": false, "mfaActive": true}}"#;
        let err = serde_json::from_str::<Entity>(text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("duplicate key `mfaActive`"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn repeated_keys_deep_inside_a_value_are_errors_too() {
        let text = r#"{"uid": {"type": "T", "id": "u"},
 "attrs": {"policy": {"items": [{"a": 1, "a": 2}]}}}"#;
        assert!(serde_json::from_str::<Entity>(text).is_err());
        let ok = r#"{"uid": {"type": "T", "id": "u"}, "attrs": {"n": 1.5, "s": [true, null], "r": {"a": 1, "b": {"a": 2}}}}"#;
        let e: Entity = serde_json::from_str(ok).unwrap();
        assert_eq!(e.attrs["r"]["b"]["a"], 2);
        assert_eq!(e.attrs["n"], 1.5);
    }

    /// Past the first keys, repeats are found through a set: early, late, and in key order.
    #[test]
    fn repeated_keys_in_a_large_object_are_errors_and_order_is_kept() {
        let keys: Vec<String> = (0..40).map(|i| format!("k{i:02}")).collect();
        let object = |extra: &str| {
            let fields: Vec<String> = keys.iter().map(|k| format!("\"{k}\": 1")).collect();
            format!(
                r#"{{"uid": {{"type": "T", "id": "u"}}, "attrs": {{{}{extra}}}}}"#,
                fields.join(", ")
            )
        };
        let e: Entity = serde_json::from_str(&object("")).unwrap();
        assert_eq!(e.attrs.keys().cloned().collect::<Vec<_>>(), keys);
        for repeated in ["k00", "k15", "k16", "k39"] {
            let err = serde_json::from_str::<Entity>(&object(&format!(", \"{repeated}\": 2")))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("duplicate key `{repeated}`")),
                "{err}"
            );
        }
    }
}
