//! `corsair explain MESSAGE`: a browser's CORS console message turned into
//! the check that failed, its causes and the fix.
//!
//! - [`parse`]: which browser printed it, which check failed (Chromium's error
//!   names, [`names`]), the URL, the origin, the failed parameter;
//! - [`advice`]: what each error means, every candidate cause when the text
//!   fits several, what to look at next, and the fix;
//! - with `--policy FILE`, the request the message describes (its method and
//!   headers come from `--method` and `--header`, which the message does not
//!   name) runs through the config with the engine, as `check --policy` does:
//!   the real rejection ([`corsair::Rejection::code`]), the policy and the key
//!   to change; with `--probe`, the live URL is asked, as `check` does (safe
//!   requests only).
//!
//! Exit status: 0 when the message was understood, 2 when it was not (or on an
//! error of use: an unreadable `--policy`, a URL the message does not name).
//!
//! # `--format json`
//!
//! ```text
//! {
//!   "understood": true,
//!   "browser": "chromium" | "firefox" | "safari",
//!   "error": string | null,            Chromium's CorsError name in snake_case, e.g.
//!                                      "preflight_missing_allow_origin_header"; null when
//!                                      the text fits several (see candidates)
//!   "candidates": [string],            every name the text can stand for
//!   "firefox_reason": string | null,   e.g. "CORSMissingAllowOrigin"
//!   "preflight": boolean | null,       whether the message is about the preflight
//!   "initiator": string | null,        "fetch", "XMLHttpRequest", …
//!   "url": string | null, "initial_url": string | null, "origin": string | null,
//!   "hint": string | null,             the failed parameter (a method, a header, a value)
//!   "status": number | null,           Firefox's and Safari's "Status code"
//!   "request": { "method": string | null, "headers": [string], "credentials": boolean,
//!                "assumed": [string] },  what was inferred rather than given
//!   "check": string, "explanation": string, "causes": [string], "next": [string],
//!   "fix": string,                     with --policy or --probe: the fix of what they found
//!   "mode": "message" | "policy" | "probe",
//!   "policy": string | null,           --policy: the policy that covers the URL (null: none does)
//!   "rejection": string | null,        --policy: Rejection::code(), or null when the policy
//!                                      accepted the request (then the browser's own rule
//!                                      refused it, or the request was allowed)
//!   "rejection_detail": string | null,
//!   "refused_by": "policy" | "browser" | null,
//!   "simulated_error": string | null,  the Chromium name of the failure the engine reaches
//!   "consistent": boolean | null,      whether that is the message's error (or a candidate)
//!   "cause": Cause | null              a preflight refused without CORS headers: every refused
//!                                      part (the Cause of `corsair check`'s JSON)
//! }
//! ```
//!
//! When the message is not understood (exit status 2):
//! `{ "understood": false, "error": null, "reason": string }`.

mod advice;
pub(crate) mod names;
mod parse;
mod run;

use std::io::Read as _;
use std::process::ExitCode;

use serde::Serialize;

use crate::{ExplainArgs, Format};

/// What `--format json` prints when the message is not understood.
#[derive(Debug, Serialize)]
struct NotUnderstood<'a> {
    understood: bool,
    error: Option<&'a str>,
    reason: &'a str,
}

/// Runs `corsair explain`.
pub fn run(args: ExplainArgs) -> ExitCode {
    let message = match &args.message {
        Some(m) if m != "-" => m.clone(),
        _ => {
            let mut text = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut text) {
                return fail(
                    args.format,
                    &format!("cannot read the message from standard input: {e}"),
                );
            }
            text
        }
    };
    match run::explain(&message, &args) {
        Ok(explained) => {
            match args.format {
                Format::Text => out!("{}", explained.text()),
                Format::Json => outln!("{}", crate::report::to_json(&explained)),
            }
            ExitCode::SUCCESS
        }
        Err(reason) => fail(args.format, &reason),
    }
}

fn fail(format: Format, reason: &str) -> ExitCode {
    match format {
        Format::Text => eprintln!("corsair explain: {reason}"),
        Format::Json => outln!(
            "{}",
            crate::report::to_json(&NotUnderstood {
                understood: false,
                error: None,
                reason,
            })
        ),
    }
    ExitCode::from(2)
}
