//! Bring your own facts, as docs/bring-your-own-facts.md tells a user to: the shipped MDM example
//! (`examples/mdm`: a snapshot from a collector trustcheck does not know, its schema fragment,
//! its rules) through every command that takes `--schema`, and through `schemas` in
//! trustcheck.toml.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

use crate::trustcheck;
use serde_json::Value;

fn example(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/mdm")
        .join(file)
}

/// `--schema` and `--policies` of the example, and no configuration file.
fn with_example(cmd: &mut Command) -> &mut Command {
    cmd.arg("--schema")
        .arg(example("mdm.cedarschema"))
        .arg("--policies")
        .arg(example("rules"))
        .arg("--no-config")
}

fn statuses(doc: &Value) -> Vec<(String, String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["resource"]["id"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_mdm_export_is_judged_and_its_uncollected_facts_are_errors() {
    let out = with_example(
        trustcheck()
            .args(["check", "--format", "json", "--snapshot"])
            .arg(example("snapshot.json")),
    )
    .output()
    .unwrap();
    // Failures, and facts the export could not read: the run is not trustworthy.
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let summary = &doc["summary"];
    assert_eq!(
        (
            &summary["pass"],
            &summary["fail"],
            &summary["error"],
            &summary["not_applicable"]
        ),
        (
            &Value::from(15),
            &Value::from(4),
            &Value::from(2),
            &Value::from(3)
        )
    );
    let s = statuses(&doc);
    let has = |rule: &str, id: &str, status: &str| {
        s.contains(&(rule.to_string(), id.to_string(), status.to_string()))
    };
    assert!(
        has("mdm-laptop-disk-encrypted", "C02GH2BBMD6T", "fail"),
        "{s:?}"
    );
    assert!(
        has("mdm-laptop-disk-encrypted", "C02JK3CCMD6T", "error"),
        "{s:?}"
    );
    assert!(
        has("mdm-laptop-screen-lock-15m", "Q9WD5TN3HL", "error"),
        "{s:?}"
    );
    assert!(
        has("mdm-laptop-checked-in-30d", "L7TQ3MX9PD", "fail"),
        "{s:?}"
    );
    assert!(
        has(
            "mdm-laptop-disk-encrypted",
            "C02LM4DDMD6T",
            "not_applicable"
        ),
        "{s:?}"
    );
    // The shipped rules judge nothing here: there are no AWS or GitHub facts.
    assert!(s.iter().all(|(rule, _, _)| rule.starts_with("mdm-")));

    // The table groups by the example's own source.
    let table = with_example(
        trustcheck()
            .args(["check", "--snapshot"])
            .arg(example("snapshot.json")),
    )
    .output()
    .unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("jamf-export acme-laptops"), "{text}");
}

#[test]
fn without_its_schema_the_snapshot_is_rejected_with_a_pointer_to_schema() {
    let out = trustcheck()
        .args(["check", "--no-config", "--snapshot"])
        .arg(example("snapshot.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("Mdm::"), "{err}");
}

#[test]
fn validate_test_schema_and_explain_take_the_schema() {
    let out = with_example(trustcheck().arg("validate")).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8(out.stdout).unwrap().contains("3 custom"));

    let out = with_example(trustcheck().args(["test", "--no-builtin"]))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(" passed, 0 failed"), "{text}");

    let out = trustcheck()
        .args(["schema", "Mdm::Laptop", "--no-config", "--schema"])
        .arg(example("mdm.cedarschema"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("diskEncrypted"));

    let out = with_example(trustcheck().args(["explain", "mdm-laptop-disk-encrypted"]))
        .arg("--snapshot")
        .arg(example("snapshot.json"))
        .args(["--resource", "C02GH2BBMD6T"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("diskEncrypted"), "{text}");
}

#[test]
fn new_rule_scaffolds_for_your_own_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let out = trustcheck()
        .current_dir(dir.path())
        .args([
            "new",
            "rule",
            "--provider",
            "Mdm",
            "--id",
            "acme-laptop-firewall",
            "--resource",
            "Laptop",
            "--no-config",
            "--schema",
        ])
        .arg(example("mdm.cedarschema"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rule =
        std::fs::read_to_string(dir.path().join("controls/acme-laptop-firewall.cedar")).unwrap();
    assert!(rule.contains("resource is Mdm::Laptop"), "{rule}");
    let out = trustcheck()
        .current_dir(dir.path())
        .args([
            "test",
            "--no-builtin",
            "--no-config",
            "--policies",
            "controls",
            "--schema",
        ])
        .arg(example("mdm.cedarschema"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let out = trustcheck()
        .current_dir(dir.path())
        .args([
            "new",
            "rule",
            "--provider",
            "nope",
            "--id",
            "acme-x",
            "--no-config",
            "--schema",
        ])
        .arg(example("mdm.cedarschema"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("unknown provider `nope`") && err.contains("Mdm"),
        "{err}"
    );
}

#[test]
fn schemas_in_the_configuration_file_work_like_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join(".git")).unwrap();
    std::fs::create_dir_all(root.join("facts")).unwrap();
    std::fs::copy(
        example("mdm.cedarschema"),
        root.join("facts/mdm.cedarschema"),
    )
    .unwrap();
    std::fs::copy(example("snapshot.json"), root.join("facts/laptops.json")).unwrap();
    std::fs::create_dir_all(root.join("rules")).unwrap();
    for entry in std::fs::read_dir(example("rules")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, root.join("rules").join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(
        root.join("trustcheck.toml"),
        "policies = [\"rules\"]\nschemas = [\"facts/mdm.cedarschema\"]\n",
    )
    .unwrap();
    let out = trustcheck()
        .current_dir(root)
        .args([
            "check",
            "--format",
            "json",
            "--snapshot",
            "facts/laptops.json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["summary"]["fail"], 4);

    // A schema file that is not there is an error that names it, not an empty schema.
    std::fs::write(
        root.join("trustcheck.toml"),
        "schemas = [\"facts/missing.cedarschema\"]\n",
    )
    .unwrap();
    let out = trustcheck()
        .current_dir(root)
        .args(["check", "--snapshot", "facts/laptops.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("missing.cedarschema"), "{err}");
}
