//! `corsair check --mode no-cors|navigate`: does a request the page cannot read reach the
//! service, or does cross-origin protection refuse it?
//!
//! A `fetch(url, {mode: "no-cors"})` and an HTML form submission (`<form method=post>`)
//! are sent without a preflight, whatever the CORS policy: the page never reads the
//! answer, but the service acts on the request (with the user's cookies). That is what
//! cross-site request forgery uses, and what cross-origin protection refuses. This
//! module builds the request as the browser sends it (`Origin`, `Sec-Fetch-*`, the body's
//! `Content-Type`), then decides: with `--policy` by the config file's policy (offline);
//! against the URL by sending it, which it does for GET and HEAD, and for any other
//! method only with `--send` (check is safe by default).
//!
//! Exit status: 0 the request reaches the service, 1 it is refused, 2 an error, or an
//! unsafe method that was neither sent (`--send`) nor decided offline (`--policy`).

use std::process::ExitCode;

use bytes::Bytes;
use corsair::agent::{BodyType, Request};
use http::{HeaderName, HeaderValue, Method};
use serde::Serialize;

use super::arguments::parse_header_arg;
use super::protection;
use super::responders::route_target;
use super::CheckError;
use crate::client::Client;
use crate::report::HeaderList;
use crate::{CheckArgs, Format, RequestMode};

/// The verdict document (`--format json`).
///
/// ```text
/// {
///   "mode": "no-cors" | "navigate",
///   "source": "policy" | "network",
///   "request": { "origin", "url", "method": string, "headers": HeaderList },
///   "sent": boolean,                    the request went over the network
///   "status": number | null,            the answer's status, when sent
///   "delivered": boolean | null,        reaches the service; null: not decided (not sent)
///   "protection": { "outcome": string, "refused": boolean, "explanation": string } | null,
///                                       cross-origin protection's decision: a pass code
///                                       (`trusted_origin`, `same_origin`, ...) or a refusal
///                                       code (`cross_origin_request`, `origin_host_mismatch`)
///   "policy": string | null,            with --policy: the covering policy's name
///   "explanation": string,
///   "fix": string | null                how to let a refused request through
/// }
/// ```
#[derive(Debug, Serialize)]
pub(crate) struct Delivery {
    mode: &'static str,
    source: &'static str,
    request: RequestJson,
    sent: bool,
    status: Option<u16>,
    delivered: Option<bool>,
    protection: Option<ProtectionJson>,
    policy: Option<String>,
    explanation: String,
    fix: Option<String>,
}

#[derive(Debug, Serialize)]
struct RequestJson {
    origin: String,
    url: String,
    method: String,
    headers: HeaderList,
}

#[derive(Debug, Serialize)]
struct ProtectionJson {
    outcome: &'static str,
    refused: bool,
    explanation: String,
}

/// The request as the browser sends it.
struct Built {
    req: Request,
    headers: Vec<(String, Vec<u8>)>,
    body: Bytes,
}

fn mode_name(mode: RequestMode) -> &'static str {
    match mode {
        RequestMode::Cors => "cors",
        RequestMode::NoCors => "no-cors",
        RequestMode::Navigate => "navigate",
    }
}

