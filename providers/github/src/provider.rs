//! The GitHub provider as the binary's registry sees it: its options (`collect github`, `check
//! --collect github`), reading the token (never printing it), progress on stderr (a bar on a
//! terminal, plain lines otherwise, nothing with `--quiet`) and the organizations as one snapshot.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use clap::{Args, FromArgMatches};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use trustcheck_snapshot::provider::owns_by_prefix_or_arn;
use trustcheck_snapshot::{CollectError, Provider, Scaffold, ScaffoldExample, Snapshot, Ui};

use crate::{setup, Auth, Config, Event, NoProgress, OrgCollection, Progress, Token};

/// The GitHub provider.
pub static PROVIDER: Provider = Provider {
    name: "github",
    namespace: "Github",
    about: "Snapshot GitHub organizations (2FA, members, repositories, effective branch protection)",
    scope_noun: "organization",
    owns: owns_by_prefix_or_arn,
    scaffold: Scaffold {
        resource: "Github::Branch",
        criteria: "CC8.1",
        example: Some(ScaffoldExample {
            summary: "Changes reach a default branch only after two people approved them.",
            title: "Default branches require two approving reviews",
            remediation: "Require at least two approving reviews on the default branch (branch protection or a ruleset).",
            severity: "high",
            applies: Some((
                "resource.isDefault && !resource.repoArchived",
                r#"{"isDefault": true, "repoArchived": false}"#,
                r#"{"isDefault": false, "repoArchived": false}"#,
            )),
            attr: "requiredApprovingReviews",
            requirement: "resource.requiredApprovingReviews >= 2",
            good: "2",
            bad: "1",
        }),
    },
    params: &[],
    options: GithubOptions::augment_args,
    collect: collect_from_matches,
};

/// GitHub collection options.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "GitHub collection")]
pub struct GithubOptions {
    /// GitHub organization to collect (settings, members, repositories); repeatable.
    #[arg(long = "org", value_name = "ORG")]
    pub orgs: Vec<String>,

    /// Collect only this repository (`OWNER/NAME`), plus its owner organization; repeatable.
    #[arg(long = "repo", value_name = "OWNER/NAME")]
    pub repos: Vec<String>,

    /// Environment variable that holds the GitHub token.
    #[arg(long, value_name = "NAME", default_value = "GITHUB_TOKEN")]
    pub token_env: String,

    /// Authenticate as this GitHub App (with --app-key-file) instead of a token; the
    /// installation is looked up per organization.
    #[arg(long, value_name = "ID", requires = "app_key_file")]
    pub app_id: Option<u64>,

    /// The GitHub App's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "app_id")]
    pub app_key_file: Option<PathBuf>,

    /// GitHub API base URL; for GitHub Enterprise Server `https://HOST/api/v3` (GraphQL is then
    /// read at `https://HOST/api/graphql`).
    #[arg(
        long,
        value_name = "URL",
        env = "GITHUB_API_URL",
        default_value = crate::DEFAULT_API_URL
    )]
    pub api_url: String,

    /// Also judge the branches whose name matches this glob (`*` matches any characters,
    /// `/` included; case-insensitive) as the default branch is judged, e.g. `release/*`;
    /// repeatable. Costs one branch listing per repository plus the protection reads.
    #[arg(long = "branch", alias = "branches", value_name = "GLOB")]
    pub branches: Vec<String>,

    /// Collect operating evidence over this window (`30d`, `7d`, `1d`; at most `31d`, what GitHub
    /// keeps): pull requests merged into default or `--branch` branches (`Github::Change`, one
    /// GraphQL request per 100) and pushes that bypassed a ruleset (`Github::RuleBypass`, one
    /// request per repository).
    #[arg(long, value_name = "DAYS", value_parser = parse_days)]
    pub changes_since: Option<u32>,

    /// A deployment environment whose name matches this glob (`*` wildcard, case-insensitive) is
    /// production; repeatable. Default: `prod*`, `production*`, `live*`.
    #[arg(long = "production-environment", value_name = "GLOB")]
    pub production_environments: Vec<String>,

    /// GitHub requests in flight at most.
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

/// `30d` (or `30`) → 30; between 1 and 31 days.
fn parse_days(text: &str) -> Result<u32, String> {
    let digits = text.trim().strip_suffix('d').unwrap_or(text.trim());
    match digits.parse::<u32>() {
        Ok(n @ 1..=31) => Ok(n),
        _ => Err(format!(
            "`{text}` is not a number of days between 1d and 31d (GitHub keeps rule suites for about a month)"
        )),
    }
}

fn collect_from_matches(matches: &clap::ArgMatches, ui: Ui) -> Result<Snapshot, CollectError> {
    let options = GithubOptions::from_arg_matches(matches)
        .map_err(|e| CollectError::new(format!("GitHub options: {e}")))?;
    collect_snapshot(&options, ui)
}

/// Collects the GitHub organization(s) of `args` into one snapshot.
pub fn collect_snapshot(args: &GithubOptions, ui: Ui) -> Result<Snapshot, CollectError> {
    if args.orgs.is_empty() && args.repos.is_empty() {
        return Err(setup::nothing_to_collect());
    }
    let auth = auth(args)?;
    let mut config = Config::new(args.api_url.clone(), auth);
    config.orgs = args.orgs.clone();
    config.repos = args.repos.clone();
    config.concurrency = usize::from(args.concurrency);
    config.production_environments = args.production_environments.clone();
    config.branches = args.branches.clone();
    config.changes_since_days = args.changes_since;

    let progress: Arc<dyn Progress> = if ui.quiet {
        Arc::new(NoProgress)
    } else if ui.bar() {
        Arc::new(Bar::new())
    } else {
        Arc::new(Lines::default())
    };
    let started = time::OffsetDateTime::now_utc();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CollectError::new(format!("cannot start the async runtime: {e}")))?;
    let collections = runtime.block_on(crate::collect(&config, progress.clone()))?;
    drop(progress);
    Ok(to_snapshot(collections, started))
}

