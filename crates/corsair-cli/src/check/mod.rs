//! `corsair check`: would a browser allow this cross-origin request, and if
//! not, why, and what must change?
//!
//! It does what a browser does, with the engine in [`corsair::agent`]
//! deciding every step: it sends the preflight when a browser would (and
//! stops when the preflight fails, so it never sends a request a browser
//! would not send), then the actual request (following redirects as a
//! CORS-mode fetch does), then runs the CORS check and the exposed-header
//! filter. It is safe by default: an actual request whose method is not GET
//! or HEAD is sent only with `--send` (without it, the verdict is the
//! preflight's, and the report says what the actual response would need).
//! With `--policy FILE` the same steps run offline: the responses come from
//! the config file's policies (the server-side engine) instead of the
//! network. With `--har FILE`, every cross-origin request of a DevTools
//! export is decided from what was recorded.
//!
//! With `--mode no-cors` or `--mode navigate` (a `fetch(…, {mode: "no-cors"})`, a
//! `<form method=post>`), the page never reads the answer: the question is whether the
//! request reaches the service or is refused by cross-origin protection ([`delivery`]).
//!
//! - [`arguments`]: the command line turned into the engine's request;
//! - [`responders`]: where responses come from (the network, or `--policy`);
//! - [`simulation`]: the browser's algorithm, step by step;
//! - [`cause`]: which part of a refused preflight the server refuses;
//! - [`protection`]: what a corsair gateway's cross-origin protection says about an
//!   unsafe request (the `Sec-Fetch-*` headers a browser adds, the policy's decision);
//! - [`delivery`]: `--mode no-cors|navigate`;
//! - [`har`]: the requests of a HAR export;
//! - [`websocket`]: a WebSocket from the origin (`ws://`, `wss://` or
//!   `--websocket`): the server's Origin check, which CORS does not make;
//! - [`report`]: the typed JSON report (its schema is documented there) and the text.
//!
//! Exit status: 0 allowed, 1 blocked, 2 error (bad arguments, unreachable URL); for
//! `--mode no-cors|navigate`: 0 delivered, 1 refused, 2 error or not decided.

pub(crate) mod arguments;
mod cause;
pub(crate) use cause::{Cause, Item, Part};
mod delivery;
mod har;
pub(crate) mod protection;
pub(crate) mod report;
pub(crate) mod responders;
pub(crate) mod simulation;
mod websocket;

use std::process::ExitCode;

use self::arguments::{build_request, RequestSpec};
use self::report::{ErrorJson, Report};
use self::responders::{NetResponder, PolicyResponder};
use self::simulation::{simulate, Sending};
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
    if let Some(har) = &args.har {
        return har::run(har, args.format);
    }
    if args.websocket || args.url.as_deref().is_some_and(crate::wsprobe::is_ws_url) {
        return websocket::run(&args);
    }
    if args.mode != crate::RequestMode::Cors {
        return delivery::run(&args);
    }
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
    let (Some(url), Some(origin)) = (&args.url, &args.origin) else {
        return Err(CheckError::new("usage", "give the URL and --origin (or --har FILE)"));
    };
    let req = build_request(&RequestSpec {
        origin,
        url,
        method: &args.method,
        headers: &args.headers,
        credentials: args.credentials,
        body_type: args.body_type.as_deref(),
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CheckError::new("runtime", format!("cannot start the async runtime: {e}")))?;
    match &args.policy {
        Some(path) => {
            // Nothing is sent: the config file answers every request.
            let responder = PolicyResponder::load(path)?;
            runtime.block_on(simulate(responder, req, Sending::All))
        }
        None => {
            let client = Client::new().map_err(|e| CheckError::new("client", e.to_string()))?;
            let sending = if args.send { Sending::All } else { Sending::SafeOnly };
            runtime.block_on(simulate(NetResponder { client }, req, sending))
        }
    }
}
