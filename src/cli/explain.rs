//! `trustcheck explain`: everything about one rule, and optionally what it says about one
//! resource of a snapshot and why.

use std::fmt::Write;
use std::path::PathBuf;
use std::str::FromStr;

use cedar_policy::EntityUid;
use trustcheck::criteria;
use trustcheck::engine;
use trustcheck::entities::{Input, Store};
use trustcheck::findings::{Status, Uid};
use trustcheck::rules::{Origin, Rule};
use trustcheck::schema::{nearest, SchemaSet};

use trustcheck::exit::ExitStatus;

use super::{Adjust, Loaded, Output, RuleArgs};

/// Explain a rule: its text, criteria, severity, remediation, the resource types it judges and
/// the attributes it reads. With --snapshot, what it concludes about each resource; with
/// --resource too, the values of the attributes it read on that resource.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The rule id, e.g. `github-branch-required-reviews`.
    rule: String,

    /// Judge the resources of this snapshot with the rule; repeatable.
    #[arg(long = "snapshot", value_name = "FILE")]
    snapshots: Vec<PathBuf>,

    /// With --snapshot: the one resource to explain, as reports print it
    /// (`Github::Branch::"acme/api:main"`, Cedar syntax) or by its id alone (`acme/api:main`).
    #[arg(long, value_name = "UID", requires = "snapshots")]
    resource: Option<String>,

    #[command(flatten)]
    rules: RuleArgs,
}

/// The rule or resource asked for does not exist.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
enum ExplainError {
    #[error("no rule `{id}` is loaded")]
    #[diagnostic(code("explain::unknown-rule"), help("{help}"))]
    UnknownRule { id: String, help: String },
    #[error("no resource `{wanted}` that rule `{rule}` judges is in the snapshot")]
    #[diagnostic(code("explain::unknown-resource"), help("{help}"))]
    UnknownResource {
        wanted: String,
        rule: String,
        help: String,
    },
    #[error("`{wanted}` names {count} resources")]
    #[diagnostic(
        code("explain::ambiguous-resource"),
        help("give the type too, as reports print it: {examples}")
    )]
    Ambiguous {
        wanted: String,
        count: usize,
        examples: String,
    },
}

pub fn run(args: Args, _out: Output) -> miette::Result<ExitStatus> {
    // Explain the rule as written, and say what the configuration changes about it.
    let Loaded {
        schema,
        rules,
        config,
        ..
    } = args.rules.load(Adjust::AsWritten)?;
    let Some(rule) = rules.get(&args.rule) else {
        let hint = nearest(&args.rule, rules.rules().iter().map(|r| r.id.as_ref()));
        return Err(ExplainError::UnknownRule {
            id: args.rule.clone(),
            help: match hint {
                Some(n) => format!("did you mean `{n}`?"),
                None => {
                    "`trustcheck controls` lists every rule; custom rules need `--policies DIR`"
                        .into()
                }
            },
        }
        .into());
    };

    let mut out = describe(rule, &schema);
    if config.is_disabled(&rule.id) {
        let _ = writeln!(
            out,
            "\nnote: `{}` disables this rule: `check` does not run it",
            config.origin()
        );
    }
    if let Some(s) = config.severity_of(&rule.id) {
        let _ = writeln!(
            out,
            "\nnote: `{}` sets its severity to {s} (the rule says {})",
            config.origin(),
            rule.severity
        );
    }

    if !args.snapshots.is_empty() {
        let mut inputs = Vec::new();
        for path in &args.snapshots {
            inputs.push(Input::read(path)?);
        }
        let only = rules.filtered(|r| r.id == rule.id);
        let store = Store::load_for(inputs, &schema, Some(&only.names_read()))
            .map_err(|e| miette::Report::new(*e))?;
        let findings = engine::evaluate(&only, &store)?;
        match &args.resource {
            None => {
                let _ = writeln!(out, "\nFindings ({})", findings.len());
                for f in &findings {
                    let _ = writeln!(
                        out,
                        "  {:<14} {}  {}",
                        f.status.as_str(),
                        f.resource,
                        f.message
                    );
                }
            }
            Some(wanted) => {
                let reference = find_resource(wanted, rule, &store)?;
                let finding = findings.iter().find(|f| *f.resource == reference);
                let source = store
                    .resources
                    .iter()
                    .find(|r| *r.reference == reference)
                    .and_then(|r| store.snapshots.get(r.snapshot))
                    .map_or("the snapshot", |s| s.file.as_str());
                let _ = writeln!(out, "\nResource {reference} (in {source})");
                if let Some(f) = finding {
                    let _ = writeln!(out, "  status   {}", f.status);
                    if f.status == Status::Error {
                        let _ = writeln!(out, "  reason   {}", f.message);
                    }
                }
                let _ = writeln!(out, "  facts the rule read");
                // Cedar's store of this resource alone: what it shows of its own attributes.
                let at = store
                    .resources
                    .iter()
                    .position(|r| *r.reference == reference);
                let entities = at
                    .map(|i| store.entities(i..i + 1, &Default::default(), 0))
                    .transpose()
                    .map_err(|e| miette::miette!("{e}"))?;
                let entity = entity_uid(&reference)
                    .and_then(|u| entities.as_ref().and_then(|all| all.get(&u)));
                let unknown = store.unknown_facts(&reference);
                for attr in rule.attrs_read() {
                    let value = match entity.and_then(|e| e.attr(attr)) {
                        Some(Ok(v)) => engine::show(&v),
                        Some(Err(_)) => "(unreadable)".into(),
                        None => match unknown.iter().find(|u| u.fact == attr || u.fact == "*") {
                            Some(u) => format!("absent: not collected ({})", u.reason),
                            None => "absent".into(),
                        },
                    };
                    let _ = writeln!(out, "    {attr} = {value}");
                }
            }
        }
    }
    out!("{out}");
    Ok(ExitStatus::Success)
}

