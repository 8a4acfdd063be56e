//! Benchmark of the whole `check` on 100,000 generated resources, next to a hand-written Rust
//! baseline of the same checks. Run with `cargo bench --bench check` (add `-- --resources N` to
//! change the size). Prints a table; it asserts nothing about time (a benchmark, not a test), but
//! it does assert that Cedar and the native baseline agree on every failure count.

// Tests and benchmarks assert: a value that is not there is a failed test, not input to handle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{generate, native, write_rules, RULES};
use trustcheck::engine;
use trustcheck::entities::{Input, Store};
use trustcheck::findings::Status;
use trustcheck::rules::{sources_from_path, RuleSet};
use trustcheck::schema::SchemaSet;

// ---------------------------------------------------------------------------------------------

fn peak_rss_mib() -> f64 {
    // VmHWM: the high-water mark of this process's resident memory.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = args
        .iter()
        .position(|a| a == "--resources")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
        // as a quick smoke test that Cedar and the native baseline still agree.
        .unwrap_or(if args.iter().any(|a| a == "--bench") {
            100_000usize
        } else {
            2_000
        });
    // `--keep DIR` keeps the generated snapshot and rules in DIR (e.g. to profile the binary).
    let temp = tempfile::tempdir().expect("temp dir");
    let dir_path = args
        .iter()
        .position(|a| a == "--keep")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| temp.path().to_path_buf(), std::path::PathBuf::from);
    let dir = dir_path.as_path();
    let snapshot_path = dir.join("snapshot.json");
    let rules_dir = dir.join("rules");
    std::fs::create_dir_all(&rules_dir).expect("output dir is writable");
    write_rules(&rules_dir);
    let text = serde_json::to_string(&generate(n)).expect("serialisable");
    std::fs::write(&snapshot_path, &text).expect("temp dir is writable");
    let entity_count = text.matches("\"uid\"").count();
    println!(
        "generated {entity_count} entities ({:.1} MB JSON), {} rules",
        text.len() as f64 / 1e6,
        RULES.len()
    );

    // 1. The real binary, end to end: what a user waits for.
    let bin = env!("CARGO_BIN_EXE_trustcheck");
    let out_path = dir.join("findings.json");
    let started = Instant::now();
    let status = Command::new(bin)
        .args([
            "check",
            "--no-builtin",
            "--format",
            "json",
            "--quiet",
            "--policies",
        ])
        .arg(&rules_dir)
        .arg("--snapshot")
        .arg(&snapshot_path)
        .arg("--output")
        .arg(&out_path)
        .status()
        .expect("trustcheck runs");
    let cli_wall = started.elapsed();
    let child_rss = child_peak_rss_mib();
    assert!(
        matches!(status.code(), Some(1)),
        "the generated data has failures"
    );

    // 2. The same in-process, by phase.
    let t = Instant::now();
    let schema = SchemaSet::builtin().expect("builtin schema");
    let rules =
        RuleSet::load(sources_from_path(&rules_dir).expect("rules"), &schema).expect("rules load");
    let t_rules = t.elapsed();
    let t = Instant::now();
    let input = Input::read(&snapshot_path).expect("snapshot parses");
    let t_parse = t.elapsed();
    let t = Instant::now();
    let store = Store::load(vec![input], &schema).expect("entities load");
    let t_entities = t.elapsed();
    let t = Instant::now();
    let findings = engine::evaluate(&rules, &store).expect("evaluates");
    let t_eval = t.elapsed();
    let t = Instant::now();
    let report_path = dir.join("in-process.json");
    let report = trustcheck::report::Report {
        findings: &findings,
        rules: &rules,
        snapshots: &store.snapshots,
        gate: trustcheck::gate::Gate::new(trustcheck::severity::Severity::Low),
        verdict: trustcheck::gate::Gate::new(trustcheck::severity::Severity::Low)
            .verdict(&findings),
        context: Default::default(),
    };
    trustcheck::atomic_write::write_with(&report_path, |f| {
        trustcheck::report::json::write(f, &report)
    })
    .expect("report written");
    let json_len = std::fs::metadata(&report_path).map_or(0, |m| m.len());
    let t_json = t.elapsed();
    let mut cedar_fails: HashMap<&str, usize> = HashMap::new();
    for f in &findings {
        if f.status == Status::Fail {
            *cedar_fails.entry(f.rule.as_ref()).or_default() += 1;
        }
        assert_ne!(f.status, Status::Error, "{f:?}");
    }

    // 3. The native baseline.
    let t = Instant::now();
    let native_fails = native(&text);
    let t_native = t.elapsed();
    for (id, ..) in RULES {
        assert_eq!(
            cedar_fails.get(id).copied().unwrap_or(0),
            native_fails.get(id).copied().unwrap_or(0),
            "Cedar and the native baseline disagree on `{id}`"
        );
    }
    let resources = store.resources.len();
    let total = t_rules + t_parse + t_entities + t_eval + t_json;
    println!();
    println!("| phase | time |");
    println!("|---|---|");
    println!("| `trustcheck check` end to end (binary, JSON report to a file) | **{}** wall, peak RSS **{child_rss:.0} MiB** |", secs(cli_wall));
    println!(
        "| load + validate {} rules | {} |",
        RULES.len(),
        secs(t_rules)
    );
    println!("| parse snapshot JSON | {} |", secs(t_parse));
    println!(
        "| type entities + build Cedar store | {} |",
        secs(t_entities)
    );
    println!(
        "| evaluate: {} findings on {resources} resources | {} ({:.0} findings/s) |",
        findings.len(),
        secs(t_eval),
        findings.len() as f64 / t_eval.as_secs_f64()
    );
    println!(
        "| render JSON report ({:.0} MB) | {} |",
        json_len as f64 / 1e6,
        secs(t_json)
    );
    println!(
        "| in-process total | {} (peak RSS {:.0} MiB) |",
        secs(total),
        peak_rss_mib()
    );
    println!(
        "| native Rust baseline: parse + same {} checks | {} |",
        RULES.len(),
        secs(t_native)
    );
    println!(
        "| ratio in-process total / native | {:.1}x |",
        total.as_secs_f64() / t_native.as_secs_f64()
    );
}

/// Peak RSS of the largest waited-for child process.
fn child_peak_rss_mib() -> f64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    if rc == 0 {
        usage.ru_maxrss as f64 / 1024.0
    } else {
        0.0
    }
}
