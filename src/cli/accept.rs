//! `trustcheck accept RULE RESOURCE`: record a risk acceptance, checked, in the exceptions file.

use std::path::PathBuf;

use trustcheck::atomic_write;
use trustcheck::diagnostics::SourceFile;
use trustcheck::exceptions::{self, Exceptions};
use trustcheck::exit::ExitStatus;

use super::{Adjust, ExceptionsArgs, Output, RuleArgs};

/// Accept the risk of a failing finding until a date: append a checked `[[accept]]` entry to
/// the exceptions file (`trustcheck-exceptions.toml`, created in the repository root, or in the
/// current directory outside a repository, when there is none).
///
/// `check` then reports the finding as `accepted` (it no longer fails the run) until the day
/// after EXPIRES, when it fails again. Review the file like code: protect it with CODEOWNERS.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rule id, or a glob of ids (`github-branch-*`).
    #[arg(value_name = "RULE")]
    rule: String,

    /// The resource as findings show it, e.g. `Github::Org::"acme"`; `*` in the id matches any
    /// run of characters (`Github::Branch::"acme/marketing-*:main"`).
    #[arg(value_name = "RESOURCE")]
    resource: String,

    /// Why the risk is accepted (an auditor reads it).
    #[arg(long)]
    reason: String,

    /// Who owns the risk.
    #[arg(long)]
    owner: String,

    /// Who approved accepting it.
    #[arg(long = "approved-by", value_name = "WHO")]
    approved_by: String,

    /// The last day the acceptance applies, UTC (`YYYY-MM-DD`); at most `max-exception-days`
    /// (default 365) from today.
    #[arg(long, value_name = "YYYY-MM-DD")]
    expires: String,

    /// A ticket or decision record (URL).
    #[arg(long, value_name = "URL")]
    ticket: Option<String>,

    #[command(flatten)]
    exceptions: ExceptionsArgs,

    #[command(flatten)]
    rules: RuleArgs,
}

pub fn run(args: Args, out: Output) -> miette::Result<ExitStatus> {
    let loaded = args.rules.load(Adjust::Configured)?;
    let path = match args
        .exceptions
        .path(&loaded.config, args.rules.config.no_config)?
    {
        Some(path) => path,
        None => {
            let cwd = std::env::current_dir()
                .map_err(|e| miette::miette!("cannot read the current directory: {e}"))?;
            relative_to(&exceptions::default_path(&cwd), &cwd)
        }
    };
    let existing = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => HEADER.to_string(),
        Err(e) => {
            return Err(miette::miette!(
                "cannot read exceptions file `{}`: {e}",
                path.display()
            ))
        }
    };
    let text = format!("{}{}", with_newline(&existing), entry(&args));
    // The whole file, new entry included, must pass what `check` holds it to. Expiries are
    // measured from today here (`check` measures them from the snapshot's time).
    let today = time::OffsetDateTime::now_utc().date();
    let max_days = loaded
        .config
        .max_exception_days
        .unwrap_or(exceptions::DEFAULT_MAX_DAYS);
    let checked = Exceptions::parse(
        SourceFile::new(path.display().to_string(), text.clone()).with_language("toml"),
        &loaded.rules,
        today,
        max_days,
    )?;
    atomic_write::write(&path, text.as_bytes())?;
    if !out.quiet {
        if let Some(e) = checked.entries.last() {
            eprintln!(
                "trustcheck: accepted `{}` on `{}` until {} in {} (line {})",
                e.rule,
                e.resource(),
                e.expires,
                path.display(),
                e.line
            );
        }
    }
    Ok(ExitStatus::Success)
}

/// The start of a new exceptions file.
const HEADER: &str = "# Risk acceptances (exceptions): failures accepted for a while, each with a reason, an owner,\n\
# an approver and an expiry. `trustcheck check` reports the findings they cover as `accepted`.\n\
# Review changes to this file like code (CODEOWNERS). See docs/exceptions.md.\n";

/// The `[[accept]]` table, every value quoted as TOML requires.
fn entry(args: &Args) -> String {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut t = format!(
        "\n[[accept]]\nrule = {}\nresource = {}\nreason = {}\nowner = {}\napproved_by = {}\n",
        quote(&args.rule),
        quote(&args.resource),
        quote(&args.reason),
        quote(&args.owner),
        quote(&args.approved_by),
    );
    // A valid date is written as a TOML date; anything else as a string, so that the check
    // below reports it where it stands instead of failing to parse the whole file.
    let date = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(args.expires.trim(), &date) {
        Ok(d) => t.push_str(&format!("expires = {d}\n")),
        Err(_) => t.push_str(&format!("expires = {}\n", quote(&args.expires))),
    }
    if let Some(ticket) = &args.ticket {
        t.push_str(&format!("ticket = {}\n", quote(ticket)));
    }
    t
}

fn with_newline(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

/// `path` relative to `cwd` when it is under it (for messages), else as it is.
fn relative_to(path: &std::path::Path, cwd: &std::path::Path) -> PathBuf {
    path.strip_prefix(cwd)
        .map_or_else(|_| path.to_path_buf(), std::path::Path::to_path_buf)
}
