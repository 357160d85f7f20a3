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
//! Exit status: 0 allowed, 1 blocked, 2 error (bad arguments, unreachable URL).

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use corsair::agent::{
    self, BodyType, CredentialsMode, ExposedHeaders, Failure, FailureKind, PreflightCache, Request, Step, Trace,
};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::{json, Value};

use crate::client::Client;
use crate::{CheckArgs, Format};
use corsair_gateway::config::{self, Config};

/// An error that ends `check` with exit status 2.
#[derive(Debug)]
struct CheckError {
    code: &'static str,
    message: String,
}

impl CheckError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
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
                Format::Json => outln!("{:#}", report.json()),
            }
            if report.failure.is_none() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            match format {
                Format::Text => eprintln!("corsair check: {}", e.message),
                Format::Json => outln!(
                    "{:#}",
                    json!({
                        "allowed": null,
                        "error": { "code": e.code, "message": e.message },
                        "preflight": null,
                        "steps": [],
                        "reason": e.message,
                    })
                ),
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

/// Builds the engine's request from the command line.
fn build_request(args: &CheckArgs) -> Result<Request, CheckError> {
    let mut builder = Request::builder(args.origin.as_str(), args.url.as_str()).method(args.method.as_str());
    for raw in &args.headers {
        let (name, value) = parse_header_arg(raw)?;
        builder = builder.header(name, value);
    }
    if args.credentials {
        builder = builder.credentials(CredentialsMode::Include);
    }
    if let Some(body) = &args.body_type {
        builder = builder.body(BodyType::parse(body));
    }
    builder.build().map_err(|e| CheckError::new(e.code(), e.to_string()))
}

/// `Name: value` (or curl's `Name;` for an empty value).
fn parse_header_arg(raw: &str) -> Result<(String, String), CheckError> {
    if let Some((name, value)) = raw.split_once(':') {
        return Ok((name.trim().to_string(), value.trim().to_string()));
    }
    if let Some(name) = raw.trim().strip_suffix(';') {
        return Ok((name.trim().to_string(), String::new()));
    }
    Err(CheckError::new(
        "invalid-header-argument",
        format!("--header `{raw}` is not `Name: value`"),
    ))
}

/// Which request of the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Preflight,
    Actual,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Preflight => "preflight",
            Kind::Actual => "actual",
        }
    }
}

/// A response, from the network or from a policy.
struct Received {
    status: u16,
    headers: HeaderMap,
    /// Extra explanation steps (policy mode).
    notes: Vec<Step>,
}

/// Where responses come from.
trait Responder {
    fn mode(&self) -> &'static str;
    async fn exchange(
        &mut self,
        kind: Kind,
        method: &str,
        url: &str,
        headers: &HeaderMap,
    ) -> Result<Received, CheckError>;
    /// A config-file fix for a failure the engine reported, if this responder knows one.
    fn policy_fix(&self, _failure: &Failure) -> Option<String> {
        None
    }
}

/// Sends requests over the network.
struct NetResponder {
    client: Client,
}

impl Responder for NetResponder {
    fn mode(&self) -> &'static str {
        "network"
    }

    async fn exchange(
        &mut self,
        _kind: Kind,
        method: &str,
        url: &str,
        headers: &HeaderMap,
    ) -> Result<Received, CheckError> {
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| CheckError::new("invalid-method", format!("cannot send method `{method}`")))?;
        let pairs: Vec<(HeaderName, HeaderValue)> = headers.iter().map(|(n, v)| (n.clone(), v.clone())).collect();
        let resp = self
            .client
            .send(&method, url, &pairs)
            .await
            .map_err(|e| CheckError::new("unreachable", e.to_string()))?;
        Ok(Received {
            status: resp.status.as_u16(),
            headers: resp.headers,
            notes: Vec::new(),
        })
    }
}

/// Answers from a corsair config file with the server-side engine, as
/// `corsair serve` would (the upstream is assumed to add no CORS headers).
struct PolicyResponder {
    config: Config,
    file: String,
    /// The policy that answered the last exchange, and its rejection hint.
    last: Option<(String, Option<String>)>,
}

impl PolicyResponder {
    fn load(path: &Path) -> Result<Self, CheckError> {
        let config = config::load(path).map_err(|e| CheckError::new("invalid-config", e.to_string().trim_end()))?;
        Ok(PolicyResponder {
            config,
            file: path.display().to_string(),
            last: None,
        })
    }
}

