//! `corsair check --har FILE`: every cross-origin request of a DevTools HAR
//! export, decided by the engine ([`corsair::agent`]) from the recorded
//! request and response, offline.
//!
//! What a HAR holds, and what it does not (Chrome's `Log.ts`, Firefox's
//! `har-builder.js`): no CORS error is exported, so the verdict is derived
//! again from the recorded headers. A Chrome preflight is an entry of its own
//! (`_resourceType: "preflight"`, an `OPTIONS` with
//! `Access-Control-Request-Method`), paired here with the request it precedes
//! (same URL and origin, the method it asks for). Its
//! `Access-Control-Request-Headers` is the exact list of the script's
//! CORS-unsafe headers; without a preflight, the headers the browser adds by
//! itself (`User-Agent`, `Priority`, `Cache-Control` when the cache is off…)
//! cannot be told from the script's, so only the method decides whether one was
//! needed. The credentials mode is not recorded: a request with a `Cookie`
//! header is taken as credentialed, and a request the browser failed
//! (`_error`) that passes without credentials is tried with them.
//!
//! Exit status: 0 when no request is blocked, 1 when one is, 2 when the file
//! cannot be read or is not a HAR.
//!
//! # `--format json`
//!
//! ```text
//! {
//!   "file": string,
//!   "entries": number,                 entries in the HAR
//!   "requests": [{
//!     "entry": number,                 the index of the request in `log.entries`
//!     "method": string, "url": string, "origin": string,
//!     "credentials": "include" | "same-origin",
//!     "preflight": { "entry": number, "status": number } | null,
//!     "verdict": "allowed" | "blocked" | "undecided",
//!     "failure": { "kind": string, "step": string, "explanation": string, "fix": string } | null,
//!     "chromium_error": string | null, the name Chromium gives the failure
//!     "notes": [string]
//!   }],
//!   "summary": { "allowed": number, "blocked": number, "undecided": number },
//!   "notes": [string]
//! }
//! ```

use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use corsair::agent::{check_preflight, cors_check, follow_redirect, CredentialsMode, Failure, FailureKind, Request};
use http::header::HeaderMap;
use serde::Serialize;

use self::model::{header, is_preflight, map_of, origin_of, Entry, Har};

use crate::explain::names::chromium_name;
use crate::Format;

mod model;

/// One decided request.
#[derive(Debug, Serialize)]
struct Decided {
    entry: usize,
    method: String,
    url: String,
    origin: String,
    credentials: &'static str,
    preflight: Option<PreflightJson>,
    verdict: &'static str,
    failure: Option<FailureJson>,
    chromium_error: Option<String>,
    notes: Vec<String>,
}

#[derive(Debug, Serialize)]
struct PreflightJson {
    entry: usize,
    status: i64,
}

#[derive(Debug, Serialize)]
struct FailureJson {
    kind: &'static str,
    step: String,
    explanation: String,
    fix: String,
}

#[derive(Debug, Serialize)]
struct Summary {
    allowed: usize,
    blocked: usize,
    undecided: usize,
}

#[derive(Debug, Serialize)]
struct Report {
    file: String,
    entries: usize,
    requests: Vec<Decided>,
    summary: Summary,
    notes: Vec<String>,
}

/// Runs `corsair check --har FILE`.
pub(crate) fn run(path: &Path, format: Format) -> ExitCode {
    let report = match read(path) {
        Ok(r) => r,
        Err(m) => {
            eprintln!("corsair check: {m}");
            if format == Format::Json {
                outln!(
                    "{}",
                    crate::report::to_json(&serde_json::json!({ "file": path.display().to_string(), "error": m }))
                );
            }
            return ExitCode::from(2);
        }
    };
    match format {
        Format::Json => outln!("{}", crate::report::to_json(&report)),
        Format::Text => out!("{}", text(&report)),
    }
    if report.summary.blocked > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn read(path: &Path) -> Result<Report, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let har: Har = serde_json::from_slice(&bytes).map_err(|e| format!("{} is not a HAR file: {e}", path.display()))?;
    let entries = &har.log.entries;
    let page_url = |e: &Entry| {
        let id = e.pageref.as_deref()?;
        har.log.pages.iter().find(|p| p.id == id).map(|p| p.title.as_str())
    };
    let mut requests = Vec::new();
    let mut any_cookie = false;
    for (i, e) in entries.iter().enumerate() {
        if is_preflight(e) {
            continue;
        }
        let Some(url_origin) = origin_of(&e.request.url) else {
            continue; // data:, blob:, chrome-extension:…
        };
        let origin = match header(&e.request.headers, "origin") {
            Some(o) => o.to_owned(),
            None => match page_url(e).and_then(origin_of) {
                Some(o) => o,
                None => continue,
            },
        };
        if origin == url_origin {
            continue;
        }
        any_cookie |= header(&e.request.headers, "cookie").is_some();
        requests.push(decide(i, e, &origin, entries));
    }
    let count = |v: &str| requests.iter().filter(|r| r.verdict == v).count();
    let summary = Summary {
        allowed: count("allowed"),
        blocked: count("blocked"),
        undecided: count("undecided"),
    };
    let mut notes = Vec::new();
    if !requests.is_empty() && !any_cookie {
        notes.push(
            "no request carries a Cookie header: a HAR does not record the credentials mode, and a sanitized export \
             drops Cookie and Authorization, so credentials are assumed only where the verdict needs them"
                .to_owned(),
        );
    }
    if requests.is_empty() {
        notes.push("no cross-origin request in this HAR".to_owned());
    }
    Ok(Report {
        file: path.display().to_string(),
        entries: entries.len(),
        requests,
        summary,
        notes,
    })
}

