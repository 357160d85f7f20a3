//! One explanation: the message read, the request it describes, the advice,
//! and what `--policy` or `--probe` found.

use std::fmt::Write as _;

use corsair::agent::cors_unsafe_request_header_names;
use serde::Serialize;

use super::advice::{advise, Advice, Context};
use super::names::chromium_name;
use super::parse::{parse, Browser, Parsed};
use crate::check::arguments::{build_request, parse_header_arg, RequestSpec};
use crate::check::report::Report;
use crate::check::responders::{NetResponder, PolicyResponder};
use crate::check::simulation::{simulate, Sending};
use crate::check::Cause;
use crate::client::Client;
use crate::ExplainArgs;

/// The request as given or inferred.
#[derive(Debug, Serialize)]
pub(crate) struct RequestJson {
    method: Option<String>,
    headers: Vec<String>,
    credentials: bool,
    /// What the message implied rather than the arguments gave.
    assumed: Vec<String>,
}

/// What mode the explanation ran in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    Message,
    Policy,
    Probe,
}

/// The explanation (`--format json` prints it; see the module documentation of
/// [`super`] for the shape).
#[derive(Debug, Serialize)]
pub(crate) struct Explained {
    understood: bool,
    browser: Browser,
    error: Option<String>,
    candidates: Vec<String>,
    firefox_reason: Option<&'static str>,
    preflight: Option<bool>,
    initiator: Option<String>,
    url: Option<String>,
    initial_url: Option<String>,
    origin: Option<String>,
    hint: Option<String>,
    status: Option<u16>,
    request: RequestJson,
    check: String,
    explanation: String,
    causes: Vec<String>,
    next: Vec<String>,
    fix: String,
    mode: Mode,
    policy: Option<String>,
    rejection: Option<String>,
    rejection_detail: Option<String>,
    refused_by: Option<&'static str>,
    simulated_error: Option<String>,
    consistent: Option<bool>,
    cause: Option<Cause>,
    /// What the run found, in sentences (the text output's last part).
    #[serde(skip)]
    findings: Vec<String>,
}

/// The advice for every candidate, merged: the checks joined, the causes and next
/// steps of all, the first one's fix.
fn merged(names: &[String], ctx: &Context) -> Advice {
    let all: Vec<Advice> = names.iter().map(|n| advise(n, ctx)).collect();
    let Some(first) = all.first().cloned() else {
        return advise("", ctx);
    };
    if all.len() == 1 {
        return first;
    }
    let mut a = first;
    a.check = format!(
        "one of: {}",
        all.iter().map(|x| x.check.as_str()).collect::<Vec<_>>().join("; or ")
    );
    a.explanation = format!(
        "The message does not say which of {} checks failed. {}",
        all.len(),
        a.explanation
    );
    for other in &all[1..] {
        for c in &other.causes {
            if !a.causes.contains(c) {
                a.causes.push(c.clone());
            }
        }
        for n in &other.next {
            if !a.next.contains(n) {
                a.next.push(n.clone());
            }
        }
    }
    a
}

/// The names of the errors that say the request was sent with credentials.
fn implies_credentials(name: &str) -> bool {
    name.ends_with("wildcard_origin_not_allowed") || name.ends_with("invalid_allow_credentials")
}

