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

use crate::raw::{
    ActorLists, AllowedActor, OptionalEnabledPayload, ProtectionPayload, RawBranch, ReadFailure,
    ReviewsPayload, RulePayload, RulesetPayload,
};

/// The boolean requirements, by attribute name. Each holds when at least one source enforces it.
pub const BOOL_FACTS: [&str; 17] = [
    "dismissStaleReviews",
    "requireCodeOwnerReview",
    "requiredStatusChecks",
    "forcePushesBlocked",
    "deletionBlocked",
    "requiredSignatures",
    "requiredLinearHistory",
    "requireLastPushApproval",
    "requiredConversationResolution",
    "statusChecksStrict",
    "lockBranch",
    "pushRestricted",
    "dismissalRestricted",
    "mergeQueueRequired",
    "codeScanningRequired",
    "workflowsRequired",
    "deploymentsRequired",
];

/// The requirements `adminsCanBypass` is about (the first seven of [`BOOL_FACTS`] and the
/// approvals): kept as they were so that the shipped rule's meaning does not drift as facts are
/// added.
pub const BYPASS_FACTS: [&str; 8] = [
    "requiredApprovingReviews",
    "dismissStaleReviews",
    "requireCodeOwnerReview",
    "requiredStatusChecks",
    "forcePushesBlocked",
    "deletionBlocked",
    "requiredSignatures",
    "requiredLinearHistory",
];

/// Facts about reviews, which classic `bypass_pull_request_allowances` lets actors skip.
const REVIEW_FACTS: [&str; 5] = [
    "requiredApprovingReviews",
    "dismissStaleReviews",
    "requireCodeOwnerReview",
    "requireLastPushApproval",
    "requiredConversationResolution",
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
    /// Names of the required status checks, over every source.
    pub required_status_check_contexts: Fact<BTreeSet<String>>,
    /// Administrators or bypass actors can merge without the required checks passing: no source
    /// requiring checks holds them to it (classic `enforcement_level: non_admins` or no
    /// `enforce_admins`, ruleset bypass actors). `true` when no check is required.
    pub admins_exempt_from_status_checks: Fact<bool>,
    /// The caller can bypass at least one active ruleset applying to the branch
    /// (`current_user_can_bypass` other than `never`); `false` when no ruleset applies.
    pub current_user_can_bypass: Fact<bool>,
}

/// What one source enforces, and whether it can be bypassed. `Err` values are the reason a
/// value could not be read from this source.
#[derive(Debug, Clone, PartialEq)]
struct SourceFacts {
    name: String,
    /// Approvals required; `None` when this source does not require pull request reviews.
    reviews: Option<Result<i64, String>>,
    /// Per fact in [`BOOL_FACTS`]: what this source says.
    bools: BTreeMap<&'static str, Result<bool, String>>,
    /// Administrators/bypass actors can skip this source's requirements (`Err`: not visible).
    bypass_all: Result<bool, String>,
    /// Actors that can skip only the review requirements (classic allowances).
    review_bypassers: Result<Vec<String>, String>,
    /// Everyone who can bypass (`Err`: not visible).
    actors: Result<Vec<String>, String>,
    /// Required status check names.
    contexts: Result<BTreeSet<String>, String>,
    /// Whether the status checks of this source can be skipped, when it differs from
    /// `bypass_all` (classic `enforcement_level`).
    status_checks_bypass: Option<Result<bool, String>>,
    /// The caller can bypass this source (rulesets only).
    current_user_can_bypass: Option<Result<bool, String>>,
}

impl SourceFacts {
    fn enforces(&self, fact: &str) -> bool {
        if fact == "requiredApprovingReviews" {
            return matches!(self.reviews, Some(Ok(n)) if n > 0);
        }
        matches!(self.bools.get(fact), Some(Ok(true)))
    }