impl Responder for PolicyResponder {
    fn mode(&self) -> &'static str {
        "policy"
    }

    async fn exchange(
        &mut self,
        kind: Kind,
        method: &str,
        url: &str,
        headers: &HeaderMap,
    ) -> Result<Received, CheckError> {
        let uri: http::Uri = url
            .parse()
            .map_err(|e| CheckError::new("invalid-url", format!("invalid URL `{url}`: {e}")))?;
        let host = uri.authority().map(|a| a.as_str().to_string());
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
        let Some(routed) = self.config.route(host.as_deref(), &path) else {
            let hint = format!(
                "add a [[policy]] to {} whose `hosts` and `path_prefix` cover {}{}",
                self.file,
                host.as_deref().unwrap_or(""),
                path
            );
            self.last = Some((self.file.clone(), Some(hint)));
            return Ok(Received {
                status: 200,
                headers: HeaderMap::new(),
                notes: vec![Step::pass(
                    "policy",
                    format!(
                        "no [[policy]] in {} covers {}{path}: corsair passes the request to the upstream untouched, assumed here to answer 200 without CORS headers",
                        self.file,
                        host.as_deref().unwrap_or("")
                    ),
                )],
            });
        };
        let m = Method::from_bytes(method.as_bytes())
            .map_err(|_| CheckError::new("invalid-method", format!("`{method}` is not a method")))?;
        let decision = routed.policy.evaluate(&m, headers);
        let (status, response_headers) = match kind {
            Kind::Preflight => routed
                .policy
                .preflight_response(&decision)
                .map_or((200, HeaderMap::new()), |(s, h)| (s.as_u16(), h)),
            Kind::Actual => {
                let mut h = HeaderMap::new();
                routed.policy.apply(&decision, &mut h);
                (200, h)
            }
        };
        let name = routed.name.clone();
        let where_ = format!("policy `{name}` in {}", self.file);
        let (explanation, hint) = match decision.rejection() {
            None => (
                format!(
                    "{where_} answers the {} request ({})",
                    kind.as_str(),
                    decision.outcome()
                ),
                None,
            ),
            Some(r) => {
                let hint = match r.code() {
                    "origin_not_allowed" => headers
                        .get(http::header::ORIGIN)
                        .and_then(|o| o.to_str().ok())
                        .map(|o| format!("add `{o}` to allow_origins of {where_}")),
                    "method_not_allowed" => headers
                        .get(http::header::ACCESS_CONTROL_REQUEST_METHOD)
                        .and_then(|o| o.to_str().ok())
                        .map(|m| format!("add `{m}` to allow_methods of {where_}")),
                    "header_not_allowed" => r
                        .header_name()
                        .map(|h| format!("add `{h}` to allow_headers of {where_}")),
                    "null_origin" => {
                        Some("corsair never allows the `null` origin; serve the page from a real origin".to_string())
                    }
                    _ => None,
                };
                (format!("{where_} rejects the {} request: {r}", kind.as_str()), hint)
            }
        };
        self.last = Some((where_, hint));
        Ok(Received {
            status,
            headers: response_headers,
            notes: vec![Step::pass("policy", explanation)],
        })
    }

    fn policy_fix(&self, failure: &Failure) -> Option<String> {
        let (where_, hint) = self.last.as_ref()?;
        if let Some(h) = hint {
            return Some(h.clone());
        }
        match failure.kind {
            FailureKind::MissingAllowCredentials | FailureKind::InvalidAllowCredentials => {
                Some(format!("set `allow_credentials = true` in {where_}"))
            }
            FailureKind::WildcardOriginWithCredentials => Some(format!(
                "list the page's origin in allow_origins of {where_} instead of `*`, with `allow_credentials = true`"
            )),
            FailureKind::MethodNotAllowed => Some(format!("add the method to allow_methods of {where_}")),
            FailureKind::HeaderNotAllowed | FailureKind::AuthorizationNotAllowed => {
                Some(format!("add the header to allow_headers of {where_}"))
            }
            _ => None,
        }
    }
}

/// One request sent and the response received.
struct Exchange {
    kind: Kind,
    method: String,
    url: String,
    request_headers: Vec<(String, String)>,
    status: u16,
    response_headers: Vec<(String, String)>,
}

impl Exchange {
    fn json(&self) -> Value {
        json!({
            "kind": self.kind.as_str(),
            "request": {
                "method": self.method,
                "url": self.url,
                "headers": pairs_json(&self.request_headers),
            },
            "status": self.status,
            "headers": pairs_json(&self.response_headers),
        })
    }
}

fn pairs_json(pairs: &[(String, String)]) -> Value {
    Value::Array(pairs.iter().map(|(n, v)| json!({ "name": n, "value": v })).collect())
}

fn map_pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// What the text output shows, in order.
enum Event {
    Step(Step),
    Exchange(usize),
}

