//! The stable codes of rule problems, shown above each message and in `validate --format json`.
//!
//! Editors and CI scripts match on them, so they are public API, like rule ids.

/// The file is not valid Cedar.
pub const SYNTAX: &str = "rule::syntax";
/// Brackets nested deeper than [`crate::rules::MAX_NESTING`]: refused before Cedar parses the
/// file (deep nesting overflows the parser's stack).
pub const TOO_DEEP: &str = "rule::too-deep";
/// A `.cedar` file that is not Cedar at all (no `permit` or `forbid`): its content is not shown.
pub const NOT_A_RULE: &str = "rule::not-a-rule";
/// The file does not hold exactly one policy.
pub const ONE_POLICY_PER_FILE: &str = "rule::one-policy-per-file";
/// The policy is a `permit`.
pub const NOT_FORBID: &str = "rule::not-forbid";
/// An annotation trustcheck does not know.
pub const UNKNOWN_ANNOTATION: &str = "rule::unknown-annotation";
/// A required annotation is missing or empty.
pub const MISSING_ANNOTATION: &str = "rule::missing-annotation";
/// The `@id` is not a valid rule id.
pub const INVALID_ID: &str = "rule::invalid-id";
/// The `@id` differs from the file name.
pub const ID_NOT_FILE_NAME: &str = "rule::id-not-file-name";
/// Two rules share an id.
pub const DUPLICATE_ID: &str = "rule::duplicate-id";
/// A `@soc2` entry is not in the criteria catalogue.
pub const UNKNOWN_CRITERION: &str = "rule::unknown-criterion";
/// The `@severity` is not one of the four.
pub const UNKNOWN_SEVERITY: &str = "rule::unknown-severity";
/// Cedar's strict validation against the schema failed.
pub const SCHEMA: &str = "rule::schema";
/// No resource type can satisfy the rule's scope and `when`.
pub const APPLIES_TO_NOTHING: &str = "rule::applies-to-nothing";
/// The rule could not be split into its applies and requirement parts.
pub const UNCOMPILABLE: &str = "rule::uncompilable";
