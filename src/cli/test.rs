//! `trustcheck test`: run every rule's test cases and show what differs.

use owo_colors::OwoColorize;
use similar::ChangeTag;
use trustcheck::rule_tests::{self, CaseResult};
use trustcheck::rules::Origin;

use super::{Output, RuleArgs};

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

pub fn run(args: Args, out: Output) -> miette::Result<u8> {
    // Tests judge rules as written: configuration that disables a rule or changes its severity
    // does not change what its cases expect.
    let (schema, rules, _, folders) = args.rules.load_unadjusted()?;
    let mut files: Vec<(String, String)> = Vec::new();
    if !args.rules.no_builtin {
        files.extend(rule_tests::builtin_files().map(|(f, t)| (f.to_string(), t.to_string())));
    }
    for dir in &folders {
        files.extend(rule_tests::files_in(dir)?);
    }

    let mut results: Vec<CaseResult> = Vec::new();
    for (file, text) in &files {
        results.extend(rule_tests::run_file(file, text, &rules, &schema));
    }

    let paint = |text: &str, tag: ChangeTag| -> String {
        if !out.color {
            return text.to_string();
        }
        match tag {
            ChangeTag::Delete => text.red().to_string(),
            ChangeTag::Insert => text.green().to_string(),
            ChangeTag::Equal => text.to_string(),
        }
    };
    let mut failed = Vec::new();
    for r in &results {
        if r.passed() {
            if !out.quiet {
                println!(
                    "{} {}: {}",
                    paint("ok    ", ChangeTag::Insert),
                    r.rule,
                    r.name
                );
            }
        } else {
            println!(
                "{} {}: {}",
                paint("FAILED", ChangeTag::Delete),
                r.rule,
                r.name
            );
            failed.push(r);
        }
    }
    for r in &failed {
        println!(
            "\n{} {}: {}",
            paint("FAILED", ChangeTag::Delete),
            r.rule,
            r.name
        );
        println!("  in {}", r.file);
        if let Some(e) = &r.setup_error {
            println!("  error: {e}");
            continue;
        }
        for m in r.mismatches() {
            println!("  {m}");
        }
        println!(
            "  expected ({}) vs actual ({}):",
            paint("-", ChangeTag::Delete),
            paint("+", ChangeTag::Insert)
        );
        for line in r.diff() {
            let sign = match line.tag {
                ChangeTag::Delete => "-",
                ChangeTag::Insert => "+",
                ChangeTag::Equal => " ",
            };
            println!("    {}", paint(&format!("{sign} {}", line.text), line.tag));
        }
    }

    // Rules without a passing and a failing case are not tested well enough to trust; say so,
    // without failing the run (a rule being written may not have them yet).
    let covered = rule_tests::coverage(&results);
    let mut warnings = Vec::new();
    for rule in rules.rules() {
        if args.rules.no_builtin && rule.origin == Origin::Builtin {
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
    if !warnings.is_empty() {
        println!();
        for w in &warnings {
            println!("{}: {w}", paint("warning", ChangeTag::Delete));
        }
    }

    let passed = results.len() - failed.len();
    println!("\n{passed} passed, {} failed", failed.len());
    Ok(if failed.iter().any(|r| r.setup_error.is_some()) {
        2
    } else if failed.is_empty() {
        0
    } else {
        1
    })
}
