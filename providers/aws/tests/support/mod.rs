//! Shared test support: the moto server harness.
pub mod moto;
