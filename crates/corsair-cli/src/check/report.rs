//! The outcome of a simulated fetch, as JSON ([`Report::json`], typed) and as text
//! ([`Report::text`]).

use corsair::agent::{CredentialsMode, ExposedHeaders, Failure, Step};
use serde::Serialize;

use super::cause::{Cause, Verdict};
use super::responders::Answer;
use crate::report::HeaderList;

/// Where the responses come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Mode {
    /// Sent over the network.
    Network,
    /// Answered offline from a corsair config file (`--policy`).
    Policy,
}

/// Which request of the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Kind {
    Preflight,
    Actual,
    /// A request `check` sent on its own to find the cause of a refusal (GET or
    /// OPTIONS only); never one the browser would send.
    Probe,
}

impl Kind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Kind::Preflight => "preflight",
            Kind::Actual => "actual",
            Kind::Probe => "probe",
        }
    }
}

/// One request sent and the response received; serialized as it is.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Exchange {
    pub(crate) kind: Kind,
    pub(crate) request: SentRequest,
    /// The response status.
    pub(crate) status: u16,
    /// Every response header line.
    pub(crate) headers: HeaderList,
}

/// The request of an [`Exchange`].
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SentRequest {
    pub(crate) method: String,
    pub(crate) url: String,
    /// Every header line sent (besides `Host`), in order.
    pub(crate) headers: HeaderList,
}

/// What the text output shows, in order: a step of the browser's algorithm (an index
/// into [`Report::steps`]) or an exchange (an index into [`Report::exchanges`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    Step(usize),
    Exchange(usize),
}

/// The outcome of a simulated fetch.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) mode: Mode,
    pub(crate) origin: String,
    pub(crate) url: String,
    pub(crate) method: String,
    pub(crate) credentials: CredentialsMode,
    /// Every step of the browser's algorithm, in order.
    pub(crate) steps: Vec<Step>,
    pub(crate) events: Vec<Event>,
    pub(crate) exchanges: Vec<Exchange>,
    /// The exposed-header filter's result, when the response reached the script.
    pub(crate) exposed: Option<ExposedHeaders>,
    /// Why the browser blocks the request, if it does.
    pub(crate) failure: Option<Failure>,
    /// The change to the config file that fixes `failure` (`--policy`).
    pub(crate) policy_fix: Option<String>,
    /// For a preflight refused without CORS headers: which part of the request the
    /// server refuses, found out with safe requests.
    pub(crate) cause: Option<Cause>,
    /// The actual request, when `check` did not send it (a method other than GET and
    /// HEAD without `--send`).
    pub(crate) not_sent: Option<NotSent>,
    /// With `--policy`: how the config answered the exchange that failed (not in the
    /// JSON of `check`; `explain` reports it).
    pub(crate) answer: Option<Answer>,
}

/// The actual request `check` did not send: it is safe by default, and a method other
/// than GET and HEAD can change data on the server.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct NotSent {
    pub(crate) method: String,
    /// Why it was not sent, and what the browser would do.
    pub(crate) reason: String,
    /// What its response must carry for the page to read it.
    pub(crate) needs: String,
}