/// The preflight entry before `i` for this request: same URL and origin, asking for
/// its method; the latest one.
fn paired_preflight<'e>(entries: &'e [Entry], i: usize, e: &Entry, origin: &str) -> Option<(usize, &'e Entry)> {
    entries[..i].iter().enumerate().rev().find(|(_, p)| {
        is_preflight(p)
            && p.request.url == e.request.url
            && header(&p.request.headers, "origin").is_none_or(|o| o == origin)
            && header(&p.request.headers, "access-control-request-method") == Some(e.request.method.as_str())
    })
}

fn decide(i: usize, e: &Entry, origin: &str, entries: &[Entry]) -> Decided {
    let mut notes = Vec::new();
    let cookie = header(&e.request.headers, "cookie").is_some();
    let preflight = paired_preflight(entries, i, e, origin);
    // The script's unsafe headers: the preflight names them; their values are the
    // recorded ones.
    let mut headers: Vec<(String, String)> = Vec::new();
    if let Some((_, p)) = preflight {
        for name in header(&p.request.headers, "access-control-request-headers")
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let value = header(&e.request.headers, name).unwrap_or(if name.eq_ignore_ascii_case("content-type") {
                "application/octet-stream"
            } else {
                "1"
            });
            headers.push((name.to_owned(), value.to_owned()));
        }
    } else if let Some(ct) = header(&e.request.headers, "content-type") {
        headers.push(("content-type".to_owned(), ct.to_owned()));
    }
    let build = |creds: CredentialsMode, with_headers: bool| {
        let mut b = Request::builder(origin, e.request.url.as_str())
            .method(e.request.method.as_str())
            .credentials(creds);
        if with_headers {
            for (n, v) in &headers {
                b = b.header(n.clone(), v.clone());
            }
        }
        b.build()
    };
    let first = if cookie {
        CredentialsMode::Include
    } else {
        CredentialsMode::SameOrigin
    };
    let mut req = match build(first, true).or_else(|_| build(first, false)) {
        Ok(r) => r,
        Err(err) => {
            notes.push(format!("the engine refuses the recorded request: {err}"));
            return undecided(i, e, origin, first, preflight, notes);
        }
    };
    let mut outcome = verdict(&req, e, preflight, &mut notes);
    // A request the browser failed that passes without credentials: with them?
    let failed_in_browser = e.response.error.is_some() || e.response.status == 0;
    if !cookie && failed_in_browser && matches!(outcome, Outcome::Allowed) {
        if let Ok(with) = build(CredentialsMode::Include, true) {
            let mut more = Vec::new();
            let again = verdict(&with, e, preflight, &mut more);
            if matches!(again, Outcome::Blocked(..)) {
                notes.push(
                    "the browser failed this request and it passes only without credentials: it was probably sent \
                     with credentials (credentials: 'include'), which the HAR does not record"
                        .to_owned(),
                );
                req = with;
                outcome = again;
            }
        }
    }
    let credentials = req.credentials().as_str();
    let (verdict, failure, chromium_error) = match outcome {
        Outcome::Allowed => ("allowed", None, None),
        Outcome::Undecided => ("undecided", None, None),
        Outcome::Blocked(f, failed_headers) => {
            if f.kind == FailureKind::MissingAllowOrigin && f.step.starts_with("preflight-") {
                let mut cmd = format!(
                    "corsair check '{}' --origin '{origin}' --method {}",
                    e.request.url, e.request.method
                );
                for (n, _) in &headers {
                    let _ = write!(cmd, " -H '{n}: …'");
                }
                notes.push(format!(
                    "a preflight refused without CORS headers reads the same whether the origin, the method or a \
                     header was refused; `{cmd}` asks the server about each (safe requests only)"
                ));
            }
            let name = chromium_name(&f, &failed_headers);
            (
                "blocked",
                Some(FailureJson {
                    kind: f.kind.code(),
                    step: f.step,
                    explanation: f.explanation,
                    fix: f.fix,
                }),
                name,
            )
        }
    };
    Decided {
        entry: i,
        method: e.request.method.clone(),
        url: e.request.url.clone(),
        origin: origin.to_owned(),
        credentials,
        preflight: preflight.map(|(j, p)| PreflightJson {
            entry: j,
            status: p.response.status,
        }),
        verdict,
        failure,
        chromium_error,
        notes,
    }
}

