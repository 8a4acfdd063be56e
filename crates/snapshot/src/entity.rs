//! One entity in Cedar's entity JSON shape: facts only.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::uid::Uid;

/// One entity: uid, attributes (facts as the source reported them), parents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entity {
    /// Its uid.
    pub uid: Uid,
    /// Attribute values; datetimes as UTC strings (`2026-11-22T03:00:00Z`). A fact that could
    /// not be read is absent, and an [`crate::UncollectedFact`] says why.
    /// Read strictly: a key repeated in any object is an error ([`crate::strict`]).
    #[serde(default, deserialize_with = "crate::strict::attrs")]
    pub attrs: Map<String, Value>,
    /// Parent uids (a user's account, a branch's repository).
    #[serde(default)]
    pub parents: Vec<Uid>,
}

impl Entity {
    /// An entity with no attributes and no parents.
    pub fn new(uid: Uid) -> Self {
        Self {
            uid,
            attrs: Map::new(),
            parents: Vec::new(),
        }
    }
}