/// The outcome of a simulated fetch.
struct Report {
    mode: &'static str,
    origin: String,
    url: String,
    method: String,
    credentials: CredentialsMode,
    trace: Trace,
    synced: usize,
    events: Vec<Event>,
    exchanges: Vec<Exchange>,
    exposed: Option<ExposedHeaders>,
    failure: Option<Failure>,
    policy_fix: Option<String>,
}

impl Report {
    fn new(mode: &'static str, req: &Request) -> Self {
        Report {
            mode,
            origin: req.origin().to_string(),
            url: req.url().to_string(),
            method: req.method().to_string(),
            credentials: req.credentials(),
            trace: Trace::new(),
            synced: 0,
            events: Vec::new(),
            exchanges: Vec::new(),
            exposed: None,
            failure: None,
            policy_fix: None,
        }
    }

    /// Moves the steps added to the trace since the last call into the events.
    fn sync(&mut self) {
        for step in &self.trace.steps[self.synced..] {
            self.events.push(Event::Step(step.clone()));
        }
        self.synced = self.trace.steps.len();
    }

    fn push_step(&mut self, step: Step) {
        self.trace.push(step);
        self.sync();
    }

    fn record(
        &mut self,
        kind: Kind,
        method: &str,
        url: &str,
        request_headers: Vec<(String, String)>,
        received: &Received,
    ) {
        self.exchanges.push(Exchange {
            kind,
            method: method.to_string(),
            url: url.to_string(),
            request_headers,
            status: received.status,
            response_headers: map_pairs(&received.headers),
        });
        self.events.push(Event::Exchange(self.exchanges.len() - 1));
        for note in &received.notes {
            self.push_step(note.clone());
        }
    }

    fn allowed(&self) -> bool {
        self.failure.is_none()
    }

    fn reason(&self) -> Option<String> {
        self.failure.as_ref().map(|f| f.explanation.clone())
    }

    fn json(&self) -> Value {
        let preflight = self
            .exchanges
            .iter()
            .find(|e| e.kind == Kind::Preflight)
            .map_or(Value::Null, Exchange::json);
        let actual = self
            .exchanges
            .iter()
            .rev()
            .find(|e| e.kind == Kind::Actual)
            .map_or(Value::Null, Exchange::json);
        json!({
            "allowed": self.allowed(),
            "mode": self.mode,
            "request": {
                "origin": self.origin,
                "url": self.url,
                "method": self.method,
                "credentials": self.credentials.as_str(),
            },
            "preflight": preflight,
            "actual": actual,
            "exchanges": self.exchanges.iter().map(Exchange::json).collect::<Vec<_>>(),
            "exposed_headers": self.exposed.as_ref().map(|e| json!({"visible": e.visible, "hidden": e.hidden})),
            "steps": serde_json::to_value(&self.trace.steps).unwrap_or(Value::Null),
            "reason": self.reason(),
            "failure": self.failure.as_ref().map(|f| json!({
                "kind": f.kind.code(),
                "step": f.step,
                "explanation": f.explanation,
                "fix": f.fix,
            })),
            "policy_fix": self.policy_fix,
        })
    }

    fn text(&self) -> String {
        let mut out = String::new();
        let via = if self.mode == "policy" {
            " (offline, from the policy file)"
        } else {
            ""
        };
        out.push_str(&format!(
            "corsair check: {} {} from origin {} (credentials: {}){via}\n\n",
            self.method, self.url, self.origin, self.credentials
        ));
        for event in &self.events {
            match event {
                Event::Step(step) => {
                    out.push_str(&step.to_string());
                    out.push('\n');
                }
                Event::Exchange(i) => {
                    let Some(e) = self.exchanges.get(*i) else { continue };
                    let sent = if self.mode == "policy" {
                        "asked the policy"
                    } else {
                        "sent"
                    };
                    out.push_str(&format!("  -> {sent}: {} {} ({})\n", e.method, e.url, e.kind.as_str()));
                    for (n, v) in &e.request_headers {
                        out.push_str(&format!("       {n}: {v}\n"));
                    }
                    out.push_str(&format!("  <- {}\n", e.status));
                    for (n, v) in &e.response_headers {
                        out.push_str(&format!("       {n}: {v}\n"));
                    }
                }
            }
        }
        out.push('\n');
        match &self.failure {
            None => out.push_str("ALLOWED: a browser would let the page read this response.\n"),
            Some(f) => {
                out.push_str(&format!("BLOCKED: {}\n", f.explanation));
                out.push_str(&format!("  fix: {}\n", f.fix));
                if let Some(p) = &self.policy_fix {
                    out.push_str(&format!("  in the config: {p}\n"));
                }
            }
        }
        out
    }
}

