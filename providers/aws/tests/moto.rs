//! The collector against moto in server mode, through the real aws-sdk-iam and aws-sdk-sts:
//! scenarios are seeded with the SDK, collected, and the resulting facts checked.
//!
//! moto cannot backdate dates and its credential report has no `<root_account>` row; the
//! mapping's unit tests cover those on recorded payloads. Each test starts its own server.

// Tests and benchmarks assert: a value that is not there is a failed test, not input to handle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod support;

use std::collections::BTreeSet;

use aws_sdk_iam::Client;
use serde_json::{json, Map, Value};
use support::moto::{Moto, DEFAULT_ACCOUNT, SECRET};
use trustcheck_aws::{collect, AccountSnapshot, CollectOptions, Target};

const ADMIN: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const S3_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}"#;
const ADMINISTRATOR_ACCESS: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

/// Operations the collector may call: account-wide ones only, never one per user/role/policy.
const ACCOUNT_WIDE: [&str; 8] = [
    "GetCallerIdentity",
    "ListAccountAliases",
    "GetAccountAuthorizationDetails",
    "GenerateCredentialReport",
    "GetCredentialReport",
    "GetAccountSummary",
    "GetAccountPasswordPolicy",
    "ListVirtualMFADevices",
];

fn trust(principal: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":"sts:AssumeRole"}}]}}"#
    )
}

async fn user(iam: &Client, name: &str, console: bool) {
    iam.create_user().user_name(name).send().await.unwrap();
    if console {
        iam.create_login_profile()
            .user_name(name)
            .password("Correct-Horse-9!")
            .send()
            .await
            .unwrap();
    }
}

async fn access_key(iam: &Client, name: &str) {
    // The secret in the answer is dropped at once: tests never hold or print it.
    iam.create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
}

/// The scenarios of the issue: console users with and without MFA, admin attached directly and
/// through a group, an inline admin policy, roles trusting `*`, a weak password policy.
async fn seed_scenarios(iam: &Client) {
    iam.update_account_password_policy()
        .minimum_password_length(8)
        .require_numbers(true)
        .send()
        .await
        .unwrap();

    user(iam, "alice", true).await;
    let device = iam
        .create_virtual_mfa_device()
        .virtual_mfa_device_name("alice")
        .send()
        .await
        .unwrap();
    let serial = device
        .virtual_mfa_device()
        .unwrap()
        .serial_number()
        .to_string();
    iam.enable_mfa_device()
        .user_name("alice")
        .serial_number(serial)
        .authentication_code1("123456")
        .authentication_code2("654321")
        .send()
        .await
        .unwrap();

    user(iam, "bob", true).await;
    iam.attach_user_policy()
        .user_name("bob")
        .policy_arn(ADMINISTRATOR_ACCESS)
        .send()
        .await
        .unwrap();
    access_key(iam, "bob").await;
    access_key(iam, "bob").await;

    user(iam, "carol", false).await;
    iam.create_group()
        .group_name("admins")
        .send()
        .await
        .unwrap();
    iam.attach_group_policy()
        .group_name("admins")
        .policy_arn(ADMINISTRATOR_ACCESS)
        .send()
        .await
        .unwrap();
    iam.add_user_to_group()
        .group_name("admins")
        .user_name("carol")
        .send()
        .await
        .unwrap();
    access_key(iam, "carol").await;

    user(iam, "dave", false).await;
    iam.put_user_policy()
        .user_name("dave")
        .policy_name("everything")
        .policy_document(ADMIN)
        .send()
        .await
        .unwrap();

    let s3_read = iam
        .create_policy()
        .policy_name("s3-read")
        .policy_document(S3_READ)
        .send()
        .await
        .unwrap();
    let s3_read_arn = s3_read.policy().unwrap().arn().unwrap().to_string();
    iam.create_group().group_name("devs").send().await.unwrap();
    iam.attach_group_policy()
        .group_name("devs")
        .policy_arn(&s3_read_arn)
        .send()
        .await
        .unwrap();
    user(iam, "erin", true).await;
    iam.add_user_to_group()
        .group_name("devs")
        .user_name("erin")
        .send()
        .await
        .unwrap();
    iam.create_policy()
        .policy_name("break-glass")
        .policy_document(ADMIN)
        .send()
        .await
        .unwrap();

    for (name, principal) in [
        ("open-to-all", r#"{"AWS":"*"}"#),
        ("star-principal", r#""*""#),
        ("ec2-app", r#"{"Service":"ec2.amazonaws.com"}"#),
    ] {
        iam.create_role()
            .role_name(name)
            .assume_role_policy_document(trust(principal))
            .send()
            .await
            .unwrap();
    }
    iam.put_role_policy()
        .role_name("ec2-app")
        .policy_name("read")
        .policy_document(S3_READ)
        .send()
        .await
        .unwrap();
    iam.create_policy()
        .policy_name("pass-roles")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"Pass","Effect":"Allow","Action":"iam:Pass*","Resource":"*","Condition":{"StringEquals":{"iam:PassedToService":"ec2.amazonaws.com"}}}]}"#,
        )
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("star-principal")
        .policy_arn(ADMINISTRATOR_ACCESS)
        .send()
        .await
        .unwrap();
}

