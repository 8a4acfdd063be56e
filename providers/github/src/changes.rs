//! Operating evidence: the population of changes, i.e. pull requests merged in a window, read
//! with GraphQL search (`is:pr is:merged merged:FROM..TO`), one organization at a time.
//!
//! GitHub search returns at most 1,000 results per query, so the window is sliced by date: a
//! slice reporting more than 1,000 matches is halved until each slice fits. The cost is one
//! request per 100 merged pull requests plus one per extra slice, i.e. O(pages).
//!
//! Fetch and mapping only: no verdicts.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};
use trustcheck_snapshot::{Entity, Uid};

use crate::client::Client;
use crate::entity::{CHANGE, REPO};
use crate::mapping::Mapped;
use crate::raw::{Fetched, RawOrg, RawRepo, ReadFailure};

/// GitHub's cap on results per search query.
const SEARCH_CAP: u64 = 1000;

const QUERY: &str = r#"query($q: String!, $after: String) {
  search(query: $q, type: ISSUE, first: 100, after: $after) {
    issueCount
    pageInfo { hasNextPage endCursor }
    nodes { ... on PullRequest {
      number baseRefName mergedAt mergeCommit { oid }
      repository { nameWithOwner }
      author { login }
      mergedBy { login }
      reviews(states: APPROVED, first: 50) { nodes { author { login } submittedAt } }
      commits(last: 1) { nodes { commit { committedDate statusCheckRollup { state
        contexts(first: 100) { pageInfo { hasNextPage } nodes {
          ... on CheckRun { name conclusion }
          ... on StatusContext { context state } } } } } } }
    } }
  }
}"#;

fn stamp(t: OffsetDateTime) -> Result<String, ReadFailure> {
    t.format(&Rfc3339)
        .map_err(|e| ReadFailure::new(format!("cannot format a search date: {e}")))
}

/// Every pull request of `org` merged in the `days` before `until`, as GraphQL nodes.
pub async fn fetch_changes(
    client: &Client,
    org: &str,
    until: OffsetDateTime,
    days: u32,
) -> Fetched<Vec<Value>> {
    let mut slices = vec![(until - Duration::days(i64::from(days)), until)];
    let mut nodes = Vec::new();
    while let Some((from, to)) = slices.pop() {
        let q = format!(
            "org:{org} is:pr is:merged merged:{}..{}",
            stamp(from)?,
            stamp(to)?
        );
        let mut after = Value::Null;
        let mut first = true;
        loop {
            let data = client
                .graphql(&json!({"query": QUERY, "variables": {"q": q, "after": after}}))
                .await?;
            let search = data.get("search").cloned().unwrap_or(Value::Null);
            let count = search
                .get("issueCount")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            if first && count > SEARCH_CAP && to - from > Duration::minutes(1) {
                // Too many for one query: halve the slice (the later half first, so pages stay in
                // date order when reversed).
                let mid = from + (to - from) / 2;
                slices.push((from, mid));
                slices.push((mid, to));
                break;
            }
            first = false;
            if let Some(list) = search.get("nodes").and_then(Value::as_array) {
                nodes.extend(list.iter().filter(|n| n.get("number").is_some()).cloned());
            }
            let page = search.get("pageInfo");
            let more = page
                .and_then(|p| p.get("hasNextPage"))
                .and_then(Value::as_bool)
                .unwrap_or(false);
            match page
                .and_then(|p| p.get("endCursor"))
                .filter(|c| c.is_string())
            {
                Some(cursor) if more => after = cursor.clone(),
                _ => break,
            }
        }
    }
    Ok(nodes)
}

fn text<'a>(node: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut v = node;
    for key in path {
        v = v.get(key)?;
    }
    v.as_str()
}

