//! CSV, one row per reported finding, for spreadsheets and auditors' population lists.
//!
//! The columns are fixed (the `baseline` column is empty without `--baseline`, the `acceptance_*`
//! columns are empty for a finding no risk acceptance covers), so a spreadsheet built on one run
//! reads the next. New columns are only ever appended.

use super::Report;

/// The header row: the single source of the columns (each row is an array of this length).
pub const COLUMNS: [&str; 16] = [
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
    // The acceptance covering the finding: in force (status `accepted`) or expired (`fail`).
    "acceptance_reason",
    "acceptance_owner",
    "acceptance_approved_by",
    "acceptance_expires",
    "acceptance_ticket",
];

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading
/// `'`, as OWASP advises for CSV injection: resource ids come from the audited systems, and an
/// IAM user may well be called `=HYPERLINK(…)`.
/// Control and direction characters are shown escaped ([`crate::untrusted::terminal`]), so a
/// file shown with `cat` cannot drive the terminal.
fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    let cell = crate::untrusted::terminal(cell);
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell
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
        let (reason, owner, approved_by, expires, ticket) = match f.acceptance.as_deref() {
            Some(a) => (
                a.reason.as_str(),
                a.owner.as_str(),
                a.approved_by.as_str(),
                a.expires.as_str(),
                a.ticket.as_deref().unwrap_or(""),
            ),
            None => ("", "", "", "", ""),
        };
        let fingerprint = f.fingerprint.to_hex();
        // Typed by `COLUMNS`, so a column added there and not here does not compile.
        let cells: [&str; COLUMNS.len()] = [
            f.rule.as_ref(),
            f.title.as_ref(),
            soc2.as_str(),
            f.severity.as_str(),
            f.status.as_str(),
            f.resource.type_name.as_str(),
            f.resource.id.as_str(),
            f.message.as_str(),
            f.remediation.as_ref(),
            fingerprint.as_str(),
            baseline,
            reason,
            owner,
            approved_by,
            expires,
            ticket,
        ];
        let cells = cells.map(defuse);
        let _ = w.write_record(cells.iter().map(|c| c.as_bytes()));
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::Status;
    use crate::gate::Verdict;
    use crate::report::fixtures::{acceptance, finding, with_report};
    use crate::report::Context;

    #[test]
    fn acceptance_columns_follow_the_existing_ones_and_are_empty_without_one() {
        // The fixture's acceptance: a reason with a comma, a ticket.
        let findings = [
            finding(
                "break-glass",
                Status::Accepted,
                Some(acceptance("2027-03-31", 129)),
            ),
            finding("jordan", Status::Fail, None),
        ];
        let text = with_report(&findings, Verdict::Failed, Context::default(), render);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(headers, COLUMNS);
        assert_eq!(
            &headers[10], "baseline",
            "existing columns keep their place"
        );
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let col = |row: &csv::StringRecord, name: &str| {
            let i = COLUMNS.iter().position(|c| *c == name).unwrap();
            row[i].to_string()
        };
        assert_eq!(col(&rows[0], "status"), "accepted");
        assert_eq!(
            col(&rows[0], "acceptance_reason"),
            "Break-glass user, key in the safe"
        );
        assert_eq!(
            col(&rows[0], "acceptance_owner"),
            "security@northwind.example"
        );
        assert_eq!(
            col(&rows[0], "acceptance_approved_by"),
            "cto@northwind.example"
        );
        assert_eq!(col(&rows[0], "acceptance_expires"), "2027-03-31");
        assert_eq!(col(&rows[0], "acceptance_ticket"), "SEC-12");
        assert_eq!(col(&rows[1], "status"), "fail");
        assert!(rows[1].iter().skip(11).all(str::is_empty), "{:?}", rows[1]);
    }
}
