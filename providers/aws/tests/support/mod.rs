//! Shared test support: the moto server harness and the proxy in front of it.
pub mod moto;
pub mod proxy;