/// Builds the request of `--mode no-cors` or `navigate` as the browser would, refusing
/// what it refuses (Fetch §5.4, the `Request` constructor: a no-cors request has a
/// CORS-safelisted method, and its `Headers` drop every header that is not
/// CORS-safelisted; HTML forms send GET or POST with one of three encodings).
fn build(args: &CheckArgs, origin: &str, url: &str) -> Result<Built, CheckError> {
    let navigate = args.mode == RequestMode::Navigate;
    let mut b = Request::builder(origin, url).method(&args.method);
    if navigate && !args.headers.is_empty() {
        return Err(CheckError::new(
            "invalid-mode",
            "a form submission (--mode navigate) carries no script-set header: drop --header",
        ));
    }
    for raw in &args.headers {
        let (n, v) = parse_header_arg(raw)?;
        b = b.header(n, v);
    }
    let body = match (args.body_type.as_deref(), navigate) {
        (Some(t), _) => Some(BodyType::parse(t)),
        // A form's default encoding.
        (None, true) => Some(BodyType::UrlSearchParams),
        (None, false) => None,
    };
    let is_get = matches!(args.method.to_ascii_uppercase().as_str(), "GET" | "HEAD");
    if let Some(body) = body.clone().filter(|_| !is_get) {
        b = b.body(body);
    }
    let req = b.build().map_err(|e| CheckError::new(e.code(), e.to_string()))?;
    let method = req.method().to_owned();
    if navigate && !matches!(method.as_str(), "GET" | "POST") {
        return Err(CheckError::new(
            "invalid-mode",
            format!("a form submits with GET or POST, not {method}"),
        ));
    }
    if !navigate && !matches!(method.as_str(), "GET" | "HEAD" | "POST") {
        return Err(CheckError::new(
            "invalid-mode",
            format!(
                "fetch() refuses a no-cors request with the method {method} (TypeError): only GET, HEAD and POST; \
                 other methods need --mode cors, and therefore a preflight"
            ),
        ));
    }
    let unsafe_names = req.unsafe_header_names();
    if !unsafe_names.is_empty() {
        let which = unsafe_names.join(", ");
        return Err(CheckError::new(
            "invalid-mode",
            if navigate {
                format!(
                    "a form sends only application/x-www-form-urlencoded, multipart/form-data or text/plain \
                     (found {which})"
                )
            } else {
                format!(
                    "a no-cors request carries only CORS-safelisted headers: the browser drops {which} (a \
                     Content-Type other than text/plain, application/x-www-form-urlencoded and \
                     multipart/form-data included)"
                )
            },
        ));
    }
    let mut headers: Vec<(String, Vec<u8>)> = req
        .headers()
        .iter()
        .filter(|(n, _)| !(navigate && n.eq_ignore_ascii_case("accept")))
        .cloned()
        .collect();
    if navigate {
        headers.push((
            "Accept".to_owned(),
            b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8".to_vec(),
        ));
    }
    // Fetch §3.2 "append a request `Origin` header": a no-cors or navigation request
    // (its response tainting is not "cors") carries one only for a method other than GET
    // and HEAD, and, with the default referrer policy (strict-origin-when-cross-origin),
    // `null` from an https page to a URL that is not https.
    if !matches!(method.as_str(), "GET" | "HEAD") {
        let downgrade = req.origin().starts_with("https://") && !req.url_origin().starts_with("https://");
        let value = if downgrade { "null" } else { req.origin() };
        headers.push(("Origin".to_owned(), value.as_bytes().to_vec()));
    }
    headers.extend(protection::fetch_metadata(
        req.origin(),
        req.url(),
        mode_name(args.mode),
    ));
    let content_type = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| String::from_utf8_lossy(v).to_ascii_lowercase());
    // A harmless body of the declared type.
    let body = match content_type.as_deref() {
        Some(t) if t.starts_with("application/x-www-form-urlencoded") => Bytes::from_static(b"corsair_check=1"),
        Some(t) if t.starts_with("multipart/form-data") => {
            let boundary = t.split("boundary=").nth(1).unwrap_or("----corsairFormBoundary");
            Bytes::from(format!("--{boundary}--\r\n"))
        }
        Some(_) => Bytes::from_static(b"corsair check"),
        None => Bytes::new(),
    };
    Ok(Built { req, headers, body })
}

