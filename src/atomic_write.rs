//! Writing output files whole or not at all, never over an input or a non-file.
//!
//! A report or snapshot is written to a temporary file in the same folder and renamed into place,
//! so a failure (or a crash) never leaves a half-written file where a previous good one was. A
//! replaced file keeps its permissions. Temporary files still being written are removed when the
//! run is interrupted ([`remove_pending`], called from the Ctrl-C handler).
//!
//! [`check_outputs`] refuses, before any work, output paths that would replace an input (a
//! snapshot is evidence), that two reports share, or that are not regular files (a FIFO or a
//! device node replaced by a regular file, as root, breaks whatever used it).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files being written now, removed on interrupt.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

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

/// An output path that must not be written.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum OutputPathError {
    /// The output would replace an input of the same run.
    #[error("`{output}` is also an input of this run (`{input}`): writing it would replace it")]
    #[diagnostic(
        code(trustcheck::output::input),
        help("write the output to another file; inputs such as snapshots are evidence and are never overwritten")
    )]
    IsInput {
        /// The output path as given.
        output: String,
        /// The input path as given.
        input: String,
    },
    /// Two outputs of one run name the same file: the last would silently win.
    #[error("`{second}` is written twice in one run (also as `{first}`)")]
    #[diagnostic(code(trustcheck::output::twice), help("give each report its own file"))]
    Twice {
        /// The first path as given.
        first: String,
        /// The second path as given.
        second: String,
    },
    /// Something other than a regular file is at the path.
    #[error("`{path}` is not a regular file ({kind}): refusing to replace it")]
    #[diagnostic(
        code(trustcheck::output::not_a_file),
        help("write to a regular file path; to stream a report, send it to stdout")
    )]
    NotAFile {
        /// The path as given.
        path: String,
        /// What is there.
        kind: &'static str,
    },
}

/// What is at `path` when it is not a regular file (following links), if anything.
fn not_a_file(path: &Path) -> Option<&'static str> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_file() {
        return None;
    }
    if meta.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return Some("a FIFO");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// A key that is equal for two paths naming the same file: device and inode when the file
/// exists, else the canonical folder joined with the file name.
fn identity(path: &Path) -> Option<Identity> {
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::MetadataExt;
        return Some(Identity::Inode(meta.dev(), meta.ino()));
    }
    if let Ok(full) = path.canonicalize() {
        return Some(Identity::Path(full));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(Identity::Path(
        dir.canonicalize().ok()?.join(path.file_name()?),
    ))
}

#[derive(Debug, PartialEq, Eq)]
enum Identity {
    #[cfg(unix)]
    Inode(u64, u64),
    Path(PathBuf),
}

/// Refuses `outputs` that replace one of `inputs`, repeat each other, or are not regular files.
pub fn check_outputs(outputs: &[&Path], inputs: &[&Path]) -> Result<(), OutputPathError> {
    let shown = |p: &Path| p.display().to_string();
    let inputs: Vec<(&Path, Option<Identity>)> = inputs.iter().map(|p| (*p, identity(p))).collect();
    let mut seen: Vec<(&Path, Option<Identity>)> = Vec::new();
    for &output in outputs {
        if let Some(kind) = not_a_file(output) {
            return Err(OutputPathError::NotAFile {
                path: shown(output),
                kind,
            });
        }
        let id = identity(output);
        if let Some((input, _)) = inputs.iter().find(|(_, i)| id.is_some() && *i == id) {
            return Err(OutputPathError::IsInput {
                output: shown(output),
                input: shown(input),
            });
        }
        if let Some((first, _)) = seen.iter().find(|(_, i)| id.is_some() && *i == id) {
            return Err(OutputPathError::Twice {
                first: shown(first),
                second: shown(output),
            });
        }
        seen.push((output, id));
    }
    Ok(())
}

/// Removes the temporary files of writes still in progress (on Ctrl-C or termination).
pub fn remove_pending() {
    remove_pending_where(|_| true);
}

/// Removes the temporary files of writes in progress that `select` picks.
fn remove_pending_where(select: impl Fn(&Path) -> bool) {
    if let Ok(pending) = PENDING.lock() {
        for path in pending.iter().filter(|p| select(p)) {
            let _ = std::fs::remove_file(path);
        }
    }
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
    if let Some(kind) = not_a_file(path) {
        return Err(err(std::io::Error::other(format!(
            "it is {kind}, not a regular file: refusing to replace it"
        ))));
    }
    let mut builder = tempfile::Builder::new();
    builder.prefix(".trustcheck-").suffix(".tmp");
    // A replaced file keeps its permissions. A new one gets the usual ones (0644 less the
    // umask), like any file the user writes, not a temp file's private 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map_or(0o644, |m| m.permissions().mode() & 0o7777);
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(err)?;
    let tmp_path = tmp.path().to_path_buf();
    if let Ok(mut pending) = PENDING.lock() {
        pending.push(tmp_path.clone());
    }
    let result = fill(tmp.as_file_mut())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(err)
        .and_then(|()| tmp.persist(path).map(drop).map_err(|e| err(e.error)));
    if let Ok(mut pending) = PENDING.lock() {
        pending.retain(|p| p != &tmp_path);
    }
    result
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

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.md");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        write(&path, b"new").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn fifos_devices_inputs_and_repeats_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            check_outputs(&[&fifo], &[]),
            Err(OutputPathError::NotAFile { kind: "a FIFO", .. })
        ));
        assert!(write(&fifo, b"x").is_err());
        assert!(matches!(
            check_outputs(&[Path::new("/dev/null")], &[]),
            Err(OutputPathError::NotAFile {
                kind: "a device",
                ..
            })
        ));
        let input = dir.path().join("snapshot.json");
        std::fs::write(&input, "{}").unwrap();
        let same = dir.path().join(".").join("snapshot.json");
        assert!(matches!(
            check_outputs(&[&same], &[&input]),
            Err(OutputPathError::IsInput { .. })
        ));
        let new = dir.path().join("new.md");
        let again = dir.path().join("./new.md");
        assert!(matches!(
            check_outputs(&[&new, &again], &[&input]),
            Err(OutputPathError::Twice { .. })
        ));
        let other = dir.path().join("other.md");
        check_outputs(&[&new, &other], &[&input]).unwrap();
    }

    #[test]
    fn an_interrupted_write_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        let result = write_with(&path, |f| {
            f.write_all(b"partial")?;
            // What the Ctrl-C handler does while a write is in progress (limited to this
            // test's folder: other tests write in parallel in this process).
            remove_pending_where(|p| p.starts_with(dir.path()));
            Err(std::io::Error::other("interrupted"))
        });
        assert!(result.is_err());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no temp file left"
        );
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write(&dir.path().join("no/such/out.json"), b"x").is_err());
    }
}
