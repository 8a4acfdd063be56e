//! What the bench binaries share: the generated mix, its 35 rules and the native baseline of the
//! same checks.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};

pub const NOW: &str = "2026-11-22T03:00:00Z";

/// A deterministic pseudo-random stream (xorshift), so every run judges the same data.
pub struct Rng(pub u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn days_ago(&mut self, max: u64) -> String {
        let days = self.next() % max;
        let t = time::macros::datetime!(2026-11-22 03:00 UTC) - time::Duration::days(days as i64);
        trustcheck::snapshot::format_utc(t)
    }
}

fn entity(t: &str, id: &str, attrs: Value, parents: &[(&str, &str)]) -> Value {
    json!({
        "uid": {"type": t, "id": id},
        "attrs": attrs,
        "parents": parents.iter().map(|(t, i)| json!({"type": t, "id": i})).collect::<Vec<_>>()
    })
}

/// Generates a snapshot with about `n` resources spread over every entity type.
pub fn generate(n: usize) -> Value {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(n + 300);
    let accounts = (n / 1000).max(1);
    let per = |share: usize| n * share / 100;
    for a in 0..accounts {
        let mut attrs = json!({
            "accountId": format!("{a:012}"), "rootMfaActive": rng.chance(80),
            "rootActiveAccessKeys": if rng.chance(10) { 1 } else { 0 }, "passwordPolicyExists": true,
            "passwordPolicy": {"minimumLength": if rng.chance(50) { 14 } else { 8 }, "requireUppercase": true,
              "requireLowercase": true, "requireNumbers": true, "requireSymbols": rng.chance(70),
              "reusePrevention": 24, "allowUsersToChangePassword": true}
        });
        if rng.chance(50) {
            attrs["rootPasswordLastUsed"] = rng.days_ago(400).into();
        }
        out.push(entity(
            "Aws::Account",
            &format!("arn:aws:iam::{a:012}:root"),
            attrs,
            &[],
        ));
    }
    let account_of = |i: usize| format!("arn:aws:iam::{:012}:root", i % accounts);
    for i in 0..per(20) {
        let acct = account_of(i);
        let console = rng.chance(60);
        let mut attrs = json!({
            "name": format!("user-{i}"), "createdAt": rng.days_ago(2000), "consoleAccess": console,
            "mfaActive": rng.chance(75), "mfaKind": if rng.chance(30) { "hardware" } else { "virtual" },
            "activeAccessKeys": rng.next() % 3, "attachedPolicyArns": [], "directFullAdmin": rng.chance(3)
        });
        if console {
            attrs["passwordLastUsed"] = rng.days_ago(200).into();
            attrs["passwordLastChanged"] = rng.days_ago(700).into();
        }
        let arn = format!("arn:aws:iam::{:012}:user/user-{i}", i % accounts);
        out.push(entity(
            "Aws::IamUser",
            &arn,
            attrs,
            &[("Aws::Account", &acct)],
        ));
        let mut key = json!({"slot": 1, "active": rng.chance(80), "createdAt": rng.days_ago(400)});
        if rng.chance(70) {
            key["lastUsed"] = rng.days_ago(200).into();
        }
        out.push(entity(
            "Aws::AccessKey",
            &format!("{arn}/access-key/1"),
            key,
            &[("Aws::IamUser", &arn)],
        ));
    }
    for i in 0..per(10) {
        let mut attrs = json!({
            "name": format!("role-{i}"), "createdAt": rng.days_ago(2000), "serviceLinked": rng.chance(10),
            "trustsAnyPrincipal": rng.chance(2),
            "attachedPolicyArns": if rng.chance(5) { vec!["arn:aws:iam::aws:policy/AdministratorAccess"] } else { vec![] }
        });
        if rng.chance(60) {
            attrs["lastUsed"] = rng.days_ago(400).into();
        }
        let id = format!("arn:aws:iam::{:012}:role/role-{i}", i % accounts);
        out.push(entity(
            "Aws::IamRole",
            &id,
            attrs,
            &[("Aws::Account", &account_of(i))],
        ));
    }
    for i in 0..per(10) {
        let kind = ["aws-managed", "customer-managed", "inline"][(rng.next() % 3) as usize];
        let attrs = json!({"name": format!("policy-{i}"), "kind": kind, "grantsFullAdmin": rng.chance(5),
            "attachmentCount": rng.next() % 4, "attachedUsers": []});
        let id = format!("arn:aws:iam::{:012}:policy/policy-{i}", i % accounts);
        out.push(entity(
            "Aws::IamPolicy",
            &id,
            attrs,
            &[("Aws::Account", &account_of(i))],
        ));
    }
    let orgs = accounts;
    for o in 0..orgs {
        out.push(entity("Github::Org", &format!("org-{o}"), json!({"login": format!("org-{o}"),
            "twoFactorRequirementEnabled": rng.chance(70), "defaultRepositoryPermission": if rng.chance(60) { "read" } else { "write" },
            "membersCanCreatePublicRepositories": rng.chance(40)}), &[]));
    }
    for i in 0..per(10) {
        let org = format!("org-{}", i % orgs);
        out.push(entity("Github::Member", &format!("{org}/member-{i}"), json!({"login": format!("member-{i}"),
            "role": if rng.chance(10) { "admin" } else { "member" }, "twoFactorDisabled": rng.chance(5)}), &[("Github::Org", &org)]));
    }
    let repos = per(10);
    for i in 0..repos {
        let org = format!("org-{}", i % orgs);
        let archived = rng.chance(10);
        let repo = format!("{org}/repo-{i}");
        out.push(entity("Github::Repo", &repo, json!({"fullName": repo, "archived": archived, "fork": rng.chance(10),
            "visibility": if rng.chance(20) { "public" } else { "private" }, "defaultBranch": "main"}), &[("Github::Org", &org)]));
        for (b, name) in ["main", "release"]
            .iter()
            .enumerate()
            .take(if i % 10 < 9 { 2 } else { 1 })
        {
            let protected = rng.chance(75);
            let reviews = if protected { rng.next() % 3 } else { 0 };
            out.push(entity("Github::Branch", &format!("{repo}:{name}"), json!({
                "name": name, "isDefault": b == 0, "repoArchived": archived, "protected": protected,
                "requiredApprovingReviews": reviews, "dismissStaleReviews": rng.chance(60),
                "requireCodeOwnerReview": rng.chance(50), "requiredStatusChecks": rng.chance(70),
                "forcePushesBlocked": protected && rng.chance(90), "deletionBlocked": protected && rng.chance(90),
                "adminsCanBypass": rng.chance(40), "requiredSignatures": rng.chance(20),
                "requiredLinearHistory": rng.chance(50), "protectionSources": if protected { vec!["classic"] } else { vec![] }
            }), &[("Github::Repo", &repo)]));
        }
    }
    out.sort_by(|a, b| {
        (a["uid"]["type"].as_str(), a["uid"]["id"].as_str())
            .cmp(&(b["uid"]["type"].as_str(), b["uid"]["id"].as_str()))
    });
    json!({"format": "trustcheck.snapshot/v1", "collected_at": NOW, "sources": [], "entities": out})
}

