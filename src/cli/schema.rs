//! `trustcheck schema`: the entity reference, generated from the schema fragments.

use trustcheck::docs;
use trustcheck::exit::ExitStatus;

use super::{ConfigArgs, Output, SchemaArgs};

/// The entity reference: every entity type a rule can judge, its attributes (type, whether
/// always present, meaning) and parents, from the schema fragments and their `@doc` annotations.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this entity type (`Github::Repo`, or `Repo`).
    #[arg(value_name = "TYPE")]
    entity_type: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = SchemaFormat::Markdown)]
    format: SchemaFormat,

    #[command(flatten)]
    schema: SchemaArgs,

    #[command(flatten)]
    config: ConfigArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum SchemaFormat {
    Markdown,
    Json,
}

pub fn run(args: Args, _out: Output) -> miette::Result<ExitStatus> {
    let config = args.config.load()?;
    let schema = args.schema.load(&config)?;
    let types = docs::select_types(&schema, args.entity_type.as_deref());
    if types.is_empty() {
        let wanted = args.entity_type.unwrap_or_default();
        let hint = schema
            .nearest_type(&wanted)
            .map(|n| format!("did you mean `{n}`? "))
            .unwrap_or_default();
        return Err(miette::miette!(
            code = "schema::unknown-type",
            help = format!("{hint}`trustcheck schema` without a type lists them all"),
            "unknown entity type `{wanted}`"
        ));
    }
    match args.format {
        SchemaFormat::Markdown => out!("{}", docs::schema_markdown(&types)),
        SchemaFormat::Json => {
            // A tree of strings and booleans: serialising cannot fail.
            let text = serde_json::to_string_pretty(&docs::schema_json(&types)).unwrap_or_default();
            outln!("{text}");
        }
    }
    Ok(ExitStatus::Success)
}
