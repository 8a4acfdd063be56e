//! Writing output files whole or not at all.
//!
//! A report or snapshot is written to a temporary file in the same folder and renamed into place,
//! so a failure (or a crash) never leaves a half-written file where a previous good one was.

use std::io::Write;
use std::path::Path;

/// An output file could not be written.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot write `{path}`: {source}")]
#[diagnostic(help("check that the folder exists and is writable"))]
pub struct WriteError {
    /// The destination.
    pub path: String,
    /// Why.
    pub source: std::io::Error,
}

/// Writes `contents` to `path` atomically (temp file in the same folder, then rename).
pub fn write(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    write_with(path, |f| f.write_all(contents))
}

/// Streams into a temp file beside `path` with `fill`, then renames it into place. If `fill`
/// fails, the temp file is removed and `path` is left as it was.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let err = |source| WriteError {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".trustcheck-").suffix(".tmp");
    // A temp file is private (0600) by default; a report or snapshot should get the usual
    // permissions (0644 less the umask), like any file the user writes.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(err)?;
    fill(tmp.as_file_mut()).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_leaves_no_temp_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.json");
        write(&path, b"one").unwrap();
        write(&path, b"two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn files_are_readable_like_any_other_output() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.sarif");
        write(&path, b"{}").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o600, 0o600);
        assert_ne!(
            mode & 0o044,
            0,
            "group/other may read it (umask permitting): {mode:o}"
        );
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write(&dir.path().join("no/such/out.json"), b"x").is_err());
    }
}