fn entity<'a>(s: &'a AccountSnapshot, type_name: &str, id: &str) -> &'a Map<String, Value> {
    &s.entities
        .iter()
        .find(|e| e.uid.type_name == type_name && e.uid.id == id)
        .unwrap_or_else(|| {
            panic!(
                "no {type_name} {id} in {:#?}",
                s.entities.iter().map(|e| &e.uid).collect::<Vec<_>>()
            )
        })
        .attrs
}

async fn collect_current(moto: &Moto, account: &str) -> AccountSnapshot {
    let base = moto.config(account).await;
    let mut accounts = collect(&base, &CollectOptions::default()).await.unwrap();
    assert_eq!(accounts.len(), 1);
    accounts.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_scenarios_become_facts() {
    let moto = Moto::shared();
    let config = moto.config("111111111111").await;
    seed_scenarios(&Client::new(&config)).await;

    let s = collect_current(moto, "111111111111").await;
    let a = "arn:aws:iam::111111111111";
    assert_eq!(s.account_id, "111111111111");
    assert!(s
        .identity
        .as_deref()
        .is_some_and(|i| i.starts_with("arn:aws:sts::111111111111:")));

    let account = entity(&s, "Aws::Account", &format!("{a}:root"));
    assert_eq!(account["passwordPolicyExists"], json!(true));
    assert_eq!(account["passwordPolicy"]["minimumLength"], json!(8));
    assert_eq!(account["passwordPolicy"]["requireSymbols"], json!(false));
    // moto's report has no root row; GetAccountSummary answers for root.
    assert_eq!(account["rootMfaActive"], json!(false));
    assert_eq!(account["rootActiveAccessKeys"], json!(0));

    let alice = entity(&s, "Aws::IamUser", &format!("{a}:user/alice"));
    assert_eq!(
        (
            &alice["consoleAccess"],
            &alice["mfaActive"],
            &alice["mfaKind"]
        ),
        (&json!(true), &json!(true), &json!("virtual"))
    );
    let bob = entity(&s, "Aws::IamUser", &format!("{a}:user/bob"));
    assert_eq!(
        (
            &bob["consoleAccess"],
            &bob["mfaActive"],
            &bob["directFullAdmin"],
            &bob["activeAccessKeys"]
        ),
        (&json!(true), &json!(false), &json!(true), &json!(2))
    );
    assert_eq!(bob["attachedPolicyArns"], json!([ADMINISTRATOR_ACCESS]));
    let carol = entity(&s, "Aws::IamUser", &format!("{a}:user/carol"));
    assert_eq!(
        (&carol["consoleAccess"], &carol["directFullAdmin"]),
        (&json!(false), &json!(false))
    );
    let dave = entity(&s, "Aws::IamUser", &format!("{a}:user/dave"));
    assert_eq!(dave["directFullAdmin"], json!(true));
    assert_eq!(dave["inlinePolicyNames"], json!(["everything"]));
    let carol = entity(&s, "Aws::IamUser", &format!("{a}:user/carol"));
    assert_eq!(
        (&carol["groupFullAdmin"], &carol["directFullAdmin"]),
        (&json!(true), &json!(false))
    );
    let carol_key = entity(
        &s,
        "Aws::AccessKey",
        &format!("{a}:user/carol/access-key/1"),
    );
    assert_eq!(carol_key["ownerConsoleAccess"], json!(false));
    let erin = entity(&s, "Aws::IamUser", &format!("{a}:user/erin"));
    assert_eq!(
        (&erin["consoleAccess"], &erin["mfaKind"]),
        (&json!(true), &json!("none"))
    );
    let key = entity(&s, "Aws::AccessKey", &format!("{a}:user/bob/access-key/2"));
    assert_eq!(key["active"], json!(true));

    assert_eq!(
        entity(&s, "Aws::IamGroup", &format!("{a}:group/admins"))["grantsFullAdmin"],
        json!(true)
    );
    assert_eq!(
        entity(&s, "Aws::IamGroup", &format!("{a}:group/devs"))["grantsFullAdmin"],
        json!(false)
    );
    let carol_uid = s
        .entities
        .iter()
        .find(|e| e.uid.id == format!("{a}:user/carol"))
        .unwrap();
    assert!(carol_uid
        .parents
        .iter()
        .any(|p| p.id == format!("{a}:group/admins")));

    assert_eq!(
        entity(&s, "Aws::IamRole", &format!("{a}:role/open-to-all"))["trustsAnyPrincipal"],
        json!(true)
    );
    assert_eq!(
        entity(&s, "Aws::IamRole", &format!("{a}:role/star-principal"))["trustsAnyPrincipal"],
        json!(true)
    );
    assert_eq!(
        entity(&s, "Aws::IamRole", &format!("{a}:role/ec2-app"))["trustsAnyPrincipal"],
        json!(false)
    );
    let vendor = entity(
        &s,
        "Aws::TrustStatement",
        &format!("{a}:role/open-to-all/trust-statement/0"),
    );
    assert_eq!(
        (&vendor["principalAccounts"], &vendor["trustsOtherAccounts"]),
        (&json!(["*"]), &json!(true))
    );
    let ec2 = entity(
        &s,
        "Aws::TrustStatement",
        &format!("{a}:role/ec2-app/trust-statement/0"),
    );
    assert_eq!(ec2["principalServices"], json!(["ec2.amazonaws.com"]));
    // Statements are entities of their policy, wildcards resolved against the sensitive list.
    let pass = entity(
        &s,
        "Aws::PolicyStatement",
        &format!("{a}:policy/pass-roles/statement/0"),
    );
    assert_eq!(pass["sid"], json!("Pass"));
    assert_eq!(pass["sensitiveActionsAllowed"], json!(["iam:PassRole"]));
    assert_eq!(pass["conditionKeys"], json!(["iam:passedtoservice"]));
    // AWS-managed AdministratorAccess attached to a role, and a read-only inline policy.
    assert_eq!(
        entity(&s, "Aws::IamRole", &format!("{a}:role/star-principal"))["grantsFullAdmin"],
        json!(true)
    );
    assert_eq!(
        entity(&s, "Aws::IamRole", &format!("{a}:role/ec2-app"))["grantsFullAdmin"],
        json!(false)
    );

    let admin = entity(
        &s,
        "Aws::IamPolicy",
        &format!("{a}:root/aws-managed-policy/AdministratorAccess"),
    );
    assert_eq!(
        (&admin["kind"], &admin["grantsFullAdmin"]),
        (&json!("aws-managed"), &json!(true))
    );
    assert_eq!(admin["attachedUsers"], json!([format!("{a}:user/bob")]));
    let glass = entity(&s, "Aws::IamPolicy", &format!("{a}:policy/break-glass"));
    assert_eq!(
        (&glass["kind"], &glass["grantsFullAdmin"]),
        (&json!("customer-managed"), &json!(true))
    );
    assert_eq!(
        entity(&s, "Aws::IamPolicy", &format!("{a}:policy/s3-read"))["grantsFullAdmin"],
        json!(false)
    );
    let inline = entity(
        &s,
        "Aws::IamPolicy",
        &format!("{a}:user/dave/inline-policy/everything"),
    );
    assert_eq!(
        (&inline["kind"], &inline["grantsFullAdmin"]),
        (&json!("inline"), &json!(true))
    );
    // The ~1,300 AWS-managed policies moto knows, unattached here, are left out.
    let aws_managed = s
        .entities
        .iter()
        .filter(|e| {
            e.uid.type_name == "Aws::IamPolicy" && e.uid.id.contains("/aws-managed-policy/")
        })
        .count();
    assert_eq!(aws_managed, 1);

    // The one fact moto cannot give: when root last signed in (no root row).
    let unknown: Vec<(&str, &str)> = s
        .errors
        .iter()
        .map(|e| (e.entity.id.as_str(), e.fact.as_str()))
        .collect();
    assert_eq!(
        unknown,
        [(format!("{a}:root").as_str(), "rootPasswordLastUsed")]
    );

    // O(pages): only account-wide operations, one page each here.
    let operations: BTreeSet<&str> = s.calls_by_operation.keys().map(String::as_str).collect();
    assert_eq!(operations, ACCOUNT_WIDE.into_iter().collect());
    for op in ACCOUNT_WIDE
        .iter()
        .filter(|op| **op != "GenerateCredentialReport")
    {
        assert_eq!(s.calls_by_operation[*op], 1, "{op}");
    }
    let logical: u64 = s.calls_by_operation.values().sum();
    assert_eq!(s.api_calls, logical, "every request counted, none retried");

    let text = serde_json::to_string(&s).unwrap();
    assert!(
        !text.contains(SECRET),
        "the secret key leaked into the snapshot"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_account_has_no_password_policy_and_no_users() {
    let moto = Moto::shared();
    let s = collect_current(moto, "222222222222").await;
    let account = entity(&s, "Aws::Account", "arn:aws:iam::222222222222:root");
    // NoSuchEntity is a fact, not an error.
    assert_eq!(account["passwordPolicyExists"], json!(false));
    assert!(!account.contains_key("passwordPolicy"));
    assert_eq!(s.entities.len(), 1, "{:#?}", s.entities);
    assert_eq!(
        s.errors.len(),
        1,
        "only rootPasswordLastUsed: {:#?}",
        s.errors
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_is_recorded_per_fact_and_the_rest_is_collected() {
    let moto = Moto::start();
    let admin = Client::new(&moto.config(DEFAULT_ACCOUNT).await);
    seed_scenarios(&admin).await;
    // An auditor allowed to read IAM, except the password policy and the MFA device list.
    user(&admin, "auditor", false).await;
    admin
        .put_user_policy()
        .user_name("auditor")
        .policy_name("audit")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":["iam:Get*","iam:List*","iam:GenerateCredentialReport","sts:GetCallerIdentity"],"Resource":"*"},
                {"Effect":"Deny","Action":["iam:GetAccountPasswordPolicy","iam:ListVirtualMFADevices"],"Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let key = admin
        .create_access_key()
        .user_name("auditor")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let (key_id, secret) = (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    );
    moto.enforce_iam();

    let base = moto.config_with_key(&key_id, &secret).await;
    let s = collect(&base, &CollectOptions::default())
        .await
        .unwrap()
        .remove(0);
    let a = "arn:aws:iam::123456789012";
    let denied: BTreeSet<(&str, &str)> = s
        .errors
        .iter()
        .filter(|e| e.reason.contains("AccessDenied"))
        .map(|e| (e.entity.id.as_str(), e.fact.as_str()))
        .collect();
    let root = format!("{a}:root");
    let alice = format!("{a}:user/alice");
    assert!(
        denied.contains(&(root.as_str(), "passwordPolicyExists")),
        "{denied:?}"
    );
    assert!(
        denied.contains(&(root.as_str(), "passwordPolicy")),
        "{denied:?}"
    );
    // Alice has MFA, so its kind needs the device list; bob has none, so his is known.
    assert!(denied.contains(&(alice.as_str(), "mfaKind")), "{denied:?}");
    assert_eq!(
        entity(&s, "Aws::IamUser", &format!("{a}:user/bob"))["mfaKind"],
        json!("none")
    );
    let account = entity(&s, "Aws::Account", &root);
    assert!(!account.contains_key("passwordPolicyExists"));
    // Everything else still came through.
    assert_eq!(entity(&s, "Aws::IamUser", &alice)["mfaActive"], json!(true));
    assert_eq!(
        entity(&s, "Aws::IamRole", &format!("{a}:role/open-to-all"))["trustsAnyPrincipal"],
        json!(true)
    );
    let text = serde_json::to_string(&s).unwrap();
    assert!(
        !text.contains(&secret),
        "the secret key leaked into the snapshot"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assumed_roles_collect_each_account_as_its_own_source() {
    let moto = Moto::shared();
    for account in ["444444444444", "555555555555"] {
        let iam = Client::new(&moto.config(account).await);
        iam.create_role()
            .role_name("trustcheck-audit")
            .assume_role_policy_document(trust(r#"{"AWS":"arn:aws:iam::123456789012:root"}"#))
            .send()
            .await
            .unwrap();
        user(&iam, &format!("user-of-{account}"), true).await;
    }
    let base = moto.config(DEFAULT_ACCOUNT).await;
    let options = CollectOptions {
        targets: vec![
            Target::Role("arn:aws:iam::444444444444:role/trustcheck-audit".into()),
            Target::Role("arn:aws:iam::555555555555:role/trustcheck-audit".into()),
        ],
        external_id: Some("acme-audit".into()),
        ..CollectOptions::default()
    };
    let accounts = collect(&base, &options).await.unwrap();
    assert_eq!(accounts.len(), 2);
    for (s, account) in accounts.iter().zip(["444444444444", "555555555555"]) {
        assert_eq!(s.account_id, account);
        assert!(
            s.identity
                .as_deref()
                .is_some_and(|i| i.contains(&format!("{account}:assumed-role/trustcheck-audit"))),
            "{:?}",
            s.identity
        );
        entity(
            s,
            "Aws::IamUser",
            &format!("arn:aws:iam::{account}:user/user-of-{account}"),
        );
        // Each account sees only its own users.
        assert_eq!(
            s.entities
                .iter()
                .filter(|e| e.uid.type_name == "Aws::IamUser")
                .count(),
            1
        );
        assert_eq!(s.calls_by_operation["AssumeRole"], 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_credentials_stop_the_run_with_a_reason() {
    let moto = Moto::start();
    moto.enforce_iam();
    // moto rejects a key it never issued once IAM is enforced.
    let base = moto.config_with_key("AKIAIOSFODNN7EXAMPLE", SECRET).await;
    let err = collect(&base, &CollectOptions::default())
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("cannot identify the AWS credentials: GetCallerIdentity"),
        "{message}"
    );
    assert!(!message.contains(SECRET), "{message}");
}

/// The `sso-admin` and `identitystore` calls `--identity-center` may make.
const IDENTITY_CENTER_CALLS: [&str; 11] = [
    "ListInstances",
    "ListPermissionSets",
    "DescribePermissionSet",
    "ListManagedPoliciesInPermissionSet",
    "ListCustomerManagedPolicyReferencesInPermissionSet",
    "GetInlinePolicyForPermissionSet",
    "ListAccountsForProvisionedPermissionSet",
    "ListAccountAssignments",
    "ListUsers",
    "ListGroups",
    "ListGroupMemberships",
];

/// A permission set in `instance`, provisioned (moto provisions to the caller's account only).
async fn permission_set(
    sso: &aws_sdk_ssoadmin::Client,
    instance: &str,
    name: &str,
    session: &str,
    managed: Option<&str>,
    inline: Option<&str>,
    customer_managed: Option<&str>,
) -> String {
    let created = sso
        .create_permission_set()
        .instance_arn(instance)
        .name(name)
        .session_duration(session)
        .send()
        .await
        .unwrap();
    let arn = created
        .permission_set()
        .unwrap()
        .permission_set_arn()
        .unwrap()
        .to_string();
    if let Some(policy) = managed {
        sso.attach_managed_policy_to_permission_set()
            .instance_arn(instance)
            .permission_set_arn(&arn)
            .managed_policy_arn(policy)
            .send()
            .await
            .unwrap();
    }
    if let Some(document) = inline {
        sso.put_inline_policy_to_permission_set()
            .instance_arn(instance)
            .permission_set_arn(&arn)
            .inline_policy(document)
            .send()
            .await
            .unwrap();
    }
    if let Some(name) = customer_managed {
        sso.attach_customer_managed_policy_reference_to_permission_set()
            .instance_arn(instance)
            .permission_set_arn(&arn)
            .customer_managed_policy_reference(
                aws_sdk_ssoadmin::types::CustomerManagedPolicyReference::builder()
                    .name(name)
                    .path("/")
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
    sso.provision_permission_set()
        .instance_arn(instance)
        .permission_set_arn(&arn)
        .target_type(aws_sdk_ssoadmin::types::ProvisionTargetType::AllProvisionedAccounts)
        .send()
        .await
        .unwrap();
    arn
}

async fn assign(
    sso: &aws_sdk_ssoadmin::Client,
    instance: &str,
    permission_set: &str,
    account: &str,
    principal_type: aws_sdk_ssoadmin::types::PrincipalType,
    principal: &str,
) {
    sso.create_account_assignment()
        .instance_arn(instance)
        .permission_set_arn(permission_set)
        .target_id(account)
        .target_type(aws_sdk_ssoadmin::types::TargetType::AwsAccount)
        .principal_type(principal_type)
        .principal_id(principal)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_center_permission_sets_assignments_users_and_groups_become_facts() {
    use aws_sdk_ssoadmin::types::PrincipalType;

    let moto = Moto::shared();
    let account = "333333333333";
    let config = moto.config(account).await;
    let sso = aws_sdk_ssoadmin::Client::new(&config);
    let store = aws_sdk_identitystore::Client::new(&config);
    let instances = sso.list_instances().send().await.unwrap();
    let instance = &instances.instances()[0];
    let (instance_arn, store_id) = (
        instance.instance_arn().unwrap().to_string(),
        instance.identity_store_id().unwrap().to_string(),
    );
    // 105 users: ListUsers answers in two pages of at most 100.
    let mut user_ids = Vec::new();
    for i in 0..105 {
        let name = match i {
            0 => "alice".to_string(),
            1 => "bob".to_string(),
            n => format!("user{n:03}"),
        };
        let created = store
            .create_user()
            .identity_store_id(&store_id)
            .user_name(&name)
            .display_name(&name)
            .name(
                aws_sdk_identitystore::types::Name::builder()
                    .given_name(&name)
                    .family_name("Example")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        user_ids.push(created.user_id().to_string());
    }
    let (alice, bob) = (user_ids[0].clone(), user_ids[1].clone());
    let admins = store
        .create_group()
        .identity_store_id(&store_id)
        .display_name("aws-admins")
        .send()
        .await
        .unwrap()
        .group_id()
        .to_string();
    store
        .create_group_membership()
        .identity_store_id(&store_id)
        .group_id(&admins)
        .member_id(aws_sdk_identitystore::types::MemberId::UserId(
            alice.clone(),
        ))
        .send()
        .await
        .unwrap();

    let admin = permission_set(
        &sso,
        &instance_arn,
        "AdministratorAccess",
        "PT12H",
        Some(ADMINISTRATOR_ACCESS),
        None,
        None,
    )
    .await;
    let read_only = permission_set(
        &sso,
        &instance_arn,
        "ReadOnly",
        "PT8H",
        Some("arn:aws:iam::aws:policy/ReadOnlyAccess"),
        None,
        None,
    )
    .await;
    let inline_admin = permission_set(
        &sso,
        &instance_arn,
        "Platform",
        "PT1H",
        None,
        Some(ADMIN),
        None,
    )
    .await;
    // Customer-managed policies live in the account: one grants administration, one does not,
    // and one is referenced but was never created there.
    let iam = Client::new(&config);
    for (name, document) in [("platform-admin", ADMIN), ("s3-read", S3_READ)] {
        iam.create_policy()
            .policy_name(name)
            .policy_document(document)
            .send()
            .await
            .unwrap();
    }
    let custom = permission_set(
        &sso,
        &instance_arn,
        "Custom",
        "PT2H",
        None,
        Some(S3_READ),
        Some("platform-admin"),
    )
    .await;
    let scoped = permission_set(
        &sso,
        &instance_arn,
        "Scoped",
        "PT2H",
        None,
        None,
        Some("s3-read"),
    )
    .await;
    let dangling = permission_set(
        &sso,
        &instance_arn,
        "Dangling",
        "PT2H",
        None,
        None,
        Some("never-created"),
    )
    .await;
    assign(
        &sso,
        &instance_arn,
        &admin,
        account,
        PrincipalType::Group,
        &admins,
    )
    .await;
    assign(
        &sso,
        &instance_arn,
        &admin,
        account,
        PrincipalType::User,
        &bob,
    )
    .await;
    assign(
        &sso,
        &instance_arn,
        &read_only,
        account,
        PrincipalType::User,
        &alice,
    )
    .await;
    assign(
        &sso,
        &instance_arn,
        &custom,
        account,
        PrincipalType::User,
        &bob,
    )
    .await;
    for scoped_or_dangling in [&scoped, &dangling] {
        assign(
            &sso,
            &instance_arn,
            scoped_or_dangling,
            account,
            PrincipalType::User,
            &bob,
        )
        .await;
    }

    let options = CollectOptions {
        identity_center: true,
        ..CollectOptions::default()
    };
    let s = collect(&config, &options).await.unwrap().remove(0);
    let ins = instance_arn.rsplit('/').next().unwrap();
    let p = format!("arn:aws:iam::{account}:root/identity-center/{ins}/");
    let ps = |arn: &str| format!("{p}permission-set/{}", arn.rsplit('/').next().unwrap());

    let a = entity(&s, "Aws::PermissionSet", &ps(&admin));
    assert_eq!(a["name"], json!("AdministratorAccess"));
    assert_eq!(a["arn"], json!(admin));
    assert_eq!(a["sessionDuration"], json!("12h"));
    assert_eq!(a["grantsFullAdmin"], json!(true));
    assert_eq!(a["managedPolicyArns"], json!([ADMINISTRATOR_ACCESS]));
    assert_eq!(a["provisionedAccounts"], json!([account]));
    let r = entity(&s, "Aws::PermissionSet", &ps(&read_only));
    assert_eq!(r["grantsFullAdmin"], json!(false));
    assert_eq!(r["hasInlinePolicy"], json!(false));
    let i = entity(&s, "Aws::PermissionSet", &ps(&inline_admin));
    assert_eq!(i["grantsFullAdmin"], json!(true));
    assert_eq!(i["hasInlinePolicy"], json!(true));
    // Customer-managed policies are judged in the account they live in, read in the same run.
    let c = entity(&s, "Aws::PermissionSet", &ps(&custom));
    assert_eq!(c["customerManagedPolicies"], json!(["/platform-admin"]));
    assert_eq!(c["grantsFullAdmin"], json!(true));
    assert_eq!(
        entity(&s, "Aws::PermissionSet", &ps(&scoped))["grantsFullAdmin"],
        json!(false)
    );
    // Referenced but not in the account: unknown, with the reason.
    assert!(!entity(&s, "Aws::PermissionSet", &ps(&dangling)).contains_key("grantsFullAdmin"));
    let reason = &s
        .errors
        .iter()
        .find(|e| e.entity.id == ps(&dangling) && e.fact == "grantsFullAdmin")
        .unwrap()
        .reason;
    assert!(
        reason.contains(&format!("arn:aws:iam::{account}:policy/never-created")),
        "{reason}"
    );

    let assignment = |arn: &str, kind: &str, principal: &str| {
        format!(
            "{p}assignment/{account}/{}/{kind}/{principal}",
            arn.rsplit('/').next().unwrap()
        )
    };
    let direct = entity(
        &s,
        "Aws::AccountAssignment",
        &assignment(&admin, "user", &bob),
    );
    assert_eq!(direct["principalType"], json!("USER"));
    assert_eq!(direct["principalName"], json!("bob"));
    assert_eq!(direct["permissionSetName"], json!("AdministratorAccess"));
    assert_eq!(direct["permissionSetGrantsFullAdmin"], json!(true));
    assert_eq!(direct["inInstanceOwnerAccount"], json!(true));
    let group = entity(
        &s,
        "Aws::AccountAssignment",
        &assignment(&admin, "group", &admins),
    );
    assert_eq!(group["principalName"], json!("aws-admins"));
    assert_eq!(
        entity(
            &s,
            "Aws::AccountAssignment",
            &assignment(&read_only, "user", &alice)
        )["permissionSetGrantsFullAdmin"],
        json!(false)
    );
    assert_eq!(
        entity(
            &s,
            "Aws::AccountAssignment",
            &assignment(&custom, "user", &bob)
        )["permissionSetGrantsFullAdmin"],
        json!(true)
    );
    assert!(s
        .errors
        .iter()
        .any(|e| e.entity.id == assignment(&dangling, "user", &bob)
            && e.fact == "permissionSetGrantsFullAdmin"));

    let users = s
        .entities
        .iter()
        .filter(|e| e.uid.type_name == "Aws::IdentityCenterUser")
        .count();
    assert_eq!(users, 105);
    let alice_user = s
        .entities
        .iter()
        .find(|e| e.uid.id == format!("{p}user/{alice}"))
        .unwrap();
    assert_eq!(alice_user.attrs["userName"], json!("alice"));
    assert_eq!(alice_user.attrs["groupNames"], json!(["aws-admins"]));
    assert!(alice_user
        .parents
        .iter()
        .any(|g| g.id == format!("{p}group/{admins}")));
    assert_eq!(
        entity(
            &s,
            "Aws::IdentityCenterGroup",
            &format!("{p}group/{admins}")
        )["memberCount"],
        json!(1)
    );

    // Calls: a fixed few per instance, five per permission set, one listing per (permission
    // set, account) and per group; users in pages.
    let calls = &s.calls_by_operation;
    let n = |op: &str| calls.get(op).copied().unwrap_or_default();
    for op in IDENTITY_CENTER_CALLS {
        assert!(n(op) > 0, "{op} not called: {calls:?}");
    }
    for op in calls.keys() {
        assert!(
            ACCOUNT_WIDE.contains(&op.as_str()) || IDENTITY_CENTER_CALLS.contains(&op.as_str()),
            "unexpected operation {op}"
        );
    }
    assert_eq!(n("ListInstances"), 1);
    assert_eq!(n("ListPermissionSets"), 1);
    for op in [
        "DescribePermissionSet",
        "ListManagedPoliciesInPermissionSet",
        "ListCustomerManagedPolicyReferencesInPermissionSet",
        "GetInlinePolicyForPermissionSet",
        "ListAccountsForProvisionedPermissionSet",
        "ListAccountAssignments",
    ] {
        assert_eq!(n(op), 6, "{op}: {calls:?}");
    }
    assert_eq!(n("ListUsers"), 2, "105 users in pages of 100");
    assert_eq!(n("ListGroups"), 1);
    assert_eq!(n("ListGroupMemberships"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_center_is_read_only_when_asked_and_denied_calls_are_unknown_facts() {
    let moto = Moto::start();
    let admin = Client::new(&moto.config(DEFAULT_ACCOUNT).await);
    // Without --identity-center no sso-admin or identitystore call is made.
    let s = collect(
        &moto.config(DEFAULT_ACCOUNT).await,
        &CollectOptions::default(),
    )
    .await
    .unwrap()
    .remove(0);
    for op in IDENTITY_CENTER_CALLS {
        assert!(!s.calls_by_operation.contains_key(op), "{op}");
    }
    // An auditor allowed IAM and STS, not Identity Center.
    user(&admin, "auditor", false).await;
    admin
        .put_user_policy()
        .user_name("auditor")
        .policy_name("audit")
        .policy_document(
            r#"{"Version":"2012-10-17","Statement":[
                {"Effect":"Allow","Action":["iam:Get*","iam:List*","iam:GenerateCredentialReport","sts:GetCallerIdentity"],"Resource":"*"}]}"#,
        )
        .send()
        .await
        .unwrap();
    let key = admin
        .create_access_key()
        .user_name("auditor")
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    let (key_id, secret) = (
        key.access_key_id().to_string(),
        key.secret_access_key().to_string(),
    );
    moto.enforce_iam();
    let options = CollectOptions {
        identity_center: true,
        ..CollectOptions::default()
    };
    let s = collect(&moto.config_with_key(&key_id, &secret).await, &options)
        .await
        .unwrap()
        .remove(0);
    let unread: BTreeSet<&str> = s
        .errors
        .iter()
        .filter(|e| e.fact == "*" && e.entity.id.contains("/identity-center/"))
        .inspect(|e| {
            assert!(
                e.reason.starts_with("ListInstances: ") && e.reason.contains("AccessDenied"),
                "{}",
                e.reason
            );
        })
        .map(|e| e.entity.type_name.as_str())
        .collect();
    assert_eq!(
        unread,
        BTreeSet::from([
            "Aws::AccountAssignment",
            "Aws::IdentityCenterGroup",
            "Aws::IdentityCenterUser",
            "Aws::PermissionSet"
        ])
    );
    // IAM was still read.
    assert!(s.entities.iter().any(|e| e.uid.type_name == "Aws::IamUser"));
}
