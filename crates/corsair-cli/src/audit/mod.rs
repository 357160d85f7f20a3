//! `corsair audit URL [--origin TRUSTED]... [--format text|json]`: probe a live endpoint for
//! dangerous CORS configurations.
//!
//! - [`origin`]: the target's and the trusted origins (on the `url` crate);
//! - [`probes`]: which origins and requests are sent ([`send`] sends them);
//! - [`analysis`]: what each response shows (`analysis::response`), and the findings that
//!   follow;
//! - [`findings`]: the finding ids, the severity rule and noise control;
//! - [`explanation`]: the text and fix of each finding;
//! - [`report`]: the typed JSON report (its schema is documented there) and the text.
//!
//! Trusted origins come from `--origin` (default: the target URL's own origin). Redirects
//! are not followed (a note says so). Only `GET` and `OPTIONS` requests are sent; one `GET`
//! goes over a connection of its own ([`raw`]), because its `Origin` holds a carriage
//! return that the HTTP client cannot send. With `--unsafe-probes` (opt in), three form
//! POSTs too: does the endpoint accept a cross-site unsafe request (CSRF)?
//!
//! Exit status: 1 when any finding is high, 0 otherwise, 2 on an error (bad URL or
//! `--origin`, target unreachable, every probe failed), with `{"url", "error"}` on stdout
//! for JSON.

mod analysis;
mod explanation;
mod findings;
mod origin;
mod probes;
mod raw;
mod report;
mod send;

use std::process::ExitCode;

use self::analysis::{analyze, baseline_notes, post_notes, Observed};
use self::findings::Severity;
use self::origin::Origin;
use self::probes::{derive_probes, unsafe_probes};
use self::report::{ErrorReport, Report};
use crate::client::{self, Client};
use crate::{AuditArgs, Format};

/// The command entry point.
pub fn run(args: AuditArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&args, &format!("could not start the async runtime: {e}")),
    };
    match runtime.block_on(audit(&args)) {
        Ok(report) => {
            match args.format {
                Format::Text => out!("{}", report.text()),
                Format::Json => outln!("{}", crate::report::to_json(&report)),
            }
            if report.findings.iter().any(|f| f.severity == Severity::High) {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => fail(&args, &message),
    }
}

fn fail(args: &AuditArgs, message: &str) -> ExitCode {
    eprintln!("corsair audit: error: {message}");
    if args.format == Format::Json {
        let report = ErrorReport {
            url: &args.url,
            error: message,
        };
        outln!("{}", crate::report::to_json(&report));
    }
    ExitCode::from(2)
}

async fn audit(args: &AuditArgs) -> Result<Report, String> {
    let target_url = client::parse_url(&args.url).map_err(|e| e.to_string())?;
    let target = Origin::of_url(&target_url).map_err(|e| format!("invalid URL `{}`: {e}", args.url))?;
    let mut trusted: Vec<Origin> = Vec::new();
    for text in &args.origins {
        let o = Origin::parse(text)?;
        if !trusted.contains(&o) {
            trusted.push(o);
        }
    }
    if trusted.is_empty() {
        trusted.push(target.clone());
    }
    let url = args.url.trim().to_owned();
    let mut probes = derive_probes(&trusted);
    if args.unsafe_probes {
        probes.extend(unsafe_probes(&target));
    }
    let client = Client::new()
        .map_err(|e| e.to_string())?
        .with_timeout(send::REQUEST_TIMEOUT)
        .with_max_body(send::BODY_LIMIT);

    let outcomes = send::send_all(&client, &url, &probes).await?;
    let mut results: Vec<Option<Observed>> = Vec::with_capacity(probes.len());
    let mut errors = Vec::new();
    for (probe, outcome) in probes.iter().zip(outcomes) {
        match outcome {
            Ok(observed) => results.push(Some(observed)),
            Err(e) => {
                errors.push((probe, e));
                results.push(None);
            }
        }
    }
    let mut notes = baseline_notes(&probes, &results);
    notes.extend(post_notes(&probes, &results));
    // Browsers send Sec-Fetch-Site only to potentially trustworthy URLs.
    let trustworthy = corsair::agent::sec_fetch_site(&target.serialize(), &url).is_some();
    let findings = analyze(&target, trustworthy, &probes, &results);
    Ok(Report::new(url, &target, &trusted, &probes, findings, errors, notes))
}