/// Runs `check --mode no-cors|navigate`.
pub(crate) fn run(args: &CheckArgs) -> ExitCode {
    let result = (|| {
        let (Some(url), Some(origin)) = (&args.url, &args.origin) else {
            return Err(CheckError::new("usage", "give the URL and --origin"));
        };
        let built = build(args, origin, url)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| CheckError::new("runtime", format!("cannot start the async runtime: {e}")))?;
        match &args.policy {
            Some(path) => decide_offline(args, &built, path),
            None => runtime.block_on(decide_online(args, &built)),
        }
    })();
    match result {
        Ok(d) => {
            match args.format {
                Format::Text => out!("{}", d.text()),
                Format::Json => outln!("{}", crate::report::to_json(&d)),
            }
            match d.delivered {
                Some(true) => ExitCode::SUCCESS,
                Some(false) => ExitCode::from(1),
                None => ExitCode::from(2),
            }
        }
        Err(e) => {
            match args.format {
                Format::Text => eprintln!("corsair check: {}", e.message),
                Format::Json => outln!(
                    "{}",
                    crate::report::to_json(&super::report::ErrorJson::new(e.code, &e.message))
                ),
            }
            ExitCode::from(2)
        }
    }
}

fn delivery(args: &CheckArgs, built: &Built, source: &'static str) -> Delivery {
    Delivery {
        mode: mode_name(args.mode),
        source,
        request: RequestJson {
            origin: built.req.origin().to_owned(),
            url: built.req.url().to_owned(),
            method: built.req.method().to_owned(),
            headers: HeaderList::from_lines(built.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice()))),
        },
        sent: false,
        status: None,
        delivered: None,
        protection: None,
        policy: None,
        explanation: String::new(),
        fix: None,
    }
}

fn header_map(built: &Built) -> Result<Vec<(HeaderName, HeaderValue)>, CheckError> {
    built
        .headers
        .iter()
        .map(|(n, v)| {
            let name = HeaderName::from_bytes(n.as_bytes())
                .map_err(|_| CheckError::new("invalid-header-name", format!("cannot send header `{n}`")))?;
            let value = HeaderValue::from_bytes(v)
                .map_err(|_| CheckError::new("invalid-header-value", format!("cannot send the value of `{n}`")))?;
            Ok((name, value))
        })
        .collect()
}

/// `--policy`: the config file's covering policy decides, as the gateway would.
fn decide_offline(args: &CheckArgs, built: &Built, path: &std::path::Path) -> Result<Delivery, CheckError> {
    let config =
        corsair_gateway::config::load(path).map_err(|e| CheckError::new("invalid-config", e.to_string().trim_end()))?;
    let file = path.display().to_string();
    let mut d = delivery(args, built, "policy");
    let (host, target) = route_target(built.req.url())?;
    let method = built.req.method();
    let Some(routed) = config.route(host.as_deref(), &target) else {
        d.delivered = Some(true);
        d.explanation = format!(
            "no [[policy]] in {file} covers {}{target}: the gateway forwards the {method} untouched (cross-origin \
             protection applies to covered requests only)",
            host.as_deref().unwrap_or("")
        );
        d.fix = Some(format!(
            "to protect it, add a [[policy]] to {file} that covers it (with your own origins in allow_origins)"
        ));
        return Ok(d);
    };
    let where_ = format!("policy `{}` in {file}", routed.name);
    d.policy = Some(routed.name.clone());
    let map: http::HeaderMap = header_map(built)?.into_iter().collect();
    let m = Method::from_bytes(method.as_bytes())
        .map_err(|_| CheckError::new("invalid-method", format!("`{method}` is not a method")))?;
    match protection::decide(routed, &m, host.as_deref(), &target, &map) {
        Ok(p) => {
            d.delivered = Some(true);
            d.protection = Some(ProtectionJson {
                outcome: p.code(),
                refused: false,
                explanation: p.to_string(),
            });
            d.explanation = format!(
                "{where_} lets the {method} through to the upstream ({}): {p}; the page cannot read the answer (no \
                 CORS), but the service acts on the request",
                p.code()
            );
        }
        Err(r) => {
            d.delivered = Some(false);
            d.protection = Some(ProtectionJson {
                outcome: r.code(),
                refused: true,
                explanation: r.to_string(),
            });
            d.explanation = format!(
                "{where_} refuses the {method} with 403 before the upstream sees it ({}): {r}",
                r.code()
            );
            d.fix = Some(protection::fix(&r, &where_, &target));
        }
    }
    Ok(d)
}

