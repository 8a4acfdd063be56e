//! The committed reference documents are what the code generates (`scripts/gen-docs`).

use super::{root, run, tc};

fn assert_current(args: &[&str], file: &str) {
    let (code, generated, stderr) = run(tc(&root()).args(args));
    assert_eq!(code, 0, "{stderr}");
    let committed = std::fs::read_to_string(root().join(file)).unwrap_or_default();
    if committed != generated {
        let diff = similar::TextDiff::from_lines(&committed, &generated)
            .unified_diff()
            .header(file, "generated")
            .to_string();
        panic!("{file} is stale: run `scripts/gen-docs` and commit the result\n{diff}");
    }
}

#[test]
fn docs_schema_md_is_current() {
    assert_current(&["schema", "--format", "markdown"], "docs/schema.md");
}

#[test]
fn docs_controls_md_is_current() {
    assert_current(
        &["controls", "--no-config", "--format", "markdown"],
        "docs/controls.md",
    );
}