fn undecided(
    i: usize,
    e: &Entry,
    origin: &str,
    creds: CredentialsMode,
    preflight: Option<(usize, &Entry)>,
    notes: Vec<String>,
) -> Decided {
    Decided {
        entry: i,
        method: e.request.method.clone(),
        url: e.request.url.clone(),
        origin: origin.to_owned(),
        credentials: creds.as_str(),
        preflight: preflight.map(|(j, p)| PreflightJson {
            entry: j,
            status: p.response.status,
        }),
        verdict: "undecided",
        failure: None,
        chromium_error: None,
        notes,
    }
}

enum Outcome {
    Allowed,
    /// The failure and the headers of the response that failed.
    Blocked(Failure, HeaderMap),
    Undecided,
}

/// The engine's verdict on the recorded exchange(s) of `req`.
fn verdict(req: &Request, e: &Entry, preflight: Option<(usize, &Entry)>, notes: &mut Vec<String>) -> Outcome {
    let got_response = e.response.status > 0;
    if req.needs_preflight() {
        match preflight {
            Some((_, p)) if p.response.status > 0 => {
                let headers = map_of(&p.response.headers);
                let status = u16::try_from(p.response.status).unwrap_or(0);
                if let Err(f) = check_preflight(req, status, &headers) {
                    return Outcome::Blocked(f, headers);
                }
            }
            Some((_, p)) => {
                notes.push(format!(
                    "the preflight got no response ({})",
                    p.response.error.as_deref().unwrap_or("no status recorded")
                ));
                return Outcome::Undecided;
            }
            None if got_response => notes.push(
                "no preflight in the HAR, but the request was sent: the preflight was answered from the browser's \
                 cache, or hidden by DevTools"
                    .to_owned(),
            ),
            None => {
                notes.push(format!(
                    "needs a preflight, and neither it nor a response is in the HAR: blocked before it was sent \
                     (a preflight failure DevTools did not export, Local Network Access, or a network error: {})",
                    e.response.error.as_deref().unwrap_or("no error recorded")
                ));
                return Outcome::Undecided;
            }
        }
    }
    if !got_response {
        notes.push(format!(
            "no response recorded ({})",
            e.response.error.as_deref().unwrap_or("status 0")
        ));
        return Outcome::Undecided;
    }
    let headers = map_of(&e.response.headers);
    let status = u16::try_from(e.response.status).unwrap_or(0);
    // The CORS check runs on a redirect too (the next hop is an entry of its own).
    let checked = if (300..400).contains(&status) && headers.contains_key(http::header::LOCATION) {
        follow_redirect(req, 0, status, &headers).map(|_| ())
    } else {
        cors_check(req, &headers)
    };
    match checked {
        Ok(()) => Outcome::Allowed,
        Err(f) => Outcome::Blocked(f, headers),
    }
}

fn text(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "corsair check --har {}: {} entries, {} cross-origin request{}\n",
        r.file,
        r.entries,
        r.requests.len(),
        if r.requests.len() == 1 { "" } else { "s" }
    );
    for d in &r.requests {
        let mark = match d.verdict {
            "allowed" => "ok     ",
            "blocked" => "BLOCKED",
            _ => "?      ",
        };
        let _ = writeln!(s, "[{mark}] #{} {} {} from {}", d.entry, d.method, d.url, d.origin);
        if let Some(p) = &d.preflight {
            let _ = writeln!(s, "          preflight: #{} ({})", p.entry, p.status);
        }
        if let Some(f) = &d.failure {
            let name = d
                .chromium_error
                .as_deref()
                .map(|n| format!(" (Chromium: {n})"))
                .unwrap_or_default();
            let _ = writeln!(s, "          {}{name}", f.explanation);
            let _ = writeln!(s, "          fix: {}", f.fix);
        }
        for n in &d.notes {
            let _ = writeln!(s, "          note: {n}");
        }
    }
    for n in &r.notes {
        let _ = writeln!(s, "\nnote: {n}");
    }
    let _ = writeln!(
        s,
        "\nsummary: {} allowed, {} blocked, {} undecided",
        r.summary.allowed, r.summary.blocked, r.summary.undecided
    );
    s
}
