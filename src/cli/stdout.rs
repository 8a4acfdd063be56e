//! Writing to stdout without panicking.
//!
//! `print!` panics when stdout fails: `trustcheck check | head` closes the pipe early, and a full
//! disk or `/dev/full` refuses the write. A closed pipe means the reader has what it wanted: the
//! rest of the output is dropped quietly and the run ends with its own exit code, as other
//! command-line tools do. Any other failure is remembered and turns the run into an error
//! (exit 2, see [`failure`]): a report that was not written must not look as if it was.
//!
//! Commands print with `out!` and `outln!` (declared here, `#[macro_use]` in `cli`), never `print!`.

use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Set once the reader has gone or a write failed: later writes are skipped.
static STOPPED: AtomicBool = AtomicBool::new(false);
/// The first write failure that was not a closed pipe.
static FAILURE: Mutex<Option<std::io::Error>> = Mutex::new(None);

/// stdout could not be written (not a closed pipe).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("cannot write to stdout: {0}")]
#[diagnostic(
    code(trustcheck::stdout),
    help("write the report to a file instead (`--output FILE` or `--report FORMAT=FILE`)")
)]
pub struct StdoutError(std::io::Error);

/// Writes `text` to stdout and flushes it.
pub fn print(text: &str) {
    with(|w| w.write_all(text.as_bytes()));
}

/// Streams into stdout with `fill` (buffered), then flushes.
pub fn with(fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    if STOPPED.load(Ordering::Relaxed) {
        return;
    }
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let result = fill(&mut w).and_then(|()| w.flush());
    // Flushed above, or abandoned here without retrying (a closed pipe stays closed).
    drop(w.into_parts());
    if let Err(e) = result {
        STOPPED.store(true, Ordering::Relaxed);
        if e.kind() != ErrorKind::BrokenPipe {
            if let Ok(mut failure) = FAILURE.lock() {
                failure.get_or_insert(e);
            }
        }
    }
}

/// The first failed write to stdout that was not a closed pipe, if any.
pub fn failure() -> Option<StdoutError> {
    FAILURE.lock().ok()?.take().map(StdoutError)
}

/// `print!` that never panics (see the module documentation).
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::stdout::print(&format!($($arg)*))
    };
}

/// `println!` that never panics (see the module documentation).
macro_rules! outln {
    () => {
        $crate::cli::stdout::print("\n")
    };
    ($($arg:tt)*) => {
        $crate::cli::stdout::print(&format!("{}\n", format_args!($($arg)*)))
    };
}
