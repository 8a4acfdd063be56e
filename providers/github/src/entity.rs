//! What the collector hands back: entities in Cedar's entity JSON shape, and the facts it could
//! not read.
//!
//! These types serialise exactly like the snapshot's `RawEntity` and `CollectionError` (the JSON
//! shape is the contract; this crate must not depend on the engine). Nothing here is a verdict.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Entity type of an organization.
pub const ORG: &str = "Github::Org";
/// Entity type of an organization member.
pub const MEMBER: &str = "Github::Member";
/// Entity type of an outside collaborator.
pub const OUTSIDE_COLLABORATOR: &str = "Github::OutsideCollaborator";
/// Entity type of a repository.
pub const REPO: &str = "Github::Repo";
/// Entity type of a branch.
pub const BRANCH: &str = "Github::Branch";

/// An entity uid: `{"type": "Github::Repo", "id": "acme/api"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntityRef {
    /// Cedar entity type, e.g. `Github::Branch`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Entity id, e.g. `acme/api:main`.
    pub id: String,
}

impl EntityRef {
    /// A uid of `type_name` with `id`.
    pub fn new(type_name: &str, id: impl Into<String>) -> Self {
        Self {
            type_name: type_name.to_string(),
            id: id.into(),
        }
    }
}

/// One entity: uid, attributes (facts), parents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// Its uid.
    pub uid: EntityRef,
    /// Facts as the API reports them; an unreadable fact is absent (and has a [`FactError`]).
    pub attrs: Map<String, Value>,
    /// Parent uids (a member's org, a branch's repository).
    pub parents: Vec<EntityRef>,
}

/// A fact that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FactError {
    /// The entity whose fact is unknown; for a list that could not be read, a uid that is not
    /// among the entities (`Github::Member::"acme/*"`).
    pub entity: EntityRef,
    /// The attribute, or `*` for all of them.
    pub fact: String,
    /// Why, as the API said it. Never contains a secret.
    pub reason: String,
}

/// Everything collected for one organization.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgCollection {
    /// The organization login.
    pub org: String,
    /// Who read it (token owner's login, or the GitHub App and installation). Never a secret.
    pub identity: Option<String>,
    /// When collection of this organization started, UTC.
    pub collected_at: time::OffsetDateTime,
    /// HTTP requests made for this organization, retries included.
    pub api_calls: u64,
    /// The facts, sorted by uid.
    pub entities: Vec<Entity>,
    /// Facts that could not be read, sorted.
    pub errors: Vec<FactError>,
}
