//! The Type 2 evidence ledger (docs/evidence.md) through the real binary: `check --evidence`
//! records nightly runs of a lab with known exception windows (a resource fixed then regressed,
//! an accepted failure whose acceptance expires, a fact that could not be read, a gap of two
//! nights), `evidence verify` finds every kind of tampering without changing anything, and
//! `evidence report` renders the period.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::trustcheck;

/// `Some(on)`: the thing is read as switched on or off; `None`: it could not be read.
type Night = [(&'static str, Option<bool>)];

/// The lab's nights (day of January 2026 → things). Days 5 and 6 have no run: a gap.
const NIGHTS: &[(u32, &Night)] = &[
    (
        1,
        &[
            ("a", Some(true)),
            ("b", Some(true)),
            ("c", Some(false)),
            ("d", Some(false)),
        ],
    ),
    (
        2,
        &[
            ("a", Some(false)),
            ("b", Some(true)),
            ("c", Some(false)),
            ("d", Some(false)),
        ],
    ),
    (
        3,
        &[
            ("a", Some(false)),
            ("b", None),
            ("c", Some(false)),
            ("d", Some(false)),
        ],
    ),
    (
        4,
        &[
            ("a", Some(true)),
            ("b", Some(true)),
            ("c", Some(false)),
            ("d", Some(false)),
        ],
    ),
    (
        7,
        &[
            ("a", Some(false)),
            ("b", Some(true)),
            ("c", Some(true)),
            ("d", Some(false)),
        ],
    ),
    (
        8,
        &[
            ("a", Some(false)),
            ("b", Some(true)),
            ("c", Some(true)),
            ("d", Some(true)),
        ],
    ),
    (
        9,
        &[
            ("a", Some(true)),
            ("b", Some(true)),
            ("c", Some(true)),
            ("d", Some(true)),
        ],
    ),
];

/// `d` failing is accepted until 6 January: accepted on nights 1–4, failing again on night 7.
const EXCEPTIONS: &str = r#"[[accept]]
rule = "fixture-thing-enabled"
resource = 'Fixture::Thing::"lab/d"'
reason = "d is being replaced"
owner = "lab-owner@example.com"
approved_by = "ciso@example.com"
expires = 2026-01-06
"#;

fn fixture(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/provider")
        .join(file)
}

fn snapshot(scope: &str, day: u32, things: &Night) -> Value {
    let at = format!("2026-01-{day:02}T03:00:00Z");
    let lab = json!({"type": "Fixture::Lab", "id": scope});
    let mut entities = vec![json!({"uid": lab, "attrs": {"name": scope}, "parents": []})];
    let mut errors = Vec::new();
    for (name, on) in things {
        let uid = json!({"type": "Fixture::Thing", "id": format!("{scope}/{name}")});
        let attrs = match on {
            Some(on) => json!({ "enabled": on }),
            None => {
                errors
                    .push(json!({"entity": uid, "fact": "enabled", "reason": "GET /things: 503"}));
                json!({})
            }
        };
        entities.push(json!({"uid": uid, "attrs": attrs, "parents": [lab]}));
    }
    json!({
        "format": "trustcheck.snapshot/v1",
        "collected_at": at,
        "sources": [{"provider": "fixture", "scope": scope, "identity": "lab-reader",
                     "collected_at": at, "api_calls": 1, "errors": errors}],
        "entities": entities,
    })
}

/// A working folder with the fixture's schema, rules and the exceptions file, so every path a
/// bundle records is relative and the same on every machine.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        fixture("fixture.cedarschema"),
        dir.path().join("fixture.cedarschema"),
    )
    .unwrap();
    fs::create_dir(dir.path().join("rules")).unwrap();
    fs::copy(
        fixture("policies/fixture-thing-enabled.cedar"),
        dir.path().join("rules/fixture-thing-enabled.cedar"),
    )
    .unwrap();
    fs::write(dir.path().join("exceptions.toml"), EXCEPTIONS).unwrap();
    dir
}

