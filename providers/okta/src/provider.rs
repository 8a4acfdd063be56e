//! The Okta provider as the binary's registry sees it: its options (`collect okta`, `check
//! --collect okta`), reading the API token (never printing it), progress on stderr (nothing with
//! `--quiet`) and the org as one snapshot.

use std::sync::Arc;

use clap::{Args, FromArgMatches};
use trustcheck_snapshot::provider::owns_by_prefix_or_arn;
use trustcheck_snapshot::{
    CollectError, Param, ParamKind, Provider, Scaffold, ScaffoldExample, Snapshot, Ui,
};

use crate::{ApiToken, Config, NoProgress, Progress, ServiceApp};

/// The Okta provider.
pub static PROVIDER: Provider = Provider {
    name: "okta",
    namespace: "Okta",
    about: "Snapshot an Okta org (users, enrolled factors, admin roles, sign-ins, MFA policies)",
    scope_noun: "org",
    owns: owns_by_prefix_or_arn,
    scaffold: Scaffold {
        resource: "Okta::User",
        criteria: "CC6.1",
        example: Some(ScaffoldExample {
            summary: "People who can sign in have an active phishing-resistant factor.",
            title: "Active users have a phishing-resistant factor",
            remediation: "Have the user enroll a security key, a platform authenticator (WebAuthn) or Okta FastPass.",
            severity: "high",
            applies: Some((
                r#"resource has status && resource.status == "ACTIVE""#,
                r#"{"status": "ACTIVE"}"#,
                r#"{"status": "SUSPENDED"}"#,
            )),
            attr: "activeFactorTypes",
            requirement: r#"resource.activeFactorTypes.containsAny(["webauthn", "u2f", "signed_nonce"])"#,
            good: r#"["webauthn"]"#,
            bad: r#"["sms"]"#,
        }),
    },
    options: OktaOptions::augment_args,
    collect: collect_from_matches,
    params: &PARAMS,
};

/// The thresholds of the Okta rules (`[params]` in trustcheck.toml).
static PARAMS: [Param; 1] = [Param {
    name: "oktaUserStaleDays",
    kind: ParamKind::Days,
    default: 90,
    doc: "days an Okta user who can sign in may go without signing in (one who never did counts from creation)",
}];

/// Okta collection options.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Okta collection")]
pub struct OktaOptions {
    /// The Okta org's base URL, e.g. `https://acme.okta.com` (any `http(s)://host:port`).
    #[arg(long = "org-url", value_name = "URL", env = "OKTA_ORG_URL")]
    pub okta_org_url: Option<String>,

    /// Environment variable that holds the Okta API token (sent as `SSWS`, never printed).
    #[arg(
        long = "okta-token-env",
        value_name = "NAME",
        default_value = "OKTA_API_TOKEN"
    )]
    pub okta_token_env: String,

    /// An API service app's client id: authorise with OAuth (client credentials, a
    /// `private_key_jwt` assertion signed with --okta-private-key-file) instead of an API token.
    #[arg(long = "okta-client-id", value_name = "ID", env = "OKTA_CLIENT_ID")]
    pub okta_client_id: Option<String>,

    /// The service app's PEM private key (PKCS #8 or PKCS #1), with --okta-client-id; never printed.
    #[arg(
        long = "okta-private-key-file",
        value_name = "FILE",
        env = "OKTA_PRIVATE_KEY_FILE"
    )]
    pub okta_private_key_file: Option<std::path::PathBuf>,

    /// The `kid` of the service app's key, when the app has several public keys.
    #[arg(long = "okta-key-id", value_name = "KID", env = "OKTA_KEY_ID")]
    pub okta_key_id: Option<String>,

    /// Okta requests in flight at most (per-user factor and role calls run this wide).
    #[arg(long = "okta-concurrency", value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=32))]
    pub okta_concurrency: u16,
}

fn collect_from_matches(matches: &clap::ArgMatches, ui: Ui) -> Result<Snapshot, CollectError> {
    let options = OktaOptions::from_arg_matches(matches)
        .map_err(|e| CollectError::new(format!("Okta options: {e}")))?;
    collect_snapshot(&options, ui)
}

/// Collects the Okta org of `options` into one snapshot.
pub fn collect_snapshot(options: &OktaOptions, ui: Ui) -> Result<Snapshot, CollectError> {
    let Some(org_url) = options.okta_org_url.clone() else {
        return Err(CollectError::new("no Okta org to collect")
            .with_help("pass --org-url https://ORG.okta.com (or set OKTA_ORG_URL)"));
    };
    let mut config = match &options.okta_client_id {
        Some(client_id) => Config::with_service_app(org_url, service_app(options, client_id)?),
        None => Config::new(org_url, api_token(options)?),
    };
    config.concurrency = usize::from(options.okta_concurrency);
    let (_, host) = crate::origin_and_host(&config.org_url)?;
    ui.note(&format!("okta: collecting `{host}`"));
    run(&config, ui)
}

fn service_app(options: &OktaOptions, client_id: &str) -> Result<ServiceApp, CollectError> {
    let Some(path) = &options.okta_private_key_file else {
        return Err(CollectError::new(format!(
            "the Okta service app `{client_id}` has no private key"
        ))
        .with_help("set OKTA_PRIVATE_KEY_FILE (or --okta-private-key-file) to the PEM private key registered with the app"));
    };
    let shown = path.display().to_string();
    let private_key = std::fs::read_to_string(path)
        .map_err(|e| CollectError::new(format!("cannot read the private key `{shown}`: {e}")))?;
    trustcheck_snapshot::secrets::register(&private_key);
    Ok(ServiceApp {
        client_id: client_id.to_string(),
        private_key,
        key_id: options.okta_key_id.clone(),
    })
}

fn api_token(options: &OktaOptions) -> Result<ApiToken, CollectError> {
    match std::env::var(&options.okta_token_env) {
        Ok(t) if !t.trim().is_empty() => {
            trustcheck_snapshot::secrets::register(t.trim());
            Ok(ApiToken::new(t.trim()))
        }
        _ => Err(CollectError::new(format!(
                "no Okta API token: `{}` is not set",
                options.okta_token_env
            ))
            .with_help(format!(
                "export a read-only administrator's API token in `{}` (or name another variable with --okta-token-env); providers/okta/README.md lists what it needs",
                options.okta_token_env
            ))),
    }
}

/// Collects with `config`, progress on stderr unless quiet.
fn run(config: &Config, ui: Ui) -> Result<Snapshot, CollectError> {
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
    let snapshot = runtime.block_on(crate::collect(config, started, progress))?;
    if let Some(source) = snapshot.sources.first() {
        let unread = match source.errors.len() {
            0 => String::new(),
            n => format!(", {n} facts could not be collected"),
        };
        ui.note(&format!(
            "okta: `{}` collected with {} requests{unread}",
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
