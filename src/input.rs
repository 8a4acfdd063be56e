//! Reading input files (snapshots, rules, schemas, configuration, exceptions, baselines) with a
//! size bound, so `/dev/zero`, a FIFO fed forever or a runaway file cannot exhaust memory.
//!
//! The bound is [`DEFAULT_MAX_BYTES`] unless `TRUSTCHECK_MAX_INPUT_BYTES` says otherwise; a file
//! larger than that is an error that names the bound and how to raise it, never a partial read.

use std::io::Read;
use std::path::Path;

/// 1 GiB: a 300,000-resource snapshot is a few hundred MB.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// The environment variable that overrides [`DEFAULT_MAX_BYTES`].
pub const MAX_BYTES_VAR: &str = "TRUSTCHECK_MAX_INPUT_BYTES";

/// The bound in effect.
pub fn max_bytes() -> u64 {
    std::env::var(MAX_BYTES_VAR)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_MAX_BYTES)
}

/// Reads a UTF-8 file whole, refusing more than [`max_bytes`].
pub fn read_to_string(path: &Path) -> std::io::Result<String> {
    let limit = max_bytes();
    let file = std::fs::File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(std::io::Error::other("it is a folder, not a file"));
    }
    // Sized from the file's length up front: growing a buffer of tens of MB by doubling copies it
    // several times over (the length is a hint; a file that grows meanwhile still reads whole).
    let hint = file.metadata()?.len().min(limit);
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0).saturating_add(1));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(format!(
            "larger than the input limit of {limit} bytes (raise it with {MAX_BYTES_VAR})"
        )));
    }
    String::from_utf8(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_and_text_that_is_not_utf8_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            read_to_string(dir.path()).is_err(),
            "a folder is not a file"
        );
        let f = dir.path().join("x.json");
        std::fs::write(&f, "{}").unwrap();
        assert_eq!(read_to_string(&f).unwrap(), "{}");
        std::fs::write(&f, [0xff, 0xfe]).unwrap();
        assert!(read_to_string(&f).is_err(), "not UTF-8");
    }
}
