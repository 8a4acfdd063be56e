//! Hostile values from the audited systems through every human-facing format of `check` and
//! `diff`: nothing may reach a terminal as a control sequence, start a GitHub Actions workflow
//! command, or become Markdown markup (HTML, links, mentions) in a job summary.

use std::path::Path;

use serde_json::{json, Value};

use crate::trustcheck;

const FIXTURE: &str = "tests/fixtures/reports/snapshot.json";
const RULES: &str = "tests/fixtures/reports/rules";

/// Strings a repository, member, ruleset or server could send.
use trustcheck::untrusted::HOSTILE;

fn unsafe_char(c: char) -> bool {
    c.is_control() && c != '\n'
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}')
}

/// The fixture with one member per hostile login (2FA off, so they fail and are listed), one
/// uncollected fact per hostile reason, a hostile org login and a long hostile set value.
fn hostile_snapshot() -> Value {
    let mut snap: Value = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let entities = snap["entities"].as_array_mut().unwrap();
    for (i, h) in HOSTILE.iter().enumerate() {
        entities.push(json!({
            "uid": {"type": "Github::Member", "id": format!("northwind-labs/m{i}{h}")},
            "attrs": {"login": h, "role": "member", "twoFactorDisabled": true, "twoFactorInsecure": false},
            "parents": [{"type": "Github::Org", "id": "northwind-labs"}]
        }));
    }
    for e in entities.iter_mut() {
        if e["uid"]["type"] == "Github::Org" && e["uid"]["id"] == "northwind-labs" {
            e["attrs"]["login"] = json!(HOSTILE[2]);
        }
        if e["uid"]["type"] == "Aws::IamRole" {
            e["attrs"]["attachedPolicyArns"] = json!(HOSTILE);
        }
    }
    entities.sort_by_key(|e| (e["uid"]["type"].to_string(), e["uid"]["id"].to_string()));
    let github = snap["sources"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|s| s["provider"] == "github")
        .unwrap();
    github["errors"] = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, h)| {
            json!({"entity": {"type": "Github::Member", "id": format!("northwind-labs/e{i}*")},
                   "fact": "*", "reason": h})
        })
        .collect();
    snap
}

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(v).unwrap()).unwrap();
    path.display().to_string()
}

fn run(args: &[&str], actions: bool) -> (String, String) {
    let mut cmd = trustcheck();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR")).args(args);
    if actions {
        cmd.env("GITHUB_ACTIONS", "true");
    }
    let out = cmd.output().unwrap();
    let code = out.status.code();
    assert!(matches!(code, Some(0..=2)), "{args:?} ended with {code:?}");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// No raw control or direction character, and no line that a runner would take as a command
/// other than the annotations trustcheck itself writes.
fn assert_inert_text(what: &str, text: &str) {
    if let Some(c) = text.chars().find(|&c| unsafe_char(c)) {
        panic!("{what}: raw {c:?} in output:\n{text}");
    }
    for line in text.lines() {
        let line = line.trim_start();
        if line.starts_with("::") {
            let ours = [
                "::group::",
                "::endgroup::",
                "::error title=",
                "::warning title=",
                "::notice title=",
            ];
            assert!(
                ours.iter().any(|p| line.starts_with(p)),
                "{what}: workflow command from a value: {line}"
            );
        }
    }
}

/// Markdown whose only markup is ours: no HTML from values (the drift report's own
/// `<details>`, `<summary>` and `<code>` tags aside), no links, no mentions outside code.
fn assert_inert_markdown(what: &str, md: &str) {
    assert_inert_text(what, md);
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let ours = [
        "<details>",
        "</details>",
        "<summary>",
        "</summary>",
        "<code>",
        "</code>",
    ];
    let mut in_code_block = false;
    for event in Parser::new_ext(md, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::CodeBlock(_)) => in_code_block = true,
            Event::End(pulldown_cmark::TagEnd::CodeBlock) => in_code_block = false,
            Event::Html(h) | Event::InlineHtml(h) => {
                let mut rest = h.trim().to_string();
                for tag in ours {
                    rest = rest.replace(tag, "");
                }
                assert!(!rest.contains('<'), "{what}: HTML from a value: {h}\n{md}");
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                panic!("{what}: a link from a value: {dest_url}\n{md}")
            }
            Event::Text(t) if !in_code_block => {
                assert!(!t.contains("<img"), "{what}: raw markup as text: {t}");
                assert!(
                    !t.contains("@octocat"),
                    "{what}: a mention outside code: {t}"
                );
            }
            _ => {}
        }
    }
}

