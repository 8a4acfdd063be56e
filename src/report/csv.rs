//! CSV, one row per reported finding, for spreadsheets and auditors' population lists.
//!
//! The columns are fixed (the `baseline` column is empty without `--baseline`), so a spreadsheet
//! built on one run reads the next.

use super::Report;

/// The header row.
pub const COLUMNS: [&str; 11] = [
    "rule",
    "title",
    "soc2",
    "severity",
    "status",
    "resource_type",
    "resource_id",
    "message",
    "remediation",
    "fingerprint",
    "baseline",
];

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading
/// `'`, as OWASP advises for CSV injection: resource ids come from the audited systems, and an
/// IAM user may well be called `=HYPERLINK(…)`.
fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// Renders the CSV document (RFC 4180 quoting, `\n` line ends).
pub fn render(report: &Report<'_>) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing records into a Vec cannot fail: the only errors are I/O and mismatched row
    // lengths, and every row has `COLUMNS.len()` fields.
    let _ = w.write_record(COLUMNS);
    for f in report.findings {
        let soc2 = f.soc2.join(";");
        let baseline = report
            .context
            .baseline
            .and_then(|b| b.state(f))
            .map_or("", |s| s.as_str());
        let cells = [
            f.rule.as_ref(),
            f.title.as_ref(),
            soc2.as_str(),
            f.severity.as_str(),
            f.status.as_str(),
            f.resource.type_name.as_str(),
            f.resource.id.as_str(),
            f.message.as_str(),
            f.remediation.as_ref(),
            f.fingerprint.as_str(),
            baseline,
        ]
        .map(defuse);
        let _ = w.write_record(cells.iter().map(|c| c.as_bytes()));
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}