    fn bypassable(&self, fact: &str) -> Result<bool, String> {
        if fact == "requiredStatusChecks" {
            if let Some(status) = &self.status_checks_bypass {
                return status.clone();
            }
        }
        if self.bypass_all == Ok(true) {
            return Ok(true);
        }
        if REVIEW_FACTS.contains(&fact) {
            match &self.review_bypassers {
                Ok(list) if !list.is_empty() => return Ok(true),
                Ok(_) => {}
                Err(reason) => return Err(reason.clone()),
            }
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
        Ok(Some(p)) => sources.push(classic(p, branch)),
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

    let mut most = 0;
    let mut count_unknown = first_unknown.clone();
    for s in sources {
        match &s.reviews {
            Some(Ok(n)) => most = most.max(*n),
            Some(Err(reason)) => count_unknown = count_unknown.or(Some(reason.clone())),
            None => {}
        }
    }
    let required_approving_reviews = unknown_or(&count_unknown, most);

    let mut bools = BTreeMap::new();
    for fact in BOOL_FACTS {
        let said = || sources.iter().filter_map(|s| s.bools.get(fact));
        let value = if sources.iter().any(|s| s.enforces(fact)) {
            Fact::Known(true)
        } else if let Some(reason) = &first_unknown {
            Fact::Unknown(reason.clone())
        } else if let Some(Err(reason)) = said().find(|v| v.is_err()) {
            Fact::Unknown(reason.clone())
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

    let required_status_check_contexts = match &first_unknown {
        Some(reason) => Fact::Unknown(reason.clone()),
        None => {
            let mut all = BTreeSet::new();
            let mut missing = None;
            for s in sources {
                match &s.contexts {
                    Ok(names) => all.extend(names.iter().cloned()),
                    Err(reason) => missing = missing.or(Some(reason.clone())),
                }
            }
            match missing {
                Some(reason) => Fact::Unknown(reason),
                None => Fact::Known(all),
            }
        }
    };

    let admins_exempt_from_status_checks = match &first_unknown {
        Some(reason) => Fact::Unknown(reason.clone()),
        None => {
            let verdicts: Vec<Result<bool, String>> = sources
                .iter()
                .filter(|s| s.enforces("requiredStatusChecks"))
                .map(|s| s.bypassable("requiredStatusChecks"))
                .collect();
            if verdicts.iter().any(|v| v == &Ok(false)) {
                Fact::Known(false)
            } else if let Some(Err(reason)) = verdicts.iter().find(|v| v.is_err()) {
                Fact::Unknown(reason.clone())
            } else if verdicts.is_empty() {
                match bools.get("requiredStatusChecks") {
                    Some(Fact::Unknown(reason)) => Fact::Unknown(reason.clone()),
                    _ => Fact::Known(true),
                }
            } else {
                Fact::Known(true)
            }
        }
    };

    let current_user_can_bypass = {
        let said: Vec<&Result<bool, String>> = sources
            .iter()
            .filter_map(|s| s.current_user_can_bypass.as_ref())
            .collect();
        if said.iter().any(|v| **v == Ok(true)) {
            Fact::Known(true)
        } else if let Some(reason) = &first_unknown {
            Fact::Unknown(reason.clone())
        } else if let Some(Err(reason)) = said.iter().find(|v| v.is_err()) {
            Fact::Unknown(reason.clone())
        } else {
            Fact::Known(false)
        }
    };

    Protection {
        protected,
        required_approving_reviews,
        bools,
        admins_can_bypass,
        bypass_actors,
        sources: sources_fact,
        fact_sources,
        required_status_check_contexts,
        admins_exempt_from_status_checks,
        current_user_can_bypass,
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
    for fact in BYPASS_FACTS {
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

/// "`field` not in the classic protection response" for a field GitHub's schema lets it omit.
fn absent(field: &str) -> String {
    format!(
        "`{field}` not in the classic protection response (GET …/branches/{{branch}}/protection)"
    )
}

/// A `{ "enabled": … }` block; `inverted` for `allow_*` blocks, whose `true` is the weak setting.
fn enabled_block(
    block: Option<OptionalEnabledPayload>,
    field: &str,
    inverted: bool,
) -> Result<bool, String> {
    let block = block.ok_or_else(|| absent(field))?;
    let on = block
        .enabled
        .ok_or_else(|| absent(&format!("{field}.enabled")))?;
    Ok(on != inverted)
}

/// Names of the actors in classic allowance lists, as `<kind>/<login or slug>`; a `null` app is
/// still an entry (`app/?`). `Err` when a list is not in the response.
fn actor_names(lists: &ActorLists, field: &str) -> Result<Vec<String>, String> {
    let name = |a: &AllowedActor| {
        a.login
            .as_deref()
            .or(a.slug.as_deref())
            .unwrap_or("?")
            .to_string()
    };
    let mut out = Vec::new();
    let users = lists
        .users
        .as_ref()
        .ok_or_else(|| absent(&format!("{field}.users")))?;
    let teams = lists
        .teams
        .as_ref()
        .ok_or_else(|| absent(&format!("{field}.teams")))?;
    let apps = lists
        .apps
        .as_ref()
        .ok_or_else(|| absent(&format!("{field}.apps")))?;
    out.extend(users.iter().map(|a| format!("user/{}", name(a))));
    out.extend(teams.iter().map(|a| format!("team/{}", name(a))));
    out.extend(
        apps.iter()
            .map(|a| format!("app/{}", a.as_ref().map_or_else(|| "?".to_string(), name))),
    );
    Ok(out)
}

fn classic(p: &ProtectionPayload, branch: &RawBranch) -> SourceFacts {
    let signatures_error = branch.signatures_error.as_ref();
    let status_reason = |field: &str| {
        branch
            .status_checks_error
            .as_ref()
            .map_or_else(|| absent(field), |u| u.reason.clone())
    };
    let reviews = p.required_pull_request_reviews.as_ref();
    let review_flag =
        |value: Option<fn(&ReviewsPayload) -> Option<bool>>, field: &str| match (reviews, value) {
            (None, _) => Ok(false),
            (Some(r), Some(get)) => {
                get(r).ok_or_else(|| absent(&format!("required_pull_request_reviews.{field}")))
            }
            (Some(_), None) => Ok(false),
        };
    let mut bools = BTreeMap::new();
    bools.insert(
        "dismissStaleReviews",
        review_flag(Some(|r| r.dismiss_stale_reviews), "dismiss_stale_reviews"),
    );
    bools.insert(
        "requireCodeOwnerReview",
        review_flag(
            Some(|r| r.require_code_owner_reviews),
            "require_code_owner_reviews",
        ),
    );
    bools.insert(
        "requiredStatusChecks",
        match &p.required_status_checks {
            None => Ok(false),
            Some(c) => match (&c.contexts, &c.checks) {
                (Some(a), _) if !a.is_empty() => Ok(true),
                (_, Some(b)) if !b.is_empty() => Ok(true),
                (Some(_), Some(_)) => Ok(false),
                _ => Err(status_reason("required_status_checks.checks")),
            },
        },
    );
    bools.insert(
        "forcePushesBlocked",
        enabled_block(p.allow_force_pushes, "allow_force_pushes", true),
    );
    bools.insert(
        "deletionBlocked",
        enabled_block(p.allow_deletions, "allow_deletions", true),
    );
    bools.insert(
        "requiredSignatures",
        match (p.required_signatures, signatures_error) {
            (Some(e), _) => Ok(e.enabled),
            (None, Some(u)) => Err(u.reason.clone()),
            (None, None) => Err(absent("required_signatures")),
        },
    );
    bools.insert(
        "requiredLinearHistory",
        enabled_block(p.required_linear_history, "required_linear_history", false),
    );
    // GitHub documents `require_last_push_approval` with `default: false`.
    bools.insert(
        "requireLastPushApproval",
        Ok(reviews.is_some_and(|r| r.require_last_push_approval == Some(true))),
    );
    bools.insert(
        "requiredConversationResolution",
        enabled_block(
            p.required_conversation_resolution,
            "required_conversation_resolution",
            false,
        ),
    );
    bools.insert(
        "statusChecksStrict",
        match &p.required_status_checks {
            None => Ok(false),
            Some(c) => c
                .strict
                .ok_or_else(|| status_reason("required_status_checks.strict")),
        },
    );
    // `lock_branch.enabled` has `default: false` in GitHub's schema; the block itself is
    // missing on servers that predate it.
    bools.insert(
        "lockBranch",
        match p.lock_branch {
            Some(block) => Ok(block.enabled == Some(true)),
            None => Err(absent("lock_branch")),
        },
    );
    bools.insert(
        "pushRestricted",
        Ok(p.restrictions.as_ref().is_some_and(|r| !r.is_null())),
    );
    bools.insert(
        "dismissalRestricted",
        Ok(reviews.is_some_and(|r| r.dismissal_restrictions.is_some())),
    );
    // Rules only rulesets have.
    for fact in [
        "mergeQueueRequired",
        "codeScanningRequired",
        "workflowsRequired",
        "deploymentsRequired",
    ] {
        bools.insert(fact, Ok(false));
    }
    let contexts = match &p.required_status_checks {
        None => Ok(BTreeSet::new()),
        Some(c) => match (&c.contexts, &c.checks) {
            (None, None) => Err(status_reason("required_status_checks.checks")),
            (a, b) => Ok(a
                .iter()
                .flatten()
                .cloned()
                .chain(b.iter().flatten().map(|c| c.context.clone()))
                .collect()),
        },
    };

    let review_bypassers = match reviews.and_then(|r| r.bypass_pull_request_allowances.as_ref()) {
        Some(allow) => actor_names(
            allow,
            "required_pull_request_reviews.bypass_pull_request_allowances",
        )
        .map(|names| {
            names
                .into_iter()
                .map(|n| format!("classic:pull-request-bypass:{n}"))
                .collect()
        }),
        None => Ok(Vec::new()),
    };
    let (bypass_all, admins) = match p.enforce_admins {
        Some(e) if e.enabled => (Ok(false), Vec::new()),
        Some(_) => (Ok(true), vec!["classic:admins".to_string()]),
        None => (Err(absent("enforce_admins")), Vec::new()),
    };
    let actors = match (&bypass_all, &review_bypassers) {
        (Err(reason), _) | (_, Err(reason)) => Err(reason.clone()),
        (Ok(_), Ok(more)) => Ok(admins.into_iter().chain(more.iter().cloned()).collect()),
    };
    // `non_admins`: administrators skip the checks; `everyone`: nobody does. Otherwise (`off`,
    // or not returned) `enforce_admins` decides, as it does for every other requirement.
    let status_checks_bypass = match p
        .required_status_checks
        .as_ref()
        .and_then(|c| c.enforcement_level.as_deref())
    {
        Some("non_admins") => Some(Ok(true)),
        Some("everyone") => Some(Ok(false)),
        _ => None,
    };
    SourceFacts {
        name: "classic".to_string(),
        reviews: reviews.map(|r| {
            r.required_approving_review_count.ok_or_else(|| {
                absent("required_pull_request_reviews.required_approving_review_count")
            })
        }),
        bools,
        bypass_all,
        review_bypassers,
        actors,
        contexts,
        status_checks_bypass,
        current_user_can_bypass: None,
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
            let current_user_can_bypass = match detail {
                Some(Ok(rs)) => Some(match rs.current_user_can_bypass.as_deref() {
                    Some(mode) => Ok(mode != "never"),
                    None => Err(format!(
                        "`current_user_can_bypass` not in the details of {name}"
                    )),
                }),
                Some(Err(u)) => Some(Err(u.reason.clone())),
                None => Some(Err(format!("details of {name} were not fetched"))),
            };
            SourceFacts {
                name,
                reviews: None,
                bools: BOOL_FACTS.iter().map(|f| (*f, Ok(false))).collect(),
                bypass_all,
                review_bypassers: Ok(Vec::new()),
                actors,
                contexts: Ok(BTreeSet::new()),
                status_checks_bypass: None,
                current_user_can_bypass,
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
        s.bools.insert(fact, Ok(true));
    };
    match rule.rule_type.as_str() {
        "pull_request" => {
            if flag("dismiss_stale_reviews_on_push") {
                set("dismissStaleReviews");
            }
            if flag("require_code_owner_review") {
                set("requireCodeOwnerReview");
            }
            if flag("require_last_push_approval") {
                set("requireLastPushApproval");
            }
            if flag("required_review_thread_resolution") {
                set("requiredConversationResolution");
            }
            // Required by GitHub's schema of the rule; absent is unknown, never 0.
            let n = params
                .and_then(|p| p.get("required_approving_review_count"))
                .and_then(Value::as_i64)
                .ok_or_else(|| {
                    format!(
                        "`required_approving_review_count` not in a `pull_request` rule of {}",
                        s.name
                    )
                });
            s.reviews = Some(match (s.reviews.take(), n) {
                (Some(Err(reason)), _) | (_, Err(reason)) => Err(reason),
                (Some(Ok(m)), Ok(n)) => Ok(m.max(n)),
                (None, Ok(n)) => Ok(n),
            });
        }
        "required_status_checks" => {
            let checks = params
                .and_then(|p| p.get("required_status_checks"))
                .and_then(Value::as_array);
            if checks.is_some_and(|a| !a.is_empty()) {
                set("requiredStatusChecks");
            }
            if flag("strict_required_status_checks_policy") {
                set("statusChecksStrict");
            }
            let names = checks
                .into_iter()
                .flatten()
                .filter_map(|c| c.get("context").and_then(Value::as_str))
                .map(str::to_string);
            if let Ok(all) = &mut s.contexts {
                all.extend(names);
            }
        }
        "non_fast_forward" => set("forcePushesBlocked"),
        "deletion" => set("deletionBlocked"),
        "required_signatures" => set("requiredSignatures"),
        "required_linear_history" => set("requiredLinearHistory"),
        // `update`: only bypass actors may push to the branch, i.e. it is locked.
        "update" => {
            set("lockBranch");
            set("pushRestricted");
        }
        "merge_queue" => set("mergeQueueRequired"),
        "code_scanning" => set("codeScanningRequired"),
        "workflows" => set("workflowsRequired"),
        "required_deployments" => set("deploymentsRequired"),
        // creation, commit message patterns, file rules, …: they protect the branch but are not
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
            signatures_error: None,
            status_checks_error: None,
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
        for fact in &BYPASS_FACTS[1..] {
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
        for fact in &BYPASS_FACTS[1..] {
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

    const GITHUB_EXAMPLE: &str = include_str!("../fixtures/protection_github_example.json");

    #[test]
    fn githubs_example_without_required_signatures_is_read_with_the_dedicated_answer() {
        let mut raw = branch(Ok(Some(GITHUB_EXAMPLE)), Ok("[]"), &[]);
        // Without the dedicated endpoint's answer only that one fact is unknown.
        let p = effective(&raw);
        assert!(
            matches!(b(&p, "requiredSignatures"), Fact::Unknown(r) if r.contains("required_signatures"))
        );
        assert_eq!(p.required_approving_reviews, Fact::Known(2));
        assert_eq!(b(&p, "forcePushesBlocked"), Fact::Known(false));
        // With it (what fetch does), the fact is known.
        if let Ok(Some(c)) = &mut raw.classic {
            c.required_signatures = Some(crate::raw::EnabledPayload { enabled: true });
        }
        assert_eq!(b(&effective(&raw), "requiredSignatures"), Fact::Known(true));
        // And when the dedicated endpoint failed, its reason is the reason.
        raw.classic = Ok(Some(fixture(GITHUB_EXAMPLE)));
        raw.signatures_error = Some(ReadFailure::new("GET …/required_signatures: 404 Not Found"));
        assert!(
            matches!(b(&effective(&raw), "requiredSignatures"), Fact::Unknown(r) if r.contains("404"))
        );
    }

    #[test]
    fn optional_enabled_absent_is_unknown_for_that_fact_only() {
        let payload = COMPLIANT.replace(
            "\"allow_force_pushes\": { \"enabled\": false }",
            "\"allow_force_pushes\": {}",
        );
        let p = effective(&branch(Ok(Some(&payload)), Ok("[]"), &[]));
        assert!(
            matches!(b(&p, "forcePushesBlocked"), Fact::Unknown(r) if r.contains("allow_force_pushes.enabled"))
        );
        assert_eq!(b(&p, "deletionBlocked"), Fact::Known(true));
        assert_eq!(p.protected, Fact::Known(true));
        // A ruleset blocking force pushes settles it.
        let rules = r#"[{"type":"non_fast_forward","ruleset_source_type":"Repository","ruleset_source":"acme/svc","ruleset_id":101}]"#;
        let p = effective(&branch(
            Ok(Some(&payload)),
            Ok(rules),
            &[(101, Ok(RULESET))],
        ));
        assert_eq!(b(&p, "forcePushesBlocked"), Fact::Known(true));
    }

    #[test]
    fn null_app_in_bypass_allowances_is_still_a_bypasser() {
        let payload = WEAK.replace("\"apps\": []", "\"apps\": [null]");
        let p = effective(&branch(Ok(Some(&payload)), Ok("[]"), &[]));
        let actors = p.bypass_actors.known().unwrap();
        assert!(
            actors.contains("classic:pull-request-bypass:app/?"),
            "{actors:?}"
        );
        // An allowance list GitHub did not return is unknown, not "nobody".
        let mut v: Value = fixture(WEAK);
        v["required_pull_request_reviews"]["bypass_pull_request_allowances"]
            .as_object_mut()
            .unwrap()
            .remove("apps");
        let payload = v.to_string();
        let p = effective(&branch(Ok(Some(&payload)), Ok("[]"), &[]));
        assert!(matches!(p.bypass_actors, Fact::Unknown(r) if r.contains("apps")));
    }

    #[test]
    fn absent_approval_count_is_unknown_never_zero() {
        let mut v: Value = fixture(COMPLIANT);
        v["required_pull_request_reviews"]
            .as_object_mut()
            .unwrap()
            .remove("required_approving_review_count");
        let payload = v.to_string();
        let p = effective(&branch(Ok(Some(&payload)), Ok("[]"), &[]));
        assert!(
            matches!(&p.required_approving_reviews, Fact::Unknown(r) if r.contains("required_approving_review_count"))
        );
        assert_eq!(b(&p, "dismissStaleReviews"), Fact::Known(true));
        let rules = r#"[{"type":"pull_request","parameters":{"dismiss_stale_reviews_on_push":true},"ruleset_source_type":"Repository","ruleset_source":"acme/svc","ruleset_id":101}]"#;
        let p = effective(&branch(Ok(None), Ok(rules), &[(101, Ok(RULESET))]));
        assert!(matches!(p.required_approving_reviews, Fact::Unknown(_)));
        assert_eq!(b(&p, "dismissStaleReviews"), Fact::Known(true));
    }

    #[test]
    fn change_management_facts_from_classic() {
        let p = effective(&branch(Ok(Some(COMPLIANT)), Ok("[]"), &[]));
        for fact in [
            "requireLastPushApproval",
            "requiredConversationResolution",
            "statusChecksStrict",
        ] {
            assert_eq!(b(&p, fact), Fact::Known(true), "{fact}");
        }
        for fact in [
            "lockBranch",
            "pushRestricted",
            "dismissalRestricted",
            "mergeQueueRequired",
            "codeScanningRequired",
        ] {
            assert_eq!(b(&p, fact), Fact::Known(false), "{fact}");
        }
        assert_eq!(
            p.required_status_check_contexts,
            Fact::Known(BTreeSet::from(["ci/build".to_string()]))
        );
        // enforce_admins on, no enforcement level: administrators are held to the checks.
        assert_eq!(p.admins_exempt_from_status_checks, Fact::Known(false));
        assert_eq!(p.current_user_can_bypass, Fact::Known(false));

        let example = effective(&branch(Ok(Some(GITHUB_EXAMPLE)), Ok("[]"), &[]));
        assert_eq!(b(&example, "pushRestricted"), Fact::Known(true));
        assert_eq!(b(&example, "dismissalRestricted"), Fact::Known(true));
        assert_eq!(b(&example, "lockBranch"), Fact::Known(true));
        // `enforcement_level: non_admins` exempts administrators even with enforce_admins on.
        assert_eq!(example.admins_exempt_from_status_checks, Fact::Known(true));

        let weak = effective(&branch(Ok(Some(WEAK)), Ok("[]"), &[]));
        assert_eq!(b(&weak, "statusChecksStrict"), Fact::Known(false));
        assert_eq!(weak.admins_exempt_from_status_checks, Fact::Known(true));
        assert_eq!(
            weak.required_status_check_contexts,
            Fact::Known(BTreeSet::new())
        );
    }

    #[test]
    fn change_management_facts_from_rulesets() {
        let rules = r#"[
          {"type":"pull_request","parameters":{"required_approving_review_count":1,"dismiss_stale_reviews_on_push":false,"require_code_owner_review":false,"require_last_push_approval":true,"required_review_thread_resolution":true},"ruleset_source_type":"Repository","ruleset_source":"acme/svc","ruleset_id":101},
          {"type":"required_status_checks","parameters":{"strict_required_status_checks_policy":true,"required_status_checks":[{"context":"trustcheck"},{"context":"ci/build","integration_id":15368}]},"ruleset_source_type":"Repository","ruleset_source":"acme/svc","ruleset_id":101},
          {"type":"merge_queue","parameters":{"merge_method":"SQUASH"},"ruleset_source_type":"Repository","ruleset_source":"acme/svc","ruleset_id":101},
          {"type":"code_scanning","parameters":{"code_scanning_tools":[]},"ruleset_source_type":"Repository","ruleset_source":"acme/svc","ruleset_id":101},
          {"type":"workflows","parameters":{"workflows":[]},"ruleset_source_type":"Repository","ruleset_source":"acme/svc","ruleset_id":101},
          {"type":"required_deployments","parameters":{"required_deployment_environments":["staging"]},"ruleset_source_type":"Repository","ruleset_source":"acme/svc","ruleset_id":101},
          {"type":"update","ruleset_source_type":"Organization","ruleset_source":"acme","ruleset_id":4211}
        ]"#;
        let p = effective(&branch(
            Ok(None),
            Ok(rules),
            &[(101, Ok(RULESET)), (4211, Ok(ORG_RULESET))],
        ));
        for fact in [
            "requireLastPushApproval",
            "requiredConversationResolution",
            "statusChecksStrict",
            "mergeQueueRequired",
            "codeScanningRequired",
            "workflowsRequired",
            "deploymentsRequired",
            "lockBranch",
            "pushRestricted",
        ] {
            assert_eq!(b(&p, fact), Fact::Known(true), "{fact}");
        }
        assert_eq!(b(&p, "dismissalRestricted"), Fact::Known(false));
        assert_eq!(
            p.required_status_check_contexts,
            Fact::Known(BTreeSet::from([
                "ci/build".to_string(),
                "trustcheck".to_string()
            ]))
        );
        // Ruleset 101 has no bypass actors: nobody skips its checks.
        assert_eq!(p.admins_exempt_from_status_checks, Fact::Known(false));
        let bypassing = RULESET.replace("\"never\"", "\"always\"");
        let q = effective(&branch(
            Ok(None),
            Ok(rules),
            &[(101, Ok(&bypassing)), (4211, Ok(ORG_RULESET))],
        ));
        assert_eq!(q.current_user_can_bypass, Fact::Known(true));
        // Hidden bypass actors still show the caller's own ability.
        let r = effective(&branch(
            Ok(None),
            Ok(
                r#"[{"type":"deletion","ruleset_source_type":"Organization","ruleset_source":"acme","ruleset_id":4211}]"#,
            ),
            &[(4211, Ok(HIDDEN))],
        ));
        assert_eq!(r.current_user_can_bypass, Fact::Known(false));
        assert!(matches!(r.bypass_actors, Fact::Unknown(_)));
    }
}
