//! The `trustcheck.findings/v1` JSON document.

use std::io::Write;

use crate::findings::{Finding, FindingsDocumentRef};

/// Pretty JSON of the findings document, with a trailing newline.
pub fn render(findings: &[Finding]) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail, and plain data with string keys always serialises.
    let _ = write(&mut out, findings);
    String::from_utf8(out).unwrap_or_default()
}

/// Streams the document to a writer: large runs are never held in memory twice.
pub fn write(out: &mut impl Write, findings: &[Finding]) -> std::io::Result<()> {
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, out);
    serde_json::to_writer_pretty(&mut buffered, &FindingsDocumentRef::new(findings))?;
    buffered.write_all(b"\n")?;
    buffered.flush()
}
