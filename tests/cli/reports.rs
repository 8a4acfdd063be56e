//! Every report format of `check`, rendered by the real binary from the demo snapshot, plus the
//! checks code scanning and CI test reporters rely on (SARIF schema, JUnit structure).

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::Value;

/// The fixture snapshot and rules every report here is rendered from (not the shipped rules or
/// the demo, so that changing those does not rewrite the pinned reports).
const DEMO: &str = "tests/fixtures/reports/snapshot.json";
const RULES: &str = "tests/fixtures/reports/rules";
const EXCEPTIONS: &str = "tests/fixtures/reports/exceptions.toml";

fn trustcheck() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("trustcheck");
    cmd.env("COLUMNS", "110")
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

fn stdout_of(args: &[&str]) -> (String, i32) {
    let out = trustcheck().args(args).output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

fn report(format: &str) -> String {
    let (text, code) = stdout_of(&[
        "check",
        "--no-builtin",
        "--no-config",
        "--policies",
        RULES,
        "--exceptions",
        EXCEPTIONS,
        "--snapshot",
        DEMO,
        "--report",
        format,
    ]);
    assert_eq!(code, 1, "the demo has failures");
    text
}

fn settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(
        &format!(
            r#""semanticVersion": "{}""#,
            regex_escape(env!("CARGO_PKG_VERSION"))
        ),
        r#""semanticVersion": "[version]""#,
    );
    s
}

fn regex_escape(s: &str) -> String {
    s.replace('.', r"\.")
}

#[test]
fn every_format_on_the_demo_is_pinned() {
    let s = settings();
    s.bind(|| {
        insta::assert_snapshot!("demo_table", report("table"));
        insta::assert_snapshot!("demo_json", report("json"));
        insta::assert_snapshot!("demo_sarif", report("sarif"));
        insta::assert_snapshot!("demo_junit", report("junit"));
        insta::assert_snapshot!("demo_markdown", report("markdown"));
        insta::assert_snapshot!("demo_csv", report("csv"));
    });
}

#[test]
fn format_and_output_are_shorthand_for_report() {
    let dir = tempfile::tempdir().unwrap();
    let long = dir.path().join("long.json");
    let short = dir.path().join("short.json");
    trustcheck()
        .args([
            "check",
            "--no-builtin",
            "--no-config",
            "--policies",
            RULES,
            "--exceptions",
            EXCEPTIONS,
            "--snapshot",
            DEMO,
            "--report",
        ])
        .arg(format!("json={}", long.display()))
        .assert()
        .code(1)
        .stdout(predicates::str::contains("Summary by criterion"));
    trustcheck()
        .args([
            "check",
            "--no-builtin",
            "--no-config",
            "--policies",
            RULES,
            "--exceptions",
            EXCEPTIONS,
            "--snapshot",
            DEMO,
            "--format",
            "json",
            "--output",
        ])
        .arg(&short)
        .assert()
        .code(1)
        .stdout("");
    assert_eq!(
        std::fs::read_to_string(long).unwrap(),
        std::fs::read_to_string(short).unwrap()
    );
}

