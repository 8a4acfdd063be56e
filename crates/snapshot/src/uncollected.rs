//! The one record of "a fact that could not be collected".

use serde::{Deserialize, Serialize};

use crate::uid::Uid;

/// The `fact` of an [`UncollectedFact`] that covers every attribute of its entity.
pub const ALL_FACTS: &str = "*";

/// A fact a collector could not read (a snapshot's `sources[].errors[]` entry).
///
/// Rules that read it report `error`, never pass: unknown is never pass.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UncollectedFact {
    /// The entity whose fact is unknown. When a whole list could not be read (an org's
    /// members), a uid that is not among the entities, such as `Github::Member::"acme/*"`:
    /// every rule on that type then reports `error` for it.
    pub entity: Uid,
    /// The attribute that is unknown, or [`ALL_FACTS`] (`*`) for all of them.
    pub fact: String,
    /// Why, as the API said it (operation, status, error code, message). Never a secret.
    pub reason: String,
}

impl UncollectedFact {
    /// `fact` of `entity` could not be read, because `reason`.
    pub fn new(entity: Uid, fact: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            entity,
            fact: fact.into(),
            reason: reason.into(),
        }
    }

    /// Whether it covers every attribute of its entity.
    pub fn is_whole_entity(&self) -> bool {
        self.fact == ALL_FACTS
    }
}