/// `corsair check --format json`: the verdict, every exchange and every step.
///
/// ```text
/// {
///   "allowed": boolean,                 would the page read the response
///   "mode": "network" | "policy",
///   "request": { "origin", "url", "method": string, "credentials": "omit" | "same-origin" | "include" },
///   "preflight": Exchange | null,       the first preflight sent, if any
///   "actual": Exchange | null,          the last actual request sent (after redirects), if any
///   "exchanges": [Exchange],            every request sent, in order
///   "exposed_headers": { "visible": [string], "hidden": [string] } | null,
///   "steps": [{ "name": string, "ok": boolean, "explanation": string, "fix": string | null }],
///   "reason": string | null,            the failure's explanation
///   "failure": { "kind": string, "step": string, "explanation": string, "fix": string } | null,
///   "policy_fix": string | null,        with --policy: the change to the config file
///   "cause": Cause | null,              a preflight refused without CORS headers: what the server refuses
///   "not_sent": { "method", "reason", "needs": string } | null
///                                       the actual request, not sent (not GET/HEAD, no --send)
/// }
/// Cause = {
///   "items": [{ "part": "origin" | "method" | "header", "value": string,
///               "verdict": "accepted" | "refused" | "untested", "evidence": string, "fix": string | null }],
///   "conclusion": string,
///   "looks_like_corsair": boolean,      the refusal has the shape of a corsair gateway's
///   "probes": [Exchange]                the safe requests (GET, OPTIONS) sent to find it out
/// }
/// Exchange = {
///   "kind": "preflight" | "actual" | "probe",
///   "request": { "method": string, "url": string, "headers": HeaderList },
///   "status": number,
///   "headers": HeaderList
/// }
/// ```
///
/// `HeaderList` is `[{"name": string, "value": string}]`, in order, repeated lines kept
/// (see [`crate::report`]). `failure.kind` is the engine's `FailureKind::code()`, e.g.
/// `missing-allow-origin`; when a `cause` was found, `failure.fix` (and `reason`'s fix in
/// the text) is the fix of every refused part instead of the generic one. `allowed` is
/// true when the actual request was not sent but the browser would send it (`not_sent`).
/// On an error (exit status 2) the document is an [`ErrorJson`].
#[derive(Debug, Serialize)]
pub(crate) struct Json<'a> {
    allowed: bool,
    mode: Mode,
    request: RequestJson<'a>,
    preflight: Option<&'a Exchange>,
    actual: Option<&'a Exchange>,
    exchanges: &'a [Exchange],
    exposed_headers: Option<ExposedJson<'a>>,
    steps: Vec<StepJson<'a>>,
    reason: Option<&'a str>,
    failure: Option<FailureJson<'a>>,
    policy_fix: Option<&'a str>,
    cause: Option<&'a Cause>,
    not_sent: Option<&'a NotSent>,
}

#[derive(Debug, Serialize)]
struct RequestJson<'a> {
    origin: &'a str,
    url: &'a str,
    method: &'a str,
    credentials: &'static str,
}

#[derive(Debug, Serialize)]
struct ExposedJson<'a> {
    visible: &'a [String],
    hidden: &'a [String],
}

#[derive(Debug, Serialize)]
pub(crate) struct StepJson<'a> {
    name: &'a str,
    ok: bool,
    explanation: &'a str,
    fix: Option<&'a str>,
}

impl<'a> StepJson<'a> {
    fn of(step: &'a Step) -> Self {
        StepJson {
            name: &step.name,
            ok: step.ok,
            explanation: &step.explanation,
            fix: step.fix.as_deref(),
        }
    }
}

#[derive(Debug, Serialize)]
struct FailureJson<'a> {
    kind: &'static str,
    step: &'a str,
    explanation: &'a str,
    fix: &'a str,
}

/// What `--format json` prints when `check` could not run (exit status 2): the fields of
/// [`Json`] that a reader tests first, with `allowed` null and the error.
///
/// ```text
/// { "allowed": null, "error": { "code": string, "message": string },
///   "preflight": null, "steps": [], "reason": string }
/// ```
#[derive(Debug, Serialize)]
pub(crate) struct ErrorJson<'a> {
    allowed: Option<bool>,
    error: ErrorDetail<'a>,
    preflight: Option<&'a Exchange>,
    steps: [StepJson<'a>; 0],
    reason: &'a str,
}

#[derive(Debug, Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: &'a str,
}

impl<'a> ErrorJson<'a> {
    pub(crate) fn new(code: &'a str, message: &'a str) -> Self {
        ErrorJson {
            allowed: None,
            error: ErrorDetail { code, message },
            preflight: None,
            steps: [],
            reason: message,
        }
    }
}

impl Report {
    pub(crate) fn allowed(&self) -> bool {
        self.failure.is_none()
    }

