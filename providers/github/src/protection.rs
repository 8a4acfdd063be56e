//! Effective branch protection: the union of classic branch protection and the *active* rulesets
//! that target the branch, with the source of every fact. Pure: raw payloads in, facts out.
//!
//! Rules for what counts, and why:
//! - `GET /rules/branches/{b}` is GitHub's own evaluation of which rulesets target the branch
//!   (ref name patterns, `~DEFAULT_BRANCH`, org repository conditions), and it lists only rules of
//!   active rulesets. We trust it for targeting and, as a second guard, drop rules whose ruleset
//!   detail says `evaluate`/`disabled` or targets tags or pushes.
//! - A requirement holds when at least one source enforces it (GitHub applies the most
//!   restrictive); the approvals required are the maximum over sources.
//! - A source that could not be read makes a fact unknown unless another source already proves
//!   it: unknown is never "unprotected", and never "protected" either.
//!
//! This module must never judge (no "compliant"): it states what is enforced and by whom.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::raw::{ProtectionPayload, RawBranch, ReadFailure, RulePayload, RulesetPayload};

/// The boolean requirements, by attribute name.
pub const BOOL_FACTS: [&str; 7] = [
    "dismissStaleReviews",
    "requireCodeOwnerReview",
    "requiredStatusChecks",
    "forcePushesBlocked",
    "deletionBlocked",
    "requiredSignatures",
    "requiredLinearHistory",
];

/// Facts about reviews, which classic `bypass_pull_request_allowances` lets actors skip.
const REVIEW_FACTS: [&str; 3] = [
    "requiredApprovingReviews",
    "dismissStaleReviews",
    "requireCodeOwnerReview",
];

/// A fact whose value may be unknown, with the reason.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact<T> {
    /// Known.
    Known(T),
    /// Could not be established.
    Unknown(String),
}

impl<T> Fact<T> {
    /// The value if known.
    pub fn known(&self) -> Option<&T> {
        match self {
            Fact::Known(v) => Some(v),
            Fact::Unknown(_) => None,
        }
    }
}

/// Effective protection of one branch.
#[derive(Debug, Clone, PartialEq)]
pub struct Protection {
    /// Classic protection or at least one active ruleset applies.
    pub protected: Fact<bool>,
    /// Approvals required (0 when no source requires pull request reviews).
    pub required_approving_reviews: Fact<i64>,
    /// The boolean requirements of [`BOOL_FACTS`], in that order.
    pub bools: BTreeMap<&'static str, Fact<bool>>,
    /// Someone can get around at least one requirement: every source enforcing it lets
    /// administrators or bypass actors skip it. `true` for an unprotected branch.
    pub admins_can_bypass: Fact<bool>,
    /// Who can bypass, per source (`classic:admins`, `org-ruleset:7:OrganizationAdmin:always`).
    pub bypass_actors: Fact<BTreeSet<String>>,
    /// The sources that apply (`classic`, `ruleset:<id>`, `org-ruleset:<id>`, `enterprise-ruleset:<id>`).
    pub sources: Fact<BTreeSet<String>>,
    /// `<fact>=<source>` for every requirement that holds.
    pub fact_sources: Fact<BTreeSet<String>>,
}

/// What one source enforces, and whether it can be bypassed.
#[derive(Debug, Clone, PartialEq)]
struct SourceFacts {
    name: String,
    /// Approvals required; `None` when this source does not require pull request reviews.
    reviews: Option<i64>,
    /// Per fact in [`BOOL_FACTS`]: `Some(v)` known, `None` unknown for this source.
    bools: BTreeMap<&'static str, Option<bool>>,
    /// Administrators/bypass actors can skip this source's requirements (`Err`: not visible).
    bypass_all: Result<bool, String>,
    /// Actors that can skip only the review requirements (classic allowances).
    review_bypassers: Vec<String>,
    /// Everyone who can bypass (`Err`: not visible).
    actors: Result<Vec<String>, String>,
}

impl SourceFacts {
    fn enforces(&self, fact: &str) -> bool {
        if fact == "requiredApprovingReviews" {
            return self.reviews.is_some_and(|n| n > 0);
        }
        self.bools.get(fact).copied().flatten() == Some(true)
    }

