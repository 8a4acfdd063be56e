//! AWS IAM collector (being built).