/// `check --evidence ledger` of one night, as a nightly job would run it.
fn record(
    dir: &Path,
    ledger: &str,
    scope: &str,
    day: u32,
    things: &Night,
) -> assert_cmd::assert::Assert {
    fs::write(
        dir.join("snapshot.json"),
        serde_json::to_string_pretty(&snapshot(scope, day, things)).unwrap(),
    )
    .unwrap();
    evidence_cmd(dir)
        .env(
            "SOURCE_DATE_EPOCH",
            (1_767_236_700 + 86_400 * (i64::from(day) - 1)).to_string(),
        )
        .args([
            "check",
            "--no-config",
            "--no-builtin",
            "--quiet",
            "--snapshot",
            "snapshot.json",
        ])
        .args(["--schema", "fixture.cedarschema", "--policies", "rules"])
        .args([
            "--exceptions",
            "exceptions.toml",
            "--report",
            "json=findings.json",
        ])
        .args(["--evidence", ledger])
        .assert()
}

fn evidence_cmd(dir: &Path) -> assert_cmd::Command {
    let mut cmd = trustcheck();
    cmd.current_dir(dir);
    for var in [
        "GITHUB_ACTIONS",
        "GITHUB_RUN_ID",
        "GITHUB_REPOSITORY",
        "GITHUB_SHA",
        "GITHUB_ACTOR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The lab's ledger of seven nights, in `dir/ledger`.
fn lab_ledger() -> tempfile::TempDir {
    let dir = workdir();
    for (day, things) in NIGHTS {
        // A failure (1) or an error finding (2) fails the run; it is recorded either way.
        record(dir.path(), "ledger", "lab", *day, things).code(predicates::ord::lt(3));
    }
    dir
}

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = evidence_cmd(dir).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Every file below `dir` with its bytes: to prove a command changed nothing.
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn index_lines(ledger: &Path) -> Vec<String> {
    fs::read_to_string(ledger.join("index.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn bundle_file(ledger: &Path, sequence: usize) -> PathBuf {
    let line: Value = serde_json::from_str(&index_lines(ledger)[sequence]).unwrap();
    ledger.join(line["file"].as_str().unwrap())
}

/// Pins a report with its hashes and ledger id masked: they change with the compressor's
/// version, the windows and counts must not.
fn assert_masked(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\b[0-9a-f]{64}\b", "[sha256]");
    settings.add_filter(r"\b[0-9a-f]{32}\b", "[ledger]");
    settings.bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn recorded_nights_verify_and_a_gap_is_reported() {
    let dir = lab_ledger();
    let ledger = dir.path().join("ledger");
    assert_eq!(index_lines(&ledger).len(), 1 + NIGHTS.len());
    let (code, stdout, _) = run(dir.path(), &["evidence", "verify", "ledger"]);
    assert_eq!(code, Some(1), "a gap: intact but not complete\n{stdout}");
    assert!(
        stdout.contains("gap: no run from 2026-01-04T03:00:00Z to 2026-01-07T03:00:00Z (3d)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("intact, not complete: 1 gap(s)"),
        "{stdout}"
    );
    // A weekly cadence has no gap; the period asked can show gaps at its ends.
    let (code, stdout, _) = run(
        dir.path(),
        &["evidence", "verify", "ledger", "--cadence", "4d"],
    );
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.ends_with("intact and complete\n"), "{stdout}");
    let (code, stdout, _) = run(
        dir.path(),
        &[
            "evidence",
            "verify",
            "ledger",
            "--cadence",
            "4d",
            "--from",
            "2025-12-20",
            "--to",
            "2026-01-09",
        ],
    );
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains("gap: no run from 2025-12-20T00:00:00Z to 2026-01-01T03:00:00Z"),
        "{stdout}"
    );
    // The bundle records what the auditor needs to trust it.
    let bundle = fs::read(bundle_file(&ledger, 3)).unwrap();
    let bundle: Value = serde_json::from_slice(&zstd::decode_all(&bundle[..]).unwrap()).unwrap();
    assert_eq!(bundle["sequence"], 3);
    assert_eq!(bundle["collected_at"], "2026-01-03T03:00:00Z");
    assert_eq!(bundle["written_at"], "2026-01-03T03:05:00Z");
    assert_eq!(bundle["sources"][0]["identity"], "lab-reader");
    assert_eq!(
        bundle["rules"][0]["file"]["name"],
        "rules/fixture-thing-enabled.cedar"
    );
    assert_eq!(bundle["exceptions"]["name"], "exceptions.toml");
    assert_eq!(bundle["snapshots"][0]["name"], "snapshot.json");
    assert!(bundle["schemas"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["name"] == "fixture.cedarschema"));
    let previous: Value = serde_json::from_str(&index_lines(&ledger)[2]).unwrap();
    assert_eq!(bundle["previous"], previous["sha256"]);
    assert_eq!(bundle["population"]["Fixture::Thing"], 4);
    assert!(bundle.get("ci").is_none(), "not run in CI");
}

#[test]
fn the_period_report_has_the_known_windows() {
    let dir = lab_ledger();
    let (code, markdown, stderr) = run(
        dir.path(),
        &["evidence", "report", "ledger", "--format", "markdown"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_masked("evidence_period_markdown", &markdown);
    let (code, json, _) = run(
        dir.path(),
        &[
            "evidence",
            "report",
            "ledger",
            "--format",
            "json",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-09",
        ],
    );
    assert_eq!(code, Some(0));
    assert_masked("evidence_period_json", &json);
    let doc: Value = serde_json::from_str(&json).unwrap();
    let rule = &doc["rules"][0];
    let windows: Vec<(String, u64, Option<u64>)> = rule["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["resource"].as_str().unwrap().to_string(),
                w["first_failed"]["sequence"].as_u64().unwrap(),
                w["fixed_by"]["sequence"].as_u64(),
            )
        })
        .collect();
    let thing = |t: &str| format!("Fixture::Thing::\"lab/{t}\"");
    assert_eq!(
        windows,
        [
            (thing("c"), 1, Some(5)),
            (thing("d"), 1, Some(6)),
            (thing("a"), 2, Some(4)),
            (thing("a"), 5, Some(7)),
        ]
    );
    assert_eq!(
        (rule["runs"].as_u64(), rule["held"].as_u64()),
        (Some(7), Some(1))
    );
    assert_eq!(doc["acceptances"][0]["runs_in_force"], 4);
    assert_eq!(doc["acceptances"][0]["runs_expired"], 1);
    assert_eq!(doc["gaps"].as_array().unwrap().len(), 1);
    // CSV: one row per window; HTML: one file, no external asset.
    let (_, csv, _) = run(
        dir.path(),
        &["evidence", "report", "ledger", "--format", "csv"],
    );
    assert_eq!(csv.lines().count(), 1 + 4, "{csv}");
    let (code, _, _) = run(
        dir.path(),
        &[
            "evidence",
            "report",
            "ledger",
            "--format",
            "html",
            "--output",
            "report.html",
        ],
    );
    assert_eq!(code, Some(0));
    let html = fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<svg"));
    assert!(!html.contains("src=") && !html.contains("<link") && !html.contains("<script"));
}

#[test]
fn an_altered_bundle_is_found_and_nothing_is_changed() {
    let dir = lab_ledger();
    let ledger = dir.path().join("ledger");
    let path = bundle_file(&ledger, 3);
    let mut bytes = fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&path, &bytes).unwrap();
    let before = contents(&ledger);
    let (code, stdout, _) = run(dir.path(), &["evidence", "verify", "ledger"]);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(
        stdout.contains("✗ altered: index.jsonl:4 (bundles/000003-"),
        "{stdout}"
    );
    assert!(stdout.contains("NOT INTACT"), "{stdout}");
    // No report from altered evidence, and no run appended to it.
    let (code, _, stderr) = run(dir.path(), &["evidence", "report", "ledger"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("does not verify"), "{stderr}");
    assert_eq!(
        contents(&ledger),
        before,
        "verify and report change nothing"
    );
}

#[test]
fn a_removed_bundle_breaks_the_chain() {
    let dir = lab_ledger();
    let ledger = dir.path().join("ledger");
    fs::remove_file(bundle_file(&ledger, 3)).unwrap();
    let mut lines = index_lines(&ledger);
    lines.remove(3);
    fs::write(ledger.join("index.jsonl"), lines.join("\n") + "\n").unwrap();
    let (code, stdout, _) = run(dir.path(), &["evidence", "verify", "ledger"]);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(
        stdout.contains("chain_break: index.jsonl:4 (bundles/000004-")
            && stdout.contains(
                "bundle 4 does not follow bundle 2: a bundle was removed or inserted here"
            ),
        "{stdout}"
    );
}

#[test]
fn an_inserted_bundle_of_another_organisation_is_found() {
    let dir = lab_ledger();
    let ledger = dir.path().join("ledger");
    // Another organisation's ledger of one night.
    record(dir.path(), "other", "other-lab", 2, NIGHTS[1].1).code(1);
    let other = dir.path().join("other");
    let foreign = bundle_file(&other, 1);
    let name = foreign.file_name().unwrap();
    fs::copy(&foreign, ledger.join("bundles").join(name)).unwrap();
    let mut lines = index_lines(&ledger);
    lines.insert(3, index_lines(&other)[1].clone());
    fs::write(ledger.join("index.jsonl"), lines.join("\n") + "\n").unwrap();
    let (code, stdout, _) = run(dir.path(), &["evidence", "verify", "ledger"]);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(
        stdout.contains("✗ foreign_ledger: index.jsonl:4"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(collected from fixture:other-lab)"),
        "{stdout}"
    );
    assert!(stdout.contains("✗ chain_break"), "{stdout}");
    // A bundle file the index does not list is reported too.
    fs::copy(&foreign, ledger.join("bundles/000099-extra.json.zst")).unwrap();
    let (_, stdout, _) = run(dir.path(), &["evidence", "verify", "ledger"]);
    assert!(
        stdout.contains("✗ unlisted: bundles/000099-extra.json.zst"),
        "{stdout}"
    );
}

#[test]
fn a_truncated_bundle_and_a_missing_index_are_located_errors() {
    let dir = lab_ledger();
    let ledger = dir.path().join("ledger");
    let path = bundle_file(&ledger, 2);
    let bytes = fs::read(&path).unwrap();
    fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let (code, stdout, _) = run(dir.path(), &["evidence", "verify", "ledger"]);
    assert_eq!(code, Some(2));
    assert!(stdout.contains("✗ altered: index.jsonl:3"), "{stdout}");
    assert!(stdout.contains("✗ unreadable: index.jsonl:3"), "{stdout}");
    // A new run is not chained onto a ledger whose index is cut off.
    let index = fs::read_to_string(ledger.join("index.jsonl")).unwrap();
    fs::write(ledger.join("index.jsonl"), index.trim_end_matches('\n')).unwrap();
    let before = contents(&ledger);
    record(dir.path(), "ledger", "lab", 10, NIGHTS[0].1)
        .code(2)
        .stderr(predicates::str::contains("does not verify"))
        .stderr(predicates::str::contains("the line is cut off"));
    assert_eq!(contents(&ledger), before);
    fs::remove_file(ledger.join("index.jsonl")).unwrap();
    let (code, _, stderr) = run(dir.path(), &["evidence", "verify", "ledger"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("has no ledger index"), "{stderr}");
    // Nor is a new ledger started over bundles whose index is gone.
    record(dir.path(), "ledger", "lab", 10, NIGHTS[0].1)
        .code(2)
        .stderr(predicates::str::contains("has no ledger index"));
}

#[test]
fn a_run_that_cannot_read_its_snapshot_is_recorded_incomplete() {
    let dir = workdir();
    record(dir.path(), "ledger", "lab", 1, NIGHTS[0].1).code(1);
    evidence_cmd(dir.path())
        .env("SOURCE_DATE_EPOCH", "1767409200") // 2026-01-03T03:00:00Z
        .args([
            "check",
            "--no-config",
            "--no-builtin",
            "--quiet",
            "--snapshot",
            "missing.json",
        ])
        .args([
            "--schema",
            "fixture.cedarschema",
            "--policies",
            "rules",
            "--evidence",
            "ledger",
        ])
        .assert()
        .code(2);
    let (code, stdout, _) = run(
        dir.path(),
        &["evidence", "verify", "ledger", "--cadence", "3d"],
    );
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("incomplete: run #2 of 2026-01-03T03:00:00Z"),
        "{stdout}"
    );
    let (_, markdown, _) = run(
        dir.path(),
        &["evidence", "report", "ledger", "--cadence", "3d"],
    );
    assert!(
        markdown.contains("- run #2 (2026-01-03) was **incomplete**"),
        "{markdown}"
    );
}

#[test]
fn the_ci_context_is_recorded_without_secrets() {
    let dir = workdir();
    fs::write(
        dir.path().join("snapshot.json"),
        snapshot("lab", 1, NIGHTS[0].1).to_string(),
    )
    .unwrap();
    evidence_cmd(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_SERVER_URL", "https://github.com")
        .env("GITHUB_REPOSITORY", "acme/compliance")
        .env("GITHUB_RUN_ID", "7")
        .env("GITHUB_SHA", "0123abcd")
        .env("GITHUB_ACTOR", "nightly")
        .env("GITHUB_TOKEN", "ghs_secret-token-value")
        .args([
            "check",
            "--no-config",
            "--no-builtin",
            "--quiet",
            "--snapshot",
            "snapshot.json",
        ])
        .args([
            "--schema",
            "fixture.cedarschema",
            "--policies",
            "rules",
            "--evidence",
            "ledger",
        ])
        .assert()
        .code(1);
    let bytes = fs::read(bundle_file(&dir.path().join("ledger"), 1)).unwrap();
    let text = String::from_utf8(zstd::decode_all(&bytes[..]).unwrap()).unwrap();
    let bundle: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        bundle["ci"]["run_url"],
        "https://github.com/acme/compliance/actions/runs/7"
    );
    assert_eq!(bundle["ci"]["commit"], "0123abcd");
    assert_eq!(bundle["ci"]["actor"], "nightly");
    assert!(!text.contains("ghs_secret"));
}

#[test]
fn the_demo_ledger_is_intact_and_reports() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo/evidence");
    let out = trustcheck()
        .args(["evidence", "verify"])
        .arg(&demo)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("gap: no run from"),
        "the demo has a missed night\n{stdout}"
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    trustcheck()
        .args(["evidence", "report", "--format", "markdown"])
        .arg(&demo)
        .assert()
        .success()
        .stdout(predicates::str::contains("**still open** at period end"));
}

#[test]
fn the_configuration_names_the_ledger() {
    let dir = workdir();
    fs::create_dir(dir.path().join(".git")).unwrap();
    fs::write(
        dir.path().join("trustcheck.toml"),
        "evidence = \"audit/ledger\"\nschemas = [\"fixture.cedarschema\"]\npolicies = [\"rules\"]\n",
    )
    .unwrap();
    fs::create_dir(dir.path().join("audit")).unwrap();
    fs::write(
        dir.path().join("snapshot.json"),
        snapshot("lab", 1, NIGHTS[0].1).to_string(),
    )
    .unwrap();
    evidence_cmd(dir.path())
        .args([
            "check",
            "--no-builtin",
            "--snapshot",
            "snapshot.json",
            "--report",
            "json=f.json",
        ])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "recorded run #1 (2026-01-01T03:00:00Z)",
        ));
    let bundle = fs::read(bundle_file(&dir.path().join("audit/ledger"), 1)).unwrap();
    let bundle: Value = serde_json::from_slice(&zstd::decode_all(&bundle[..]).unwrap()).unwrap();
    assert_eq!(bundle["config"]["name"], "trustcheck.toml");
}

/// The binary pointed at moto's S3 with the test identity, and nothing else of the AWS
/// environment.
fn s3_cmd(dir: &Path, moto: &crate::moto::Moto) -> assert_cmd::Command {
    let mut cmd = evidence_cmd(dir);
    for var in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ENDPOINT_URL_S3",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ENDPOINT_URL", &moto.url)
        .env("AWS_ACCESS_KEY_ID", crate::moto::TEST_KEY)
        .env("AWS_SECRET_ACCESS_KEY", crate::moto::SECRET)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", dir.join("aws-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", dir.join("aws-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_ledger_is_locked_and_verify_reads_the_locked_versions() {
    use aws_sdk_s3::primitives::ByteStream;
    let moto = crate::moto::Moto::shared();
    let sdk = moto.config(crate::moto::DEFAULT_ACCOUNT).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let bucket = "trustcheck-evidence-lock";
    s3.create_bucket()
        .bucket(bucket)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    let dir = workdir();
    let location = format!("s3://{bucket}/acme/nightly");
    for (day, things) in NIGHTS.iter().take(3) {
        fs::write(
            dir.path().join("snapshot.json"),
            snapshot("lab", *day, things).to_string(),
        )
        .unwrap();
        s3_cmd(dir.path(), moto)
            .args([
                "check",
                "--no-config",
                "--no-builtin",
                "--quiet",
                "--snapshot",
                "snapshot.json",
            ])
            .args(["--schema", "fixture.cedarschema", "--policies", "rules"])
            .args(["--evidence", &location, "--evidence-retention-days", "30"])
            .assert()
            .code(predicates::ord::lt(3))
            .stderr("");
    }
    let index = s3
        .get_object()
        .bucket(bucket)
        .key("acme/nightly/index.jsonl")
        .send()
        .await
        .unwrap();
    let index =
        String::from_utf8(index.body.collect().await.unwrap().into_bytes().to_vec()).unwrap();
    let first: Value = serde_json::from_str(index.lines().nth(1).unwrap()).unwrap();
    let key = format!("acme/nightly/{}", first["file"].as_str().unwrap());
    let version = first["version"]
        .as_str()
        .expect("the index records the S3 version")
        .to_string();
    let head = s3
        .head_object()
        .bucket(bucket)
        .key(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.object_lock_mode().map(|m| m.as_str()),
        Some("COMPLIANCE")
    );
    assert!(head.object_lock_retain_until_date().is_some());

    // Deleting the locked version is refused.
    let deleted = s3
        .delete_object()
        .bucket(bucket)
        .key(&key)
        .version_id(&version)
        .send()
        .await;
    let refused = format!(
        "{}",
        aws_sdk_s3::error::DisplayErrorContext(
            deleted.expect_err("a locked version cannot be deleted")
        )
    );
    assert!(refused.contains("AccessDenied"), "{refused}");

    // Writing the key again adds a version; the locked one is intact and is what verify reads.
    s3.put_object()
        .bucket(bucket)
        .key(&key)
        .body(ByteStream::from_static(b"forged"))
        .send()
        .await
        .unwrap();
    let locked = s3
        .get_object()
        .bucket(bucket)
        .key(&key)
        .version_id(&version)
        .send()
        .await
        .unwrap();
    let locked = locked.body.collect().await.unwrap().into_bytes();
    assert_eq!(
        trustcheck::evidence::sha256_hex(&locked),
        first["sha256"].as_str().unwrap()
    );
    let out = s3_cmd(dir.path(), moto)
        .args(["evidence", "verify", &location])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("3 bundle(s)") && stdout.ends_with("intact and complete\n"),
        "{stdout}"
    );
    s3_cmd(dir.path(), moto)
        .args(["evidence", "report", &location, "--format", "json"])
        .assert()
        .success()
        .stdout(predicates::str::contains("\"sequence\": 3"));
}

/// The HTML report in a real browser: headless Chromium (Debian's, `scripts/install-chromium`)
/// prints it to PDF, and the PDF has the pages and text an auditor files.
#[test]
fn the_html_report_prints_to_pdf_in_chromium() {
    let chromium = Path::new("/usr/bin/chromium");
    assert!(
        chromium.exists(),
        "Chromium is not installed: run `scripts/install-chromium` (the test command `scripts/test` does)"
    );
    let dir = lab_ledger();
    let (code, _, stderr) = run(
        dir.path(),
        &[
            "evidence",
            "report",
            "ledger",
            "--format",
            "html",
            "--output",
            "period.html",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let profile = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("period.pdf");
    let out = std::process::Command::new("timeout")
        .arg("120")
        .arg(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!(
            "file://{}",
            dir.path().join("period.html").display()
        ))
        .output()
        .unwrap();
    assert!(
        pdf.exists(),
        "Chromium wrote no PDF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info = std::process::Command::new("pdfinfo")
        .arg(&pdf)
        .output()
        .unwrap();
    let info = String::from_utf8(info.stdout).unwrap();
    let pages: u32 = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(|p| p.trim().parse().unwrap())
        .unwrap();
    assert!((1..=4).contains(&pages), "{pages} pages\n{info}");
    let text = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    for expected in [
        "Evidence report 2026-01-01 – 2026-01-09",
        "The period at a glance",
        "fixture-thing-enabled",
        "Exception windows",
        "Fixture::Thing::\"lab/a\"",
        "failing at period start",
        "ciso@example.com",
        "Cadence gaps",
    ] {
        assert!(
            text.contains(expected),
            "the PDF lacks `{expected}`:\n{text}"
        );
    }
}
