//! GitHub collector (being built).
