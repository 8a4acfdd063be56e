//! `trustcheck test`: run every rule's test cases and show what differs.

use std::path::PathBuf;

use owo_colors::OwoColorize;
use similar::ChangeTag;
use trustcheck::rule_tests::{self, CaseResult};
use trustcheck::rules::{Origin, ReadRulesError, RuleSet};
use trustcheck::schema::SchemaSet;

use trustcheck::exit::ExitStatus;

use super::{Adjust, Loaded, Output, RuleArgs};

/// Run the test cases of every rule: the shipped ones and each `<id>.test.json` found beside the
/// custom rules in the --policies folders.
///
/// A case lists entities, a `now` and the expected status of the rule on each resource it
/// judges. The last line is `N passed, M failed`. Exit 0 when every case passes, 1 when one
/// fails, 2 when rules cannot be loaded or a test file cannot be run (bad JSON, unknown rule,
/// entities that do not fit the schema).
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    rules: RuleArgs,
}

/// Runs every case, prints one line per case, the failures in full, the coverage warnings and
/// the totals, and says how the run went.
pub fn run(args: Args, out: Output) -> miette::Result<ExitStatus> {
    // Tests judge rules as written: configuration that disables a rule or changes its severity
    // does not change what its cases expect.
    let Loaded {
        schema,
        rules,
        folders,
        ..
    } = args.rules.load(Adjust::AsWritten)?;
    let files = test_files(args.rules.no_builtin, &folders)?;
    let results = run_cases(&files, &rules, &schema);
    let failed: Vec<&CaseResult> = results.iter().filter(|r| !r.passed()).collect();

    let paint = Paint { color: out.color };
    print_statuses(&results, paint, out.quiet);
    for r in &failed {
        print_failure(r, paint);
    }
    print_warnings(
        &coverage_warnings(&results, &rules, args.rules.no_builtin),
        paint,
    );
    let passed = results.len() - failed.len();
    outln!("\n{passed} passed, {} failed", failed.len());
    Ok(exit_status(&failed))
}

/// The test files to run, as (path, text): the shipped ones unless --no-builtin, then every
/// `*.test.json` in the --policies folders.
fn test_files(
    no_builtin: bool,
    folders: &[PathBuf],
) -> Result<Vec<(String, String)>, ReadRulesError> {
    let mut files: Vec<(String, String)> = Vec::new();
    if !no_builtin {
        files.extend(rule_tests::builtin_files().map(|(f, t)| (f.to_string(), t.to_string())));
    }
    for dir in folders {
        files.extend(rule_tests::files_in(dir)?);
    }
    Ok(files)
}

/// Every case of every file, in file order.
fn run_cases(files: &[(String, String)], rules: &RuleSet, schema: &SchemaSet) -> Vec<CaseResult> {
    files
        .iter()
        .flat_map(|(file, text)| rule_tests::run_file(file, text, rules, schema))
        .collect()
}

/// Colours text as a diff does: red for what was expected (and for failures), green for what
/// was found (and for passes); plain when colour is off.
#[derive(Debug, Clone, Copy)]
struct Paint {
    color: bool,
}

impl Paint {
    fn paint(self, text: &str, tag: ChangeTag) -> String {
        if !self.color {
            return text.to_string();
        }
        match tag {
            ChangeTag::Delete => text.red().to_string(),
            ChangeTag::Insert => text.green().to_string(),
            ChangeTag::Equal => text.to_string(),
        }
    }
}

/// One line per case, in order: `ok` (left out with --quiet) or `FAILED`.
fn print_statuses(results: &[CaseResult], paint: Paint, quiet: bool) {
    for r in results {
        if !r.passed() {
            outln!(
                "{} {}: {}",
                paint.paint("FAILED", ChangeTag::Delete),
                r.rule,
                r.name
            );
        } else if !quiet {
            outln!(
                "{} {}: {}",
                paint.paint("ok    ", ChangeTag::Insert),
                r.rule,
                r.name
            );
        }
    }
}

/// A failed case in full: where it is, then why it could not run, or each resource whose status
/// differs and the expected-vs-actual diff.
fn print_failure(r: &CaseResult, paint: Paint) {
    outln!(
        "\n{} {}: {}",
        paint.paint("FAILED", ChangeTag::Delete),
        r.rule,
        r.name
    );
    outln!("  in {}", r.file);
    if let Some(e) = &r.setup_error {
        outln!("  error: {e}");
        return;
    }
    for m in r.mismatches() {
        outln!("  {m}");
    }
    outln!(
        "  expected ({}) vs actual ({}):",
        paint.paint("-", ChangeTag::Delete),
        paint.paint("+", ChangeTag::Insert)
    );
    for line in r.diff() {
        let sign = match line.tag {
            ChangeTag::Delete => "-",
            ChangeTag::Insert => "+",
            ChangeTag::Equal => " ",
        };
        outln!(
            "    {}",
            paint.paint(&format!("{sign} {}", line.text), line.tag)
        );
    }
}

/// Rules without a passing and a failing case are not tested well enough to trust; say so,
/// without failing the run (a rule being written may not have them yet). Shipped rules are left
/// out with --no-builtin.
fn coverage_warnings(results: &[CaseResult], rules: &RuleSet, no_builtin: bool) -> Vec<String> {
    let covered = rule_tests::coverage(results);
    let mut warnings = Vec::new();
    for rule in rules.rules() {
        if no_builtin && rule.origin == Origin::Builtin {
            continue;
        }
        let file = rule.file.name.trim_end_matches(".cedar");
        match covered.get(rule.id.as_ref()) {
            None => warnings.push(format!(
                "rule `{}` has no test cases: write `{file}.test.json` (`trustcheck new rule` makes one)",
                rule.id
            )),
            Some((pass, fail)) => {
                for (has, status) in [(pass, "pass"), (fail, "fail")] {
                    if !has {
                        warnings.push(format!(
                            "rule `{}` has no case that expects `{status}`",
                            rule.id
                        ));
                    }
                }
            }
        }
    }
    warnings
}

/// The warnings after a blank line; nothing when there are none.
fn print_warnings(warnings: &[String], paint: Paint) {
    if warnings.is_empty() {
        return;
    }
    outln!();
    for w in warnings {
        outln!("{}: {w}", paint.paint("warning", ChangeTag::Delete));
    }
}

/// 2 when a case could not run at all (its verdict would mean nothing), 1 when a case failed,
/// 0 when every case passed.
fn exit_status(failed: &[&CaseResult]) -> ExitStatus {
    if failed.iter().any(|r| r.setup_error.is_some()) {
        ExitStatus::Untrustworthy
    } else if failed.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}