    fn bypassable(&self, fact: &str) -> Result<bool, String> {
        if REVIEW_FACTS.contains(&fact) && !self.review_bypassers.is_empty() {
            return Ok(true);
        }
        self.bypass_all.clone()
    }
}

/// Computes the effective protection of a branch from its raw data.
pub fn effective(branch: &RawBranch) -> Protection {
    let mut sources: Vec<SourceFacts> = Vec::new();
    // Sources that could not be read at all: every fact they might add is unknown.
    let mut unknown: Vec<String> = Vec::new();

    match &branch.classic {
        Ok(Some(p)) => sources.push(classic(p)),
        Ok(None) => {}
        Err(u) => unknown.push(u.reason.clone()),
    }
    match &branch.rules {
        Ok(rules) => sources.extend(from_rules(rules, &branch.rulesets)),
        Err(u) => unknown.push(u.reason.clone()),
    }
    combine(&sources, &unknown)
}

fn combine(sources: &[SourceFacts], unknown: &[String]) -> Protection {
    let first_unknown = unknown.first().cloned();

    let protected = if sources.is_empty() {
        unknown_or(&first_unknown, false)
    } else {
        Fact::Known(true)
    };

    let required_approving_reviews = unknown_or(
        &first_unknown,
        sources.iter().filter_map(|s| s.reviews).max().unwrap_or(0),
    );

    let mut bools = BTreeMap::new();
    for fact in BOOL_FACTS {
        let value = if sources.iter().any(|s| s.enforces(fact)) {
            Fact::Known(true)
        } else if let Some(reason) = &first_unknown {
            Fact::Unknown(reason.clone())
        } else if sources
            .iter()
            .any(|s| s.bools.get(fact).copied().flatten().is_none())
        {
            Fact::Unknown(format!(
                "`{fact}` not in the classic protection response of this GitHub version"
            ))
        } else {
            Fact::Known(false)
        };
        bools.insert(fact, value);
    }

    let bypass_actors = match &first_unknown {
        Some(reason) => Fact::Unknown(reason.clone()),
        None => {
            let mut all = BTreeSet::new();
            let mut hidden = None;
            for s in sources {
                match &s.actors {
                    Ok(actors) => all.extend(actors.iter().cloned()),
                    Err(reason) => hidden = hidden.or(Some(reason.clone())),
                }
            }
            match hidden {
                Some(reason) => Fact::Unknown(reason),
                None => Fact::Known(all),
            }
        }
    };

    let admins_can_bypass = match &first_unknown {
        Some(reason) => Fact::Unknown(reason.clone()),
        None => admins_can_bypass(sources),
    };

    let names: BTreeSet<String> = sources.iter().map(|s| s.name.clone()).collect();
    let sources_fact = unknown_or(&first_unknown, names);

    let mut pairs = BTreeSet::new();
    for s in sources {
        for fact in std::iter::once("requiredApprovingReviews").chain(BOOL_FACTS) {
            if s.enforces(fact) {
                pairs.insert(format!("{fact}={}", s.name));
            }
        }
    }
    let fact_sources = unknown_or(&first_unknown, pairs);

    Protection {
        protected,
        required_approving_reviews,
        bools,
        admins_can_bypass,
        bypass_actors,
        sources: sources_fact,
        fact_sources,
    }
}

/// `value`, unless a source could not be read.
fn unknown_or<T>(unknown: &Option<String>, value: T) -> Fact<T> {
    match unknown {
        Some(reason) => Fact::Unknown(reason.clone()),
        None => Fact::Known(value),
    }
}

