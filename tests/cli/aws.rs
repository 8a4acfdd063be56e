//! `trustcheck collect aws` and `trustcheck check --collect aws`, run as a user would: the real
//! binary, credentials and endpoint from the environment, against moto seeded through the SDK.

use std::path::Path;

use crate::moto::{Moto, DEFAULT_ACCOUNT, SECRET, TEST_KEY};
use crate::proxy::{Proxy, ProxySettings};
use assert_cmd::Command;
use aws_sdk_iam::Client;
use serde_json::Value;

/// The binary with AWS settings taken only from what the test gives it: no profile, no region
/// (so the us-east-1 fallback is exercised), no instance metadata.
fn trustcheck(moto: &Moto, home: &Path) -> Command {
    trustcheck_at(&moto.url, home)
}

/// [`trustcheck`] with AWS requests sent to `endpoint` (moto, or the proxy in front of it).
fn trustcheck_at(endpoint: &str, home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("trustcheck").unwrap();
    for var in [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", TEST_KEY)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1");
    cmd
}

async fn seed(moto: &Moto) {
    let iam = Client::new(&moto.config(DEFAULT_ACCOUNT).await);
    iam.update_account_password_policy()
        .minimum_password_length(8)
        .send()
        .await
        .unwrap();
    iam.create_user().user_name("bob").send().await.unwrap();
    iam.create_login_profile()
        .user_name("bob")
        .password("Correct-Horse-9!")
        .send()
        .await
        .unwrap();
    iam.attach_user_policy()
        .user_name("bob")
        .policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    iam.create_role()
        .role_name("open-to-all")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
}

fn status_of<'a>(findings: &'a [Value], rule: &str, id: &str) -> &'a str {
    findings
        .iter()
        .find(|f| f["rule"] == rule && f["resource"]["id"] == id)
        .and_then(|f| f["status"].as_str())
        .unwrap_or_else(|| panic!("no finding of {rule} on {id}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_then_check_and_check_collect_agree() {
    let moto = Moto::shared();
    seed(moto).await;
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("aws.json");

    // moto's credential report has no root row, so one fact is always unknown there: the
    // snapshot is written, and the run says it is incomplete (exit 2).
    let collected = trustcheck(moto, dir.path())
        .args(["collect", "aws", "--out"])
        .arg(&snapshot)
        .assert()
        .code(2);
    let out = collected.get_output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(region us-east-1)"), "{stderr}");
    assert!(stderr.contains("aws 123456789012:"), "{stderr}");
    assert!(stderr.contains("1 facts not collected"), "{stderr}");
    let text = std::fs::read_to_string(&snapshot).unwrap();
    for output in [
        &text,
        &stderr.to_string(),
        &String::from_utf8_lossy(&out.stdout).to_string(),
    ] {
        assert!(!output.contains(SECRET), "the secret access key leaked");
    }
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["format"], "trustcheck.snapshot/v1");
    assert_eq!(doc["sources"][0]["provider"], "aws");
    assert_eq!(doc["sources"][0]["scope"], "123456789012");
    assert_eq!(
        doc["sources"][0]["errors"][0]["fact"],
        "rootPasswordLastUsed"
    );
    assert!(doc["sources"][0]["api_calls"].as_u64().unwrap() >= 8);

    // Judged offline, the collected snapshot is not trustworthy (exit 2): the one unknown fact,
    // when root last signed in, is read by `aws-root-unused-90d`, which reports `error`.
    let judged = Command::cargo_bin("trustcheck")
        .unwrap()
        .args(["check", "--format", "json", "--snapshot"])
        .arg(&snapshot)
        .assert()
        .code(2);
    let offline: Value = serde_json::from_slice(&judged.get_output().stdout).unwrap();

    let live = trustcheck(moto, dir.path())
        .args(["--quiet", "check", "--collect", "aws", "--format", "json"])
        .assert()
        .code(2);
    assert!(
        live.get_output().stderr.is_empty(),
        "--quiet prints nothing on success"
    );
    let live: Value = serde_json::from_slice(&live.get_output().stdout).unwrap();

    for doc in [&offline, &live] {
        let findings = doc["findings"].as_array().unwrap();
        let a = "arn:aws:iam::123456789012";
        assert_eq!(
            status_of(
                findings,
                "aws-iam-user-no-direct-admin",
                &format!("{a}:user/bob")
            ),
            "fail"
        );
        assert_eq!(
            status_of(
                findings,
                "aws-iam-user-console-mfa",
                &format!("{a}:user/bob")
            ),
            "fail"
        );
        assert_eq!(
            status_of(
                findings,
                "aws-role-no-public-trust",
                &format!("{a}:role/open-to-all")
            ),
            "fail"
        );
        assert_eq!(
            status_of(findings, "aws-password-policy-strong", &format!("{a}:root")),
            "fail"
        );
        assert_eq!(
            status_of(findings, "aws-root-mfa", &format!("{a}:root")),
            "fail"
        );
        assert_eq!(
            status_of(findings, "aws-root-no-access-keys", &format!("{a}:root")),
            "pass"
        );
        assert_eq!(
            status_of(findings, "aws-root-unused-90d", &format!("{a}:root")),
            "error"
        );
        assert!(
            findings
                .iter()
                .all(|f| f["status"] != "error" || f["rule"] == "aws-root-unused-90d"),
            "no other error findings: {findings:#?}"
        );
    }
    // Same facts, same verdicts, whichever way they were collected.
    let verdicts = |doc: &Value| -> Vec<(String, String, String)> {
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
    };
    assert_eq!(verdicts(&offline), verdicts(&live));
}

