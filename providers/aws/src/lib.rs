//! AWS IAM collector for trustcheck: snapshots accounts into Cedar entities in O(pages) calls.
//!
//! [`collect`] reads each account with a fixed set of account-wide calls
//! (`GetAccountAuthorizationDetails`, the credential report, `GetAccountSummary`,
//! `GetAccountPasswordPolicy`, `ListVirtualMFADevices`, `ListAccountAliases`,
//! `sts:GetCallerIdentity`) — never one call per user, role or policy — and hands the raw data
//! to [`mapping::map_account`], a pure function tested on recorded payloads. With
//! [`CollectOptions::identity_center`], [`identity_center`] also reads IAM Identity Center once
//! (permission sets, account assignments, users and groups), where AWS offers no batched read.
//!
//! This crate collects facts only: it never judges them, never prints, never requests a secret
//! access key and never puts a credential in its output. It depends on the snapshot contract
//! (`trustcheck-snapshot`), never on the engine; [`provider::PROVIDER`] describes it to the
//! binary's registry.

pub mod account;
pub mod api_calls;
pub mod collect;
pub mod credential_report;
pub mod fetch;
pub mod identity_center;
pub mod mapping;
pub mod organization;
pub mod policy_document;
pub mod provider;
pub mod raw;
pub mod statements;
pub mod timestamp;
pub mod trust;

pub use account::AccountSnapshot;
pub use collect::{collect, load_base_config, CollectOptions, Target};
pub use provider::PROVIDER;
pub use trustcheck_snapshot::{CollectError, Entity, Uid, UncollectedFact};
