//! The GitHub provider end to end: real octocrab against the fake GitHub, then the real engine
//! judging the snapshot: every protection case, missing rights and failed requests are the
//! findings they must be (errors, never passes).

use serde_json::{json, Value};
use trustcheck::engine;
use trustcheck::entities::{Input, Store};
use trustcheck::findings::{Finding, Status};
use trustcheck::rules::{builtin_sources, RuleSet};
use trustcheck::schema::SchemaSet;
use trustcheck::snapshot::Snapshot;

use wiremock::matchers::{method, path};
use wiremock::Mock;

use crate::github_fake::{config, fixture_json, reply, run, to_snapshot, Fake, TOKEN};

fn judge(snapshot: &Snapshot) -> Vec<Finding> {
    let schema = SchemaSet::builtin().unwrap();
    let rules = RuleSet::load(builtin_sources(), &schema).unwrap();
    let store = Store::load(vec![Input::in_memory("github", snapshot.clone())], &schema).unwrap();
    engine::evaluate(&rules, &store).unwrap()
}

fn status(findings: &[Finding], rule: &str, id: &str) -> Status {
    findings
        .iter()
        .find(|f| &*f.rule == rule && f.resource.id == id)
        .unwrap_or_else(|| panic!("no finding of {rule} on {id}"))
        .status
}

fn entity<'a>(s: &'a Snapshot, type_name: &str, id: &str) -> &'a serde_json::Map<String, Value> {
    &s.entities
        .iter()
        .find(|e| e.uid.type_name == type_name && e.uid.id == id)
        .unwrap_or_else(|| panic!("no {type_name} {id}"))
        .attrs
}

fn branch<'a>(s: &'a Snapshot, repo: &str) -> &'a serde_json::Map<String, Value> {
    entity(s, "Github::Branch", &format!("acme/{repo}:main"))
}

/// The default-branch rules: "protected" first, then the requirements.
const BRANCH_RULES: [&str; 9] = [
    "github-branch-protected",
    "github-branch-required-reviews",
    "github-branch-stale-reviews-dismissed",
    "github-branch-code-owner-review",
    "github-branch-status-checks-required",
    "github-branch-force-push-blocked",
    "github-branch-deletion-blocked",
    "github-branch-admins-cannot-bypass",
    "github-branch-signed-commits",
];

/// The repository-settings rules of issue 11.
const REPO_RULES: [&str; 6] = [
    "github-repo-actions-token-read-only",
    "github-repo-actions-cannot-approve-prs",
    "github-repo-secret-scanning",
    "github-repo-dependabot-security-updates",
    "github-repo-codeowners-valid",
    "github-repo-no-read-write-deploy-keys",
];

/// The change-management rules of issue 11.
const CHANGE_RULES: [&str; 4] = [
    "github-branch-last-push-approval",
    "github-branch-conversation-resolution",
    "github-branch-status-checks-up-to-date",
    "github-branch-checks-no-admin-exempt",
];

