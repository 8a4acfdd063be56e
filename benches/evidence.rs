//! Benchmark of `trustcheck evidence report` on a year of nightly runs: generates a ledger of
//! `--days` bundles (365) over `--resources` resources (10,000; one finding each per night, so
//! ~3.65 M findings), through the library's own `Ledger::append`, then times the real binary's
//! `evidence verify` and `evidence report --format json` and reads their peak memory. Run with
//! `cargo bench --bench evidence` (release build). It prints a table and asserts nothing about
//! time; `cargo test --all-targets` runs it small, as a smoke test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use trustcheck::evidence::bundle::FileRecord;
use trustcheck::evidence::{Ledger, RunInput};
use trustcheck::findings::{fingerprint, Finding, Status, Uid};
use trustcheck::rules::{builtin_sources, RuleSet};
use trustcheck::schema::SchemaSet;

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident memory of the finished child processes, in MB (Linux reports KiB).
fn children_max_rss_mb() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bench = args.iter().any(|a| a == "--bench");
    let days = arg(&args, "--days", if bench { 365 } else { 5 });
    let resources = arg(&args, "--resources", if bench { 10_000 } else { 200 });
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("ledger");

    let schema = SchemaSet::builtin().unwrap();
    let rules = RuleSet::load(builtin_sources(), &schema).unwrap();
    // Ten rules, each judging its share of the resources.
    let judged: Vec<_> = rules.rules().iter().take(10).collect();
    let per_rule = resources / judged.len();
    let started = Instant::now();
    let mut bytes = 0u64;
    for day in 0..days {
        let at = time::macros::datetime!(2026-01-01 03:00 UTC) + time::Duration::days(day as i64);
        // Skip one night in fifty: cadence gaps.
        if day % 50 == 49 {
            continue;
        }
        let at = trustcheck::snapshot::format_utc(at);
        let mut findings = Vec::with_capacity(resources);
        let mut population = BTreeMap::new();
        let mut snapshot = String::with_capacity(resources * 90);
        snapshot.push_str(&format!(
            "{{\"format\":\"trustcheck.snapshot/v1\",\"collected_at\":\"{at}\",\"entities\":["
        ));
        for (r, rule) in judged.iter().enumerate() {
            let ty = rule.resource_types.first().cloned().unwrap_or_default();
            *population.entry(ty.clone()).or_insert(0u64) += per_rule as u64;
            for i in 0..per_rule {
                let resource = Uid::new(ty.clone(), format!("acct-{}/res-{r}-{i}", i % 7));
                // Failing stretches: a resource fails for a week in every ~12 weeks, staggered;
                // one in a thousand cannot be judged on a given night.
                let phase = (i * 7 + r * 13 + day) % 84;
                let status = if (i + day) % 1000 == 0 {
                    Status::Error
                } else if phase < 7 && i % 10 == 0 {
                    Status::Fail
                } else {
                    Status::Pass
                };
                snapshot.push_str(&format!(
                    "{{\"uid\":{{\"type\":\"{ty}\",\"id\":\"{}\"}},\"attrs\":{{\"day\":{day}}}}},",
                    resource.id
                ));
                findings.push(Finding {
                    rule: rule.id.clone(),
                    title: rule.title.clone(),
                    soc2: rule.soc2.clone(),
                    severity: rule.severity,
                    fingerprint: fingerprint(&rule.id, &resource),
                    resource: resource.into(),
                    status,
                    message: if status == Status::Pass {
                        String::new()
                    } else {
                        "enabled = false".into()
                    },
                    remediation: Arc::clone(&rule.remediation),
                    acceptance: None,
                });
            }
        }
        snapshot.pop();
        snapshot.push_str("]}\n");
        let input = RunInput {
            collected_at: at.clone(),
            snapshots: vec![FileRecord::of("snapshot.json", snapshot)],
            sources: Vec::new(),
            population,
            rules: &rules,
            schema_fragments: schema.fragments(),
            config: None,
            exceptions: None,
            findings: &findings,
            incomplete_reasons: Vec::new(),
            ci: None,
        };
        Ledger::at(&dir).append(input, &at).unwrap();
    }
    for entry in std::fs::read_dir(dir.join("bundles")).unwrap() {
        bytes += entry.unwrap().metadata().unwrap().len();
    }
    let generated = started.elapsed();
    let bundles = std::fs::read_to_string(dir.join("index.jsonl"))
        .unwrap()
        .lines()
        .count()
        - 1;
    println!(
        "generated {bundles} bundles × {resources} resources ({} findings), {:.1} MB on disk, in {:.1} s",
        bundles * per_rule * judged.len(),
        bytes as f64 / 1e6,
        generated.as_secs_f64()
    );

    let bin = env!("CARGO_BIN_EXE_trustcheck");
    let mut table = Vec::new();
    for (name, extra) in [
        ("evidence verify", vec!["verify"]),
        (
            "evidence report --format json",
            vec!["report", "--format", "json", "--output"],
        ),
    ] {
        let out = temp.path().join("report.json");
        let mut cmd = Command::new(bin);
        cmd.arg("evidence").args(&extra);
        if name.contains("report") {
            cmd.arg(&out);
        }
        cmd.arg(&dir).arg("--quiet");
        let started = Instant::now();
        let status = cmd.stdout(std::process::Stdio::null()).status().unwrap();
        let secs = started.elapsed().as_secs_f64();
        // verify exits 1 for the gaps; anything else is a failed benchmark.
        assert!(matches!(status.code(), Some(0 | 1)), "{name}: {status}");
        table.push((name, secs, children_max_rss_mb()));
    }
    println!(
        "{:<32} {:>10} {:>16}",
        "command", "seconds", "peak RSS (MB)"
    );
    for (name, secs, rss) in table {
        println!("{name:<32} {secs:>10.2} {rss:>16.0}");
    }
    println!("(peak RSS is the largest of the commands run so far: getrusage(RUSAGE_CHILDREN))");
}