#[test]
fn hostile_values_stay_inert_in_every_check_report() {
    let dir = tempfile::tempdir().unwrap();
    let snap = write(dir.path(), "hostile.json", &hostile_snapshot());
    let base = [
        "check",
        "--no-builtin",
        "--no-config",
        "--policies",
        RULES,
        "--snapshot",
        &snap,
    ];
    for format in ["table", "markdown", "csv", "junit", "json", "sarif", "ocsf"] {
        let mut args = base.to_vec();
        args.extend(["--format", format]);
        let (stdout, stderr) = run(&args, true);
        assert_inert_text(&format!("check --format {format} (stderr)"), &stderr);
        match format {
            "markdown" => assert_inert_markdown("check --format markdown", &stdout),
            "junit" => {
                roxmltree::Document::parse(&stdout)
                    .unwrap_or_else(|e| panic!("JUnit is not XML: {e}"));
                assert_inert_text("check --format junit", &stdout);
            }
            // Machine formats keep values exact, escaped by JSON: still one line per value.
            "json" | "sarif" | "ocsf" => {
                serde_json::from_str::<Value>(&stdout).unwrap();
                assert_inert_text(&format!("check --format {format}"), &stdout);
            }
            _ => assert_inert_text(&format!("check --format {format}"), &stdout),
        }
        if format == "table" {
            // Every hostile member is still listed, escaped rather than dropped.
            assert!(stdout.contains("\\x1b[2J\\x1b[Hcleared"), "{stdout}");
            assert!(stdout.contains("rtl\\u{202e}gnp.exe"), "{stdout}");
        }
    }
}

#[test]
fn hostile_values_stay_inert_in_every_drift_report() {
    let dir = tempfile::tempdir().unwrap();
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let old = write(dir.path(), "old.json", &fixture);
    let new = write(dir.path(), "new.json", &hostile_snapshot());
    for format in ["table", "markdown", "json"] {
        let (stdout, stderr) = run(
            &[
                "diff",
                "--no-builtin",
                "--no-config",
                "--policies",
                RULES,
                &old,
                &new,
                "--format",
                format,
            ],
            false,
        );
        assert_inert_text(&format!("diff --format {format} (stderr)"), &stderr);
        if format == "markdown" {
            assert_inert_markdown("diff --format markdown", &stdout);
            assert!(stdout.contains("<summary><code>"), "{stdout}");
        } else {
            assert_inert_text(&format!("diff --format {format}"), &stdout);
        }
    }
}

#[cfg(unix)]
#[test]
fn endless_or_oversized_input_is_refused_at_the_bound() {
    let out = trustcheck()
        .env("TRUSTCHECK_MAX_INPUT_BYTES", "1048576")
        .args(["check", "--no-config", "--snapshot", "/dev/zero"])
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("larger than the input limit of 1048576 bytes"),
        "{stderr}"
    );
}

#[test]
fn a_repeated_key_in_a_snapshot_is_refused_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.json");
    std::fs::write(
        &path,
        r#"{"format": "trustcheck.snapshot/v1", "collected_at": "2026-11-22T03:00:00Z",
"entities": [{"uid": {"type": "Github::Org", "id": "acme"},
  "attrs": {"login": "acme", "twoFactorRequirementEnabled": false,
            "twoFactorRequirementEnabled": true}}]}"#,
    )
    .unwrap();
    let out = trustcheck()
        .args(["check", "--no-config", "--snapshot"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("duplicate key") && stderr.contains("(line 4, column 41)"),
        "{stderr}"
    );
}