/// The benchmark's rules: (id, type, when, unless). Written to a temp folder as `.cedar` files and
/// mirrored one by one in [`native`].
pub const RULES: &[(&str, &str, &str, &str)] = &[
    ("b-root-mfa", "Aws::Account", "true", "resource has rootMfaActive && resource.rootMfaActive"),
    ("b-root-keys", "Aws::Account", "true", "resource has rootActiveAccessKeys && resource.rootActiveAccessKeys == 0"),
    ("b-pw-strong", "Aws::Account", "true", "resource has passwordPolicy && resource.passwordPolicy.minimumLength >= 14 && resource.passwordPolicy.requireSymbols && resource.passwordPolicy has reusePrevention && resource.passwordPolicy.reusePrevention >= 24"),
    ("b-pw-length", "Aws::Account", "true", "resource has passwordPolicy && resource.passwordPolicy.minimumLength >= 14"),
    ("b-root-unused", "Aws::Account", "resource has rootPasswordLastUsed", "context.now.durationSince(resource.rootPasswordLastUsed) > duration(\"90d\")"),
    ("b-console-mfa", "Aws::IamUser", "resource has consoleAccess && resource.consoleAccess", "resource has mfaActive && resource.mfaActive"),
    ("b-console-hw-mfa", "Aws::IamUser", "resource has consoleAccess && resource.consoleAccess", "resource has mfaKind && resource.mfaKind == \"hardware\""),
    ("b-direct-admin", "Aws::IamUser", "true", "resource has directFullAdmin && !resource.directFullAdmin"),
    ("b-one-key", "Aws::IamUser", "true", "resource has activeAccessKeys && resource.activeAccessKeys <= 1"),
    ("b-pw-used", "Aws::IamUser", "resource has passwordLastUsed", "context.now.durationSince(resource.passwordLastUsed) <= duration(\"90d\")"),
    ("b-pw-rotated", "Aws::IamUser", "resource has passwordLastChanged", "context.now.durationSince(resource.passwordLastChanged) <= duration(\"365d\")"),
    ("b-user-name", "Aws::IamUser", "true", "!(resource.name like \"*admin*\")"),
    ("b-key-90d", "Aws::AccessKey", "resource.active", "context.now.durationSince(resource.createdAt) <= duration(\"90d\")"),
    ("b-key-30d", "Aws::AccessKey", "resource.active", "context.now.durationSince(resource.createdAt) <= duration(\"30d\")"),
    ("b-key-unused", "Aws::AccessKey", "resource.active", "resource has lastUsed && context.now.durationSince(resource.lastUsed) <= duration(\"90d\")"),
    ("b-key-slot", "Aws::AccessKey", "true", "resource.slot == 1"),
    ("b-role-trust", "Aws::IamRole", "true", "resource has trustsAnyPrincipal && !resource.trustsAnyPrincipal"),
    ("b-role-used", "Aws::IamRole", "!resource.serviceLinked", "resource has lastUsed && context.now.durationSince(resource.lastUsed) <= duration(\"180d\")"),
    ("b-role-admin", "Aws::IamRole", "!resource.serviceLinked", "!resource.attachedPolicyArns.contains(\"arn:aws:iam::aws:policy/AdministratorAccess\")"),
    ("b-policy-admin", "Aws::IamPolicy", "resource.kind != \"aws-managed\"", "resource has grantsFullAdmin && !resource.grantsFullAdmin"),
    ("b-policy-attached", "Aws::IamPolicy", "resource.kind == \"customer-managed\"", "resource.attachmentCount > 0"),
    ("b-org-2fa", "Github::Org", "true", "resource has twoFactorRequirementEnabled && resource.twoFactorRequirementEnabled"),
    ("b-org-perm", "Github::Org", "true", "resource has defaultRepositoryPermission && (resource.defaultRepositoryPermission == \"read\" || resource.defaultRepositoryPermission == \"none\")"),
    ("b-org-public", "Github::Org", "true", "resource has membersCanCreatePublicRepositories && !resource.membersCanCreatePublicRepositories"),
    ("b-member-2fa", "Github::Member", "true", "resource has twoFactorDisabled && !resource.twoFactorDisabled"),
    ("b-admin-2fa", "Github::Member", "resource has role && resource.role == \"admin\"", "resource has twoFactorDisabled && !resource.twoFactorDisabled"),
    ("b-repo-private", "Github::Repo", "!resource.archived && !resource.fork", "resource.visibility != \"public\""),
    ("b-branch-protected", "Github::Branch", "resource.isDefault && !resource.repoArchived", "resource has protected && resource.protected"),
    ("b-branch-reviews", "Github::Branch", "resource.isDefault && !resource.repoArchived", "resource has requiredApprovingReviews && resource.requiredApprovingReviews >= 1"),
    ("b-branch-two", "Github::Branch", "resource.isDefault && !resource.repoArchived", "resource has requiredApprovingReviews && resource.requiredApprovingReviews >= 2"),
    ("b-branch-force", "Github::Branch", "resource.isDefault && !resource.repoArchived", "resource has forcePushesBlocked && resource.forcePushesBlocked"),
    ("b-branch-delete", "Github::Branch", "resource.isDefault && !resource.repoArchived", "resource has deletionBlocked && resource.deletionBlocked"),
    ("b-branch-owners", "Github::Branch", "resource.isDefault && !resource.repoArchived", "resource has requireCodeOwnerReview && resource.requireCodeOwnerReview"),
    ("b-branch-checks", "Github::Branch", "resource.isDefault && !resource.repoArchived", "resource has requiredStatusChecks && resource.requiredStatusChecks"),
    ("b-branch-bypass", "Github::Branch", "resource.isDefault && !resource.repoArchived", "resource has adminsCanBypass && !resource.adminsCanBypass"),
];