/// Against the URL: GET and HEAD are sent; anything else only with `--send`.
async fn decide_online(args: &CheckArgs, built: &Built) -> Result<Delivery, CheckError> {
    let mut d = delivery(args, built, "network");
    let method = built.req.method().to_owned();
    let safe = matches!(method.as_str(), "GET" | "HEAD");
    if !safe && !args.send {
        d.explanation = format!(
            "a browser sends this {method} without a preflight, so only the server's answer tells whether it \
             reaches the service, and a {method} can change data on the server. --send sends it (with a harmless \
             body); --policy FILE decides offline against a corsair config"
        );
        return Ok(d);
    }
    let client = Client::new().map_err(|e| CheckError::new("client", e.to_string()))?;
    let m = Method::from_bytes(method.as_bytes())
        .map_err(|_| CheckError::new("invalid-method", format!("cannot send method `{method}`")))?;
    let resp = client
        .send_with_body(&m, built.req.url(), &header_map(built)?, built.body.clone())
        .await
        .map_err(|e| CheckError::new("unreachable", e.to_string()))?;
    let status = resp.status.as_u16();
    d.sent = true;
    d.status = Some(status);
    match (protection::recognize(status, &resp.body), status) {
        (Some(code), _) => {
            d.delivered = Some(false);
            d.protection = Some(ProtectionJson {
                outcome: code,
                refused: true,
                explanation: String::from_utf8_lossy(&resp.body).trim_end().to_owned(),
            });
            d.explanation = format!(
                "refused with 403 by corsair's cross-origin protection ({code}): the {method} never reached the \
                 service behind the gateway"
            );
            d.fix = Some(
                "trust the page's origin in the covering policy's allow_origins, or exempt the path \
                 (protect_unsafe_requests_exempt) if it must accept cross-site POSTs by design"
                    .to_owned(),
            );
        }
        (None, 403) => {
            d.delivered = Some(false);
            d.explanation = "refused with 403: a cross-origin protection (Go's http.CrossOriginProtection, \
                             tower-http's CsrfLayer, a framework's CSRF check) or an authorization rule; not \
                             corsair's answer"
                .to_owned();
        }
        (None, _) => {
            d.delivered = Some(true);
            d.explanation = if safe {
                format!(
                    "answered {status}: a {method} is never refused by cross-origin protection (it must not change \
                     state); the page cannot read the answer"
                )
            } else {
                format!(
                    "answered {status}: the server accepted a {method} that a page of {} can send to it; the page \
                     cannot read the answer, but the service received the request. If it acts on cookies, it is \
                     open to cross-site request forgery",
                    built.req.origin()
                )
            };
        }
    }
    Ok(d)
}

impl Delivery {
    /// The human-readable verdict.
    pub(crate) fn text(&self) -> String {
        let mut out = format!(
            "corsair check: {} {} from origin {} (mode {}){}\n\n",
            self.request.method,
            self.request.url,
            self.request.origin,
            self.mode,
            if self.source == "policy" {
                " (offline, from the policy file)"
            } else {
                ""
            }
        );
        out.push_str(if self.sent {
            "  -> sent:\n"
        } else {
            "  the browser sends:\n"
        });
        for line in self.request.headers.iter() {
            out.push_str(&format!("       {}: {}\n", line.name, line.value));
        }
        if let Some(s) = self.status {
            out.push_str(&format!("  <- {s}\n"));
        }
        out.push('\n');
        let verdict = match self.delivered {
            Some(true) => "DELIVERED",
            Some(false) => "REFUSED",
            None => "NOT SENT",
        };
        out.push_str(&format!("{verdict}: {}\n", self.explanation));
        if let Some(f) = &self.fix {
            out.push_str(&format!("  fix: {f}\n"));
        }
        out
    }
}
