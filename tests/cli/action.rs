//! The composite action's run step (`scripts/action/run`, called by action.yml), run with bash
//! as the runner runs it, with a stand-in binary that records its arguments.

use std::path::Path;

fn run_step(dir: &Path, command: &str, args: &str) -> (Vec<String>, String) {
    let recorded = dir.join("argv");
    let stub = dir.join("trustcheck-stub");
    std::fs::write(
        &stub,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\nexit 1\n",
            recorded.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let output = dir.join("github-output");
    let status = std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/action/run"))
        .current_dir(dir)
        .env("COMMAND", command)
        .env("ARGS", args)
        .env("FAIL_ON", "low")
        .env("BASELINE", "")
        .env("FAIL_ON_NEW", "true")
        .env("SARIF_CATEGORY", "trustcheck")
        .env("TRUSTCHECK", &stub)
        .env("RUNNER_TEMP", dir)
        .env("GITHUB_OUTPUT", &output)
        .status()
        .unwrap();
    assert!(status.success(), "the step always exits 0");
    let argv = std::fs::read_to_string(&recorded)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    (argv, std::fs::read_to_string(&output).unwrap())
}

#[test]
fn multi_line_args_keep_every_line_and_expand_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), "{}").unwrap();
    let (argv, outputs) = run_step(
        dir.path(),
        "check",
        "--snapshot snapshot.json\n  --policies policies/custom\n\t--exceptions x.toml   *.json\n",
    );
    let first: Vec<&str> = argv.iter().take(7).map(String::as_str).collect();
    assert_eq!(
        first,
        [
            "check",
            "--snapshot",
            "snapshot.json",
            "--policies",
            "policies/custom",
            "--exceptions",
            "x.toml"
        ]
    );
    assert_eq!(
        argv.get(7).map(String::as_str),
        Some("*.json"),
        "no globbing: {argv:?}"
    );
    assert!(argv.iter().any(|a| a == "--fail-on"), "{argv:?}");
    assert!(outputs.contains("exit-code=1"), "{outputs}");
}

#[test]
fn empty_args_and_an_unknown_command() {
    let dir = tempfile::tempdir().unwrap();
    let (argv, _) = run_step(dir.path(), "check", "");
    assert_eq!(argv.first().map(String::as_str), Some("check"));
    assert_eq!(argv.get(1).map(String::as_str), Some("--fail-on"));
    let (argv, outputs) = run_step(dir.path(), "rm", "-rf /");
    assert_eq!(argv.len(), 2 + 7 + 2, "nothing more was run: {argv:?}");
    assert!(outputs.contains("exit-code=2"), "{outputs}");
}
