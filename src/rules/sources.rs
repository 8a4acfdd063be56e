//! Where rule texts come from: the shipped rules and `--policies` folders. This module only reads
//! files; it never judges what is in them.

use std::path::{Path, PathBuf};

use crate::builtin;
use crate::diagnostics::SourceFile;

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Shipped in the binary.
    Builtin,
    /// Loaded from a `--policies` folder.
    Custom,
}

/// The text of one rule file and where it comes from.
#[derive(Debug, Clone)]
pub struct RuleSource {
    /// The file.
    pub file: SourceFile,
    /// Shipped or custom.
    pub origin: Origin,
}

/// The shipped rules.
pub fn builtin_sources() -> Vec<RuleSource> {
    builtin::RULES
        .iter()
        .map(|(path, text)| RuleSource {
            file: SourceFile::new(*path, *text),
            origin: Origin::Builtin,
        })
        .collect()
}

/// A rules folder that cannot be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot read rules from `{path}`: {source}")]
#[diagnostic(help("`--policies` takes a folder of `.cedar` files (searched recursively)"))]
pub struct ReadRulesError {
    /// The path.
    pub path: String,
    /// Why.
    pub source: std::io::Error,
}

/// Every `.cedar` file below `dir` (recursively, sorted). A single `.cedar` file is accepted too.
pub fn sources_from_path(dir: &Path) -> Result<Vec<RuleSource>, ReadRulesError> {
    let err = |source| ReadRulesError {
        path: dir.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    if dir.is_file() {
        files.push(dir.to_path_buf());
    } else {
        walk(dir, "cedar", &mut files).map_err(err)?;
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = crate::input::read_to_string(&path).map_err(err)?;
            Ok(RuleSource {
                file: SourceFile::new(path.display().to_string(), text),
                origin: Origin::Custom,
            })
        })
        .collect()
}

/// Files below `dir` whose name ends with `.{ext}`.
///
/// Links are not followed out of the folder: a linked folder is not entered (so link loops
/// cannot make the walk endless), and a linked file is taken only when it resolves inside `dir`;
/// a link that leaves it is an error, never a silent skip and never read.
pub fn walk(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let root = dir.canonicalize()?;
    walk_in(&root, dir, ext, out)
}

fn walk_in(root: &Path, dir: &Path, ext: &str, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let suffix = format!(".{ext}");
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk_in(root, &path, ext, out)?;
        } else if path.to_string_lossy().ends_with(&suffix) {
            if kind.is_symlink() {
                let target = path.canonicalize()?;
                if !target.starts_with(root) || !target.is_file() {
                    return Err(std::io::Error::other(format!(
                        "`{}` is a link to something outside the folder or not a file; links are not followed out of a rules folder",
                        path.display()
                    )));
                }
            }
            out.push(path);
        }
    }
    Ok(())
}

/// The name of a rule file without its folder and `.cedar` extension (empty when it has no such
/// extension): a rule's `@id` must equal it, and a rule without a usable `@id` is keyed by it.
pub(super) fn file_stem(name: &str) -> &str {
    Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".cedar"))
        .unwrap_or("")
}
