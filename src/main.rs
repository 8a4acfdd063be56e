//! The `trustcheck` command line. Renders library errors with miette and maps verdicts to exit
//! codes: 0 clean, 1 failures at or above `--fail-on`, 2 the run is not trustworthy.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
