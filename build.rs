//! Embeds what the providers and the shipped rules declare, found by globbing so that no list in
//! `src/` names a provider: every schema fragment `providers/*/*.cedarschema`, and every rule and
//! test case under `policies/` (`policies/NAME/` holds provider NAME's rules). An installed
//! trustcheck then works anywhere without the source tree.

// A build script that cannot read its own manifest directory has nothing sensible to do but stop.
#![allow(clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, keep: &dyn Fn(&Path) -> bool, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if depth > 0 {
                collect(&path, keep, depth - 1, out);
            }
        } else if keep(&path) {
            out.push(path);
        }
    }
}

/// `(path relative to the repository, include_str!(absolute path))` lines of a Rust array.
fn entries(root: &Path, files: &[PathBuf]) -> String {
    let mut out = String::new();
    for f in files {
        let rel = f.strip_prefix(root).expect("under the manifest dir");
        let rel = rel.to_string_lossy().replace('\\', "/");
        out.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    out
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=policies");
    println!("cargo:rerun-if-changed=providers");

    let mut rules = Vec::new();
    collect(
        &root.join("policies"),
        &|p| p.extension().is_some_and(|e| e == "cedar"),
        16,
        &mut rules,
    );
    let mut tests = Vec::new();
    collect(
        &root.join("policies"),
        &|p| p.to_string_lossy().ends_with(".test.json"),
        16,
        &mut tests,
    );
    // One level: `providers/NAME/NAME.cedarschema`, not test fixtures deeper down.
    let mut fragments = Vec::new();
    collect(
        &root.join("providers"),
        &|p| p.extension().is_some_and(|e| e == "cedarschema"),
        1,
        &mut fragments,
    );
    for list in [&mut rules, &mut tests, &mut fragments] {
        list.sort();
    }
    let code = format!(
        "/// Shipped rules: (path relative to the repository, text).\npub const RULES: &[(&str, &str)] = &[\n{}];\n\
         /// Shipped rule test cases: (path relative to the repository, text).\npub const TESTS: &[(&str, &str)] = &[\n{}];\n\
         /// The providers' schema fragments: (path relative to the repository, text).\npub const FRAGMENTS: &[(&str, &str)] = &[\n{}];\n",
        entries(&root, &rules),
        entries(&root, &tests),
        entries(&root, &fragments),
    );
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("builtin.rs");
    fs::write(out, code).expect("OUT_DIR is writable");
}