/// Converts the engine's header list into a map to send; the engine keeps
/// byte values a browser could send but `http` cannot carry (control bytes).
fn to_header_map(headers: &[(String, Vec<u8>)]) -> Result<HeaderMap, CheckError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| CheckError::new("invalid-header-name", format!("cannot send header `{name}`")))?;
        let v = HeaderValue::from_bytes(value).map_err(|_| {
            CheckError::new(
                "invalid-header-value",
                format!("the value of `{name}` contains control bytes, which this HTTP client cannot send"),
            )
        })?;
        map.append(n, v);
    }
    Ok(map)
}

fn string_pairs(headers: &[(String, Vec<u8>)]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| (n.clone(), v.iter().map(|&b| char::from(b)).collect()))
        .collect()
}

/// Runs the browser's algorithm against `responder`.
async fn simulate<R: Responder>(mut responder: R, req: Request) -> Result<Report, CheckError> {
    let mut report = Report::new(responder.mode(), &req);
    report.trace.extend(req.trace());
    report.sync();
    if req.is_credentialed() && responder.mode() == "network" {
        report.push_step(Step::pass(
            "credentials",
            "corsair has no cookies to send, but judges the responses as a browser does for a credentialed request",
        ));
    }
    let started = Instant::now();
    let mut cache = PreflightCache::new(agent::BrowserProfile::Chromium);
    let mut current = req;
    let mut redirects = 0usize;
    let final_response = loop {
        if current.needs_preflight() {
            let now = started.elapsed();
            if !cache.preflight_needed(&current, now) {
                report.push_step(cache.explain(&current, now));
            } else if let Some(pf) = current.preflight() {
                let map = pf.header_map();
                let received = responder.exchange(Kind::Preflight, &pf.method, &pf.url, &map).await?;
                report.record(Kind::Preflight, &pf.method, &pf.url, pf.headers.clone(), &received);
                match agent::check_preflight_traced(&current, received.status, &received.headers, &mut report.trace) {
                    Ok(ok) => {
                        report.sync();
                        cache.store(&current, &ok, started.elapsed());
                    }
                    Err(failure) => {
                        report.sync();
                        report.push_step(Step::pass(
                            "actual-request",
                            "the preflight failed, so the browser does not send the actual request",
                        ));
                        report.policy_fix = responder.policy_fix(&failure);
                        report.failure = Some(failure);
                        return Ok(report);
                    }
                }
            }
        }
        let headers = current.actual_headers();
        let map = to_header_map(&headers)?;
        let received = responder
            .exchange(Kind::Actual, current.method(), current.url(), &map)
            .await?;
        report.record(
            Kind::Actual,
            current.method(),
            current.url(),
            string_pairs(&headers),
            &received,
        );
        match agent::follow_redirect_traced(
            &current,
            redirects,
            received.status,
            &received.headers,
            &mut report.trace,
        ) {
            Err(failure) => {
                report.sync();
                report.policy_fix = responder.policy_fix(&failure);
                report.failure = Some(failure);
                return Ok(report);
            }
            Ok(Some(next)) => {
                report.sync();
                redirects += 1;
                current = next.request;
            }
            Ok(None) => break received,
        }
    };
    if let Err(failure) = agent::cors_check_traced(&current, &final_response.headers, &mut report.trace) {
        report.sync();
        report.policy_fix = responder.policy_fix(&failure);
        report.failure = Some(failure);
        return Ok(report);
    }
    let exposed = agent::exposed_headers_traced(&current, &final_response.headers, &mut report.trace);
    report.sync();
    report.exposed = Some(exposed);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_arguments() {
        assert_eq!(
            parse_header_arg("X-Token: abc: d").unwrap(),
            ("X-Token".to_string(), "abc: d".to_string())
        );
        assert_eq!(
            parse_header_arg("X-Empty;").unwrap(),
            ("X-Empty".to_string(), String::new())
        );
        assert_eq!(
            parse_header_arg("X-Empty:").unwrap(),
            ("X-Empty".to_string(), String::new())
        );
        assert!(parse_header_arg("nocolon").is_err());
    }

    #[test]
    fn header_maps() {
        let map = to_header_map(&[("X-A".into(), b"1".to_vec()), ("x-a".into(), b"2".to_vec())]).unwrap();
        assert_eq!(map.get_all("x-a").iter().count(), 2);
        assert!(to_header_map(&[("X-A".into(), b"\x01".to_vec())]).is_err());
        assert_eq!(
            string_pairs(&[("X".into(), b"caf\xE9".to_vec())]),
            [("X".to_string(), "caf\u{e9}".to_string())]
        );
    }
}