#[tokio::test]
async fn every_protection_case_becomes_the_right_facts_and_findings() {
    let fake = Fake::start("").await;
    fake.mount_acme().await;
    let (out, _) = run(&config(&fake)).await;
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].identity.as_deref(), Some("soc2-bot"));
    let s = to_snapshot(&out);
    let f = judge(&s);
    use Status::*;

    // Org and people.
    assert_eq!(
        entity(&s, "Github::Org", "acme")["twoFactorRequirementEnabled"],
        true
    );
    assert_eq!(status(&f, "github-org-2fa-required", "acme"), Pass);
    assert_eq!(entity(&s, "Github::Member", "acme/alice")["role"], "admin");
    assert_eq!(entity(&s, "Github::Member", "acme/dave")["role"], "member");
    assert_eq!(status(&f, "github-member-2fa", "acme/bob"), Fail);
    assert_eq!(status(&f, "github-member-2fa", "acme/alice"), Pass);
    assert_eq!(
        status(&f, "github-member-2fa", "acme/dave"),
        Pass,
        "from page 2"
    );
    assert_eq!(
        entity(&s, "Github::Member", "acme/carol")["twoFactorInsecure"],
        true
    );
    assert_eq!(
        status(&f, "github-outside-collaborator-2fa", "acme/vendor-1"),
        Fail
    );
    assert_eq!(
        status(&f, "github-outside-collaborator-2fa", "acme/vendor-2"),
        Pass
    );

    // Every repository from both pages.
    let repos = s
        .entities
        .iter()
        .filter(|e| e.uid.type_name == "Github::Repo")
        .count();
    assert_eq!(repos, crate::github_fake::ACME_CASES.len());

    let all_pass = |repo: &str| {
        for rule in BRANCH_RULES {
            let got = status(&f, rule, &format!("acme/{repo}:main"));
            assert_eq!(got, Pass, "{rule} on {repo}");
        }
    };
    all_pass("classic-good");
    all_pass("org-baseline");
    all_pass("org-baseline-2");

    // Ruleset-only protection is protection: the false positive every peer tool has.
    all_pass("ruleset-only");
    assert_eq!(
        branch(&s, "ruleset-only")["protectionSources"],
        json!(["ruleset:101"])
    );
    assert_eq!(
        branch(&s, "org-baseline")["protectionSources"],
        json!(["org-ruleset:4300"])
    );

    let weak = "acme/classic-weak:main";
    assert_eq!(status(&f, "github-branch-protected", weak), Pass);
    for rule in &BRANCH_RULES[1..] {
        assert_eq!(status(&f, rule, weak), Fail, "{rule}");
    }
    assert_eq!(
        branch(&s, "classic-weak")["bypassActors"],
        json!(["classic:admins", "classic:pull-request-bypass:user/octocat"])
    );

    for repo in ["unprotected", "evaluate-mode", "other-branch"] {
        assert_eq!(branch(&s, repo)["protected"], false, "{repo}");
        assert_eq!(
            status(&f, "github-branch-protected", &format!("acme/{repo}:main")),
            Fail
        );
    }

    let bypass = "acme/admin-bypass:main";
    assert_eq!(status(&f, "github-branch-protected", bypass), Pass);
    assert_eq!(status(&f, "github-branch-required-reviews", bypass), Pass);
    assert_eq!(
        status(&f, "github-branch-admins-cannot-bypass", bypass),
        Fail
    );
    assert_eq!(
        branch(&s, "admin-bypass")["bypassActors"],
        json!(["org-ruleset:4211:OrganizationAdmin#1:always"])
    );

    // Neither classic nor the ruleset is compliant alone; together they are.
    let together = branch(&s, "together");
    assert_eq!(together["forcePushesBlocked"], true);
    assert_eq!(together["requiredApprovingReviews"], 2);
    let sources = together["factSources"].as_array().unwrap();
    assert!(sources.contains(&json!("forcePushesBlocked=ruleset:104")));
    assert!(sources.contains(&json!("requiredApprovingReviews=classic")));
    all_pass("together");

    for rule in BRANCH_RULES {
        assert_eq!(
            status(&f, rule, "acme/archived:main"),
            NotApplicable,
            "{rule}"
        );
    }

    // Change-management depth: classic-good holds all of it, classic-weak none, and the
    // rulesets of the fake do not require last-push approval or conversation resolution.
    for rule in CHANGE_RULES {
        assert_eq!(status(&f, rule, "acme/classic-good:main"), Pass, "{rule}");
        assert_eq!(status(&f, rule, weak), Fail, "{rule}");
        assert_eq!(
            status(&f, rule, "acme/archived:main"),
            NotApplicable,
            "{rule}"
        );
        for repo in ["no-admin", "fine-grained"] {
            let id = format!("acme/{repo}:main");
            assert_eq!(status(&f, rule, &id), Error, "{rule} {repo}");
        }
    }
    let rulesets = "acme/org-baseline:main";
    assert_eq!(
        status(&f, "github-branch-last-push-approval", rulesets),
        Fail
    );
    assert_eq!(
        status(&f, "github-branch-status-checks-up-to-date", rulesets),
        Pass
    );
    assert_eq!(
        status(&f, "github-branch-checks-no-admin-exempt", rulesets),
        Pass
    );
    assert_eq!(
        branch(&s, "org-baseline")["requiredStatusCheckContexts"],
        json!(["ci/build"])
    );
    assert_eq!(branch(&s, "admin-bypass")["currentUserCanBypass"], true);
    assert_eq!(branch(&s, "org-baseline")["currentUserCanBypass"], false);

    // Organization and repository settings: classic-good is compliant, classic-weak is not,
    // and endpoints the token cannot read are errors, never verdicts.
    for rule in [
        "github-org-outside-collaborator-invites",
        "github-org-actions-token-read-only",
        "github-org-actions-cannot-approve-prs",
    ] {
        assert_eq!(status(&f, rule, "acme"), Pass, "{rule}");
    }
    for rule in REPO_RULES {
        assert_eq!(status(&f, rule, "acme/classic-good"), Pass, "{rule}");
        assert_eq!(status(&f, rule, "acme/classic-weak"), Fail, "{rule}");
        assert_eq!(status(&f, rule, "acme/archived"), NotApplicable, "{rule}");
        for repo in ["no-admin", "fine-grained"] {
            let id = format!("acme/{repo}");
            assert_eq!(status(&f, rule, &id), Error, "{rule} {repo}");
        }
    }
    let env = "github-environment-production-reviewers";
    assert_eq!(status(&f, env, "acme/classic-good:production"), Pass);
    assert_eq!(status(&f, env, "acme/classic-good:staging"), NotApplicable);
    assert_eq!(status(&f, env, "acme/classic-weak:Prod-EU"), Fail);
    assert_eq!(status(&f, env, "acme/fine-grained:*"), Error);
    assert_eq!(status(&f, "github-member-2fa-not-sms", "acme/carol"), Fail);
    assert_eq!(status(&f, "github-member-2fa-not-sms", "acme/alice"), Pass);
    let keys = entity(&s, "Github::Repo", "acme/classic-weak");
    assert_eq!(keys["readWriteDeployKeys"], 1);
    assert_eq!(keys["deployKeys"], 2);
    assert_eq!(keys["codeownersErrors"], 1);

    // Unknown is not unprotected: missing rights give errors with the reason, never fail.
    for repo in ["no-admin", "fine-grained"] {
        for rule in BRANCH_RULES {
            assert_eq!(
                status(&f, rule, &format!("acme/{repo}:main")),
                Error,
                "{rule} {repo}"
            );
        }
    }
    let reasons: Vec<&str> = s.sources[0]
        .errors
        .iter()
        .filter(|e| e.entity.id == "acme/fine-grained:main")
        .map(|e| e.reason.as_str())
        .collect();
    assert!(
        reasons.iter().all(|r| r.contains("`administration=read`")),
        "{reasons:?}"
    );
    let no_admin = f
        .iter()
        .find(|x| &*x.rule == "github-branch-protected" && x.resource.id == "acme/no-admin:main")
        .unwrap();
    assert!(
        no_admin.message.contains("404 Not Found"),
        "{}",
        no_admin.message
    );

    // The errors are exactly those two repositories' facts (branch, settings, environments).
    let erroring: std::collections::BTreeSet<&str> = s.sources[0]
        .errors
        .iter()
        .map(|e| e.entity.id.as_str())
        .collect();
    assert_eq!(
        erroring.into_iter().collect::<Vec<_>>(),
        vec![
            "acme/fine-grained",
            "acme/fine-grained:*",
            "acme/fine-grained:main",
            "acme/no-admin",
            "acme/no-admin:*",
            "acme/no-admin:main"
        ]
    );

    // Requests: api_calls counts them all; the token went on every one and nowhere else.
    let requests = fake.server.received_requests().await.unwrap();
    assert_eq!(
        out[0].api_calls as usize,
        requests.len() - 1,
        "all but GET /user"
    );
    for r in &requests {
        assert_eq!(
            r.headers.get("authorization").unwrap(),
            &format!("Bearer {TOKEN}"),
            "{}",
            r.url
        );
    }
    assert!(!s.to_json().contains(TOKEN));
    // Budget: 8 org/people lists + the org Actions policy + the SAML GraphQL query + 2 extra
    // pages + 2 repo pages; per repository read (12 of 13): protection + rules + Actions policy
    // + CODEOWNERS errors + deploy keys + environments; ruleset details once each (101, 104,
    // 4211, 4300).
    assert_eq!(requests.len() - 1, 8 + 1 + 1 + 2 + 2 + 12 * 6 + 4);
}

