//! `corsair check`: would a browser allow this cross-origin request, and if
//! not, why, and what must change?
//!
//! It does what a browser does, with the engine in [`corsair::agent`]
//! deciding every step: it sends the preflight when a browser would (and
//! stops when the preflight fails, so it never sends a request a browser
//! would not send), then the actual request (following redirects as a
//! CORS-mode fetch does), then runs the CORS check and the exposed-header
//! filter. With `--policy FILE` the same steps run offline: the responses
//! come from the config file's policies (the server-side engine) instead of
//! the network.
//!
//! - [`arguments`]: the command line turned into the engine's request;
//! - [`responders`]: where responses come from (the network, or `--policy`);
//! - [`simulation`]: the browser's algorithm, step by step;
//! - [`report`]: the typed JSON report (its schema is documented there) and the text.
//!
//! Exit status: 0 allowed, 1 blocked, 2 error (bad arguments, unreachable URL).

mod arguments;
mod report;
mod responders;
mod simulation;

use std::process::ExitCode;

use self::arguments::build_request;
use self::report::{ErrorJson, Report};
use self::responders::{NetResponder, PolicyResponder};
use self::simulation::simulate;
use crate::client::Client;
use crate::{CheckArgs, Format};

/// An error that ends `check` with exit status 2.
#[derive(Debug)]
pub(crate) struct CheckError {
    /// A stable code, e.g. `unreachable` or the engine's request-error code.
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl CheckError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        CheckError {
            code,
            message: message.into(),
        }
    }
}

/// Runs `corsair check`.
pub fn run(args: CheckArgs) -> ExitCode {
    let format = args.format;
    match run_inner(&args) {
        Ok(report) => {
            match format {
                Format::Text => out!("{}", report.text()),
                Format::Json => outln!("{}", crate::report::to_json(&report.json())),
            }
            if report.allowed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            match format {
                Format::Text => eprintln!("corsair check: {}", e.message),
                Format::Json => outln!("{}", crate::report::to_json(&ErrorJson::new(e.code, &e.message))),
            }
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &CheckArgs) -> Result<Report, CheckError> {
    let req = build_request(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CheckError::new("runtime", format!("cannot start the async runtime: {e}")))?;
    match &args.policy {
        Some(path) => {
            let responder = PolicyResponder::load(path)?;
            runtime.block_on(simulate(responder, req))
        }
        None => {
            let client = Client::new().map_err(|e| CheckError::new("client", e.to_string()))?;
            runtime.block_on(simulate(NetResponder { client }, req))
        }
    }
}
