//! The Google Workspace provider as the binary's registry sees it: its options (`collect
//! google`, `check --collect google`), reading the service account key (never printing it),
//! progress on stderr (nothing with `--quiet`) and the customer as one snapshot.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Args, FromArgMatches};
use trustcheck_snapshot::{
    CollectError, Param, ParamKind, Provider, Scaffold, ScaffoldExample, Snapshot, Ui,
};

use crate::auth::ServiceAccountKey;
use crate::{Config, NoProgress, Progress};

/// The Google Workspace provider.
pub static PROVIDER: Provider = Provider {
    name: "google",
    namespace: "Google",
    about: "Snapshot a Google Workspace account (users, 2-Step Verification, admin roles, sign-ins)",
    scope_noun: "Workspace domain",
    owns,
    scaffold: Scaffold {
        resource: "Google::User",
        criteria: "CC6.1",
        example: Some(ScaffoldExample {
            summary: "People who can sign in have 2-Step Verification enforced.",
            title: "Active users have 2-Step Verification enforced",
            remediation: "Enforce 2-Step Verification for the user's organisational unit (Admin console → Security → 2-Step Verification).",
            severity: "high",
            applies: Some((
                "resource has suspended && !resource.suspended && resource has archived && !resource.archived",
                r#"{"suspended": false, "archived": false}"#,
                r#"{"suspended": true, "archived": false}"#,
            )),
            attr: "isEnforcedIn2Sv",
            requirement: "resource.isEnforcedIn2Sv",
            good: "true",
            bad: "false",
        }),
    },
    options: GoogleOptions::augment_args,
    collect: collect_from_matches,
    params: &PARAMS,
};

/// Users are named by their primary email, the customer by its primary domain: an entity
/// belongs to the domain it is, or whose address it has (`<domain>/*` names a list not read).
fn owns(id: &str, scope: &str) -> bool {
    id == scope
        || id
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain == scope)
        || id
            .strip_prefix(scope)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The thresholds of the Google Workspace rules (`[params]` in trustcheck.toml).
static PARAMS: [Param; 2] = [
    Param {
        name: "googleMaxSuperAdmins",
        kind: ParamKind::Count,
        default: 4,
        doc: "users who may hold the Google Workspace super administrator role (a few break-glass accounts)",
    },
    Param {
        name: "googleUserStaleDays",
        kind: ParamKind::Days,
        default: 90,
        doc: "days an active Google Workspace user may go without signing in (one who never did counts from creation)",
    },
];

/// Google Workspace collection options.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Google Workspace collection")]
pub struct GoogleOptions {
    /// The Workspace administrator the service account impersonates (domain-wide delegation).
    #[arg(long = "admin-email", value_name = "EMAIL", env = "GOOGLE_ADMIN_EMAIL")]
    pub admin_email: Option<String>,

    /// The service account's JSON key file.
    #[arg(
        long = "google-credentials",
        value_name = "FILE",
        env = "GOOGLE_APPLICATION_CREDENTIALS"
    )]
    pub google_credentials: Option<PathBuf>,

    /// Admin SDK API root (`/admin/directory/v1/…` lives under it).
    #[arg(
        long = "google-api-url",
        value_name = "URL",
        env = "GOOGLE_API_URL",
        default_value = crate::DEFAULT_API_URL
    )]
    pub google_api_url: String,

    /// Google API requests in flight at most.
    #[arg(long = "google-concurrency", value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=32))]
    pub google_concurrency: u16,
}

fn collect_from_matches(matches: &clap::ArgMatches, ui: Ui) -> Result<Snapshot, CollectError> {
    let options = GoogleOptions::from_arg_matches(matches)
        .map_err(|e| CollectError::new(format!("Google options: {e}")))?;
    collect_snapshot(&options, ui)
}

/// Collects the Workspace customer of `options` into one snapshot.
pub fn collect_snapshot(options: &GoogleOptions, ui: Ui) -> Result<Snapshot, CollectError> {
    let Some(admin_email) = options.admin_email.clone() else {
        return Err(
            CollectError::new("no Google Workspace administrator to impersonate")
                .with_help("pass --admin-email ADMIN@DOMAIN (or set GOOGLE_ADMIN_EMAIL)"),
        );
    };
    let Some(path) = &options.google_credentials else {
        return Err(CollectError::new("no Google service account key").with_help(
            "set GOOGLE_APPLICATION_CREDENTIALS (or --google-credentials) to the service account's JSON key file; providers/google/README.md says how to grant it domain-wide delegation",
        ));
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        CollectError::new(format!(
            "cannot read the service account key `{shown}`: {e}"
        ))
    })?;
    let key = ServiceAccountKey::parse(&text, &shown)?;
    let mut config = Config::new(options.google_api_url.clone(), key, admin_email);
    config.concurrency = usize::from(options.google_concurrency);

    ui.note(&format!(
        "google: collecting as `{}` impersonating `{}`",
        config.key.client_email, config.admin_email
    ));
    let progress: Arc<dyn Progress> = if ui.quiet {
        Arc::new(NoProgress)
    } else {
        Arc::new(Stderr)
    };
    let started = time::OffsetDateTime::now_utc();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CollectError::new(format!("cannot start the async runtime: {e}")))?;
    let snapshot = runtime.block_on(crate::collect(&config, started, progress))?;
    if let Some(source) = snapshot.sources.first() {
        let unread = match source.errors.len() {
            0 => String::new(),
            n => format!(", {n} facts could not be collected"),
        };
        ui.note(&format!(
            "google: `{}` collected with {} requests{unread}",
            source.scope, source.api_calls
        ));
    }
    Ok(snapshot)
}

/// Retries and waits as plain lines on stderr.
struct Stderr;

impl Progress for Stderr {
    fn note(&self, message: &str) {
        eprintln!("trustcheck: {message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_belong_to_their_domain() {
        assert!(owns("acme.example", "acme.example"));
        assert!(owns("ada@acme.example", "acme.example"));
        assert!(owns("acme.example/*", "acme.example"));
        assert!(!owns("ada@other.example", "acme.example"));
        assert!(!owns("ada@sub.acme.example", "acme.example"));
    }
}