#[test]
fn several_reports_come_from_one_run_and_only_one_may_use_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = trustcheck();
    cmd.args([
        "check",
        "--no-builtin",
        "--no-config",
        "--policies",
        RULES,
        "--exceptions",
        EXCEPTIONS,
        "--snapshot",
        DEMO,
        "--report",
        "markdown",
    ]);
    for f in ["json", "sarif", "junit", "csv"] {
        cmd.arg("--report").arg(format!(
            "{f}={}",
            dir.path().join(format!("r.{f}")).display()
        ));
    }
    cmd.assert()
        .code(1)
        .stdout(predicates::str::starts_with("## ❌ trustcheck: failed"));
    for f in ["json", "sarif", "junit", "csv"] {
        assert!(dir.path().join(format!("r.{f}")).metadata().unwrap().len() > 100);
    }
    trustcheck()
        .args([
            "check",
            "--no-builtin",
            "--no-config",
            "--policies",
            RULES,
            "--exceptions",
            EXCEPTIONS,
            "--snapshot",
            DEMO,
            "--report",
            "json",
            "--report",
            "sarif",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("more than one report to stdout"));
    trustcheck()
        .args([
            "check",
            "--no-builtin",
            "--no-config",
            "--policies",
            RULES,
            "--exceptions",
            EXCEPTIONS,
            "--snapshot",
            DEMO,
            "--report",
            "xml",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("unknown report format `xml`"));
}

#[test]
fn sarif_is_valid_and_fit_for_code_scanning() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json"),
    )
    .unwrap();
    // The published schema's `run.language` pattern has a stray `]` that an ECMA-262 regex
    // engine rejects, which fails the schema itself once formats are checked; we never emit
    // `language`, so its pattern is repaired here rather than format checking turned off
    // (format checking is what catches a `uri` code scanning would reject).
    let bad = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert!(text.contains(bad), "the vendored schema changed");
    let schema: Value =
        serde_json::from_str(&text.replace(bad, r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#)).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let sarif: Value = serde_json::from_str(&report("sarif")).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");

    // The demo's failures, by the JSON report, are exactly the SARIF results.
    let json: Value = serde_json::from_str(&report("json")).unwrap();
    let failing: usize = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail" || f["status"] == "error" || f["status"] == "accepted")
        .count();
    let runs = sarif["runs"].as_array().unwrap();
    let ids: Vec<&str> = runs
        .iter()
        .map(|r| r["automationDetails"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "trustcheck/aws/109876543210/",
            "trustcheck/aws/210987654321/",
            "trustcheck/aws/321098765432/",
            "trustcheck/github/northwind-labs/",
            "trustcheck/github/northwind-oss/"
        ]
    );
    let results: Vec<&Value> = runs
        .iter()
        .flat_map(|r| r["results"].as_array().unwrap())
        .collect();
    assert_eq!(results.len(), failing);
    let mut fingerprints = std::collections::HashSet::new();
    for r in &results {
        let loc = &r["locations"][0]["physicalLocation"];
        let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
        assert!(
            uri.starts_with("tests/fixtures/reports/rules/") && uri.ends_with(".cedar"),
            "{uri}"
        );
        assert!(loc["region"]["startLine"].as_i64().unwrap() >= 1);
        let fp = r["partialFingerprints"]["primaryLocationLineHash"]
            .as_str()
            .unwrap();
        assert!(
            fingerprints.insert(fp.to_string()),
            "one alert per resource"
        );
    }
    for rule in runs[0]["tool"]["driver"]["rules"].as_array().unwrap() {
        let sev: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.1..=10.0).contains(&sev));
        let tags = rule["properties"]["tags"].as_array().unwrap();
        assert!(tags.contains(&Value::from("security")));
        assert!(tags.iter().any(|t| t.as_str().unwrap().starts_with("CC")));
        assert!(!rule["help"]["text"].as_str().unwrap().is_empty());
        assert!(rule["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("### Remediation"));
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
    }
}

#[test]
fn sarif_category_overrides_the_prefix() {
    let (text, _) = stdout_of(&[
        "check",
        "--no-builtin",
        "--no-config",
        "--policies",
        RULES,
        "--exceptions",
        EXCEPTIONS,
        "--snapshot",
        DEMO,
        "--report",
        "sarif",
        "--sarif-category",
        "nightly",
    ]);
    assert!(text.contains(r#""id": "nightly/aws/210987654321/""#));
}

#[test]
fn junit_parses_with_a_suite_per_criterion_and_matching_counts() {
    let xml = report("junit");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let json: Value = serde_json::from_str(&report("json")).unwrap();
    let expected: BTreeMap<String, (u64, u64, u64)> = json["summary"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let n = |k: &str| c[k].as_u64().unwrap();
            (
                c["id"].as_str().unwrap().to_string(),
                (
                    n("pass") + n("fail") + n("error") + n("not_applicable") + n("accepted"),
                    n("fail"),
                    n("error"),
                ),
            )
        })
        .collect();
    let mut got = BTreeMap::new();
    for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let with = |tag: &str| {
            cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name(tag)))
                .count() as u64
        };
        assert_eq!(
            suite.attribute("failures").unwrap().parse::<u64>().unwrap(),
            with("failure")
        );
        for case in &cases {
            assert!(case.attribute("classname").is_some_and(|c| !c.is_empty()));
            assert!(case.attribute("name").unwrap().contains("::"));
        }
        got.insert(
            suite.attribute("name").unwrap().to_string(),
            (cases.len() as u64, with("failure"), with("error")),
        );
    }
    assert_eq!(got, expected);
}

#[test]
fn csv_has_one_row_per_finding() {
    let text = report("csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "rule");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let json: Value = serde_json::from_str(&report("json")).unwrap();
    assert_eq!(
        rows.len() as u64,
        json["summary"]["total"].as_u64().unwrap()
    );
    assert!(rows.iter().all(|r| r.len() == headers.len()));
}

#[test]
fn min_severity_filters_what_is_reported_but_not_the_exit_code() {
    let (text, code) = stdout_of(&[
        "check",
        "--no-builtin",
        "--no-config",
        "--policies",
        RULES,
        "--exceptions",
        EXCEPTIONS,
        "--snapshot",
        DEMO,
        "--report",
        "json",
        "--min-severity",
        "critical",
        "--fail-on",
        "medium",
    ]);
    let json: Value = serde_json::from_str(&text).unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|f| f["severity"] == "critical"));
    assert_eq!(code, 1);

    // Shown: only critical. Failing: only critical, and the demo has critical failures.
    let (_, code) = stdout_of(&[
        "check",
        "--no-builtin",
        "--no-config",
        "--policies",
        RULES,
        "--exceptions",
        EXCEPTIONS,
        "--snapshot",
        DEMO,
        "--fail-on",
        "critical",
    ]);
    assert_eq!(code, 1);
}

#[test]
fn github_actions_get_groups_and_at_most_ten_annotations_per_level() {
    let out = trustcheck()
        .env("GITHUB_ACTIONS", "true")
        .args([
            "check",
            "--no-builtin",
            "--no-config",
            "--policies",
            RULES,
            "--exceptions",
            EXCEPTIONS,
            "--snapshot",
            DEMO,
            "--report",
            "json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    // The report on stdout stays clean JSON.
    serde_json::from_str::<Value>(&stdout).unwrap();
    assert!(stderr.contains("::group::trustcheck aws 210987654321"));
    assert!(stderr.contains("::group::trustcheck github northwind-labs"));
    assert_eq!(
        stderr.matches("::group::").count(),
        stderr.matches("::endgroup::").count()
    );
    let errors = stderr.lines().filter(|l| l.starts_with("::error ")).count();
    assert_eq!(errors, 10, "{stderr}");
    assert!(
        stderr.contains("::notice title=trustcheck::8 more failures"),
        "{stderr}"
    );
    assert!(stderr.contains("title=trustcheck%3A aws-role-no-public-trust (critical)"));
    // Without GITHUB_ACTIONS there are none.
    let out = trustcheck()
        .args([
            "check",
            "--no-builtin",
            "--no-config",
            "--policies",
            RULES,
            "--exceptions",
            EXCEPTIONS,
            "--snapshot",
            DEMO,
            "--report",
            "json",
        ])
        .output()
        .unwrap();
    assert!(!String::from_utf8(out.stderr).unwrap().contains("::"));
}
