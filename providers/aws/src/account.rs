//! What the collector hands back per account: the entities and uncollected facts of the snapshot
//! contract, plus the call counts the benchmarks read. Facts only, never a verdict or a secret.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use trustcheck_snapshot::{Entity, Source, UncollectedFact};

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
    pub errors: Vec<UncollectedFact>,
}

impl AccountSnapshot {
    /// The account as a snapshot source (`aws`, the account id) and its entities.
    pub fn into_source(self) -> (Source, Vec<Entity>) {
        let source = Source {
            provider: crate::provider::PROVIDER.name.to_string(),
            scope: self.account_id,
            identity: self.identity,
            collected_at: self.collected_at,
            api_calls: self.api_calls,
            errors: self.errors,
        };
        (source, self.entities)
    }
}