pub fn write_rules(dir: &Path) {
    for (id, t, when, unless) in RULES {
        let text = format!(
            "@id(\"{id}\")\n@soc2(\"CC6.1\")\n@severity(\"high\")\n@title(\"{id}\")\n@remediation(\"fix\")\n\
             forbid (principal, action, resource is {t})\nwhen {{ {when} }}\nunless {{ {unless} }};\n"
        );
        std::fs::write(dir.join(format!("{id}.cedar")), text).expect("temp dir is writable");
    }
}

// ---------------------------------------------------------------------------------------------
// The native baseline: the same checks as plain Rust over typed fields read from the same JSON.

struct Native {
    type_name: String,
    attrs: serde_json::Map<String, Value>,
}

fn ts(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_default();
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .unwrap_or(0)
}

pub fn native(text: &str) -> HashMap<&'static str, usize> {
    #[derive(serde::Deserialize)]
    struct Doc {
        entities: Vec<Raw>,
    }
    #[derive(serde::Deserialize)]
    struct Raw {
        uid: Uid,
        attrs: serde_json::Map<String, Value>,
    }
    #[derive(serde::Deserialize)]
    struct Uid {
        #[serde(rename = "type")]
        t: String,
    }
    let doc: Doc = serde_json::from_str(text).expect("generated JSON parses");
    let entities: Vec<Native> = doc
        .entities
        .into_iter()
        .map(|r| Native {
            type_name: r.uid.t,
            attrs: r.attrs,
        })
        .collect();
    let now = ts(&json!(NOW));
    let day = 86_400;
    let mut fails: HashMap<&'static str, usize> = HashMap::new();
    for e in &entities {
        let a = &e.attrs;
        let b = |k: &str| a.get(k).and_then(Value::as_bool);
        let l = |k: &str| a.get(k).and_then(Value::as_i64);
        let s = |k: &str| a.get(k).and_then(Value::as_str);
        let age = |k: &str| a.get(k).map(|v| now - ts(v));
        let mut fail = |id: &'static str, applies: bool, ok: bool| {
            if applies && !ok {
                *fails.entry(id).or_default() += 1;
            }
        };
        match e.type_name.as_str() {
            "Aws::Account" => {
                let pp = a.get("passwordPolicy");
                let pl = |k: &str| pp.and_then(|p| p.get(k)).and_then(Value::as_i64);
                fail("b-root-mfa", true, b("rootMfaActive") == Some(true));
                fail("b-root-keys", true, l("rootActiveAccessKeys") == Some(0));
                fail(
                    "b-pw-strong",
                    true,
                    pl("minimumLength").unwrap_or(0) >= 14
                        && pp
                            .and_then(|p| p.get("requireSymbols"))
                            .and_then(Value::as_bool)
                            == Some(true)
                        && pl("reusePrevention").unwrap_or(0) >= 24,
                );
                fail("b-pw-length", true, pl("minimumLength").unwrap_or(0) >= 14);
                fail(
                    "b-root-unused",
                    a.contains_key("rootPasswordLastUsed"),
                    age("rootPasswordLastUsed").unwrap_or(0) > 90 * day,
                );
            }
            "Aws::IamUser" => {
                let console = b("consoleAccess") == Some(true);
                fail("b-console-mfa", console, b("mfaActive") == Some(true));
                fail(
                    "b-console-hw-mfa",
                    console,
                    s("mfaKind") == Some("hardware"),
                );
                fail("b-direct-admin", true, b("directFullAdmin") == Some(false));
                fail(
                    "b-one-key",
                    true,
                    l("activeAccessKeys").is_some_and(|k| k <= 1),
                );
                fail(
                    "b-pw-used",
                    a.contains_key("passwordLastUsed"),
                    age("passwordLastUsed").unwrap_or(0) <= 90 * day,
                );
                fail(
                    "b-pw-rotated",
                    a.contains_key("passwordLastChanged"),
                    age("passwordLastChanged").unwrap_or(0) <= 365 * day,
                );
                fail(
                    "b-user-name",
                    true,
                    !s("name").unwrap_or("").contains("admin"),
                );
            }
            "Aws::AccessKey" => {
                let active = b("active") == Some(true);
                fail(
                    "b-key-90d",
                    active,
                    age("createdAt").unwrap_or(0) <= 90 * day,
                );
                fail(
                    "b-key-30d",
                    active,
                    age("createdAt").unwrap_or(0) <= 30 * day,
                );
                fail(
                    "b-key-unused",
                    active,
                    age("lastUsed").is_some_and(|d| d <= 90 * day),
                );
                fail("b-key-slot", true, l("slot") == Some(1));
            }
            "Aws::IamRole" => {
                let own = b("serviceLinked") == Some(false);
                fail("b-role-trust", true, b("trustsAnyPrincipal") == Some(false));
                fail(
                    "b-role-used",
                    own,
                    age("lastUsed").is_some_and(|d| d <= 180 * day),
                );
                let admin = a
                    .get("attachedPolicyArns")
                    .and_then(Value::as_array)
                    .is_some_and(|v| {
                        v.iter().any(|p| {
                            p.as_str() == Some("arn:aws:iam::aws:policy/AdministratorAccess")
                        })
                    });
                fail("b-role-admin", own, !admin);
            }
            "Aws::IamPolicy" => {
                fail(
                    "b-policy-admin",
                    s("kind") != Some("aws-managed"),
                    b("grantsFullAdmin") == Some(false),
                );
                fail(
                    "b-policy-attached",
                    s("kind") == Some("customer-managed"),
                    l("attachmentCount").unwrap_or(0) > 0,
                );
            }
            "Github::Org" => {
                fail(
                    "b-org-2fa",
                    true,
                    b("twoFactorRequirementEnabled") == Some(true),
                );
                fail(
                    "b-org-perm",
                    true,
                    matches!(s("defaultRepositoryPermission"), Some("read" | "none")),
                );
                fail(
                    "b-org-public",
                    true,
                    b("membersCanCreatePublicRepositories") == Some(false),
                );
            }
            "Github::Member" => {
                fail("b-member-2fa", true, b("twoFactorDisabled") == Some(false));
                fail(
                    "b-admin-2fa",
                    s("role") == Some("admin"),
                    b("twoFactorDisabled") == Some(false),
                );
            }
            "Github::Repo" => {
                fail(
                    "b-repo-private",
                    b("archived") == Some(false) && b("fork") == Some(false),
                    s("visibility") != Some("public"),
                );
            }
            "Github::Branch" => {
                let applies = b("isDefault") == Some(true) && b("repoArchived") == Some(false);
                fail("b-branch-protected", applies, b("protected") == Some(true));
                fail(
                    "b-branch-reviews",
                    applies,
                    l("requiredApprovingReviews").unwrap_or(0) >= 1,
                );
                fail(
                    "b-branch-two",
                    applies,
                    l("requiredApprovingReviews").unwrap_or(0) >= 2,
                );
                fail(
                    "b-branch-force",
                    applies,
                    b("forcePushesBlocked") == Some(true),
                );
                fail(
                    "b-branch-delete",
                    applies,
                    b("deletionBlocked") == Some(true),
                );
                fail(
                    "b-branch-owners",
                    applies,
                    b("requireCodeOwnerReview") == Some(true),
                );
                fail(
                    "b-branch-checks",
                    applies,
                    b("requiredStatusChecks") == Some(true),
                );
                fail(
                    "b-branch-bypass",
                    applies,
                    b("adminsCanBypass") == Some(false),
                );
            }
            _ => {}
        }
    }
    fails
}