/// The rule's metadata, the attributes it reads with their meaning, and its text.
fn describe(rule: &Rule, schema: &SchemaSet) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}\n", rule.id, rule.title);
    let _ = writeln!(out, "  severity     {}", rule.severity);
    for (i, c) in rule.soc2.iter().enumerate() {
        let title = criteria::find(c).map_or("", |c| c.title);
        let label = if i == 0 { "criteria" } else { "" };
        let _ = writeln!(out, "  {label:<12} {c:<6} {title}");
    }
    let _ = writeln!(out, "  applies to   {}", rule.resource_types.join(", "));
    let origin = match rule.origin {
        Origin::Builtin => "shipped",
        Origin::Custom => "custom",
    };
    let _ = writeln!(out, "  defined in   {} ({origin})", rule.file.name);
    let _ = writeln!(out, "  remediation  {}", rule.remediation);
    if let Some(d) = &rule.description {
        let _ = writeln!(out, "  description  {d}");
    }

    let parts = [
        ("when (which resources it judges)", &rule.applies_attrs),
        ("unless (the requirement)", &rule.requirement_attrs),
    ];
    let _ = writeln!(out, "\nAttributes read");
    for (part, attrs) in parts {
        if attrs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  {part}");
        for attr in attrs {
            for t in &rule.resource_types {
                let Some(spec) = schema.entity_type(t).and_then(|s| s.attrs.get(attr)) else {
                    continue;
                };
                let optional = if spec.required { "" } else { "?" };
                let _ = writeln!(
                    out,
                    "    {t}.{attr}{optional}: {}{}",
                    spec.ty,
                    spec.doc
                        .as_deref()
                        .map(|d| format!("  ({d})"))
                        .unwrap_or_default()
                );
            }
        }
    }

    let _ = writeln!(out, "\nRule");
    for line in rule.file.text.lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}

/// The resource `wanted` names: Cedar syntax `Type::"id"`, or an id alone that is unique among
/// the resources the rule judges.
fn find_resource(wanted: &str, rule: &Rule, store: &Store) -> miette::Result<Uid> {
    let judged: Vec<&Uid> = store
        .resources
        .iter()
        .map(|r| &*r.reference)
        .filter(|r| rule.resource_types.contains(&r.type_name))
        .collect();
    let exact: Vec<&Uid> = match EntityUid::from_str(wanted.trim()) {
        Ok(uid) => {
            let r = Uid {
                type_name: uid.type_name().to_string(),
                id: uid.id().unescaped().to_string(),
            };
            judged.iter().copied().filter(|j| **j == r).collect()
        }
        Err(_) => judged.iter().copied().filter(|j| j.id == wanted).collect(),
    };
    match exact.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let ids: Vec<String> = judged.iter().map(|r| r.to_string()).collect();
            let hint = nearest(wanted, ids.iter().map(String::as_str))
                .or_else(|| {
                    nearest(wanted, judged.iter().map(|r| r.id.as_str()))
                        .and_then(|id| ids.iter().find(|u| u.contains(id)).map(String::as_str))
                })
                .map(|n| format!("did you mean `{n}`? "))
                .unwrap_or_default();
            Err(ExplainError::UnknownResource {
                wanted: wanted.to_string(),
                rule: rule.id.to_string(),
                help: format!(
                    "{hint}the rule judges {} resources of type {}; run without --resource to list them",
                    judged.len(),
                    rule.resource_types.join(", ")
                ),
            }
            .into())
        }
        many => Err(ExplainError::Ambiguous {
            wanted: wanted.to_string(),
            count: many.len(),
            examples: many
                .iter()
                .map(|r| format!("`{r}`"))
                .collect::<Vec<_>>()
                .join(", "),
        }
        .into()),
    }
}

fn entity_uid(r: &Uid) -> Option<EntityUid> {
    trustcheck::entities::uid_of(r).ok()
}