/// One `Github::Change` per merged pull request into a collected repository's default branch
/// or a branch matching `branches`.
pub fn map_changes(raw: &RawOrg, nodes: &[Value], out: &mut Mapped) {
    // Slices meet at their bounds: a pull request merged exactly there is listed twice.
    let mut seen = BTreeSet::new();
    for node in nodes {
        let (Some(repo), Some(number)) = (
            text(node, &["repository", "nameWithOwner"]),
            node.get("number").and_then(Value::as_u64),
        ) else {
            continue;
        };
        if !seen.insert((repo.to_ascii_lowercase(), number)) {
            continue;
        }
        let Some(collected) = raw
            .repos
            .iter()
            .find(|r| r.repo.full_name.eq_ignore_ascii_case(repo))
        else {
            continue; // not among the collected repositories (`--repo`)
        };
        let base = text(node, &["baseRefName"]).unwrap_or_default();
        let is_default = collected.repo.default_branch.as_deref() == Some(base);
        let configured = raw
            .change_branches
            .iter()
            .any(|p| crate::mapping::glob_matches(p, base));
        if !is_default && !configured {
            continue;
        }
        let author = text(node, &["author", "login"]).unwrap_or_default();
        let last_commit = node
            .get("commits")
            .and_then(|c| c.get("nodes"))
            .and_then(Value::as_array)
            .and_then(|n| n.last())
            .and_then(|n| n.get("commit"));
        let committed = last_commit
            .and_then(|c| c.get("committedDate"))
            .and_then(Value::as_str)
            .and_then(|d| OffsetDateTime::parse(d, &Rfc3339).ok());
        let checks = last_commit
            .and_then(|c| c.get("statusCheckRollup"))
            .and_then(|r| r.get("state"))
            .and_then(Value::as_str)
            .unwrap_or("NONE");
        let mut approvers = BTreeSet::new();
        let mut after_last_commit = false;
        for review in node
            .get("reviews")
            .and_then(|r| r.get("nodes"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(who) = text(review, &["author", "login"]) else {
                continue;
            };
            approvers.insert(who.to_string());
            let when = text(review, &["submittedAt"])
                .and_then(|d| OffsetDateTime::parse(d, &Rfc3339).ok());
            if !who.eq_ignore_ascii_case(author) {
                if let (Some(when), Some(committed)) = (when, committed) {
                    after_last_commit |= when >= committed;
                }
            }
        }
        let by_other = approvers.iter().any(|a| !a.eq_ignore_ascii_case(author));
        let mut attrs = Map::new();
        attrs.insert("repo".into(), Value::from(collected.repo.full_name.clone()));
        attrs.insert("number".into(), Value::from(number));
        attrs.insert("base".into(), Value::from(base));
        attrs.insert("author".into(), Value::from(author));
        attrs.insert(
            "mergedBy".into(),
            Value::from(text(node, &["mergedBy", "login"]).unwrap_or_default()),
        );
        attrs.insert(
            "mergedAt".into(),
            Value::from(text(node, &["mergedAt"]).unwrap_or_default()),
        );
        attrs.insert(
            "approvers".into(),
            Value::from(approvers.into_iter().collect::<Vec<_>>()),
        );
        attrs.insert("approvedByOther".into(), Value::from(by_other));
        attrs.insert(
            "approvedAfterLastCommit".into(),
            Value::from(after_last_commit),
        );
        attrs.insert("checksState".into(), Value::from(checks));
        let uid = Uid::new(CHANGE, format!("{}#{number}", collected.repo.full_name));
        match checks_by_outcome(last_commit) {
            Ok((passed, not_passed)) => {
                attrs.insert("checksPassed".into(), Value::from(passed));
                attrs.insert("checksNotPassed".into(), Value::from(not_passed));
            }
            Err(reason) => {
                out.error(uid.clone(), "checksPassed", &reason);
                out.error(uid.clone(), "checksNotPassed", &reason);
            }
        }
        let merged_at =
            text(node, &["mergedAt"]).and_then(|d| OffsetDateTime::parse(d, &Rfc3339).ok());
        match bypassed_at_merge(
            collected,
            raw.changes_until,
            text(node, &["mergeCommit", "oid"]),
            merged_at,
        ) {
            Ok(bypassed) => {
                attrs.insert("mergeBypassedRuleset".into(), Value::from(bypassed));
            }
            Err(reason) => out.error(uid.clone(), "mergeBypassedRuleset", &reason),
        }
        out.entities.push(Entity {
            uid,
            attrs,
            parents: vec![Uid::new(REPO, &collected.repo.full_name)],
        });
    }
}

/// Days a rule-suite period surely covers: GitHub's `month` is taken as 28 days, the shortest.
fn period_days(period: &str) -> i64 {
    match period {
        "day" => 1,
        "week" => 7,
        _ => 28,
    }
}

/// Whether the push that merged a pull request bypassed a ruleset: a rule suite with result
/// `bypass` whose `after_sha` is the merge commit. Unknown (the reason) when the repository's
/// rule suites were not read, GitHub gave no merge commit, or the merge is older than the period
/// of rule suites read (GitHub keeps about a month).
fn bypassed_at_merge(
    repo: &RawRepo,
    until: Option<OffsetDateTime>,
    merge_sha: Option<&str>,
    merged_at: Option<OffsetDateTime>,
) -> Result<bool, String> {
    let Some((period, suites)) = repo.settings.as_ref().and_then(|s| s.bypasses.as_ref()) else {
        return Err("the repository's rule suites were not read".to_string());
    };
    let suites = suites.as_ref().map_err(|u| u.reason.clone())?;
    let sha = merge_sha.ok_or("GitHub gave no merge commit for the pull request")?;
    let covered_from = until.map(|u| u - Duration::days(period_days(period)));
    let Some(merged) = merged_at else {
        return Err("GitHub gave no readable merge time for the pull request".to_string());
    };
    match covered_from {
        Some(from) if merged >= from => {}
        _ => {
            return Err(format!(
                "merged before the rule suites read (`time_period={period}`; GitHub keeps about a month)"
            ))
        }
    }
    Ok(suites.iter().any(|s| {
        s.result.as_deref().is_none_or(|r| r == "bypass")
            && s.after_sha
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case(sha))
    }))
}

