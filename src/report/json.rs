//! The `trustcheck.findings/v1` JSON document.

use crate::findings::{Finding, FindingsDocument};

/// Pretty JSON of the findings document, with a trailing newline.
pub fn render(findings: &[Finding]) -> String {
    let doc = FindingsDocument::new(findings.to_vec());
    // Serialising plain data with string keys cannot fail.
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}
