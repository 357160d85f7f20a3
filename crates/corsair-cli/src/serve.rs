//! `corsair serve` (in progress).
use std::process::ExitCode;

pub fn run(_args: crate::ServeArgs) -> ExitCode {
    eprintln!("corsair serve: not available in this build");
    ExitCode::from(2)
}
