//! `check` and `diff` of the real binary on two mixes of facts at several sizes, each time next to
//! a yardstick measured in the same run (Python's `json.load` of the same snapshot file) and to
//! the native Rust baseline. Run with `cargo bench --bench scale` (sizes 10k, 100k and 300k; add
//! `-- --sizes 20000 --runs 1 --keep DIR` to choose). Prints tables; asserts nothing about time.
//!
//! The two mixes:
//! * `bench`: the generated snapshot and 35 rules of `benches/check.rs` (few set-valued facts);
//! * `demo`: the demo company's `examples/demo/snapshot.json` cloned to the size with suffixed ids
//!   (uids remapped in parents and attributes), judged by the shipped rules: more set-valued facts
//!   (`factSources`, `bypassActors`, `attachedPolicyArns`) and more findings per resource.
//!
//! `diff` compares the cloned `examples/demo/snapshot-previous.json` with the cloned snapshot
//! (real drift on every copy) for the demo mix, and the snapshot with itself for the bench mix.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

/// One measured run of a child process: wall time and its own peak RSS.
#[derive(Clone, Copy)]
struct Run {
    wall: Duration,
    rss_mib: f64,
}

/// Runs `cmd` and measures its wall time and peak RSS. The command is started by a fresh copy of
/// this binary (`--measure-child`): Linux carries the peak RSS of the process that spawns a child
/// into the child's own peak (`exec` keeps the larger of the two), and this process holds the
/// generated snapshots, so spawning from here would report its size instead of the child's.
fn measure(cmd: &mut Command, ok_codes: &[i32]) -> Run {
    let mut wrapper = Command::new(std::env::current_exe().expect("own path"));
    wrapper
        .arg("--measure-child")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        wrapper.current_dir(dir);
    }
    let out = wrapper.output().expect("the measuring copy runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<i64> = text
        .split_whitespace()
        .map(|f| f.parse().expect("numbers"))
        .collect();
    let (wall_ns, rss_kib, code) = (fields[0], fields[1], fields[2]);
    assert!(
        ok_codes.contains(&(code as i32)),
        "{cmd:?} exited with {code}"
    );
    Run {
        wall: Duration::from_nanos(wall_ns as u64),
        rss_mib: rss_kib as f64 / 1024.0,
    }
}

/// `--measure-child PROGRAM ARGS…`: runs the program and prints its wall time (ns), its own peak
/// RSS (KiB, from `wait4`) and its exit code (-1 when killed by a signal).
fn measure_child(args: &[String]) -> ! {
    let started = Instant::now();
    let child = Command::new(&args[0])
        .args(&args[1..])
        .spawn()
        .expect("child starts");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: wait4 writes only into the two locals passed; the child is ours and not waited
    // for elsewhere (`child` is dropped without waiting).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    assert_eq!(rc, pid, "wait4 failed");
    drop(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    println!("{} {} {code}", wall.as_nanos(), usage.ru_maxrss);
    std::process::exit(0)
}

/// The best (shortest wall) of `runs` runs, and the largest peak RSS seen.
fn best(runs: usize, mut f: impl FnMut() -> Run) -> Run {
    let all: Vec<Run> = (0..runs.max(1)).map(|_| f()).collect();
    let wall = all.iter().map(|r| r.wall).min().unwrap_or_default();
    let rss_mib = all.iter().map(|r| r.rss_mib).fold(0.0, f64::max);
    Run { wall, rss_mib }
}

/// Python's `json.load` of `file`, timed inside Python (interpreter start-up left out).
fn yardstick(file: &Path) -> Duration {
    let out = Command::new("python3")
        .args([
            "-c",
            "import json,sys,time\nt=time.perf_counter()\nwith open(sys.argv[1]) as f: json.load(f)\nprint(time.perf_counter()-t)",
        ])
        .arg(file)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "python3 failed");
    let secs: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("python prints seconds");
    Duration::from_secs_f64(secs)
}