    /// The JSON document (see [`Json`]).
    pub(crate) fn json(&self) -> Json<'_> {
        Json {
            allowed: self.allowed(),
            mode: self.mode,
            request: RequestJson {
                origin: &self.origin,
                url: &self.url,
                method: &self.method,
                credentials: self.credentials.as_str(),
            },
            preflight: self.exchanges.iter().find(|e| e.kind == Kind::Preflight),
            actual: self.exchanges.iter().rev().find(|e| e.kind == Kind::Actual),
            exchanges: &self.exchanges,
            exposed_headers: self.exposed.as_ref().map(|e| ExposedJson {
                visible: &e.visible,
                hidden: &e.hidden,
            }),
            steps: self.steps.iter().map(StepJson::of).collect(),
            reason: self.failure.as_ref().map(|f| f.explanation.as_str()),
            failure: self.failure.as_ref().map(|f| FailureJson {
                kind: f.kind.code(),
                step: &f.step,
                explanation: &f.explanation,
                fix: &f.fix,
            }),
            policy_fix: self.policy_fix.as_deref(),
            cause: self.cause.as_ref(),
            not_sent: self.not_sent.as_ref(),
        }
    }

    /// The human-readable trace and verdict.
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        let via = if self.mode == Mode::Policy {
            " (offline, from the policy file)"
        } else {
            ""
        };
        out.push_str(&format!(
            "corsair check: {} {} from origin {} (credentials: {}){via}\n\n",
            self.method, self.url, self.origin, self.credentials
        ));
        for event in &self.events {
            match *event {
                Event::Step(i) => {
                    let Some(step) = self.steps.get(i) else { continue };
                    out.push_str(&step.to_string());
                    out.push('\n');
                }
                Event::Exchange(i) => {
                    let Some(e) = self.exchanges.get(i) else { continue };
                    let sent = if self.mode == Mode::Policy {
                        "asked the policy"
                    } else {
                        "sent"
                    };
                    out.push_str(&format!(
                        "  -> {sent}: {} {} ({})\n",
                        e.request.method,
                        e.request.url,
                        e.kind.as_str()
                    ));
                    for line in e.request.headers.iter() {
                        out.push_str(&format!("       {}: {}\n", line.name, line.value));
                    }
                    out.push_str(&format!("  <- {}\n", e.status));
                    for line in e.headers.iter() {
                        out.push_str(&format!("       {}: {}\n", line.name, line.value));
                    }
                }
            }
        }
        out.push('\n');
        match (&self.failure, &self.not_sent) {
            (None, None) => out.push_str("ALLOWED: a browser would let the page read this response.\n"),
            (None, Some(n)) => {
                out.push_str(&format!("NOT SENT: the {} itself. {}\n", n.method, n.reason));
                out.push_str(&format!("ALLOWED so far: {}\n", n.needs));
            }
            (Some(f), _) => {
                out.push_str(&format!("BLOCKED: {}\n", f.explanation));
                match &self.cause {
                    Some(c) => cause_text(&mut out, c),
                    None => {
                        out.push_str(&format!("  fix: {}\n", f.fix));
                        if let Some(p) = &self.policy_fix {
                            out.push_str(&format!("  in the config: {p}\n"));
                        }
                    }
                }
            }
        }
        out
    }
}

