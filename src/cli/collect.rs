//! `trustcheck collect NAME`: snapshot a provider into a file. One subcommand per registered
//! provider (`trustcheck::providers`), with that provider's own options.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};
use trustcheck::atomic_write;
use trustcheck::config::{CollectSetting, CollectValue, Config};
use trustcheck::diagnostics::{Diagnostics, InFile, Problem};
use trustcheck::exit::ExitStatus;
use trustcheck::providers::{self, Provider};
use trustcheck::schema::nearest;
use trustcheck::snapshot::Snapshot;
use trustcheck_snapshot::Ui;

use super::Output;

/// Snapshot a provider's facts into a file (no judging: `check --snapshot` does that).
#[derive(Debug, clap::Args)]
#[command(subcommand_required = true, arg_required_else_help = true)]
pub struct Args {
    /// Which configuration file's `[collect.NAME]` options apply.
    #[command(flatten)]
    pub config: super::ConfigArgs,
}

/// Adds `collect NAME` for every registered provider.
pub fn with_providers(collect: Command, registry: &[&'static Provider]) -> Command {
    // `collect github --config FILE` reads as naturally as `collect --config FILE github`.
    let collect = collect
        .mut_arg("config", |a| a.global(true))
        .mut_arg("no_config", |a| a.global(true));
    registry.iter().fold(collect, |cmd, p| {
        let sub = Command::new(p.name).about(p.about).arg(
            Arg::new("out")
                .long("out")
                .short('o')
                .value_name("FILE")
                .required(true)
                .value_parser(clap::value_parser!(PathBuf))
                .help("Where to write the snapshot (whole or not at all)"),
        );
        // The options' doc comment must not replace the provider's `about`.
        cmd.subcommand((p.options)(sub).about(p.about))
    })
}

pub fn run(
    args: Args,
    matches: &ArgMatches,
    registry: &[&'static Provider],
    out: Output,
) -> miette::Result<ExitStatus> {
    let Some((name, sub)) = matches.subcommand() else {
        return Err(miette::miette!(
            help = format!("name one: {}", providers::names().join(", ")),
            "no provider to collect"
        ));
    };
    let provider = registry.iter().find(|p| p.name == name).ok_or_else(|| {
        miette::miette!(
            help = format!("providers: {}", providers::names().join(", ")),
            "unknown provider `{name}`"
        )
    })?;
    let path = sub
        .get_one::<PathBuf>("out")
        .ok_or_else(|| miette::miette!("`--out FILE` is required"))?;
    // Before a possibly long collection: a FIFO or device at the path is refused now.
    atomic_write::check_outputs(&[path], &[])?;
    let config = args.config.load()?;
    check_settings(&config, registry)?;
    let options = configured(provider, sub, &config)?;
    let snapshot = collect(provider, &options, out)?;
    write(&snapshot, path, out)?;
    // A snapshot with uncollected facts is still evidence, but the run is not complete.
    Ok(if snapshot.uncollected().next().is_some() {
        ExitStatus::Untrustworthy
    } else {
        ExitStatus::Success
    })
}

/// Runs a provider's collector with the options parsed from `matches`.
///
/// Text that came back from servers (the reasons of uncollected facts, error messages) is
/// redacted of every secret the process holds and cut to a few hundred bytes here, whatever the
/// provider did: a server that echoes the request must not put the token in the snapshot.
pub fn collect(provider: &Provider, matches: &ArgMatches, out: Output) -> miette::Result<Snapshot> {
    use trustcheck_snapshot::secrets::{quote, redact};
    let mut snapshot = (provider.collect)(matches, Ui { quiet: out.quiet }).map_err(|e| {
        let message = quote(&e.message);
        match e.help {
            Some(help) => miette::miette!(help = redact(&help), "{message}"),
            None => miette::miette!("{message}"),
        }
    })?;
    for source in &mut snapshot.sources {
        source.identity = source.identity.as_deref().map(redact);
        for error in &mut source.errors {
            error.reason = quote(&error.reason);
        }
    }
    Ok(snapshot)
}

/// Checks every `[collect.NAME]` setting of the file against the registered providers and their
/// options, before anything is collected: an unknown provider or option, a value of the wrong
/// kind, or a secret written into the file is an error at its place (with the nearest name).
pub fn check_settings(config: &Config, registry: &[&'static Provider]) -> Result<(), Diagnostics> {
    let Some(file) = &config.file else {
        return Ok(());
    };
    let problem = |message: String, help: String, span, label: &str, code| {
        InFile::new(
            Problem {
                message,
                help: Some(help),
                span,
                label: label.into(),
            },
            file,
        )
        .with_code(code)
    };
    let mut problems = Vec::new();
    for s in &config.collect {
        let Some(provider) = registry.iter().find(|p| p.name == s.provider.id) else {
            let hint = nearest(&s.provider.id, registry.iter().map(|p| p.name))
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            let names: Vec<&str> = registry.iter().map(|p| p.name).collect();
            problems.push(problem(
                format!("no provider `{}`", s.provider.id),
                format!("{hint}`[collect.NAME]` names one of: {}", names.join(", ")),
                s.provider.span,
                "unknown provider",
                "config::collect",
            ));
            continue;
        };
        let cmd = options_of(provider);
        let Some(arg) = find_option(&cmd, provider.name, &s.option.id) else {
            let longs: Vec<&str> = cmd.get_arguments().filter_map(Arg::get_long).collect();
            let hint = nearest(&s.option.id, longs.iter().copied())
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            problems.push(problem(
                format!(
                    "`collect {}` has no option `{}`",
                    provider.name, s.option.id
                ),
                format!(
                    "{hint}keys are the long names of `trustcheck collect {} --help`",
                    provider.name
                ),
                s.option.span,
                "unknown option",
                "config::collect",
            ));
            continue;
        };
        if let Some(env) = arg.get_env().and_then(|e| e.to_str()) {
            if looks_secret(env) {
                problems.push(problem(
                    format!(
                        "`--{}` is a secret: it does not belong in a file",
                        s.option.id
                    ),
                    format!("set `{env}` in the environment instead"),
                    s.option.span,
                    "secret",
                    "config::collect",
                ));
                continue;
            }
        }
        if let Err(why) = command_line(arg, s) {
            problems.push(problem(
                format!(
                    "bad value for `{}` in `[collect.{}]`",
                    s.option.id, provider.name
                ),
                why,
                s.value_span,
                "here",
                "config::collect",
            ));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Diagnostics {
        summary: format!(
            "{} problem{} in `{}`",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            config.origin()
        ),
        items: problems,
    })
}

/// The provider's options as the command line, the environment and the file set them, in that
/// order of precedence: an option typed on the command line (or read from its environment
/// variable) replaces the file's, lists included.
///
/// `matches` holds what was typed (for `collect NAME` or `check --collect NAME`); the result
/// holds exactly the provider's options, re-parsed with the file's settings added, so a value
/// from the file passes the same parsers and checks as a typed one.
pub fn configured(
    provider: &Provider,
    matches: &ArgMatches,
    config: &Config,
) -> miette::Result<ArgMatches> {
    let cmd = options_of(provider);
    let mut argv: Vec<OsString> = vec![provider.name.into()];
    let mut from_file: Vec<(String, &CollectSetting)> = Vec::new();
    for arg in cmd.get_arguments() {
        let Some(long) = arg.get_long() else {
            continue;
        };
        let id = arg.get_id().as_str();
        match matches.value_source(id) {
            Some(ValueSource::CommandLine) => {
                if arg.get_action().takes_values() {
                    if let Ok(Some(values)) = matches.try_get_raw(id) {
                        for value in values {
                            let mut a = OsString::from(format!("--{long}="));
                            a.push(value);
                            argv.push(a);
                        }
                    }
                } else {
                    argv.push(format!("--{long}").into());
                }
            }
            // Parsed again below from the same environment.
            Some(ValueSource::EnvVariable) => {}
            _ => {
                let setting = config
                    .collect
                    .iter()
                    .filter(|s| s.provider.id == provider.name)
                    .find(|s| {
                        find_option(&cmd, provider.name, &s.option.id)
                            .is_some_and(|a| a.get_id() == id)
                    });
                if let Some(setting) = setting {
                    let args =
                        command_line(arg, setting).map_err(|why| miette::miette!("{why}"))?;
                    argv.extend(args.into_iter().map(OsString::from));
                    from_file.push((long.to_string(), setting));
                }
            }
        }
    }
    cmd.try_get_matches_from(argv).map_err(|e| {
        let text = e.to_string();
        let message = text
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_string();
        // A value from the file is shown where the file holds it.
        let culprit = e.get(clap::error::ContextKind::InvalidArg).and_then(|a| {
            let a = a.to_string();
            from_file
                .iter()
                .find(|(long, _)| a.split([' ', '=']).next() == Some(&format!("--{long}")))
                .map(|(long, s)| (long.clone(), *s))
        });
        match (culprit, &config.file) {
            (Some((long, s)), Some(file)) => miette::Report::new(
                InFile::new(
                    Problem {
                        message: format!(
                            "`[collect.{}]` {}: {message}",
                            provider.name, s.option.id
                        ),
                        help: Some(format!(
                            "the option is `--{long}` of `trustcheck collect {}`",
                            provider.name
                        )),
                        span: s.value_span,
                        label: "here".into(),
                    },
                    file,
                )
                .with_code("config::collect"),
            ),
            _ => miette::miette!("`collect {}`: {message}", provider.name),
        }
    })
}

/// The provider's options alone, as a command to re-parse them with.
fn options_of(provider: &Provider) -> Command {
    (provider.options)(Command::new(provider.name))
}

/// The option a key of `[collect.NAME]` names: its long name or one of its aliases, with or
/// without the provider's prefix (`concurrency` in `[collect.aws]` is `--aws-concurrency`).
fn find_option<'c>(cmd: &'c Command, provider: &str, key: &str) -> Option<&'c Arg> {
    let named = |name: &str| {
        cmd.get_arguments().find(|a| {
            a.get_long() == Some(name)
                || a.get_all_aliases()
                    .is_some_and(|names| names.contains(&name))
        })
    };
    named(key).or_else(|| named(&format!("{provider}-{key}")))
}

/// The command-line words a setting stands for, or why the option cannot take its value.
fn command_line(arg: &Arg, setting: &CollectSetting) -> Result<Vec<String>, String> {
    let long = arg.get_long().unwrap_or(setting.option.id.as_str());
    let repeatable = matches!(arg.get_action(), ArgAction::Append);
    match (&setting.value, arg.get_action().takes_values()) {
        (CollectValue::Switch(true), false) => Ok(vec![format!("--{long}")]),
        (CollectValue::Switch(false), false) => Ok(Vec::new()),
        (CollectValue::One(v), true) => Ok(vec![format!("--{long}={v}")]),
        (CollectValue::Many(vs), true) if repeatable => {
            Ok(vs.iter().map(|v| format!("--{long}={v}")).collect())
        }
        (CollectValue::Many(_), true) => Err(format!(
            "`--{long}` takes one value: give a string, not a list"
        )),
        (_, true) => Err(format!("`--{long}` takes a value: give a string")),
        (_, false) => Err(format!("`--{long}` is a switch: give `true` or `false`")),
    }
}

/// Whether an environment variable's name marks a secret (a token, a key, a password); the path
/// of a file that holds one (`*_FILE`, `*_PATH`) is not itself a secret.
fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if upper.ends_with("_FILE") || upper.ends_with("_PATH") {
        return false;
    }
    [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PRIVATE_KEY",
        "API_KEY",
        "ACCESS_KEY",
    ]
    .iter()
    .any(|m| upper.contains(m))
}

/// Writes a snapshot atomically and says so on stderr.
pub fn write(snapshot: &Snapshot, path: &Path, out: Output) -> miette::Result<()> {
    atomic_write::write(path, snapshot.to_json().as_bytes())?;
    if !out.quiet {
        let errors = snapshot.uncollected().count();
        eprintln!(
            "trustcheck: wrote {} entities from {} source(s) to {}{}",
            snapshot.entities.len(),
            snapshot.sources.len(),
            path.display(),
            if errors > 0 {
                format!(" ({errors} facts could not be collected: see sources[].errors)")
            } else {
                String::new()
            }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::looks_secret;

    #[test]
    fn secrets_are_told_from_paths_to_them() {
        assert!(looks_secret("OKTA_API_TOKEN"));
        assert!(looks_secret("client_secret"));
        assert!(!looks_secret("OKTA_PRIVATE_KEY_FILE"));
        assert!(!looks_secret("GOOGLE_API_URL"));
    }
}