/// The names of the checks (check runs and commit statuses) on a merged pull request's last
/// commit: those that passed as GitHub counts a required check (`SUCCESS`, and a check run's
/// `NEUTRAL` or `SKIPPED`), and every other one (failed, cancelled, timed out, still pending).
/// Unknown when GitHub lists more than the 100 read, or a check in a shape it does not document.
fn checks_by_outcome(last_commit: Option<&Value>) -> Result<(Vec<String>, Vec<String>), String> {
    let Some(commit) = last_commit else {
        return Err("GitHub gave no last commit for the pull request".to_string());
    };
    // No rollup: no check ran on the commit.
    let Some(rollup) = commit.get("statusCheckRollup").filter(|r| !r.is_null()) else {
        return Ok((Vec::new(), Vec::new()));
    };
    let contexts = rollup.get("contexts");
    if contexts
        .and_then(|c| c.get("pageInfo"))
        .and_then(|p| p.get("hasNextPage"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        return Err("more than 100 checks on the last commit; the first 100 were read".to_string());
    }
    let Some(nodes) = contexts
        .and_then(|c| c.get("nodes"))
        .and_then(Value::as_array)
    else {
        return Err("GitHub gave the checks' rollup without its checks".to_string());
    };
    let mut passed = BTreeSet::new();
    let mut not_passed = BTreeSet::new();
    for node in nodes {
        let (name, outcome) = match (text(node, &["name"]), text(node, &["context"])) {
            // A check run; `conclusion` is null while it runs.
            (Some(name), _) => (name, text(node, &["conclusion"])),
            // A commit status.
            (None, Some(context)) => (context, text(node, &["state"])),
            (None, None) => {
                return Err("a check GitHub listed has neither name nor context".to_string())
            }
        };
        if matches!(outcome, Some("SUCCESS" | "NEUTRAL" | "SKIPPED")) {
            passed.insert(name.to_string());
        } else {
            not_passed.insert(name.to_string());
        }
    }
    // A name listed twice (a re-run, a status and a check run of one name) passed only if no
    // run of it failed: `checksPassed.contains("x")` must never hide a failed `x`.
    passed.retain(|name| !not_passed.contains(name));
    Ok((
        passed.into_iter().collect(),
        not_passed.into_iter().collect(),
    ))
}