/// True when some enforced requirement can be skipped through every source that enforces it.
fn admins_can_bypass(sources: &[SourceFacts]) -> Fact<bool> {
    if sources.is_empty() {
        // Nothing to bypass: anyone with push access can do anything.
        return Fact::Known(true);
    }
    let mut hidden: Option<String> = None;
    let mut any_enforced = false;
    for fact in std::iter::once("requiredApprovingReviews").chain(BOOL_FACTS) {
        let providers: Vec<&SourceFacts> = sources.iter().filter(|s| s.enforces(fact)).collect();
        if providers.is_empty() {
            continue;
        }
        any_enforced = true;
        let verdicts: Vec<Result<bool, String>> =
            providers.iter().map(|s| s.bypassable(fact)).collect();
        if verdicts.iter().any(|v| v == &Ok(false)) {
            continue; // one source holds everyone to it
        }
        if let Some(Err(reason)) = verdicts.iter().find(|v| v.is_err()) {
            hidden = hidden.or(Some(reason.clone()));
            continue;
        }
        return Fact::Known(true);
    }
    if let Some(reason) = hidden {
        return Fact::Unknown(reason);
    }
    if any_enforced {
        return Fact::Known(false);
    }
    // Sources exist but enforce none of the tracked requirements (e.g. only `creation`): say
    // whether anyone can skip them.
    let mut result = false;
    for s in sources {
        match &s.bypass_all {
            Ok(true) => result = true,
            Ok(false) => {}
            Err(reason) => return Fact::Unknown(reason.clone()),
        }
    }
    Fact::Known(result)
}

fn classic(p: &ProtectionPayload) -> SourceFacts {
    let reviews = p.required_pull_request_reviews.as_ref();
    let mut bools = BTreeMap::new();
    bools.insert(
        "dismissStaleReviews",
        Some(reviews.is_some_and(|r| r.dismiss_stale_reviews)),
    );
    bools.insert(
        "requireCodeOwnerReview",
        Some(reviews.is_some_and(|r| r.require_code_owner_reviews)),
    );
    bools.insert(
        "requiredStatusChecks",
        Some(
            p.required_status_checks
                .as_ref()
                .is_some_and(|c| !c.contexts.is_empty() || !c.checks.is_empty()),
        ),
    );
    bools.insert(
        "forcePushesBlocked",
        p.allow_force_pushes.map(|e| !e.enabled),
    );
    bools.insert("deletionBlocked", p.allow_deletions.map(|e| !e.enabled));
    bools.insert(
        "requiredSignatures",
        p.required_signatures.map(|e| e.enabled),
    );
    bools.insert(
        "requiredLinearHistory",
        p.required_linear_history.map(|e| e.enabled),
    );

    let mut review_bypassers = Vec::new();
    if let Some(allow) = reviews.and_then(|r| r.bypass_pull_request_allowances.as_ref()) {
        for (kind, list) in [
            ("user", &allow.users),
            ("team", &allow.teams),
            ("app", &allow.apps),
        ] {
            for a in list {
                let who = a.login.as_deref().or(a.slug.as_deref()).unwrap_or("?");
                review_bypassers.push(format!("classic:pull-request-bypass:{kind}/{who}"));
            }
        }
    }
    let (bypass_all, mut actors) = match p.enforce_admins {
        Some(e) if e.enabled => (Ok(false), Vec::new()),
        Some(_) => (Ok(true), vec!["classic:admins".to_string()]),
        None => {
            let reason = "`enforce_admins` not in the classic protection response".to_string();
            (Err(reason), Vec::new())
        }
    };
    actors.extend(review_bypassers.iter().cloned());
    let actors = match &bypass_all {
        Ok(_) => Ok(actors),
        Err(reason) => Err(reason.clone()),
    };
    SourceFacts {
        name: "classic".to_string(),
        reviews: reviews.map(|r| r.required_approving_review_count),
        bools,
        bypass_all,
        review_bypassers,
        actors,
    }
}

