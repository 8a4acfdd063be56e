//! Rule severity: how bad a failure of the rule is, from the rule's `@severity` annotation.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How bad a failure is. Ordered from least to most severe, so `a >= b` reads "at least as bad".
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Hygiene: worth fixing, rarely an audit exception on its own.
    Low,
    /// A weakness an auditor will ask about.
    Medium,
    /// A control gap likely to be an exception.
    High,
    /// An open door: fix now.
    Critical,
}

impl Severity {
    /// All severities, most severe first.
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    /// The lowercase name used in annotations, flags and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The text is not one of `critical`, `high`, `medium`, `low`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity `{0}`")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(UnknownSeverity(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordering_reads_as_badness() {
        assert!(Severity::Critical > Severity::High);
        assert!(Severity::Low < Severity::Medium);
        assert_eq!("high".parse::<Severity>(), Ok(Severity::High));
        assert!("High".parse::<Severity>().is_err());
    }
}