/// Every `{"type", "id"}` object naming one of `ids` gets `#k` appended to its id.
fn remap(v: &mut Value, k: usize, ids: &HashSet<(String, String)>) {
    match v {
        Value::Object(m) => {
            let is_uid = m.len() == 2
                && matches!(
                    (m.get("type"), m.get("id")),
                    (Some(Value::String(t)), Some(Value::String(i)))
                        if ids.contains(&(t.clone(), i.clone()))
                );
            if is_uid {
                if let Some(Value::String(id)) = m.get_mut("id") {
                    id.push_str(&format!("#{k}"));
                }
            } else {
                m.values_mut().for_each(|x| remap(x, k, ids));
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| remap(x, k, ids)),
        _ => {}
    }
}

/// The demo snapshot at `path` cloned into about `n` entities (whole copies, ids suffixed `#k`).
fn clone_demo(path: &Path, n: usize) -> Value {
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("demo snapshot"))
        .expect("demo snapshot parses");
    let entities = doc["entities"].as_array().expect("entities");
    let ids: HashSet<(String, String)> = entities
        .iter()
        .map(|e| {
            (
                e["uid"]["type"].as_str().unwrap().to_string(),
                e["uid"]["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let ids = &ids;
    let copies = ((n + entities.len() / 2) / entities.len()).max(1);
    let mut out = doc.clone();
    out["entities"] = Value::Array(
        (0..copies)
            .flat_map(|k| {
                entities.iter().map(move |e| {
                    let mut e = e.clone();
                    remap(&mut e, k, ids);
                    e
                })
            })
            .collect(),
    );
    for (i, source) in doc["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .enumerate()
    {
        if let Some(errors) = source["errors"].as_array() {
            out["sources"][i]["errors"] = Value::Array(
                (0..copies)
                    .flat_map(|k| {
                        errors.iter().map(move |e| {
                            let mut e = e.clone();
                            remap(&mut e, k, ids);
                            e
                        })
                    })
                    .collect(),
            );
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Mix {
    Bench,
    Demo,
}

impl Mix {
    fn name(self) -> &'static str {
        match self {
            Mix::Bench => "bench",
            Mix::Demo => "demo",
        }
    }
}

/// The files of one mix at one size.
struct Case {
    snapshot: PathBuf,
    previous: PathBuf,
    entities: usize,
    mb: f64,
    rules: Option<PathBuf>,
}

fn prepare(mix: Mix, n: usize, dir: &Path) -> Case {
    let dir = dir.join(format!("{}-{n}", mix.name()));
    std::fs::create_dir_all(&dir).expect("dir is writable");
    let snapshot = dir.join("snapshot.json");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    let (doc, previous, rules) = match mix {
        Mix::Bench => {
            let rules = dir.join("rules");
            std::fs::create_dir_all(&rules).expect("dir is writable");
            common::write_rules(&rules);
            (common::generate(n), snapshot.clone(), Some(rules))
        }
        Mix::Demo => {
            let previous = dir.join("previous.json");
            let old = clone_demo(&root.join("snapshot-previous.json"), n);
            std::fs::write(&previous, serde_json::to_string(&old).unwrap()).unwrap();
            (clone_demo(&root.join("snapshot.json"), n), previous, None)
        }
    };
    let entities = doc["entities"].as_array().map_or(0, Vec::len);
    let text = serde_json::to_string(&doc).unwrap();
    std::fs::write(&snapshot, &text).unwrap();
    Case {
        snapshot,
        previous,
        entities,
        mb: text.len() as f64 / 1e6,
        rules,
    }
}

fn trustcheck(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trustcheck"));
    cmd.current_dir(dir);
    cmd
}

fn rule_args(case: &Case, cmd: &mut Command) {
    if let Some(rules) = &case.rules {
        cmd.args(["--no-builtin", "--policies"]).arg(rules);
    }
}

fn check(case: &Case, out: &Path) -> Run {
    let dir = case.snapshot.parent().unwrap();
    let mut cmd = trustcheck(dir);
    cmd.args(["check", "--quiet", "--format", "json"]);
    rule_args(case, &mut cmd);
    cmd.arg("--snapshot")
        .arg(&case.snapshot)
        .arg("--output")
        .arg(out);
    measure(&mut cmd, &[0, 1])
}

fn diff(case: &Case, out: &Path) -> Run {
    let dir = case.snapshot.parent().unwrap();
    let mut cmd = trustcheck(dir);
    cmd.args(["diff", "--quiet", "--format", "json"]);
    rule_args(case, &mut cmd);
    cmd.arg(&case.previous)
        .arg(&case.snapshot)
        .arg("--output")
        .arg(out);
    measure(&mut cmd, &[0])
}

/// The native baseline: for the bench mix, parse + the same 35 checks in plain Rust; for the demo
/// mix (no hand-written version of the 25 shipped rules), parse + a walk over every value, a floor.
fn native(mix: Mix, file: &Path) -> Duration {
    let text = std::fs::read_to_string(file).unwrap();
    let t = Instant::now();
    match mix {
        Mix::Bench => {
            std::hint::black_box(common::native(&text));
        }
        Mix::Demo => {
            fn walk(v: &Value) -> usize {
                match v {
                    Value::Array(a) => a.iter().map(walk).sum(),
                    Value::Object(m) => m.values().map(walk).sum::<usize>() + 1,
                    _ => 1,
                }
            }
            let v: Value = serde_json::from_str(&text).unwrap();
            std::hint::black_box(walk(&v));
        }
    }
    t.elapsed()
}

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--measure-child") {
        measure_child(&args[2..]);
    }
    let benching = args.iter().any(|a| a == "--bench");
    // Under `cargo test --all-targets` (no `--bench`): one small smoke run.
    let sizes: Vec<usize> = arg(&args, "--sizes")
        .map(|s| s.split(',').map(|n| n.parse().expect("a size")).collect())
        .unwrap_or_else(|| {
            if benching {
                vec![10_000, 100_000, 300_000]
            } else {
                vec![1_000]
            }
        });
    let runs: usize = arg(&args, "--runs").map_or(if benching { 2 } else { 1 }, |r| {
        r.parse().expect("a number of runs")
    });
    let mixes: Vec<Mix> = match arg(&args, "--mix") {
        Some("bench") => vec![Mix::Bench],
        Some("demo") => vec![Mix::Demo],
        _ => vec![Mix::Bench, Mix::Demo],
    };
    // `--diff-sizes`: sizes at which `diff` is measured too (default: 100k, or the smoke size).
    let diff_sizes: Vec<usize> = arg(&args, "--diff-sizes")
        .map(|s| s.split(',').map(|n| n.parse().expect("a size")).collect())
        .unwrap_or_else(|| {
            if benching {
                vec![100_000]
            } else {
                sizes.clone()
            }
        });
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = arg(&args, "--keep").map_or_else(|| temp.path().to_path_buf(), PathBuf::from);

    println!("best of {runs} run(s); yardstick = python3 json.load of the same snapshot file");
    println!();
    println!("| mix | resources | MB | command | wall | peak RSS | µs/resource | ÷ yardstick | ÷ native |");
    println!("|---|---:|---:|---|---:|---:|---:|---:|---:|");
    let mut per_resource: Vec<(Mix, usize, f64)> = Vec::new();
    for &mix in &mixes {
        for &n in &sizes {
            let case = prepare(mix, n, &dir);
            let yard = (0..runs.max(1))
                .map(|_| yardstick(&case.snapshot))
                .min()
                .unwrap_or_default();
            let base = (0..runs.max(1))
                .map(|_| native(mix, &case.snapshot))
                .min()
                .unwrap_or_default();
            let out = case.snapshot.with_file_name("findings.json");
            let c = best(runs, || check(&case, &out));
            let us = c.wall.as_secs_f64() * 1e6 / case.entities as f64;
            per_resource.push((mix, case.entities, us));
            let row = |cmd: &str, r: Run| {
                println!(
                    "| {} | {} | {:.1} | {cmd} | {:.2} s | {:.0} MiB | {:.1} | {:.2}× | {:.1}× |",
                    mix.name(),
                    case.entities,
                    case.mb,
                    r.wall.as_secs_f64(),
                    r.rss_mib,
                    r.wall.as_secs_f64() * 1e6 / case.entities as f64,
                    r.wall.as_secs_f64() / yard.as_secs_f64(),
                    r.wall.as_secs_f64() / base.as_secs_f64(),
                );
            };
            row("`check`", c);
            if diff_sizes.contains(&n) {
                let d = best(runs, || {
                    diff(&case, &case.snapshot.with_file_name("drift.json"))
                });
                row("`diff`", d);
            }
            println!(
                "| {} | {} | {:.1} | yardstick: python3 `json.load` | {:.2} s | | | 1.00× | |",
                mix.name(),
                case.entities,
                case.mb,
                yard.as_secs_f64()
            );
            println!(
                "| {} | {} | {:.1} | native baseline{} | {:.2} s | | | | 1.0× |",
                mix.name(),
                case.entities,
                case.mb,
                if mix == Mix::Demo {
                    " (parse + walk: a floor)"
                } else {
                    " (parse + 35 checks)"
                },
                base.as_secs_f64()
            );
        }
    }
    println!();
    println!("Linearity of `check` (time per resource, relative to the mix's median size):");
    println!();
    println!("| mix | resources | µs/resource | vs. middle size |");
    println!("|---|---:|---:|---:|");
    for &mix in &mixes {
        let rows: Vec<_> = per_resource.iter().filter(|r| r.0 == mix).collect();
        let mid = rows.get(rows.len() / 2).map_or(1.0, |r| r.2);
        for r in &rows {
            println!(
                "| {} | {} | {:.1} | {:+.0}% |",
                mix.name(),
                r.1,
                r.2,
                (r.2 / mid - 1.0) * 100.0
            );
        }
    }
}