#[test]
fn errors_that_quote_hostile_values_stay_inert() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    // An unknown entity type whose name carries escape sequences and a workflow command.
    std::fs::write(
        &path,
        "{\"format\": \"trustcheck.snapshot/v1\", \"collected_at\": \"2026-11-22T03:00:00Z\",\n\
         \"entities\": [{\"uid\": {\"type\": \"Github::Org\", \"id\": \"\\u001b[2J\\n::add-mask::x\"},\n\
         \"attrs\": {\"login\": 5}}]}\u{1b}[2J\n",
    )
    .unwrap();
    let out = trustcheck()
        .args(["check", "--no-config", "--snapshot"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_inert_text("a located error", &String::from_utf8(out.stderr).unwrap());
}

fn validate(dir: &Path) -> (Option<i32>, String) {
    let out = trustcheck()
        .args(["validate", "--no-config", "--no-builtin", "--policies"])
        .arg(dir)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn deeply_nested_rules_are_refused_before_cedar_parses_them() {
    let dir = tempfile::tempdir().unwrap();
    let depth = 600;
    std::fs::write(
        dir.path().join("deep.cedar"),
        format!(
            "forbid (principal, action, resource) when {{ {}true{} }};\n",
            "(".repeat(depth),
            ")".repeat(depth)
        ),
    )
    .unwrap();
    let (code, stderr) = validate(dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("rule::too-deep") && stderr.contains("deeper than 32"),
        "{stderr}"
    );
    // Sets and records nest the same way.
    std::fs::write(
        dir.path().join("deep.cedar"),
        format!(
            "forbid (principal, action, resource) when {{ {}{} }};\n",
            "[".repeat(depth),
            "]".repeat(depth)
        ),
    )
    .unwrap();
    assert_eq!(validate(dir.path()).0, Some(2));
}

#[cfg(unix)]
#[test]
fn links_out_of_a_rules_folder_and_loops_are_not_followed() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.env");
    std::fs::write(&secret, "API_KEY=hunter2-do-not-print\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    symlink(&secret, dir.path().join("leak.cedar")).unwrap();
    let (code, stderr) = validate(dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        !stderr.contains("hunter2"),
        "the linked file's content was shown: {stderr}"
    );
    assert!(stderr.contains("links are not followed"), "{stderr}");

    // Two folders linking to each other: the walk ends.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("a")).unwrap();
    std::fs::create_dir(dir.path().join("b")).unwrap();
    symlink(dir.path().join("b"), dir.path().join("a/to-b")).unwrap();
    symlink(dir.path().join("a"), dir.path().join("b/to-a")).unwrap();
    let (code, stderr) = validate(dir.path());
    assert!(matches!(code, Some(0 | 2)), "{stderr}");
}

#[test]
fn a_cedar_file_that_is_not_a_rule_is_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("notes.cedar"),
        "password = hunter2-do-not-print\n",
    )
    .unwrap();
    let (code, stderr) = validate(dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(stderr.contains("rule::not-a-rule"), "{stderr}");
}

#[test]
fn outputs_never_replace_inputs_or_each_other_or_non_files() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap.json");
    std::fs::copy(FIXTURE, &snap).unwrap();
    let before = std::fs::read(&snap).unwrap();
    let check = |extra: &[&str]| {
        let out = trustcheck()
            .args(["check", "--no-builtin", "--no-config", "--policies"])
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/reports/rules"
            ))
            .arg("--snapshot")
            .arg(&snap)
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let same = snap.display().to_string();
    let (code, stderr) = check(&["--format", "json", "--output", &same]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("also an input"), "{stderr}");
    assert_eq!(
        std::fs::read(&snap).unwrap(),
        before,
        "the snapshot is evidence: untouched"
    );

    let twice = dir.path().join("r.md").display().to_string();
    let (code, stderr) = check(&[
        "--report",
        &format!("markdown={twice}"),
        "--report",
        &format!("csv={twice}"),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("written twice"), "{stderr}");

    #[cfg(unix)]
    {
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let (code, stderr) = check(&["--format", "json", "--output", fifo.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("not a regular file (a FIFO)"), "{stderr}");
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
}

/// A server that quotes the request's `Authorization` header in a megabyte-long error.
struct Echo(u16);

impl wiremock::Respond for Echo {
    fn respond(&self, req: &wiremock::Request) -> wiremock::ResponseTemplate {
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let body = serde_json::json!({
            "message": format!("you sent {auth}; {}", "padding ".repeat(128 * 1024)),
        });
        wiremock::ResponseTemplate::new(self.0).set_body_json(body)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_echoes_the_token_never_gets_it_into_output() {
    use wiremock::matchers::{method, path};
    const TOKEN: &str = "ghp_EchoedToken0123456789abcdefghijklmnop";
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"login": "bot", "id": 1, "type": "User"})),
        )
        .mount(&server)
        .await;
    wiremock::Mock::given(method("GET"))
        .respond_with(Echo(403))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g.json");
    let run = trustcheck()
        .env("TC_SECRET_GH", TOKEN)
        .env("GITHUB_API_URL", server.uri())
        .args([
            "collect",
            "github",
            "--org",
            "acme",
            "--token-env",
            "TC_SECRET_GH",
            "--out",
        ])
        .arg(&out)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains(TOKEN), "{stderr}");
    assert!(stderr.len() < 16 * 1024, "{} bytes of stderr", stderr.len());
    if let Ok(text) = std::fs::read_to_string(&out) {
        assert!(!text.contains(TOKEN));
        assert!(text.len() < 64 * 1024, "{} bytes of snapshot", text.len());
    }

    // Rejected at the first request: the error quotes the server, redacted and cut.
    server.reset().await;
    wiremock::Mock::given(method("GET"))
        .respond_with(Echo(401))
        .mount(&server)
        .await;
    let run = trustcheck()
        .env("TC_SECRET_GH", TOKEN)
        .env("GITHUB_API_URL", server.uri())
        .args([
            "collect",
            "github",
            "--org",
            "acme",
            "--token-env",
            "TC_SECRET_GH",
            "--out",
        ])
        .arg(&out)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!stderr.contains(TOKEN), "{stderr}");
    assert!(stderr.contains("***"), "{stderr}");
    assert!(stderr.len() < 16 * 1024, "{} bytes of stderr", stderr.len());
}