#[test]
fn bad_account_ids_and_role_arns_are_rejected_before_any_call() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.json");
    let run = Command::cargo_bin("trustcheck")
        .unwrap()
        .env("NO_COLOR", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args([
            "collect",
            "aws",
            "--aws-region",
            "eu-west-1",
            "--role-name",
            "audit",
            "--accounts",
            "123456789012,42",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr);
    assert!(
        stderr.contains("`42` is not a 12-digit AWS account id"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--accounts 123456789012,210987654321"),
        "{stderr}"
    );

    let run = Command::cargo_bin("trustcheck")
        .unwrap()
        .env("NO_COLOR", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args([
            "collect",
            "aws",
            "--aws-region",
            "eu-west-1",
            "--assume-role",
            "arn:aws:iam::123456789012:user/alice",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr);
    assert!(stderr.contains("is not an IAM role ARN"), "{stderr}");
    assert!(
        !out.exists(),
        "no snapshot is written when the run cannot start"
    );
}

/// Accounts of the simulated organisation, besides its management account.
const MEMBERS: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organization_is_read_account_by_account_through_the_role() {
    // A server of its own: the organisation lives in the default account.
    let moto = Moto::start();
    let base = moto.config(DEFAULT_ACCOUNT).await;
    let org = aws_sdk_organizations::Client::new(&base);
    org.create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    let mut members = Vec::new();
    for i in 0..MEMBERS {
        let created = org
            .create_account()
            .account_name(format!("member-{i}"))
            .email(format!("member-{i}@example.com"))
            .send()
            .await
            .unwrap();
        let id = created
            .create_account_status()
            .and_then(|s| s.account_id())
            .unwrap()
            .to_string();
        members.push(id);
    }
    // Something to find in one member.
    let iam = Client::new(&moto.config(&members[7]).await);
    iam.create_user().user_name("eve").send().await.unwrap();
    // One member whose audit role does not trust the caller: moto does not evaluate trust
    // policies, so the proxy answers that AssumeRole as STS does (403 AccessDenied).
    let refused = members[13].clone();
    let proxy = Proxy::start(
        &moto.url,
        ProxySettings {
            deny_assume_role_into: vec![refused.clone()],
            ..ProxySettings::default()
        },
    );

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("org.json");
    let run = trustcheck_at(&proxy.url, dir.path())
        .args([
            "collect",
            "aws",
            "--organization",
            "--role-name",
            "trustcheck-audit",
            "--aws-concurrency",
            "8",
            "--out",
        ])
        .arg(&out)
        .assert()
        // Facts not collected (the refused account's; moto's credential reports have no root
        // row): the snapshot is written and the run says it is incomplete.
        .code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    let pages = (MEMBERS + 1).div_ceil(20);
    assert!(
        stderr.contains(&format!(
            "AWS Organization: {} active accounts ({pages} ListAccounts calls)",
            MEMBERS + 1
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "aws {refused}: not read: AssumeRole: role `arn:aws:iam::{refused}:role/trustcheck-audit` could not be assumed: AccessDenied: User: "
        )),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains(SECRET) && !stderr.contains(SECRET));
    let doc: Value = serde_json::from_str(&text).unwrap();
    let sources = doc["sources"].as_array().unwrap();
    assert_eq!(
        sources.len(),
        MEMBERS + 1,
        "one source per account, the refused one included"
    );
    let mut scopes: Vec<&str> = sources
        .iter()
        .map(|s| s["scope"].as_str().unwrap())
        .collect();
    scopes.sort_unstable();
    let mut expected: Vec<&str> = members
        .iter()
        .map(String::as_str)
        .chain([DEFAULT_ACCOUNT])
        .collect();
    expected.sort_unstable();
    assert_eq!(scopes, expected);
    // Members through the role, the management account with the caller's own credentials.
    let mut member_calls = Vec::new();
    for s in sources {
        let scope = s["scope"].as_str().unwrap();
        if scope == refused {
            // Nobody read it; every fact of the account is recorded as not collected, with STS's
            // reason.
            assert!(s.get("identity").is_none(), "{s}");
            let errors = s["errors"].as_array().unwrap();
            assert!(errors.len() > 1, "{s}");
            for e in errors {
                let reason = e["reason"].as_str().unwrap();
                assert!(
                    reason.contains("AccessDenied") && reason.contains("sts:AssumeRole"),
                    "{reason}"
                );
            }
            continue;
        }
        let identity = s["identity"].as_str().unwrap();
        if scope == DEFAULT_ACCOUNT {
            assert!(
                !identity.contains("assumed-role/trustcheck-audit"),
                "{identity}"
            );
        } else {
            assert!(
                identity.contains(&format!("{scope}:assumed-role/trustcheck-audit")),
                "{identity}"
            );
            member_calls.push(s["api_calls"].as_u64().unwrap());
        }
    }
    // Requests per account stay constant, whatever the organisation's size.
    member_calls.dedup();
    assert_eq!(member_calls.len(), 1, "{member_calls:?}");
    let eve = format!("arn:aws:iam::{}:user/eve", members[7]);
    assert!(doc["entities"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["uid"]["id"] == eve.as_str()));

    // Judged, the refused account is an error in the report, never a pass or an absence.
    let judged = Command::cargo_bin("trustcheck")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["check", "--format", "json", "--snapshot"])
        .arg(&out)
        .assert()
        .code(2);
    let report: Value = serde_json::from_slice(&judged.get_output().stdout).unwrap();
    let refused_findings: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["resource"]["id"]
                .as_str()
                .unwrap()
                .starts_with(&format!("arn:aws:iam::{refused}:"))
        })
        .collect();
    assert!(!refused_findings.is_empty(), "{report:#}");
    assert!(
        refused_findings.iter().all(|f| f["status"] == "error"),
        "{refused_findings:#?}"
    );
    let table = Command::cargo_bin("trustcheck")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["check", "--snapshot"])
        .arg(&out)
        .assert()
        .code(2);
    let table = String::from_utf8_lossy(&table.get_output().stdout);
    assert!(table.contains(&refused), "{table}");
    assert!(table.contains("AccessDenied"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_center_from_the_config_file_is_judged() {
    use aws_sdk_ssoadmin::types::{PrincipalType, TargetType};

    let moto = Moto::start();
    let config = moto.config(DEFAULT_ACCOUNT).await;
    let sso = aws_sdk_ssoadmin::Client::new(&config);
    let instances = sso.list_instances().send().await.unwrap();
    let instance = &instances.instances()[0];
    let instance_arn = instance.instance_arn().unwrap().to_string();
    let bob = aws_sdk_identitystore::Client::new(&config)
        .create_user()
        .identity_store_id(instance.identity_store_id().unwrap())
        .user_name("bob")
        .display_name("Bob")
        .name(
            aws_sdk_identitystore::types::Name::builder()
                .given_name("Bob")
                .family_name("Example")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .user_id()
        .to_string();
    let admin = sso
        .create_permission_set()
        .instance_arn(&instance_arn)
        .name("AdministratorAccess")
        .session_duration("PT12H")
        .send()
        .await
        .unwrap()
        .permission_set()
        .unwrap()
        .permission_set_arn()
        .unwrap()
        .to_string();
    sso.attach_managed_policy_to_permission_set()
        .instance_arn(&instance_arn)
        .permission_set_arn(&admin)
        .managed_policy_arn("arn:aws:iam::aws:policy/AdministratorAccess")
        .send()
        .await
        .unwrap();
    sso.provision_permission_set()
        .instance_arn(&instance_arn)
        .permission_set_arn(&admin)
        .target_type(aws_sdk_ssoadmin::types::ProvisionTargetType::AllProvisionedAccounts)
        .send()
        .await
        .unwrap();
    sso.create_account_assignment()
        .instance_arn(&instance_arn)
        .permission_set_arn(&admin)
        .target_id(DEFAULT_ACCOUNT)
        .target_type(TargetType::AwsAccount)
        .principal_type(PrincipalType::User)
        .principal_id(&bob)
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::write(
        dir.path().join("trustcheck.toml"),
        "[collect.aws]\nidentity-center = true\n",
    )
    .unwrap();
    let run = trustcheck(&moto, dir.path())
        .current_dir(dir.path())
        .env_remove("TRUSTCHECK_CONFIG")
        .args(["check", "--collect", "aws", "--format", "json"])
        .assert();
    let out = run.get_output();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "aws {DEFAULT_ACCOUNT}: IAM Identity Center: 1 permission sets, 1 account assignments, 1 users, 0 groups"
        )),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let findings = report["findings"].as_array().unwrap();
    let of = |rule: &str| -> Vec<(&str, &str)> {
        findings
            .iter()
            .filter(|f| f["rule"] == rule)
            .map(|f| {
                (
                    f["resource"]["id"].as_str().unwrap(),
                    f["status"].as_str().unwrap(),
                )
            })
            .collect()
    };
    let ps = admin.rsplit('/').next().unwrap();
    let assigned = of("aws-idc-admin-assigned-to-groups");
    assert_eq!(assigned.len(), 1, "{assigned:?}");
    assert!(
        assigned[0]
            .0
            .ends_with(&format!("/assignment/{DEFAULT_ACCOUNT}/{ps}/user/{bob}")),
        "{assigned:?}"
    );
    assert_eq!(assigned[0].1, "fail");
    assert_eq!(
        of("aws-idc-admin-session-duration")
            .iter()
            .map(|f| f.1)
            .collect::<Vec<_>>(),
        ["fail"]
    );
    assert_eq!(
        of("aws-idc-no-admin-in-management-account")
            .iter()
            .map(|f| f.1)
            .collect::<Vec<_>>(),
        ["fail"]
    );
}