/// Groups the active rules by ruleset, one source per ruleset.
fn from_rules(
    rules: &[RulePayload],
    rulesets: &BTreeMap<u64, Result<RulesetPayload, ReadFailure>>,
) -> Vec<SourceFacts> {
    let mut by_source: BTreeMap<String, SourceFacts> = BTreeMap::new();
    for rule in rules {
        let detail = rule.ruleset_id.and_then(|id| rulesets.get(&id));
        if let Some(Ok(rs)) = detail {
            // GitHub lists only active rules here; this guards against a server that does not.
            let active = rs.enforcement == "active";
            let branch_target = rs.target.as_deref().is_none_or(|t| t == "branch");
            if !active || !branch_target {
                continue;
            }
        }
        let name = source_name(rule);
        let entry = by_source.entry(name.clone()).or_insert_with(|| {
            let (bypass_all, actors) = match detail {
                Some(Ok(rs)) => match &rs.bypass_actors {
                    Some(list) => (
                        Ok(!list.is_empty()),
                        Ok(list
                            .iter()
                            .map(|a| {
                                format!(
                                    "{name}:{}{}:{}",
                                    a.actor_type,
                                    a.actor_id.map(|i| format!("#{i}")).unwrap_or_default(),
                                    a.bypass_mode.as_deref().unwrap_or("always")
                                )
                            })
                            .collect()),
                    ),
                    None => {
                        let reason = format!(
                            "bypass actors of {name} not visible to this token (GitHub shows them only to callers who can edit the ruleset)"
                        );
                        (Err(reason.clone()), Err(reason))
                    }
                },
                Some(Err(u)) => (Err(u.reason.clone()), Err(u.reason.clone())),
                None => {
                    let reason = format!("details of {name} were not fetched");
                    (Err(reason.clone()), Err(reason))
                }
            };
            SourceFacts {
                name,
                reviews: None,
                bools: BOOL_FACTS.iter().map(|f| (*f, Some(false))).collect(),
                bypass_all,
                review_bypassers: Vec::new(),
                actors,
            }
        });
        apply_rule(entry, rule);
    }
    by_source.into_values().collect()
}

fn apply_rule(s: &mut SourceFacts, rule: &RulePayload) {
    let params = rule.parameters.as_ref();
    let flag = |key: &str| params.and_then(|p| p.get(key)).and_then(Value::as_bool) == Some(true);
    let mut set = |fact: &'static str| {
        s.bools.insert(fact, Some(true));
    };
    match rule.rule_type.as_str() {
        "pull_request" => {
            if flag("dismiss_stale_reviews_on_push") {
                set("dismissStaleReviews");
            }
            if flag("require_code_owner_review") {
                set("requireCodeOwnerReview");
            }
            let n = params
                .and_then(|p| p.get("required_approving_review_count"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            s.reviews = Some(s.reviews.map_or(n, |m| m.max(n)));
        }
        "required_status_checks" => {
            let any = params
                .and_then(|p| p.get("required_status_checks"))
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty());
            if any {
                set("requiredStatusChecks");
            }
        }
        "non_fast_forward" => set("forcePushesBlocked"),
        "deletion" => set("deletionBlocked"),
        "required_signatures" => set("requiredSignatures"),
        "required_linear_history" => set("requiredLinearHistory"),
        // creation, update, merge_queue, code_scanning, …: they protect the branch but are not
        // among the tracked requirements.
        _ => {}
    }
}

