//! trustcheck: SOC 2 controls as code.
//!
//! Providers snapshot facts (AWS IAM, GitHub) into Cedar entities; shipped and custom Cedar rules,
//! each annotated with the SOC 2 criteria it evidences, judge those facts into findings.
//!
//! The library never prints: it returns typed errors and data; the `trustcheck` binary renders them.

// Errors carry the source text for their snippet and are built once, on the cold path, then
// rendered at the edge: their size does not matter.
#![allow(clippy::result_large_err)]

pub mod atomic_write;
pub mod baseline;
pub mod builtin;
pub mod config;
pub mod criteria;
pub mod diagnostics;
pub mod docs;
pub mod drift;
pub mod engine;
pub mod entities;
pub mod evidence;
pub mod exceptions;
pub mod exit;
pub mod findings;
pub mod gate;
pub mod input;
pub mod params;
pub mod providers;
pub mod report;
pub mod rule_tests;
pub mod rules;
pub mod scaffold;
pub mod schema;
pub mod severity;
pub mod snapshot;
pub mod suggest;
pub mod text;
pub mod untrusted;
