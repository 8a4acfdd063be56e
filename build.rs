//! Embeds the shipped rules and their test cases (`policies/**`) in the binary, so an installed
//! trustcheck works anywhere without the source tree.

use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "cedar")
            || path.to_string_lossy().ends_with(".test.json")
        {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let policies = root.join("policies");
    println!("cargo:rerun-if-changed=policies");
    let mut files = Vec::new();
    collect(&policies, &mut files);
    files.sort();
    let mut rules = String::new();
    let mut tests = String::new();
    for f in files {
        let rel = f.strip_prefix(&root).expect("under the manifest dir");
        let rel = rel.to_string_lossy().replace('\\', "/");
        let line = format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.display().to_string()
        );
        if rel.ends_with(".cedar") {
            rules.push_str(&line);
        } else {
            tests.push_str(&line);
        }
    }
    let code = format!(
        "/// Shipped rules: (path relative to the repository, text).\npub const RULES: &[(&str, &str)] = &[\n{rules}];\n\
         /// Shipped rule test cases: (path relative to the repository, text).\npub const TESTS: &[(&str, &str)] = &[\n{tests}];\n"
    );
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("builtin.rs");
    fs::write(out, code).expect("OUT_DIR is writable");
}