/// The cause of a refused preflight, part by part, each refused one with its fix.
fn cause_text(out: &mut String, c: &Cause) {
    out.push_str(&format!("  cause: {}\n", c.conclusion));
    for i in &c.items {
        let verdict = match i.verdict {
            Verdict::Accepted => "accepted",
            Verdict::Refused => "REFUSED",
            Verdict::Untested => "not asked",
        };
        out.push_str(&format!(
            "    - {} `{}`: {verdict}: {}\n",
            match i.part {
                super::cause::Part::Origin => "origin",
                super::cause::Part::Method => "method",
                super::cause::Part::Header => "header",
            },
            i.value,
            i.evidence
        ));
        if let Some(fix) = &i.fix {
            out.push_str(&format!("      fix: {fix}\n"));
        }
    }
    if c.refused().next().is_none() {
        out.push_str("  fix: have the server accept the preflight as a whole (each part is accepted alone)\n");
    }
    out.push_str(&format!(
        "  ({} safe request{} asked this: GET and OPTIONS only; --format json lists them)\n",
        c.probes.len(),
        if c.probes.len() == 1 { "" } else { "s" }
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(kind: Kind, method: &str, response: &[(&str, &[u8])]) -> Exchange {
        Exchange {
            kind,
            request: SentRequest {
                method: method.to_owned(),
                url: "https://api.example/r".to_owned(),
                headers: HeaderList::from_lines([("origin", &b"https://app.example"[..])]),
            },
            status: 200,
            headers: HeaderList::from_lines(response.iter().copied()),
        }
    }

    fn report(exchanges: Vec<Exchange>) -> Report {
        Report {
            mode: Mode::Network,
            origin: "https://app.example".to_owned(),
            url: "https://api.example/r".to_owned(),
            method: "PUT".to_owned(),
            credentials: CredentialsMode::Include,
            steps: vec![
                Step::pass("preflight", "needed"),
                Step::fail("allow-origin", "two", "one"),
            ],
            events: vec![Event::Step(0), Event::Exchange(0), Event::Exchange(1), Event::Step(1)],
            exchanges,
            exposed: None,
            failure: None,
            policy_fix: None,
            cause: None,
            not_sent: None,
            answer: None,
        }
    }

    #[test]
    fn json_names_the_first_preflight_and_the_last_actual_request() {
        let r = report(vec![
            exchange(Kind::Preflight, "OPTIONS", &[]),
            exchange(Kind::Actual, "PUT", &[("location", b"/next")]),
            exchange(Kind::Actual, "PUT", &[]),
        ]);
        let json = serde_json::to_value(r.json()).unwrap();
        assert_eq!(json["preflight"]["request"]["method"], "OPTIONS");
        assert_eq!(json["actual"]["headers"], serde_json::json!([]));
        assert_eq!(json["exchanges"].as_array().unwrap().len(), 3);
        assert_eq!(json["mode"], "network");
        assert_eq!(json["request"]["credentials"], "include");
        assert_eq!(
            json["steps"][1],
            serde_json::json!({"name": "allow-origin", "ok": false, "explanation": "two", "fix": "one"})
        );
        assert_eq!(json["steps"][0]["fix"], serde_json::Value::Null);
        assert_eq!(json["allowed"], true);
        assert_eq!(json["failure"], serde_json::Value::Null);
    }

    #[test]
    fn repeated_response_lines_stay_separate_in_json_and_text() {
        let acao: &[(&str, &[u8])] = &[
            ("access-control-allow-origin", b"https://app.example"),
            ("access-control-allow-origin", b"https://app.example"),
        ];
        let r = report(vec![exchange(Kind::Preflight, "OPTIONS", acao)]);
        let json = serde_json::to_value(r.json()).unwrap();
        assert_eq!(
            json["preflight"]["headers"],
            serde_json::json!([
                { "name": "access-control-allow-origin", "value": "https://app.example" },
                { "name": "access-control-allow-origin", "value": "https://app.example" },
            ])
        );
        let text = r.text();
        assert_eq!(
            text.matches("       access-control-allow-origin: https://app.example\n")
                .count(),
            2,
            "{text}"
        );
        assert!(
            text.contains("  -> sent: OPTIONS https://api.example/r (preflight)\n"),
            "{text}"
        );
    }

    #[test]
    fn error_document_has_the_fields_a_reader_tests_first() {
        let json = serde_json::to_value(ErrorJson::new("unreachable", "connection refused")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "allowed": null,
                "error": { "code": "unreachable", "message": "connection refused" },
                "preflight": null,
                "steps": [],
                "reason": "connection refused",
            })
        );
    }
}