fn source_name(rule: &RulePayload) -> String {
    let id = rule
        .ruleset_id
        .map_or_else(|| "?".to_string(), |i| i.to_string());
    match rule.ruleset_source_type.as_deref() {
        Some("Organization") => format!("org-ruleset:{id}"),
        Some("Enterprise") => format!("enterprise-ruleset:{id}"),
        _ => format!("ruleset:{id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture<T: serde::de::DeserializeOwned>(text: &str) -> T {
        serde_json::from_str(text).unwrap()
    }

    fn branch(
        classic: Result<Option<&str>, &str>,
        rules: Result<&str, &str>,
        rulesets: &[(u64, Result<&str, &str>)],
    ) -> RawBranch {
        RawBranch {
            name: "main".into(),
            classic: classic.map(|o| o.map(fixture)).map_err(ReadFailure::new),
            rules: rules.map(fixture).map_err(ReadFailure::new),
            rulesets: rulesets
                .iter()
                .map(|(id, r)| (*id, r.map(fixture).map_err(ReadFailure::new)))
                .collect(),
        }
    }

    const COMPLIANT: &str = include_str!("../fixtures/protection_compliant.json");
    const WEAK: &str = include_str!("../fixtures/protection_weak.json");
    const RULES: &str = include_str!("../fixtures/rules_ruleset_compliant.json");
    const RULESET: &str = include_str!("../fixtures/ruleset_compliant.json");
    const ORG_RULESET: &str = include_str!("../fixtures/ruleset_org_admin_bypass.json");
    const HIDDEN: &str = include_str!("../fixtures/ruleset_not_admin.json");

    fn b(p: &Protection, fact: &str) -> Fact<bool> {
        p.bools[fact].clone()
    }

    #[test]
    fn classic_compliant() {
        let p = effective(&branch(Ok(Some(COMPLIANT)), Ok("[]"), &[]));
        assert_eq!(p.protected, Fact::Known(true));
        assert_eq!(p.required_approving_reviews, Fact::Known(2));
        for fact in BOOL_FACTS {
            assert_eq!(b(&p, fact), Fact::Known(true), "{fact}");
        }
        assert_eq!(p.admins_can_bypass, Fact::Known(false));
        assert_eq!(
            p.sources,
            Fact::Known(BTreeSet::from(["classic".to_string()]))
        );
        assert!(p
            .fact_sources
            .known()
            .unwrap()
            .contains("requiredApprovingReviews=classic"));
    }

    #[test]
    fn classic_weak() {
        let p = effective(&branch(Ok(Some(WEAK)), Ok("[]"), &[]));
        assert_eq!(p.protected, Fact::Known(true));
        assert_eq!(p.required_approving_reviews, Fact::Known(0));
        for fact in BOOL_FACTS {
            assert_eq!(b(&p, fact), Fact::Known(false), "{fact}");
        }
        assert_eq!(p.admins_can_bypass, Fact::Known(true));
        let actors = p.bypass_actors.known().unwrap();
        assert!(actors.contains("classic:admins"));
        assert!(actors.contains("classic:pull-request-bypass:user/octocat"));
    }

    #[test]
    fn unprotected_is_a_fact() {
        let p = effective(&branch(Ok(None), Ok("[]"), &[]));
        assert_eq!(p.protected, Fact::Known(false));
        assert_eq!(p.required_approving_reviews, Fact::Known(0));
        assert_eq!(b(&p, "forcePushesBlocked"), Fact::Known(false));
        assert_eq!(p.admins_can_bypass, Fact::Known(true));
        assert_eq!(p.sources, Fact::Known(BTreeSet::new()));
    }

    #[test]
    fn ruleset_only_compliant() {
        let p = effective(&branch(Ok(None), Ok(RULES), &[(101, Ok(RULESET))]));
        assert_eq!(p.protected, Fact::Known(true));
        assert_eq!(p.required_approving_reviews, Fact::Known(1));
        for fact in [
            "dismissStaleReviews",
            "requireCodeOwnerReview",
            "requiredStatusChecks",
            "forcePushesBlocked",
            "deletionBlocked",
            "requiredSignatures",
        ] {
            assert_eq!(b(&p, fact), Fact::Known(true), "{fact}");
        }
        assert_eq!(b(&p, "requiredLinearHistory"), Fact::Known(false));
        assert_eq!(p.admins_can_bypass, Fact::Known(false));
        assert_eq!(
            p.sources,
            Fact::Known(BTreeSet::from(["ruleset:101".to_string()]))
        );
    }

    #[test]
    fn evaluate_mode_ruleset_does_not_count_even_if_listed() {
        let evaluate = RULESET.replace("\"active\"", "\"evaluate\"");
        let p = effective(&branch(Ok(None), Ok(RULES), &[(101, Ok(&evaluate))]));
        assert_eq!(p.protected, Fact::Known(false));
        assert_eq!(b(&p, "forcePushesBlocked"), Fact::Known(false));
    }

    #[test]
    fn tag_ruleset_does_not_count() {
        let tag = RULESET.replace("\"target\": \"branch\"", "\"target\": \"tag\"");
        let p = effective(&branch(Ok(None), Ok(RULES), &[(101, Ok(&tag))]));
        assert_eq!(p.protected, Fact::Known(false));
    }

    #[test]
    fn admin_bypass_actor_is_reported() {
        let rules = r#"[
          {"type":"pull_request","parameters":{"required_approving_review_count":1,"dismiss_stale_reviews_on_push":false,"require_code_owner_review":false,"require_last_push_approval":false,"required_review_thread_resolution":false},"ruleset_source_type":"Organization","ruleset_source":"acme","ruleset_id":4211},
          {"type":"non_fast_forward","ruleset_source_type":"Organization","ruleset_source":"acme","ruleset_id":4211}
        ]"#;
        let p = effective(&branch(Ok(None), Ok(rules), &[(4211, Ok(ORG_RULESET))]));
        assert_eq!(p.protected, Fact::Known(true));
        assert_eq!(p.required_approving_reviews, Fact::Known(1));
        assert_eq!(p.admins_can_bypass, Fact::Known(true));
        assert_eq!(
            p.bypass_actors,
            Fact::Known(BTreeSet::from([
                "org-ruleset:4211:OrganizationAdmin#1:always".to_string()
            ]))
        );
        assert_eq!(
            p.sources,
            Fact::Known(BTreeSet::from(["org-ruleset:4211".to_string()]))
        );
    }

    #[test]
    fn classic_and_ruleset_only_compliant_together() {
        // Classic: 2 approvals, admins enforced, but force pushes and deletions allowed.
        let classic = COMPLIANT
            .replace(
                "\"allow_force_pushes\": { \"enabled\": false }",
                "\"allow_force_pushes\": { \"enabled\": true }",
            )
            .replace(
                "\"allow_deletions\": { \"enabled\": false }",
                "\"allow_deletions\": { \"enabled\": true }",
            );
        // Ruleset: only blocks force pushes and deletion, nobody can bypass.
        let rules = r#"[
          {"type":"deletion","ruleset_source_type":"Repository","ruleset_source":"acme/svc","ruleset_id":101},
          {"type":"non_fast_forward","ruleset_source_type":"Repository","ruleset_source":"acme/svc","ruleset_id":101}
        ]"#;
        let p = effective(&branch(
            Ok(Some(&classic)),
            Ok(rules),
            &[(101, Ok(RULESET))],
        ));
        assert_eq!(p.required_approving_reviews, Fact::Known(2));
        assert_eq!(b(&p, "forcePushesBlocked"), Fact::Known(true));
        assert_eq!(b(&p, "deletionBlocked"), Fact::Known(true));
        assert_eq!(p.admins_can_bypass, Fact::Known(false));
        let pairs = p.fact_sources.known().unwrap();
        assert!(pairs.contains("forcePushesBlocked=ruleset:101"));
        assert!(pairs.contains("requiredApprovingReviews=classic"));
        assert!(!pairs.contains("forcePushesBlocked=classic"));
    }

    #[test]
    fn unreadable_classic_is_unknown_unless_a_ruleset_proves_the_fact() {
        let rules = r#"[
          {"type":"non_fast_forward","ruleset_source_type":"Repository","ruleset_source":"acme/svc","ruleset_id":101}
        ]"#;
        let p = effective(&branch(
            Err("GET …/protection: 404 Not Found"),
            Ok(rules),
            &[(101, Ok(RULESET))],
        ));
        assert_eq!(p.protected, Fact::Known(true));
        assert_eq!(b(&p, "forcePushesBlocked"), Fact::Known(true));
        assert!(matches!(b(&p, "deletionBlocked"), Fact::Unknown(r) if r.contains("404")));
        assert!(matches!(p.required_approving_reviews, Fact::Unknown(_)));
        assert!(matches!(p.admins_can_bypass, Fact::Unknown(_)));

        let nothing = effective(&branch(Err("403"), Ok("[]"), &[]));
        assert!(matches!(nothing.protected, Fact::Unknown(_)));
    }

    #[test]
    fn hidden_bypass_actors_are_unknown_not_empty() {
        let rules = r#"[
          {"type":"non_fast_forward","ruleset_source_type":"Organization","ruleset_source":"acme","ruleset_id":4211}
        ]"#;
        let p = effective(&branch(Ok(None), Ok(rules), &[(4211, Ok(HIDDEN))]));
        assert_eq!(b(&p, "forcePushesBlocked"), Fact::Known(true));
        assert!(matches!(&p.admins_can_bypass, Fact::Unknown(r) if r.contains("not visible")));
        assert!(matches!(p.bypass_actors, Fact::Unknown(_)));
    }

    #[test]
    fn unreadable_ruleset_detail_still_counts_the_active_rule() {
        let p = effective(&branch(
            Ok(None),
            Ok(RULES),
            &[(101, Err("GET /repos/acme/svc/rulesets/101: 403"))],
        ));
        assert_eq!(p.protected, Fact::Known(true));
        assert_eq!(b(&p, "forcePushesBlocked"), Fact::Known(true));
        assert!(matches!(p.admins_can_bypass, Fact::Unknown(_)));
    }
}
