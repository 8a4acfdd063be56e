//! What the collector hands back: per account, Cedar entities and the facts it could not read,
//! shaped like one `sources[]` entry plus the entities of a `trustcheck.snapshot/v1` document.
//!
//! These types mirror the snapshot JSON so this crate does not depend on the engine; the CLI
//! converts them. They carry facts only, never a verdict, and never a secret.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An entity uid: `{"type": "Aws::IamUser", "id": "arn:aws:iam::…:user/alice"}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Uid {
    /// Cedar entity type, e.g. `Aws::IamUser`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Entity id (an ARN, or an ARN-derived id for things that have none).
    pub id: String,
}

impl Uid {
    /// A uid of `type_name` (`Aws::…`) and `id`.
    pub fn new(type_name: &str, id: impl Into<String>) -> Self {
        Self {
            type_name: type_name.to_string(),
            id: id.into(),
        }
    }
}

/// One entity in Cedar's entity JSON shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    /// Its uid.
    pub uid: Uid,
    /// Attribute values; datetimes as UTC strings (`2026-11-22T03:00:00Z`).
    pub attrs: Map<String, Value>,
    /// Parent uids.
    pub parents: Vec<Uid>,
}

/// A fact the collector could not read (a snapshot's `sources[].errors[]` entry).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FactError {
    /// The entity whose fact is unknown; for a list that could not be read at all, a uid that is
    /// not among the entities (e.g. `Aws::IamRole` `arn:aws:iam::123456789012:role/*`).
    pub entity: Uid,
    /// The attribute that is unknown, or `*` for all of them.
    pub fact: String,
    /// Why: the API operation and what AWS answered. Never contains a credential.
    pub reason: String,
}

/// One account's collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountSnapshot {
    /// The 12-digit account id (the snapshot source's `scope`).
    pub account_id: String,
    /// Who read it: the caller ARN from `sts:GetCallerIdentity`, when known.
    pub identity: Option<String>,
    /// When this account's collection started, UTC.
    pub collected_at: String,
    /// HTTP requests sent to AWS (IAM and STS), retries included.
    pub api_calls: u64,
    /// Requests per API operation (pages counted one by one; retries not included).
    pub calls_by_operation: BTreeMap<String, u64>,
    /// The facts, sorted by uid.
    pub entities: Vec<Entity>,
    /// Facts that could not be read, sorted.
    pub errors: Vec<FactError>,
}
