//! `corsair audit` (in progress).
use std::process::ExitCode;

pub fn run(_args: crate::AuditArgs) -> ExitCode {
    eprintln!("corsair audit: not available in this build");
    ExitCode::from(2)
}
