//! `corsair check` (in progress).
use std::process::ExitCode;

pub fn run(_args: crate::CheckArgs) -> ExitCode {
    eprintln!("corsair check: not available in this build");
    ExitCode::from(2)
}