/// Explains `message` with what `args` add.
pub(crate) fn explain(message: &str, args: &ExplainArgs) -> Result<Explained, String> {
    let p: Parsed = parse(message).ok_or_else(|| {
        "not a CORS message this knows: paste the whole console line (Chromium's \"Access to fetch at ... has been \
         blocked by CORS policy: ...\", Firefox's \"Cross-Origin Request Blocked ...\" or its Reason identifier, \
         Safari's \"Origin ... is not allowed by ...\"); a line with only net::ERR_FAILED or \"Failed to fetch\" \
         does not say which check failed"
            .to_owned()
    })?;
    let origin = p.origin.clone().or_else(|| args.origin.clone());
    let mut assumed = Vec::new();
    // The request: the message names the method or a header when that is what failed.
    let mut method = args.method.clone();
    let error = p.error.clone().unwrap_or_default();
    let hint = p.hints.first().cloned();
    if error == "method_disallowed_by_preflight_response" {
        if let Some(m) = &hint {
            if method.as_deref() != Some(m.as_str()) {
                assumed.push(format!("the method `{m}` (named by the message)"));
                method = Some(m.clone());
            }
        }
    }
    let mut headers = args.headers.clone();
    if error == "header_disallowed_by_preflight_response" {
        if let Some(h) = &hint {
            let given = headers
                .iter()
                .filter_map(|raw| parse_header_arg(raw).ok())
                .any(|(n, _)| n.eq_ignore_ascii_case(h));
            if !given {
                let value = if h == "content-type" { "application/json" } else { "1" };
                assumed.push(format!("the header `{h}: {value}` (named by the message)"));
                headers.push(format!("{h}: {value}"));
            }
        }
    }
    let mut credentials = args.credentials;
    if !credentials && p.candidates.iter().all(|n| implies_credentials(n)) && !p.candidates.is_empty() {
        assumed.push("credentials (the message implies them)".to_owned());
        credentials = true;
    }
    let described = args.method.is_some() || !args.headers.is_empty() || args.body_type.is_some();
    let mut unsafe_names: Vec<(String, Vec<u8>)> = Vec::new();
    for raw in &headers {
        if let Ok((n, v)) = parse_header_arg(raw) {
            unsafe_names.push((n.to_ascii_lowercase(), v.into_bytes()));
        }
    }
    if let Some(b) = &args.body_type {
        unsafe_names.push(("content-type".to_owned(), b.clone().into_bytes()));
    }
    let unsafe_headers = cors_unsafe_request_header_names(unsafe_names.iter().map(|(n, v)| (n.as_str(), v.as_slice())));
    let ctx = Context {
        url: p.url.clone().unwrap_or_else(|| "the URL".to_owned()),
        origin: origin.clone().unwrap_or_else(|| "the page's origin".to_owned()),
        hints: p.hints.clone(),
        status: p.status,
        method: method
            .as_deref()
            .map(|m| corsair::fetch::normalize_method(m).to_owned()),
        unsafe_headers: (described || !assumed.is_empty()).then_some(unsafe_headers),
        credentialed: credentials,
    };
    let advice = merged(&p.candidates, &ctx);
    let mut e = Explained {
        understood: true,
        browser: p.browser,
        error: p.error.clone(),
        candidates: p.candidates.clone(),
        firefox_reason: p.firefox_reason,
        preflight: p.preflight,
        initiator: p.initiator.clone(),
        url: p.url.clone(),
        initial_url: p.initial_url.clone(),
        origin: origin.clone(),
        hint,
        status: p.status,
        request: RequestJson {
            method: method.clone(),
            headers: headers.clone(),
            credentials,
            assumed,
        },
        check: advice.check,
        explanation: advice.explanation,
        causes: advice.causes,
        next: advice.next,
        fix: advice.fix,
        mode: Mode::Message,
        policy: None,
        rejection: None,
        rejection_detail: None,
        refused_by: None,
        simulated_error: None,
        consistent: None,
        cause: None,
        findings: Vec::new(),
    };
    if args.policy.is_none() && !args.probe {
        return Ok(e);
    }
    // Run the request the message describes.
    let (Some(url), Some(origin)) = (p.url.as_deref(), origin.as_deref()) else {
        return Err(
            "the message does not name the URL and the page's origin, which --policy and --probe need \
                    (give --origin for a Firefox message; paste Safari's \"cannot load URL\" line too)"
                .to_owned(),
        );
    };
    let req = build_request(&RequestSpec {
        origin,
        url,
        method: method.as_deref().unwrap_or("GET"),
        headers: &headers,
        credentials,
        body_type: args.body_type.as_deref(),
    })
    .map_err(|err| err.message)?;
    if method.is_none() {
        e.request.assumed.push("the method GET (pass --method)".to_owned());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the async runtime: {err}"))?;
    let report = match &args.policy {
        Some(path) => {
            e.mode = Mode::Policy;
            let responder = PolicyResponder::load(path).map_err(|err| err.message)?;
            e.policy = responder.policy_name(url);
            runtime.block_on(simulate(responder, req, Sending::All))
        }
        None => {
            e.mode = Mode::Probe;
            let client = Client::new().map_err(|err| err.to_string())?;
            runtime.block_on(simulate(NetResponder { client }, req, Sending::SafeOnly))
        }
    }
    .map_err(|err| err.message)?;
    settle(&mut e, &p, report);
    Ok(e)
}

/// What the run found: the rejection, the engine's error, whether the message agrees.
fn settle(e: &mut Explained, p: &Parsed, report: Report) {
    let failed_headers = report.exchanges.last().map(|x| x.headers.to_map()).unwrap_or_default();
    if let Some(answer) = &report.answer {
        if e.policy.is_none() {
            e.policy.clone_from(&answer.policy);
        }
        if let Some((code, detail)) = &answer.rejection {
            e.rejection = Some((*code).to_owned());
            e.rejection_detail = Some(detail.clone());
        }
    }
    match &report.failure {
        None => {
            e.consistent = Some(false);
            e.findings.push(match e.mode {
                Mode::Policy => "the policy allows this request as described: the server that answered is not \
                                 running this config, or the request differs (its method, headers or credentials)"
                    .to_owned(),
                _ => match &report.not_sent {
                    Some(n) => format!("the server accepts it now: {}", n.reason),
                    None => "the server accepts this request now: a browser would let the page read it".to_owned(),
                },
            });
        }
        Some(f) => {
            let simulated = chromium_name(f, &failed_headers);
            e.consistent = Some(simulated.as_ref().is_some_and(|s| p.candidates.contains(s)));
            e.refused_by = Some(if e.rejection.is_some() { "policy" } else { "browser" });
            let who = match (e.mode, &e.rejection_detail) {
                (Mode::Policy, Some(d)) => format!(
                    "the policy {} refuses it: {d}",
                    e.policy.as_deref().map(|n| format!("`{n}`")).unwrap_or_default()
                ),
                (Mode::Policy, None) => "the policy accepts it, and the browser's own rule refuses it".to_owned(),
                _ => "the server refuses it".to_owned(),
            };
            e.findings
                .push(format!("{who}; the browser then reports: {}", f.explanation));
            match (&simulated, e.consistent) {
                (Some(s), Some(true)) => e.findings.push(format!("the engine reaches the same error, `{s}`")),
                (Some(s), _) => e.findings.push(format!(
                    "the engine reaches `{s}`, not the message's error: the server that answered is probably not \
                     running this config, or the request differs"
                )),
                (None, _) => {}
            }
            e.simulated_error = simulated;
            e.fix = match (&report.cause, &report.policy_fix) {
                (Some(c), _) => c.fixes().unwrap_or_else(|| f.fix.clone()),
                (None, Some(pf)) => pf.clone(),
                (None, None) => f.fix.clone(),
            };
            if let Some(c) = &report.cause {
                let conclusion = match e.mode {
                    Mode::Policy => c.conclusion.replacen("the server", "the policy", 1),
                    _ => c.conclusion.clone(),
                };
                e.findings.push(format!("asked part by part: {conclusion}"));
            }
        }
    }
    e.cause = report.cause;
}

impl Explained {
    /// The human-readable explanation.
    pub(crate) fn text(&self) -> String {
        let mut s = String::new();
        let browser = match self.browser {
            Browser::Chromium => "Chromium",
            Browser::Firefox => "Firefox",
            Browser::Safari => "Safari",
        };
        let _ = writeln!(
            s,
            "corsair explain: a {browser} message{}",
            self.initiator
                .as_deref()
                .map(|i| format!(" about a {i} request"))
                .unwrap_or_default()
        );
        for (label, value) in [
            ("url", &self.url),
            ("redirected from", &self.initial_url),
            ("origin", &self.origin),
        ] {
            if let Some(v) = value {
                let _ = writeln!(s, "  {label:<7} {v}");
            }
        }
        match (&self.error, self.firefox_reason) {
            (Some(err), _) => {
                let _ = writeln!(s, "  error   {err}");
            }
            (None, reason) => {
                let _ = writeln!(
                    s,
                    "  error   one of {}{}",
                    self.candidates.join(", "),
                    reason.map(|r| format!(" (Firefox: {r})")).unwrap_or_default()
                );
            }
        }
        if let Some(st) = self.status {
            let _ = writeln!(s, "  status  {st}");
        }
        for a in &self.request.assumed {
            let _ = writeln!(s, "  assumed {a}");
        }
        let _ = writeln!(s, "\ncheck: {}", self.check);
        let _ = writeln!(s, "why:   {}", self.explanation);
        if !self.causes.is_empty() {
            let heading = if self.mode == Mode::Message {
                "possible causes:"
            } else {
                "possible causes (from the message alone):"
            };
            let _ = writeln!(s, "{heading}");
            for c in &self.causes {
                let _ = writeln!(s, "  - {c}");
            }
        }
        if self.mode == Mode::Message && !self.next.is_empty() {
            let _ = writeln!(s, "next:");
            for n in &self.next {
                let _ = writeln!(s, "  - {n}");
            }
        }
        if self.mode != Mode::Message {
            let what = if self.mode == Mode::Policy {
                "with the policy file"
            } else {
                "asking the server"
            };
            let _ = writeln!(s, "\n{what}:");
            for f in &self.findings {
                let _ = writeln!(s, "  {f}");
            }
            if let Some(c) = &self.cause {
                for i in c.refused() {
                    let _ = writeln!(s, "  - refused: {} `{}`: {}", part_name(i), i.value, i.evidence);
                }
            }
        }
        let _ = writeln!(s, "\nfix: {}", self.fix);
        s
    }
}

fn part_name(i: &crate::check::Item) -> &'static str {
    match i.part {
        crate::check::Part::Origin => "origin",
        crate::check::Part::Method => "method",
        crate::check::Part::Header => "header",
    }
}