fn auth(args: &GithubOptions) -> Result<Auth, CollectError> {
    if let (Some(app_id), Some(key_file)) = (args.app_id, &args.app_key_file) {
        let private_key_pem = std::fs::read(key_file).map_err(|e| {
            CollectError::new(format!(
                "cannot read GitHub App key `{}`: {e}",
                key_file.display()
            ))
            .with_help("pass the GitHub App's private key file (PEM) with --app-key-file")
        })?;
        trustcheck_snapshot::secrets::register(&String::from_utf8_lossy(&private_key_pem));
        return Ok(Auth::App {
            app_id,
            private_key_pem,
        });
    }
    match std::env::var(&args.token_env) {
        Ok(token) if !token.trim().is_empty() => {
            // Whatever a server echoes back, this value never leaves the process.
            trustcheck_snapshot::secrets::register(&token);
            Ok(Auth::Token(Token::new(token.trim())))
        }
        _ => {
            let help = format!(
                "export a token in `{}` (or name another variable with --token-env), or use --app-id and --app-key-file; providers/github/README.md lists the permissions it needs",
                args.token_env
            );
            Err(
                CollectError::new(format!("no GitHub token: `{}` is not set", args.token_env))
                    .with_help(help),
            )
        }
    }
}

/// One snapshot of every organization; its time is when collection started, in whole seconds.
pub fn to_snapshot(collections: Vec<OrgCollection>, started: time::OffsetDateTime) -> Snapshot {
    let mut snapshot = Snapshot::new(trustcheck_snapshot::utc::format_utc_seconds(started));
    for c in collections {
        let (source, entities) = c.into_source();
        snapshot.sources.push(source);
        snapshot.entities.extend(entities);
    }
    snapshot.normalize();
    snapshot
}

/// A progress bar on stderr: repositories done / listed, requests, rate limit left.
struct Bar {
    bar: ProgressBar,
    requests: AtomicU64,
    /// `u64::MAX` until a response said.
    remaining: AtomicU64,
}

impl Bar {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        // The template is a constant, so it parses; fall back to the default style if not.
        let style = ProgressStyle::with_template(
            "{spinner} github {prefix}: [{bar:30}] {pos}/{len} repositories · {msg} ({elapsed})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Self {
            bar,
            requests: AtomicU64::new(0),
            remaining: AtomicU64::new(u64::MAX),
        }
    }

    fn message(&self) -> String {
        let requests = self.requests.load(Ordering::Relaxed);
        match self.remaining.load(Ordering::Relaxed) {
            u64::MAX => format!("{requests} requests"),
            left => format!("{requests} requests · rate limit {left} left"),
        }
    }
}

impl Progress for Bar {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::OrgStarted { org } => {
                self.bar.set_prefix(org.to_string());
                self.bar.set_length(0);
                self.bar.set_position(0);
            }
            Event::ReposFound { count, .. } => self.bar.inc_length(*count as u64),
            Event::RepoDone { .. } => self.bar.inc(1),
            Event::Request {
                rate_limit_remaining,
            } => {
                self.requests.fetch_add(1, Ordering::Relaxed);
                if let Some(left) = rate_limit_remaining {
                    self.remaining.store(*left, Ordering::Relaxed);
                }
                self.bar.set_message(self.message());
            }
            Event::Waiting { seconds, why } => self
                .bar
                .println(format!("github: waiting {seconds:.1}s ({why})")),
            Event::Retrying { path, why, attempt } => self.bar.println(format!(
                "github: retrying GET {path} (attempt {attempt}: {why})"
            )),
            Event::OrgDone {
                org,
                api_calls,
                errors,
            } => self.bar.println(done_line(org, *api_calls, *errors)),
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// Plain log lines on stderr, for CI logs and pipes.
#[derive(Default)]
struct Lines {
    done: AtomicU64,
    listed: AtomicU64,
}

impl Progress for Lines {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::OrgStarted { org } => {
                self.done.store(0, Ordering::Relaxed);
                self.listed.store(0, Ordering::Relaxed);
                eprintln!("trustcheck: github: collecting `{org}`");
            }
            Event::ReposFound { count, .. } => {
                self.listed.fetch_add(*count as u64, Ordering::Relaxed);
            }
            Event::RepoDone { org } => {
                let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
                if done.is_multiple_of(100) {
                    let listed = self.listed.load(Ordering::Relaxed);
                    eprintln!("trustcheck: github: `{org}`: {done}/{listed} repositories");
                }
            }
            Event::Request { .. } => {}
            Event::Waiting { seconds, why } => {
                eprintln!("trustcheck: github: waiting {seconds:.1}s ({why})");
            }
            Event::Retrying { path, why, attempt } => {
                eprintln!("trustcheck: github: retrying GET {path} (attempt {attempt}: {why})");
            }
            Event::OrgDone {
                org,
                api_calls,
                errors,
            } => eprintln!("{}", done_line(org, *api_calls, *errors)),
        }
    }
}

fn done_line(org: &str, api_calls: u64, errors: usize) -> String {
    let unread = if errors > 0 {
        format!(", {errors} facts could not be collected")
    } else {
        String::new()
    };
    format!("trustcheck: github: `{org}` collected with {api_calls} requests{unread}")
}
