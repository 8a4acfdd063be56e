//! `check --report ocsf` through the real binary: every event is a valid OCSF 1.8.0 Compliance
//! Finding (the class's JSON Schema, generated from the OCSF export, is vendored in
//! `tests/data/ocsf/`), and the events say what the JSON findings say: one event per finding, its
//! status mapped, its time the snapshot's, accepted failures suppressed, errors a warning.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::cargo::cargo_bin_cmd;
use serde_json::{json, Value};

/// The fixture snapshot and rules of the pinned reports (see tests/fixtures/reports/README.md).
const SNAPSHOT: &str = "tests/fixtures/reports/snapshot.json";
const RULES: &str = "tests/fixtures/reports/rules";
const SCHEMA: &str = "tests/data/ocsf/compliance_finding-1.8.0.schema.json";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn trustcheck() -> assert_cmd::Command {
    let mut cmd = cargo_bin_cmd!("trustcheck");
    cmd.env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("TRUSTCHECK_EXCEPTIONS")
        .env_remove("TRUSTCHECK_CONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd
}

/// `check` of the fixture rules on `snapshot` in `format`, with these exceptions files: stdout
/// parsed, and the exit code.
fn check(snapshot: &Path, format: &str, exceptions: &[&Path]) -> (Value, i32) {
    let mut cmd = trustcheck();
    cmd.args([
        "check",
        "--no-builtin",
        "--no-config",
        "--policies",
        RULES,
        "--report",
        format,
        "--snapshot",
    ])
    .arg(snapshot);
    for file in exceptions {
        cmd.arg("--exceptions").arg(file);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.ends_with('\n'),
        "{format}: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        serde_json::from_str(&stdout).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

/// The OCSF events and the JSON findings of the same run, and its exit code.
fn events_and_findings(snapshot: &Path, exceptions: &[&Path]) -> (Vec<Value>, Vec<Value>, i32) {
    let (events, code) = check(snapshot, "ocsf", exceptions);
    let (doc, json_code) = check(snapshot, "json", exceptions);
    assert_eq!(code, json_code);
    (
        events.as_array().unwrap().clone(),
        doc["findings"].as_array().unwrap().clone(),
        code,
    )
}

fn schema() -> Value {
    serde_json::from_str(&fs::read_to_string(root().join(SCHEMA)).unwrap()).unwrap()
}

/// Every schema violation of every event, located.
fn schema_errors(events: &[Value]) -> Vec<String> {
    let validator = jsonschema::validator_for(&schema()).unwrap();
    events
        .iter()
        .enumerate()
        .flat_map(|(i, event)| {
            validator
                .iter_errors(event)
                .map(|e| format!("event {i}: {e} at {}", e.instance_path()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn epoch_millis(utc: &str) -> i64 {
    let t =
        time::OffsetDateTime::parse(utc, &time::format_description::well_known::Rfc3339).unwrap();
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap()
}

/// (`compliance.status_id`, finding `status_id`) for a trustcheck status.
fn mapped(status: &str) -> (i64, i64) {
    match status {
        "pass" => (1, 1),
        "error" => (2, 1),
        "fail" => (3, 1),
        "accepted" => (3, 3),
        "not_applicable" => (99, 1),
        other => panic!("unknown status `{other}`"),
    }
}

/// One event per finding, paired by fingerprint, each saying what its finding says; and the
/// counts per `compliance.status_id` are the findings' counts per status.
fn assert_events_match_findings(events: &[Value], findings: &[Value], collected_at: &str) {
    assert_eq!(events.len(), findings.len());
    let by_uid: BTreeMap<&str, &Value> = events
        .iter()
        .map(|e| (e["finding_info"]["uid"].as_str().unwrap(), e))
        .collect();
    assert_eq!(by_uid.len(), events.len(), "finding_info.uid is unique");

    let mut expected: BTreeMap<i64, usize> = BTreeMap::new();
    let mut got: BTreeMap<i64, usize> = BTreeMap::new();
    for f in findings {
        let status = f["status"].as_str().unwrap();
        let (compliance_id, finding_id) = mapped(status);
        *expected.entry(compliance_id).or_default() += 1;
        let e = by_uid[f["fingerprint"].as_str().unwrap()];
        *got.entry(e["compliance"]["status_id"].as_i64().unwrap())
            .or_default() += 1;

        assert_eq!(e["class_uid"], 2003, "{e}");
        assert_eq!(e["category_uid"], 2);
        assert_eq!(e["type_uid"], 200301);
        assert_eq!(e["activity_id"], 1);
        assert_eq!(e["time"], epoch_millis(collected_at), "never the clock");
        assert_eq!(e["metadata"]["version"], "1.8.0");
        assert_eq!(e["metadata"]["product"]["name"], "trustcheck");
        assert_eq!(
            e["metadata"]["product"]["version"],
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(e["compliance"]["standards"], json!(["SOC 2"]));
        assert_eq!(e["compliance"]["control"], f["soc2"][0]);
        assert_eq!(e["compliance"]["requirements"], f["soc2"]);
        assert_eq!(e["compliance"]["status_id"], compliance_id, "{status}: {e}");
        assert_eq!(e["compliance"]["status_code"], status);
        assert_eq!(e["status_id"], finding_id, "{status}: {e}");
        let severity = match f["severity"].as_str().unwrap() {
            "critical" => 5,
            "high" => 4,
            "medium" => 3,
            _ => 2,
        };
        assert_eq!(e["severity_id"], severity);
        assert_eq!(e["finding_info"]["title"], f["title"]);
        assert_eq!(e["finding_info"]["desc"], f["message"]);
        assert_eq!(e["finding_info"]["analytic"]["uid"], f["rule"]);
        assert_eq!(e["resources"][0]["uid"], f["resource"]["id"]);
        assert_eq!(e["resources"][0]["type"], f["resource"]["type"]);
        assert_eq!(e["remediation"]["desc"], f["remediation"]);
        let provider = if f["resource"]["type"].as_str().unwrap().starts_with("Aws::") {
            "aws"
        } else {
            "github"
        };
        assert_eq!(e["cloud"]["provider"], provider);
    }
    assert_eq!(got, expected, "events per compliance.status_id");
}

fn fixture_collected_at() -> String {
    let snapshot: Value =
        serde_json::from_str(&fs::read_to_string(root().join(SNAPSHOT)).unwrap()).unwrap();
    snapshot["collected_at"].as_str().unwrap().to_string()
}

/// A change that makes an event invalid.
type Breaks = fn(&mut Value);

#[test]
fn ocsf_events_are_valid_compliance_findings_one_per_finding() {
    let (events, findings, code) = events_and_findings(&root().join(SNAPSHOT), &[]);
    assert_eq!(code, 1, "the fixture has failures");
    let errors = schema_errors(&events);
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    assert_events_match_findings(&events, &findings, &fixture_collected_at());
    // The fixture has passes, failures and findings that do not apply: each kind is there.
    for id in [1, 3, 99] {
        assert!(
            events.iter().any(|e| e["compliance"]["status_id"] == id),
            "no event with compliance.status_id {id}"
        );
    }
    // An AWS failure names the account that was read.
    let root_mfa = events
        .iter()
        .find(|e| {
            e["finding_info"]["analytic"]["uid"] == "aws-root-mfa"
                && e["compliance"]["status_id"] == 3
        })
        .unwrap();
    assert_eq!(
        root_mfa["cloud"],
        json!({"provider": "aws", "account": {"uid": "109876543210", "type_id": 99, "type": "aws account"}})
    );
}

#[test]
fn the_vendored_schema_is_ocsf_1_8_0_and_rejects_what_is_not_a_compliance_finding() {
    let schema = schema();
    assert!(schema["$id"]
        .as_str()
        .unwrap()
        .contains("/1.8.0/classes/compliance_finding"));
    let (events, _) = check(&root().join(SNAPSHOT), "ocsf", &[]);
    let event = events[0].clone();
    assert!(schema_errors(std::slice::from_ref(&event)).is_empty());
    // The schema is not vacuous: each of these breaks the class.
    let broken: [(&str, Breaks); 5] = [
        ("another class", |e: &mut Value| {
            e["class_uid"] = json!(2001)
        }),
        ("no compliance", |e: &mut Value| {
            e.as_object_mut().unwrap().remove("compliance");
        }),
        ("an unknown compliance status", |e: &mut Value| {
            e["compliance"]["status_id"] = json!(4)
        }),
        ("time in text", |e: &mut Value| {
            e["time"] = json!("2026-11-22T03:00:00Z")
        }),
        ("an attribute OCSF does not define", |e: &mut Value| {
            e["resources"][0]["provider_scope"] = json!("aws")
        }),
    ];
    for (what, break_it) in broken {
        let mut e = event.clone();
        break_it(&mut e);
        assert!(!schema_errors(&[e]).is_empty(), "the schema accepts {what}");
    }
}

/// A scratch copy of the fixture snapshot where `northwind-labs/jkim-dev`'s facts could not be
/// read, and an exceptions file with one acceptance in force and one expired.
fn scratch() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut snapshot: Value =
        serde_json::from_str(&fs::read_to_string(root().join(SNAPSHOT)).unwrap()).unwrap();
    let source = snapshot["sources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["scope"] == "northwind-labs")
        .unwrap();
    source["errors"] = json!([{
        "entity": {"type": "Github::Member", "id": "northwind-labs/jkim-dev"},
        "fact": "*",
        "reason": "GET /orgs/northwind-labs/members?filter=2fa_disabled: 403 Must be an organization owner"
    }]);
    let snapshot_path = dir.path().join("snapshot.json");
    fs::write(&snapshot_path, snapshot.to_string()).unwrap();
    let exceptions = dir.path().join("trustcheck-exceptions.toml");
    fs::write(
        &exceptions,
        r#"[[accept]]
rule = "aws-iam-user-console-mfa"
resource = 'Aws::IamUser::"arn:aws:iam::210987654321:user/legacy-admin"'
reason = "Break-glass administrator: password sealed in the safe"
owner = "platform-security@northwind.example"
approved_by = "cto@northwind.example"
expires = 2027-02-28
ticket = "https://tracker.northwind.example/SEC-142"

[[accept]]
rule = "aws-access-key-rotated-90d"
resource = 'Aws::AccessKey::"arn:aws:iam::109876543210:user/reporting-bot/access-key/2"'
reason = "Reporting vendor rotates its key only at contract renewal"
owner = "data-platform@northwind.example"
approved_by = "ciso@northwind.example"
expires = 2026-10-31
"#,
    )
    .unwrap();
    (dir, snapshot_path, exceptions)
}

fn event_of<'a>(events: &'a [Value], rule: &str, id_end: &str) -> &'a Value {
    events
        .iter()
        .find(|e| {
            e["finding_info"]["analytic"]["uid"] == rule
                && e["resources"][0]["uid"].as_str().unwrap().ends_with(id_end)
        })
        .unwrap_or_else(|| panic!("no event of {rule} on …{id_end}"))
}

#[test]
fn accepted_failures_are_suppressed_and_errors_are_warnings() {
    let (_dir, snapshot, exceptions) = scratch();
    let (events, findings, code) = events_and_findings(&snapshot, &[exceptions.as_path()]);
    assert_eq!(code, 2, "an error makes the run untrustworthy");
    let errors = schema_errors(&events);
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    assert_events_match_findings(&events, &findings, &fixture_collected_at());

    let accepted = event_of(&events, "aws-iam-user-console-mfa", "user/legacy-admin");
    assert_eq!(
        (
            &accepted["status_id"],
            &accepted["status"],
            &accepted["compliance"]["status_id"],
            &accepted["compliance"]["status"],
            &accepted["compliance"]["status_code"],
        ),
        (
            &json!(3),
            &json!("Suppressed"),
            &json!(3),
            &json!("Fail"),
            &json!("accepted")
        )
    );
    let acceptance = &accepted["unmapped"]["acceptance"];
    assert_eq!(acceptance["approved_by"], "cto@northwind.example");
    assert_eq!(acceptance["owner"], "platform-security@northwind.example");
    assert_eq!(acceptance["expires"], "2027-02-28");
    assert_eq!(
        acceptance["ticket"],
        "https://tracker.northwind.example/SEC-142"
    );
    assert!(accepted["comment"]
        .as_str()
        .unwrap()
        .contains("until 2027-02-28"));

    // An expired acceptance suppresses nothing: a new failure, its lapsed acceptance on record.
    let expired = event_of(
        &events,
        "aws-access-key-rotated-90d",
        "reporting-bot/access-key/2",
    );
    assert_eq!(expired["status"], "New");
    assert_eq!(expired["compliance"]["status_id"], 3);
    assert_eq!(expired["compliance"]["status_code"], "fail");
    assert_eq!(expired["unmapped"]["acceptance"]["expired"], true);

    // What could not be read is a Warning ("no result due to missing information"), never a pass.
    let unknown = event_of(&events, "github-member-2fa", "northwind-labs/jkim-dev");
    assert_eq!(unknown["compliance"]["status_id"], 2);
    assert_eq!(unknown["compliance"]["status"], "Warning");
    assert_eq!(unknown["status"], "New");
    assert!(unknown["finding_info"]["desc"]
        .as_str()
        .unwrap()
        .contains("403"));
    assert_eq!(
        unknown["cloud"]["account"],
        json!({"uid": "northwind-labs", "type_id": 99, "type": "github organization"})
    );
}