#[tokio::test]
async fn a_token_without_owner_or_admin_rights_yields_errors_not_failures() {
    let fake = Fake::start("").await;
    fake.get(
        "/user",
        reply(200, crate::github_fake::simple_user("dev", 7)),
    )
    .await;
    fake.get("/orgs/acme", reply(200, fixture_json("org_not_owner.json")))
        .await;
    let owners_only = || reply(422, fixture_json("owners_only_422.json"));
    // Listing members works for any member; the 2FA filters are owner-only.
    for (filter, response) in [
        ("2fa_disabled", owners_only()),
        ("2fa_insecure", owners_only()),
    ] {
        Mock::given(method("GET"))
            .and(path("/orgs/acme/members"))
            .and(wiremock::matchers::query_param("filter", filter))
            .respond_with(response)
            .mount(&fake.server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/orgs/acme/members"))
        .and(wiremock::matchers::query_param_is_missing("filter"))
        .respond_with(reply(
            200,
            json!([
                crate::github_fake::simple_user("alice", 1),
                crate::github_fake::simple_user("dev", 7)
            ]),
        ))
        .mount(&fake.server)
        .await;
    let forbidden = json!({"message": "You must be an admin to list outside collaborators.", "documentation_url": "https://docs.github.com/rest/orgs/outside-collaborators#list-outside-collaborators-for-an-organization", "status": "403"});
    fake.get("/orgs/acme/outside_collaborators", reply(403, forbidden))
        .await;
    fake.repos(
        "acme",
        &[
            crate::github_fake::minimal_repo("acme", "svc", 1, false),
            crate::github_fake::minimal_repo("acme", "web", 2, false),
        ],
    )
    .await;
    for repo in ["acme/svc", "acme/web"] {
        fake.protection(repo, reply(404, fixture_json("not_found_404.json")))
            .await;
    }
    // An org ruleset proves force pushes are blocked on svc, but hides its bypass actors.
    fake.rules(
        "acme/svc",
        vec![
            crate::github_fake::rule("non_fast_forward", None, "Organization", "acme", 4211),
            crate::github_fake::rule("deletion", None, "Organization", "acme", 4211),
        ],
    )
    .await;
    fake.ruleset(
        "acme",
        4211,
        fixture_json("ruleset_not_admin.json"),
        Some(1),
    )
    .await;
    fake.rules("acme/web", vec![]).await;

    let (out, _) = run(&config(&fake)).await;
    let s = to_snapshot(&out);
    let f = judge(&s);
    use Status::*;
    assert_eq!(status(&f, "github-org-2fa-required", "acme"), Error);
    assert_eq!(status(&f, "github-member-2fa", "acme/alice"), Error);
    assert_eq!(
        status(&f, "github-outside-collaborator-2fa", "acme/*"),
        Error
    );
    assert_eq!(
        status(&f, "github-branch-force-push-blocked", "acme/svc:main"),
        Pass
    );
    assert_eq!(
        status(&f, "github-branch-deletion-blocked", "acme/svc:main"),
        Pass
    );
    assert_eq!(status(&f, "github-branch-protected", "acme/svc:main"), Pass);
    assert_eq!(
        status(&f, "github-branch-required-reviews", "acme/svc:main"),
        Error
    );
    assert_eq!(
        status(&f, "github-branch-admins-cannot-bypass", "acme/svc:main"),
        Error
    );
    for rule in BRANCH_RULES {
        assert_eq!(status(&f, rule, "acme/web:main"), Error, "{rule}");
    }
    assert!(
        f.iter()
            .filter(|x| x.rule.starts_with("github-"))
            .all(|x| x.status != Fail),
        "nothing may fail on facts that were not read"
    );
    let member_reason = &s.sources[0]
        .errors
        .iter()
        .find(|e| e.entity.id == "acme/alice" && e.fact == "twoFactorDisabled")
        .unwrap()
        .reason;
    assert!(
        member_reason.contains("422 Only owners can use this filter."),
        "{member_reason}"
    );
}

#[tokio::test]
async fn server_errors_beyond_the_retries_are_errors_never_passes() {
    let fake = Fake::start("").await;
    fake.get_times(
        "/repos/acme/classic-good/branches/main/protection",
        reply(502, fixture_json("bad_gateway_502.json")),
        100,
    )
    .await;
    fake.mount_acme().await;
    let (out, _) = run(&config(&fake)).await;
    let s = to_snapshot(&out);
    let f = judge(&s);
    for rule in BRANCH_RULES {
        assert_eq!(
            status(&f, rule, "acme/classic-good:main"),
            Status::Error,
            "{rule}"
        );
    }
    let reason = &s.sources[0]
        .errors
        .iter()
        .find(|e| e.entity.id == "acme/classic-good:main")
        .unwrap()
        .reason;
    assert!(
        reason.contains("502") && reason.contains("gave up after 5 attempts"),
        "{reason}"
    );
}

#[tokio::test]
async fn repo_flag_limits_the_collection_to_named_repositories() {
    let fake = Fake::start("").await;
    fake.mount_acme_partial().await;
    let mut c = config(&fake);
    c.orgs.clear();
    c.repos = vec!["acme/ruleset-only".into(), "acme/gone".into()];
    let (out, _) = run(&c).await;
    let s = to_snapshot(&out);
    let repos: Vec<&str> = s
        .entities
        .iter()
        .filter(|e| e.uid.type_name == "Github::Repo")
        .map(|e| e.uid.id.as_str())
        .collect();
    assert_eq!(repos, vec!["acme/ruleset-only"]);
    let f = judge(&s);
    assert_eq!(
        status(&f, "github-branch-protected", "acme/ruleset-only:main"),
        Status::Pass
    );
    assert_eq!(
        status(&f, "github-branch-protected", "acme/gone:*"),
        Status::Error
    );
    let requests = fake.server.received_requests().await.unwrap();
    assert!(
        requests.iter().all(|r| !r.url.path().ends_with("/repos")),
        "no org listing"
    );
}

#[tokio::test]
async fn branches_matching_a_pattern_are_judged_like_the_default_branch() {
    let fake = Fake::start("").await;
    fake.mount_acme_partial().await;
    let branch = |name: &str| {
        json!({"name": name, "commit": {"sha": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc",
               "url": "https://api.github.com/repos/acme/classic-good/commits/c5b97d5"},
               "protected": true})
    };
    fake.get(
        "/repos/acme/classic-good/branches",
        reply(
            200,
            json!([branch("main"), branch("release/1.0"), branch("feature-x")]),
        ),
    )
    .await;
    fake.get(
        "/repos/acme/classic-good/branches/release/1.0/protection",
        reply(200, fixture_json("protection_weak.json")),
    )
    .await;
    fake.get(
        "/repos/acme/classic-good/rules/branches/release/1.0",
        reply(200, json!([])),
    )
    .await;
    let mut c = config(&fake);
    c.orgs.clear();
    c.repos = vec!["acme/classic-good".into()];
    c.branches = vec!["release/*".into()];
    let (out, _) = run(&c).await;
    let s = to_snapshot(&out);
    let f = judge(&s);
    let release = entity(&s, "Github::Branch", "acme/classic-good:release/1.0");
    assert_eq!(release["configured"], true);
    assert_eq!(release["isDefault"], false);
    assert!(!s
        .entities
        .iter()
        .any(|e| e.uid.id == "acme/classic-good:feature-x"));
    for rule in &BRANCH_RULES[1..] {
        assert_eq!(
            status(&f, rule, "acme/classic-good:release/1.0"),
            Status::Fail,
            "{rule}"
        );
        assert_eq!(
            status(&f, rule, "acme/classic-good:main"),
            Status::Pass,
            "{rule}"
        );
    }
    assert!(s.sources[0].errors.is_empty(), "{:?}", s.sources[0].errors);
}

#[tokio::test]
async fn rule_bypasses_in_the_window_are_exceptions_and_unreadable_ones_errors() {
    let fake = Fake::start("").await;
    fake.mount_acme_partial().await;
    let suite = json!({
        "id": 21, "actor_id": 12, "actor_name": "maria", "before_sha": "abc1230000000000000000000000000000000000",
        "after_sha": "c5b97d5ae6c19d5c5df71a34c7fbeeda2479ccbc", "ref": "refs/heads/main",
        "repository_id": 9000, "repository_name": "classic-good", "pushed_at": "2026-11-20T22:14:05Z",
        "result": "bypass", "evaluation_result": "fail"
    });
    Mock::given(method("GET"))
        .and(path("/repos/acme/classic-good/rulesets/rule-suites"))
        .and(wiremock::matchers::query_param(
            "rule_suite_result",
            "bypass",
        ))
        .and(wiremock::matchers::query_param("time_period", "month"))
        .respond_with(reply(200, json!([suite])))
        .expect(1)
        .mount(&fake.server)
        .await;
    fake.get(
        "/repos/acme/org-baseline/rulesets/rule-suites",
        reply(200, json!([])),
    )
    .await;
    fake.get(
        "/repos/acme/fine-grained/rulesets/rule-suites",
        reply(403, fixture_json("forbidden_403.json"))
            .insert_header("x-accepted-github-permissions", "administration=read"),
    )
    .await;
    let mut c = config(&fake);
    c.orgs.clear();
    c.repos = vec![
        "acme/classic-good".into(),
        "acme/org-baseline".into(),
        "acme/fine-grained".into(),
    ];
    c.changes_since_days = Some(30);
    let (out, _) = run(&c).await;
    let s = to_snapshot(&out);
    let f = judge(&s);
    let rule = "github-repo-no-rule-bypass";
    assert_eq!(status(&f, rule, "acme/classic-good"), Status::Fail);
    assert_eq!(status(&f, rule, "acme/org-baseline"), Status::Pass);
    assert_eq!(status(&f, rule, "acme/fine-grained"), Status::Error);
    let bypass = entity(&s, "Github::RuleBypass", "acme/classic-good#21");
    assert_eq!(bypass["actor"], "maria");
    assert_eq!(bypass["ref"], "refs/heads/main");
}

/// `days` before now, as GitHub writes times (the collector measures its window from now).
fn days_ago(days: i64) -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::days(days);
    t.replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// A merged pull request as GitHub's GraphQL search returns it, merged three days ago with
/// merge commit `sha-<repo>-<number>`.
fn merged_pr(
    repo: &str,
    number: u64,
    base: &str,
    author: &str,
    approvals: &[(&str, &str)],
) -> Value {
    let reviews: Vec<Value> = approvals
        .iter()
        .map(|(who, when)| json!({"author": {"login": who}, "submittedAt": when}))
        .collect();
    json!({
        "number": number, "baseRefName": base, "mergedAt": days_ago(3),
        "mergeCommit": {"oid": format!("sha-{repo}-{number}")},
        "repository": {"nameWithOwner": format!("acme/{repo}")},
        "author": {"login": author}, "mergedBy": {"login": author},
        "reviews": {"nodes": reviews},
        "commits": {"nodes": [{"commit": {"committedDate": "2026-11-19T12:00:00Z",
            "statusCheckRollup": {"state": "SUCCESS", "contexts": {
                "pageInfo": {"hasNextPage": false},
                "nodes": [{"name": "trustcheck", "conclusion": "SUCCESS"},
                          {"name": "docs", "conclusion": "SKIPPED"},
                          {"context": "ci/build", "state": "SUCCESS"}]}}}}]}
    })
}

fn search(count: u64, nodes: Vec<Value>) -> Value {
    json!({"data": {"search": {"issueCount": count,
        "pageInfo": {"hasNextPage": false, "endCursor": null}, "nodes": nodes}}})
}

#[tokio::test]
async fn merged_changes_are_the_population_and_each_needs_an_independent_approval() {
    let fake = Fake::start("").await;
    fake.mount_acme_partial().await;
    // PR 8 was merged past a ruleset: its merge commit is a bypassing rule suite's commit.
    fake.get(
        "/repos/acme/classic-good/rulesets/rule-suites",
        reply(
            200,
            json!([{"id": 31, "actor_name": "ana", "ref": "refs/heads/main",
                    "pushed_at": days_ago(3), "result": "bypass",
                    "after_sha": "sha-classic-good-8"}]),
        ),
    )
    .await;
    // org-baseline's rule suites cannot be read: its changes' bypass is unknown, not `false`.
    fake.get(
        "/repos/acme/org-baseline/rulesets/rule-suites",
        reply(403, fixture_json("forbidden_403.json"))
            .insert_header("x-accepted-github-permissions", "administration=read"),
    )
    .await;
    // The first query reports more than GitHub's 1,000-result cap: the window is halved, and
    // each half is read (both answer with the same page; duplicates are dropped).
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(reply(200, search(1500, vec![])))
        .up_to_n_times(1)
        .with_priority(1)
        .expect(1)
        .mount(&fake.server)
        .await;
    let nodes = vec![
        merged_pr(
            "classic-good",
            7,
            "main",
            "ana",
            &[("ben", "2026-11-19T13:00:00Z")],
        ),
        merged_pr(
            "classic-good",
            8,
            "main",
            "ana",
            &[("ana", "2026-11-19T13:00:00Z")],
        ),
        merged_pr("classic-good", 9, "feature-x", "ana", &[]),
        merged_pr(
            "org-baseline",
            3,
            "main",
            "cy",
            &[("dee", "2026-11-19T11:00:00Z")],
        ),
        merged_pr("not-collected", 1, "main", "cy", &[]),
    ];
    // Merged before the month of rule suites GitHub keeps: whether it bypassed is unknown.
    let mut old = merged_pr(
        "classic-good",
        10,
        "main",
        "ana",
        &[("ben", "2026-10-01T13:00:00Z")],
    );
    old["mergedAt"] = json!(days_ago(40));
    // More checks than the 100 read: which passed is unknown.
    old["commits"]["nodes"][0]["commit"]["statusCheckRollup"]["contexts"]["pageInfo"]
        ["hasNextPage"] = json!(true);
    let mut nodes = nodes;
    nodes.push(old);
    // PR 8 shipped with `trustcheck` failing (a re-run passed: still not passed) and a check
    // still running (`conclusion` null).
    nodes[1]["commits"]["nodes"][0]["commit"]["statusCheckRollup"] = json!({
        "state": "FAILURE", "contexts": {"pageInfo": {"hasNextPage": false}, "nodes": [
            {"name": "trustcheck", "conclusion": "FAILURE"},
            {"name": "trustcheck", "conclusion": "SUCCESS"},
            {"name": "slow", "conclusion": null},
            {"context": "ci/build", "state": "SUCCESS"}]}});
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(reply(200, search(5, nodes)))
        .expect(2)
        .mount(&fake.server)
        .await;
    let mut c = config(&fake);
    c.orgs.clear();
    c.repos = vec!["acme/classic-good".into(), "acme/org-baseline".into()];
    c.changes_since_days = Some(30);
    let (out, _) = run(&c).await;
    let s = to_snapshot(&out);
    let f = judge(&s);
    let ids: Vec<&str> = s
        .entities
        .iter()
        .filter(|e| e.uid.type_name == "Github::Change")
        .map(|e| e.uid.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "acme/classic-good#10",
            "acme/classic-good#7",
            "acme/classic-good#8",
            "acme/org-baseline#3"
        ]
    );
    let rule = "github-change-independent-approval";
    assert_eq!(status(&f, rule, "acme/classic-good#7"), Status::Pass);
    assert_eq!(status(&f, rule, "acme/classic-good#8"), Status::Fail);
    assert_eq!(status(&f, rule, "acme/org-baseline#3"), Status::Pass);
    let seven = entity(&s, "Github::Change", "acme/classic-good#7");
    assert_eq!(seven["approvedAfterLastCommit"], true);
    assert_eq!(seven["checksState"], "SUCCESS");
    // Approved before the last commit: independent, but not of the code that shipped.
    assert_eq!(
        entity(&s, "Github::Change", "acme/org-baseline#3")["approvedAfterLastCommit"],
        false
    );
    assert_eq!(seven["mergeBypassedRuleset"], false);
    assert_eq!(
        seven["checksPassed"],
        json!(["ci/build", "docs", "trustcheck"])
    );
    assert_eq!(seven["checksNotPassed"], json!([]));
    let eight = entity(&s, "Github::Change", "acme/classic-good#8");
    assert_eq!(eight["checksPassed"], json!(["ci/build"]));
    assert_eq!(eight["checksNotPassed"], json!(["slow", "trustcheck"]));
    assert_eq!(
        entity(&s, "Github::Change", "acme/classic-good#8")["mergeBypassedRuleset"],
        true
    );
    assert!(entity(&s, "Github::Change", "acme/org-baseline#3")
        .get("mergeBypassedRuleset")
        .is_none());
    let unknown: Vec<&str> = s
        .sources
        .iter()
        .flat_map(|src| &src.errors)
        .filter(|e| e.entity.id == "acme/org-baseline#3")
        .map(|e| e.fact.as_str())
        .collect();
    assert_eq!(unknown, ["mergeBypassedRuleset"]);
    let older = s
        .sources
        .iter()
        .flat_map(|src| &src.errors)
        .find(|e| e.entity.id == "acme/classic-good#10" && e.fact == "mergeBypassedRuleset")
        .unwrap();
    assert_eq!(older.fact, "mergeBypassedRuleset");
    let mut facts: Vec<&str> = s
        .sources
        .iter()
        .flat_map(|src| &src.errors)
        .filter(|e| e.entity.id == "acme/classic-good#10")
        .map(|e| e.fact.as_str())
        .collect();
    facts.sort_unstable();
    assert_eq!(
        facts,
        ["checksNotPassed", "checksPassed", "mergeBypassedRuleset"]
    );
    assert!(
        older.reason.contains("merged before the rule suites read"),
        "{}",
        older.reason
    );
}

#[tokio::test]
async fn enterprise_server_graphql_is_read_at_api_graphql_not_under_the_rest_base() {
    // GitHub Enterprise Server: REST at `https://HOST/api/v3`, GraphQL at `https://HOST/api/graphql`.
    let fake = Fake::start("/api/v3").await;
    fake.mount_acme_partial().await;
    for repo in ["classic-good", "org-baseline"] {
        fake.get(
            &format!("/repos/acme/{repo}/rulesets/rule-suites"),
            reply(200, json!([])),
        )
        .await;
    }
    let nodes = vec![merged_pr(
        "classic-good",
        7,
        "main",
        "ana",
        &[("ben", "2026-11-19T13:00:00Z")],
    )];
    Mock::given(method("POST"))
        .and(path("/api/graphql"))
        .and(wiremock::matchers::header(
            "authorization",
            format!("Bearer {TOKEN}").as_str(),
        ))
        .respond_with(reply(200, search(1, nodes)))
        .expect(1)
        .mount(&fake.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v3/graphql"))
        .respond_with(reply(404, json!({"message": "Not Found"})))
        .expect(0)
        .mount(&fake.server)
        .await;
    let mut c = config(&fake);
    c.orgs.clear();
    c.repos = vec!["acme/classic-good".into(), "acme/org-baseline".into()];
    c.changes_since_days = Some(30);
    let (out, _) = run(&c).await;
    let s = to_snapshot(&out);
    let seven = entity(&s, "Github::Change", "acme/classic-good#7");
    assert_eq!(seven["approvedByOther"], true);
    let errors: Vec<_> = s.sources.iter().flat_map(|src| &src.errors).collect();
    assert!(
        errors
            .iter()
            .all(|e| e.entity.type_name != "Github::Change"),
        "{errors:?}"
    );
}

#[tokio::test]
async fn saml_sso_hidden_from_a_non_owner_or_forbidden_is_an_error_not_a_failure() {
    for (answer, why) in [
        (
            json!({"data": {"organization": {"viewerCanAdminister": false, "samlIdentityProvider": null}}}),
            "only to organization owners",
        ),
        // GitHub's answer when a field is not visible to the caller: partial data and an error.
        (
            json!({"data": {"organization": {"viewerCanAdminister": false, "samlIdentityProvider": null}},
                   "errors": [{"type": "FORBIDDEN", "path": ["organization", "samlIdentityProvider"],
                               "locations": [{"line": 1, "column": 76}],
                               "message": "Resource not accessible by integration"}]}),
            "Resource not accessible by integration",
        ),
    ] {
        let fake = Fake::start("").await;
        // Mounted first: it answers before the configured identity provider of `mount_acme`.
        Mock::given(method("POST"))
            .and(wiremock::matchers::body_string_contains(
                "samlIdentityProvider",
            ))
            .respond_with(reply(200, answer))
            .with_priority(1)
            .expect(1)
            .mount(&fake.server)
            .await;
        fake.mount_acme_partial().await;
        let mut c = config(&fake);
        c.orgs.clear();
        c.repos = vec!["acme/classic-good".into()];
        let (out, _) = run(&c).await;
        let s = to_snapshot(&out);
        assert!(entity(&s, "Github::Org", "acme")
            .get("samlSsoConfigured")
            .is_none());
        let reason = &s.sources[0]
            .errors
            .iter()
            .find(|e| e.fact == "samlSsoConfigured")
            .expect("an uncollected fact")
            .reason;
        assert!(reason.contains(why), "{reason}");
        assert_eq!(
            status(&judge(&s), "github-org-saml-sso", "acme"),
            Status::Error
        );
    }
}

#[tokio::test]
async fn saml_sso_configured_passes_and_none_seen_by_an_owner_fails() {
    for (idp, expected) in [
        (
            json!({"ssoUrl": "https://idp.example.com/saml/acme"}),
            Status::Pass,
        ),
        (Value::Null, Status::Fail),
    ] {
        let fake = Fake::start("").await;
        Mock::given(method("POST"))
            .and(wiremock::matchers::body_string_contains("samlIdentityProvider"))
            .respond_with(reply(
                200,
                json!({"data": {"organization": {"viewerCanAdminister": true, "samlIdentityProvider": idp}}}),
            ))
            .with_priority(1)
            .mount(&fake.server)
            .await;
        fake.mount_acme_partial().await;
        let mut c = config(&fake);
        c.orgs.clear();
        c.repos = vec!["acme/classic-good".into()];
        let (out, _) = run(&c).await;
        assert_eq!(
            status(&judge(&to_snapshot(&out)), "github-org-saml-sso", "acme"),
            expected
        );
    }
}
