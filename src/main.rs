//! The `trustcheck` command line. Renders library errors with miette and maps verdicts to exit
//! codes: 0 clean, 1 failures at or above `--fail-on`, 2 the run is not trustworthy.

mod cli;

// Judging 100k resources allocates millions of small Cedar values; mimalloc measured faster than
// the system allocator on that workload (docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::run()
}
