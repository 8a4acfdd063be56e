//! The snapshot contract between trustcheck's collectors and its engine.
//!
//! A snapshot (`trustcheck.snapshot/v1`) is what collectors saw at one time, with no verdict in
//! it: an envelope ([`Snapshot`]) holding the sources read ([`Source`]), the entities in Cedar's
//! entity JSON shape ([`Entity`], named by [`Uid`]) and the facts that could not be read
//! ([`UncollectedFact`]). Times are UTC strings Cedar's `datetime` accepts ([`utc`]).
//!
//! Built-in providers describe themselves once with a [`Provider`] descriptor; a team's own
//! collector needs nothing from this crate but the JSON shape.
//!
//! This crate must never depend on the engine or on a provider, and never judges.

pub mod document;
pub mod entity;
pub mod provider;
pub mod secrets;
pub mod strict;
pub mod uid;
pub mod uncollected;
pub mod utc;

pub use document::{ParseError, Snapshot, SnapshotText, Source, SNAPSHOT_FORMAT};
pub use entity::Entity;
pub use provider::{CollectError, Param, ParamKind, Provider, Scaffold, ScaffoldExample, Ui};
pub use uid::Uid;
pub use uncollected::{UncollectedFact, ALL_FACTS};
