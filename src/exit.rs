//! The process exit status, typed: every command returns one of these, never a bare number.

/// How a run ended, as the exit code tells CI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum ExitStatus {
    /// `0`: nothing failed (at or above `--fail-on`), and everything could be judged.
    Success = 0,
    /// `1`: something failed: a finding at or above `--fail-on`, a rule test case.
    Failure = 1,
    /// `2`: the run is not trustworthy: bad usage or input, a rule or snapshot error, a fact that
    /// could not be collected or judged.
    Untrustworthy = 2,
}

impl ExitStatus {
    /// The exit code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status.code())
    }
}