#[test]
fn a_located_error_past_column_65535_is_shown_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.json");
    // One line: an error at column ~70,100 (a bare word after a long string).
    std::fs::write(
        &path,
        format!(
            "{{\"format\": \"trustcheck.snapshot/v1\", \"collected_at\": \"2026-11-22T03:00:00Z\", \"x\": \"{}\" oops}}",
            "a".repeat(70_000)
        ),
    )
    .unwrap();
    let out = trustcheck()
        .args(["check", "--no-config", "--snapshot"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 1, column 700"),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(stderr.len() < 16 * 1024, "bounded: {} bytes", stderr.len());
}

#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_quietly_and_a_full_disk_is_exit_2() {
    use std::process::{Command, Stdio};
    let bin = assert_cmd::cargo::cargo_bin("trustcheck");
    let args = [
        "check",
        "--no-builtin",
        "--no-config",
        "--policies",
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/reports/rules"),
        "--snapshot",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/reports/snapshot.json"
        ),
        "--show-passed",
    ];
    for format in ["table", "json", "markdown", "csv", "sarif", "junit"] {
        // The reader goes away before anything is written: the pipe is closed.
        let mut child = Command::new(&bin)
            .args(args)
            .args(["--format", format])
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format}: the run's own verdict"
        );
        assert!(
            out.stderr.is_empty(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        if std::path::Path::new("/dev/full").exists() {
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap();
            let out = Command::new(&bin)
                .args(args)
                .args(["--format", format])
                .stdout(full)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{format}");
            assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write to stdout"));
        }
    }
}
