//! `corsair audit URL [--origin TRUSTED]... [--format text|json]`: probe a live endpoint for
//! dangerous CORS configurations.
//!
//! Every probe is a plain `GET` (with an `Origin` header) or an `OPTIONS` preflight; nothing
//! is ever sent that changes state. The probe origins follow the public research and
//! scanners (PortSwigger 2016, CORScanner, Corsy): look-alikes of the trusted origins
//! (prefix, suffix, unescaped regex dot, special characters, http twin, arbitrary
//! subdomain), origins anybody can obtain (`null`, an arbitrary site, shared hosting
//! platforms) and a preflight asking for a method and headers nobody would allow.
//!
//! A probe origin counts as *granted* when the response carries exactly one
//! `Access-Control-Allow-Origin` whose value is byte-for-byte the probe origin, i.e. when a
//! browser would pass the CORS check. `*` is not counted as a grant of a specific origin;
//! it only matters together with credentials (`wildcard-with-credentials`).
//!
//! # Severity rule
//!
//! *credentials* means the granting response also carries exactly
//! `Access-Control-Allow-Credentials: true`.
//!
//! | finding | high | medium | low |
//! |---|---|---|---|
//! | `reflect-any-origin`, `null-origin`, `prefix-match`, `suffix-match`, `unescaped-dot`, `special-chars`, `third-party-host` (origins anybody can obtain or register) | always | | |
//! | `insecure-scheme` (needs a network attacker) | with credentials | | without |
//! | `any-subdomain` (needs a foothold on a subdomain: XSS or a taken-over DNS name) | with credentials | | without |
//! | `preflight-reflects-anything` | granted to the untrusted origin itself | | only with `ACAO: *` |
//! | `wildcard-with-credentials` (browsers refuse the pair, so no credentials leak) | | always | |
//! | `missing-vary` | | an untrusted origin is echoed | only trusted origins are echoed |
//!
//! The rule: high when credentials come along or an attacker can obtain the origin, lower
//! otherwise. One refinement: `*` with credentials never actually sends credentials
//! (browsers refuse the pair), so it is medium.
//!
//! # Noise control
//!
//! One finding per id (the other granted origins of the same class are listed in
//! `also_granted`). Findings that follow from a broader one carry `implied_by`: every
//! look-alike class is implied by `reflect-any-origin`; `special-chars` is implied by
//! `prefix-match`; `any-subdomain` is implied by `suffix-match`. They are still reported
//! (and counted), but the text report lists them briefly at the end.
//!
//! # Output and exit status
//!
//! `--format json` prints `{"url", "target_origin", "trusted_origins", "findings": [{"id",
//! "severity", "probe_origin", "imitates", "request": {"method", "headers"},
//! "response_status", "response_headers", "credentials", "also_granted", "implied_by",
//! "explanation"}], "summary": {"total", "high", "medium", "low", "probes",
//! "failed_probes"}, "notes", "probe_errors"}`; `response_headers` holds the ACAO, ACAC,
//! ACAM, ACAH and `Vary` lines received (repeated lines joined with `, `). Exit status: 1
//! when any finding is high, 0 otherwise, 2 on an error (bad URL or `--origin`, target
//! unreachable, every probe failed), with `{"url", "error"}` on stdout for JSON.
//!
//! Trusted origins come from `--origin` (default: the target URL's own origin). Redirects
//! are not followed (a note says so). Probes run at most [`CONCURRENCY`] at a time, each
//! bounded by [`REQUEST_TIMEOUT`], all together by [`TOTAL_BUDGET`].

use std::collections::BTreeSet;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Uri};
use serde::Serialize;
use serde_json::json;

use crate::client::{self, Client, ClientError};
use crate::Format;

/// At most this many probes in flight.
const CONCURRENCY: usize = 6;
/// Per-request timeout.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Bound on the whole probe phase (after the first, reachability probe).
const TOTAL_BUDGET: Duration = Duration::from_secs(60);
/// Probe bodies are irrelevant; keep only a little.
const BODY_LIMIT: usize = 4 * 1024;

/// An origin nobody trusts on purpose (`.example` is reserved, so it is never a real site).
const ARBITRARY_ORIGIN: &str = "https://corsair-probe.evil.example";
/// The attacker's registrable domain used in look-alike probes.
const EVIL_DOMAIN: &str = "evil.net";
/// Label used for invented subdomains.
const PROBE_LABEL: &str = "corsair-probe";
/// The method asked for by the preflight probe: nobody allows it on purpose.
const PROBE_METHOD: &str = "CORSAIRPROBE";
/// The headers asked for by the preflight probe.
const PROBE_REQUEST_HEADERS: &str = "x-corsair-probe,authorization";
/// The custom header among [`PROBE_REQUEST_HEADERS`].
const PROBE_HEADER: &str = "x-corsair-probe";

/// Characters appended to a trusted host in `special-chars` probes (CORScanner's list;
/// `%60` is how Safari once encoded a backtick, see PortSwigger's research).
const SPECIAL_CHARS: &[&str] = &[
    "_", "-", "`", "%60", "!", "~", "{", "}", "\"", "'", "(", ")", "*", "+", ",", ";", "=", "$", "&", "|", "^",
];

/// Shared-hosting origins anybody can obtain by signing up.
const THIRD_PARTY_ORIGINS: &[&str] = &[
    "https://corsair-probe.github.io",
    "https://corsair-probe.gitlab.io",
    "https://corsair-probe.herokuapp.com",
    "https://corsair-probe.netlify.app",
    "https://corsair-probe.vercel.app",
    "https://corsair-probe.pages.dev",
    "https://corsair-probe.workers.dev",
    "https://corsair-probe.web.app",
    "https://corsair-probe.firebaseapp.com",
    "https://corsair-probe.glitch.me",
    "https://corsair-probe.ngrok-free.app",
    "https://corsair-probe.blogspot.com",
    "https://corsair-probe.s3.amazonaws.com",
    "https://storage.googleapis.com",
    "https://codepen.io",
    "https://cdpn.io",
    "https://jsfiddle.net",
    "https://fiddle.jshell.net",
    "https://jsbin.com",
    "http://jsbin.com",
];

// ---------------------------------------------------------------------------------------
// Origins
// ---------------------------------------------------------------------------------------

/// A tuple origin with an `http` or `https` scheme. The port is kept only when it is not
/// the scheme's default, so that [`Origin::serialize`] is the browser's serialization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    fn new(scheme: &str, host: &str, port: Option<u16>) -> Origin {
        let scheme = scheme.to_ascii_lowercase();
        let default = if scheme == "https" { 443 } else { 80 };
        Origin {
            host: host.to_ascii_lowercase(),
            port: port.filter(|&p| p != default),
            scheme,
        }
    }

    /// The origin of a request URL.
    fn of_url(uri: &Uri) -> Result<Origin, String> {
        let scheme = uri.scheme_str().ok_or("the URL has no scheme")?;
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(format!("unsupported scheme `{scheme}`"));
        }
        let host = uri.host().filter(|h| !h.is_empty()).ok_or("the URL has no host")?;
        Ok(Origin::new(scheme, host, uri.port_u16()))
    }

    /// Parse a `--origin` value: `scheme://host[:port]`, optionally with one trailing `/`.
    fn parse(text: &str) -> Result<Origin, String> {
        let text = text.trim();
        let bad = |why: &str| format!("invalid origin `{text}`: {why}");
        if text == "null" || text == "*" {
            return Err(bad("give the scheme://host[:port] of a site the server should trust"));
        }
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| bad("expected scheme://host[:port]"))?;
        if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
            return Err(bad("the scheme must be http or https"));
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() {
            return Err(bad("missing host"));
        }
        if rest.contains(['/', '?', '#', '@']) || rest.chars().any(|c| c.is_whitespace()) {
            return Err(bad("an origin has no path, query, fragment or user information"));
        }
        let uri: Uri = format!("{scheme}://{rest}/")
            .parse()
            .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
        if uri.authority().is_some_and(|a| a.as_str().ends_with(':')) {
            return Err(bad("empty port"));
        }
        Origin::of_url(&uri).map_err(|e| bad(&e))
    }

    fn serialize(&self) -> String {
        self.with_host(&self.host)
    }

    /// This origin's scheme and port around another host.
    fn with_host(&self, host: &str) -> String {
        match self.port {
            Some(p) => format!("{}://{}:{}", self.scheme, host, p),
            None => format!("{}://{}", self.scheme, host),
        }
    }

    fn is_ip(&self) -> bool {
        is_ip(&self.host)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.serialize())
    }
}

fn is_ip(host: &str) -> bool {
    host.starts_with('[') || host.parse::<Ipv4Addr>().is_ok() || host.parse::<Ipv6Addr>().is_ok()
}

/// The registrable domain ("eTLD+1") of a host, by the Public Suffix List
/// (the `psl` crate, which the engine also uses for `*.domain` patterns).
/// `None` for IP addresses, single-label hosts and hosts that are themselves a suffix.
pub(crate) fn registrable_domain(host: &str) -> Option<&str> {
    if is_ip(host) {
        return None;
    }
    let host = host.trim_end_matches('.');
    if host.split('.').any(str::is_empty) {
        return None;
    }
    psl::domain_str(host)
}

// ---------------------------------------------------------------------------------------
// Findings and probes
// ---------------------------------------------------------------------------------------

/// The finding ids, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Id {
    ReflectAnyOrigin,
    NullOrigin,
    PrefixMatch,
    SuffixMatch,
    UnescapedDot,
    SpecialChars,
    InsecureScheme,
    AnySubdomain,
    ThirdPartyHost,
    WildcardWithCredentials,
    MissingVary,
    PreflightReflectsAnything,
}

impl Id {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Id::ReflectAnyOrigin => "reflect-any-origin",
            Id::NullOrigin => "null-origin",
            Id::PrefixMatch => "prefix-match",
            Id::SuffixMatch => "suffix-match",
            Id::UnescapedDot => "unescaped-dot",
            Id::SpecialChars => "special-chars",
            Id::InsecureScheme => "insecure-scheme",
            Id::AnySubdomain => "any-subdomain",
            Id::ThirdPartyHost => "third-party-host",
            Id::WildcardWithCredentials => "wildcard-with-credentials",
            Id::MissingVary => "missing-vary",
            Id::PreflightReflectsAnything => "preflight-reflects-anything",
        }
    }

    /// The `GET` probe classes, each granted-origin check.
    const ORIGIN_CLASSES: [Id; 9] = [
        Id::ReflectAnyOrigin,
        Id::NullOrigin,
        Id::PrefixMatch,
        Id::SuffixMatch,
        Id::UnescapedDot,
        Id::SpecialChars,
        Id::InsecureScheme,
        Id::AnySubdomain,
        Id::ThirdPartyHost,
    ];
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// What a probe is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProbeKind {
    /// `GET` with a trusted origin: reachability, and the reference for `missing-vary`.
    Baseline,
    /// `GET` with an origin the server should not trust.
    Origin(Id),
    /// `OPTIONS` preflight from an untrusted origin asking for anything.
    Preflight,
}

/// One request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Probe {
    pub(crate) kind: ProbeKind,
    /// The `Origin` header value.
    pub(crate) origin: String,
    /// The trusted origin this probe imitates, if any.
    pub(crate) imitates: Option<String>,
}

impl Probe {
    fn method(&self) -> Method {
        match self.kind {
            ProbeKind::Preflight => Method::OPTIONS,
            _ => Method::GET,
        }
    }

    /// The headers sent (besides `Host`).
    fn headers(&self) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
        let origin = HeaderValue::from_str(&self.origin)
            .map_err(|_| format!("probe origin `{}` is not a valid header value", self.origin))?;
        let mut headers = vec![(header::ORIGIN, origin)];
        match self.kind {
            ProbeKind::Preflight => {
                headers.push((
                    header::ACCESS_CONTROL_REQUEST_METHOD,
                    HeaderValue::from_static(PROBE_METHOD),
                ));
                headers.push((
                    header::ACCESS_CONTROL_REQUEST_HEADERS,
                    HeaderValue::from_static(PROBE_REQUEST_HEADERS),
                ));
            }
            _ => headers.push((header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))),
        }
        headers.push((header::ACCEPT, HeaderValue::from_static("*/*")));
        headers.push((
            header::USER_AGENT,
            HeaderValue::from_static(concat!("corsair-audit/", env!("CARGO_PKG_VERSION"))),
        ));
        Ok(headers)
    }
}

/// All probes for a target, deduplicated, with the trusted origins' baselines first.
pub(crate) fn derive_probes(trusted: &[Origin]) -> Vec<Probe> {
    let trusted_set: BTreeSet<String> = trusted.iter().map(Origin::serialize).collect();
    let mut probes: Vec<Probe> = Vec::new();
    let mut push = |kind: ProbeKind, origin: String, imitates: Option<&Origin>| {
        let is_lookalike = !matches!(kind, ProbeKind::Baseline);
        if is_lookalike && trusted_set.contains(&origin) {
            return; // the user trusts it on purpose
        }
        let method_is_get = !matches!(kind, ProbeKind::Preflight);
        let duplicate = probes
            .iter()
            .any(|p| p.origin == origin && !matches!(p.kind, ProbeKind::Preflight) == method_is_get);
        if !duplicate {
            probes.push(Probe {
                kind,
                origin,
                imitates: imitates.map(Origin::serialize),
            });
        }
    };

    for t in trusted {
        push(ProbeKind::Baseline, t.serialize(), None);
    }
    push(
        ProbeKind::Origin(Id::ReflectAnyOrigin),
        ARBITRARY_ORIGIN.to_owned(),
        None,
    );
    push(ProbeKind::Origin(Id::NullOrigin), "null".to_owned(), None);

    for t in trusted {
        let host = t.host.as_str();
        // prefix-match: the trusted host followed by the attacker's domain
        push(
            ProbeKind::Origin(Id::PrefixMatch),
            t.with_host(&format!("{host}.{EVIL_DOMAIN}")),
            Some(t),
        );
        // suffix-match: "evil" glued in front of the registrable domain
        if let Some(reg) = registrable_domain(host) {
            push(
                ProbeKind::Origin(Id::SuffixMatch),
                t.with_host(&format!("evil{reg}")),
                Some(t),
            );
        }
        // unescaped-dot: the dot before the registrable domain replaced by `x`, which
        // yields a name the attacker can register (`www.example.com` -> `wwwxexample.com`)
        if let Some(h) = unescaped_dot_host(host) {
            push(ProbeKind::Origin(Id::UnescapedDot), t.with_host(&h), Some(t));
        }
        for c in SPECIAL_CHARS {
            push(
                ProbeKind::Origin(Id::SpecialChars),
                t.with_host(&format!("{host}{c}.{EVIL_DOMAIN}")),
                Some(t),
            );
        }
        if t.scheme == "https" {
            let twin = Origin::new("http", host, t.port);
            push(ProbeKind::Origin(Id::InsecureScheme), twin.serialize(), Some(t));
        }
        if !t.is_ip() {
            push(
                ProbeKind::Origin(Id::AnySubdomain),
                t.with_host(&format!("{PROBE_LABEL}.{host}")),
                Some(t),
            );
        }
    }
    for o in THIRD_PARTY_ORIGINS {
        push(ProbeKind::Origin(Id::ThirdPartyHost), (*o).to_owned(), None);
    }
    push(ProbeKind::Preflight, ARBITRARY_ORIGIN.to_owned(), None);
    probes
}

/// `sub.example.com` -> `subxexample.com`; `None` when the host has no label in front of
/// its registrable domain (replacing a dot inside the public suffix gives nothing an
/// attacker can register).
pub(crate) fn unescaped_dot_host(host: &str) -> Option<String> {
    let reg = registrable_domain(host)?;
    let sub = host.strip_suffix(reg)?.strip_suffix('.')?;
    if sub.is_empty() {
        return None;
    }
    Some(format!("{sub}x{reg}"))
}

// ---------------------------------------------------------------------------------------
// Evaluating responses
// ---------------------------------------------------------------------------------------

/// How a response treats the `Origin` it was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    /// No `Access-Control-Allow-Origin`.
    None,
    /// Exactly one ACAO, byte-equal to the request's `Origin`.
    Exact,
    /// Exactly one ACAO, `*`.
    Wildcard,
    /// Anything else (another origin, several values): a browser's check fails.
    Other,
}

fn grant(headers: &HeaderMap, origin: &str) -> Grant {
    let mut values = headers.get_all(header::ACCESS_CONTROL_ALLOW_ORIGIN).iter();
    let Some(first) = values.next() else {
        return Grant::None;
    };
    if values.next().is_some() {
        return Grant::Other;
    }
    if first.as_bytes() == origin.as_bytes() {
        Grant::Exact
    } else if first.as_bytes() == b"*" {
        Grant::Wildcard
    } else {
        Grant::Other
    }
}

/// Exactly one `Access-Control-Allow-Credentials: true` (what a browser requires).
fn credentials(headers: &HeaderMap) -> bool {
    let mut values = headers.get_all(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).iter();
    matches!((values.next(), values.next()), (Some(v), None) if v.as_bytes() == b"true")
}

/// Comma-separated tokens of every line of a header, trimmed, empty ones dropped.
fn tokens(headers: &HeaderMap, name: &HeaderName) -> Vec<String> {
    headers
        .get_all(name)
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn vary_covers_origin(headers: &HeaderMap) -> bool {
    tokens(headers, &header::VARY)
        .iter()
        .any(|t| t == "*" || t.eq_ignore_ascii_case("origin"))
}

/// The ACAO lines as one comparable value.
fn acao_signature(headers: &HeaderMap) -> Vec<Vec<u8>> {
    headers
        .get_all(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .iter()
        .map(|v| v.as_bytes().to_vec())
        .collect()
}

/// The CORS-relevant response headers, repeated lines joined with `, `.
fn relevant_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    [
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
        header::ACCESS_CONTROL_ALLOW_METHODS,
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        header::VARY,
    ]
    .iter()
    .filter_map(|name| {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        (!values.is_empty()).then(|| (name.as_str().to_owned(), values.join(", ")))
    })
    .collect()
}

/// The part of a response the analysis needs (so that it can be unit-tested without I/O).
#[derive(Debug, Clone)]
pub(crate) struct Observed {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
}

/// One reported problem.
#[derive(Debug, Clone)]
pub(crate) struct Finding {
    pub(crate) id: Id,
    pub(crate) severity: Severity,
    pub(crate) probe_origin: String,
    pub(crate) method: Method,
    pub(crate) request_headers: Vec<(String, String)>,
    pub(crate) status: u16,
    pub(crate) response_headers: Vec<(String, String)>,
    pub(crate) credentials: bool,
    pub(crate) imitates: Option<String>,
    pub(crate) also_granted: Vec<String>,
    pub(crate) implied_by: Option<Id>,
    pub(crate) explanation: String,
}

/// Context for the explanations.
struct Ctx<'a> {
    target: &'a Origin,
}

fn severity_for(id: Id, creds: bool) -> Severity {
    match id {
        Id::InsecureScheme if creds => Severity::High,
        Id::InsecureScheme => Severity::Low,
        Id::AnySubdomain if creds => Severity::High,
        Id::AnySubdomain => Severity::Low,
        Id::WildcardWithCredentials => Severity::Medium,
        _ => Severity::High,
    }
}

fn finding(id: Id, severity: Severity, probe: &Probe, obs: &Observed, explanation: String) -> Finding {
    let request_headers = probe
        .headers()
        .unwrap_or_default()
        .into_iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    Finding {
        id,
        severity,
        probe_origin: probe.origin.clone(),
        method: probe.method(),
        request_headers,
        status: obs.status,
        response_headers: relevant_headers(&obs.headers),
        credentials: credentials(&obs.headers),
        imitates: probe.imitates.clone(),
        also_granted: Vec::new(),
        implied_by: None,
        explanation,
    }
}

/// Turn the probe results into findings (pure; `results[i]` belongs to `probes[i]`,
/// `None` for probes that failed).
pub(crate) fn analyze(target: &Origin, probes: &[Probe], results: &[Option<Observed>]) -> Vec<Finding> {
    let ctx = Ctx { target };
    let done: Vec<(&Probe, &Observed)> = probes
        .iter()
        .zip(results)
        .filter_map(|(p, r)| r.as_ref().map(|r| (p, r)))
        .collect();
    let mut findings = Vec::new();

    // 1. origin classes: a specific untrusted origin granted
    for class in Id::ORIGIN_CLASSES {
        let hits: Vec<&(&Probe, &Observed)> = done
            .iter()
            .filter(|(p, o)| p.kind == ProbeKind::Origin(class) && grant(&o.headers, &p.origin) == Grant::Exact)
            .collect();
        // report the worst hit (credentials first), list the others
        let Some(best) = hits
            .iter()
            .find(|(_, o)| credentials(&o.headers))
            .or_else(|| hits.first())
        else {
            continue;
        };
        let (probe, obs) = (best.0, best.1);
        let creds = credentials(&obs.headers);
        let mut f = finding(
            class,
            severity_for(class, creds),
            probe,
            obs,
            explain(class, &ctx, probe, creds, &obs.headers),
        );
        f.also_granted = hits
            .iter()
            .filter(|(p, _)| p.origin != probe.origin)
            .map(|(p, _)| p.origin.clone())
            .collect();
        findings.push(f);
    }

    // 2. `*` together with credentials, on any GET response
    if let Some((probe, obs)) = done.iter().find(|(p, o)| {
        p.kind != ProbeKind::Preflight && grant(&o.headers, &p.origin) == Grant::Wildcard && credentials(&o.headers)
    }) {
        let id = Id::WildcardWithCredentials;
        findings.push(finding(
            id,
            severity_for(id, true),
            probe,
            obs,
            explain(id, &ctx, probe, true, &obs.headers),
        ));
    }

    // 3. ACAO that depends on Origin, without `Vary: Origin`
    let gets: Vec<&(&Probe, &Observed)> = done.iter().filter(|(p, _)| p.kind != ProbeKind::Preflight).collect();
    let signatures: BTreeSet<Vec<Vec<u8>>> = gets.iter().map(|(_, o)| acao_signature(&o.headers)).collect();
    let echoes_without_vary: Vec<&&(&Probe, &Observed)> = gets
        .iter()
        .filter(|(p, o)| grant(&o.headers, &p.origin) == Grant::Exact && !vary_covers_origin(&o.headers))
        .collect();
    if signatures.len() > 1 {
        let untrusted = echoes_without_vary.iter().find(|(p, _)| p.kind != ProbeKind::Baseline);
        let pick = untrusted.or_else(|| echoes_without_vary.first());
        if let Some((probe, obs)) = pick.map(|x| (x.0, x.1)) {
            let id = Id::MissingVary;
            let severity = if untrusted.is_some() {
                Severity::Medium
            } else {
                Severity::Low
            };
            let creds = credentials(&obs.headers);
            findings.push(finding(
                id,
                severity,
                probe,
                obs,
                explain(id, &ctx, probe, creds, &obs.headers),
            ));
        }
    }

    // 4. a preflight that approves whatever is asked
    for (probe, obs) in done.iter().filter(|(p, _)| p.kind == ProbeKind::Preflight) {
        if !(200..300).contains(&obs.status) {
            continue;
        }
        let g = grant(&obs.headers, &probe.origin);
        if !matches!(g, Grant::Exact | Grant::Wildcard) {
            continue;
        }
        let creds = credentials(&obs.headers);
        let star_counts = !creds;
        let methods = tokens(&obs.headers, &header::ACCESS_CONTROL_ALLOW_METHODS);
        let headers = tokens(&obs.headers, &header::ACCESS_CONTROL_ALLOW_HEADERS);
        let method_ok = methods.iter().any(|m| m == PROBE_METHOD || (star_counts && m == "*"));
        let header_ok = headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case(PROBE_HEADER) || (star_counts && h == "*"));
        if !(method_ok || header_ok) {
            continue;
        }
        let id = Id::PreflightReflectsAnything;
        let severity = if g == Grant::Exact {
            Severity::High
        } else {
            Severity::Low
        };
        findings.push(finding(
            id,
            severity,
            probe,
            obs,
            explain(id, &ctx, probe, creds, &obs.headers),
        ));
        break;
    }

    // 5. noise control: mark findings that follow from a broader one
    let fired: BTreeSet<Id> = findings.iter().map(|f| f.id).collect();
    for f in &mut findings {
        f.implied_by = match f.id {
            Id::PrefixMatch
            | Id::SuffixMatch
            | Id::UnescapedDot
            | Id::SpecialChars
            | Id::InsecureScheme
            | Id::AnySubdomain
            | Id::ThirdPartyHost
                if fired.contains(&Id::ReflectAnyOrigin) =>
            {
                Some(Id::ReflectAnyOrigin)
            }
            Id::SpecialChars if fired.contains(&Id::PrefixMatch) => Some(Id::PrefixMatch),
            Id::AnySubdomain if fired.contains(&Id::SuffixMatch) => Some(Id::SuffixMatch),
            _ => None,
        };
    }
    findings.sort_by(|a, b| {
        (a.implied_by.is_some(), std::cmp::Reverse(a.severity), a.id).cmp(&(
            b.implied_by.is_some(),
            std::cmp::Reverse(b.severity),
            b.id,
        ))
    });
    findings
}

/// One paragraph: what is wrong, why it is dangerous, how to fix it.
fn explain(id: Id, ctx: &Ctx<'_>, probe: &Probe, creds: bool, headers: &HeaderMap) -> String {
    let o = &probe.origin;
    let trusted = probe.imitates.as_deref().unwrap_or("the trusted origin");
    let with_creds = if creds {
        " together with `Access-Control-Allow-Credentials: true`"
    } else {
        ""
    };
    let read = if creds {
        "read this endpoint's responses with the victim's cookies and HTTP authentication \
         (account data, CSRF tokens, anything the victim can see)"
    } else {
        "read this endpoint's responses from inside the victim's browser; without credentials \
         that exposes what the victim's network position unlocks (intranet hosts, IP \
         allow-lists)"
    };
    let exact_fix = "compare the complete Origin string for equality against an allow-list \
                     of full origins (scheme, host and port), echo it only on a match, and send \
                     `Vary: Origin`";
    match id {
        Id::ReflectAnyOrigin => format!(
            "The server copied the arbitrary origin `{o}` into Access-Control-Allow-Origin{with_creds}, \
             so it trusts every web site: any page the victim visits can {read}. \
             Fix: {exact_fix}; never echo the request's Origin unconditionally. If the resource is \
             truly public and needs no credentials, send `Access-Control-Allow-Origin: *` instead."
        ),
        Id::NullOrigin => format!(
            "The server grants the origin `null`{with_creds}. Any site can make a browser send \
             `Origin: null` (a sandboxed iframe, a `data:` URL, some cross-origin redirects), so \
             trusting `null` lets any page the victim visits {read}. \
             Fix: remove `null` from the allow-list; it never identifies a party you can trust."
        ),
        Id::PrefixMatch => format!(
            "The server grants `{o}`, which merely starts with the trusted `{trusted}`{with_creds}. \
             The origin check is a prefix test (startsWith, or a regular expression without a \
             closing `$`); an attacker who registers `{EVIL_DOMAIN}` can serve a page from that \
             host and {read}. Fix: {exact_fix}."
        ),
        Id::SuffixMatch => format!(
            "The server grants `{o}`, an unrelated domain that merely ends with the trusted \
             domain{with_creds}. The origin check is a suffix test (endsWith, or a regular \
             expression without an anchored `^` and `\\.` boundary); anyone can register such a \
             name and {read}. Fix: {exact_fix}; if subdomains must be trusted, require the dot \
             boundary (`host == d || host.ends_with(\".\" + d)`) and prefer listing them."
        ),
        Id::UnescapedDot => format!(
            "The server grants `{o}`, which differs from the trusted `{trusted}` only in that a \
             dot became `x`{with_creds}. That is the mark of a regular expression with an \
             unescaped `.` (matching any character); anyone can register that name and {read}. \
             Fix: escape every dot (`\\.`) and anchor the pattern (`^...$`), or better, {exact_fix}."
        ),
        Id::SpecialChars => format!(
            "The server grants `{o}`: the trusted host followed by a special character and the \
             attacker's domain `{EVIL_DOMAIN}`{with_creds}. Its origin parser stops at a \
             character that is not valid in a host name, but browsers send such origins \
             (`_` and `-` everywhere, more characters such as `` ` `` or `{{` in Safari), so the \
             owner of `{EVIL_DOMAIN}` can {read}. Fix: do not tokenize or URL-parse the \
             Origin leniently; {exact_fix}."
        ),
        Id::InsecureScheme => {
            let note = if ctx.target.scheme == "http" {
                " (This target is itself served over plain http, so such an attacker can already \
                 read it directly: move it to https too.)"
            } else {
                ""
            };
            format!(
                "The server grants `{o}`, the plain-http twin of the trusted `{trusted}`{with_creds}. \
                 An attacker on the victim's network (public Wi-Fi, a rogue router) can inject a \
                 page into any http response from that host and, from that origin, {read}, undoing \
                 what TLS protects.{note} Fix: allow only `https://` origins, and enable HSTS on \
                 the trusted site."
            )
        }
        Id::AnySubdomain => {
            let risk = if creds {
                "read this endpoint with the victim's cookies"
            } else {
                "read this endpoint from the victim's browser (without credentials the risk \
                 is low)"
            };
            format!(
                "The server grants `{o}`, an arbitrary subdomain of the trusted `{trusted}`{with_creds}, \
                 so every subdomain is trusted. A cross-site scripting bug, a forgotten staging \
                 host or a dangling DNS record (subdomain takeover) on any one of them becomes a \
                 way to {risk}. Fix: list the subdomains that really need access instead of \
                 trusting a whole domain."
            )
        }
        Id::ThirdPartyHost => format!(
            "The server grants `{o}`, an origin on a shared hosting or code-playground platform \
             where anyone can publish pages{with_creds}. An attacker signs up, publishes a page \
             there and can {read}. Fix: remove shared-hosting origins and wildcards over them \
             (such as `*.github.io` or `*.herokuapp.com`) from the allow-list; trust only \
             origins you control."
        ),
        Id::WildcardWithCredentials => format!(
            "The response to `Origin: {o}` carries `Access-Control-Allow-Origin: *` together with \
             `Access-Control-Allow-Credentials: true`. Browsers refuse this pair, so credentialed \
             requests fail while every site can still read the response without credentials. \
             The server evidently means to share credentialed responses with everyone, and the \
             usual 'fix' (echoing the Origin) turns this into `reflect-any-origin`, the worst \
             case. Fix: for public data drop Access-Control-Allow-Credentials; for data behind \
             cookies {exact_fix}."
        ),
        Id::MissingVary => {
            let echoed_untrusted = probe.kind != ProbeKind::Baseline;
            let risk = if echoed_untrusted {
                "Because the server also echoes untrusted origins, an attacker can get a response \
                 naming their origin stored in a cache and served to others (cache poisoning)."
            } else {
                "The main effect is breakage: responses cached for one allowed origin fail the \
                 CORS check for another."
            };
            let vary = tokens(headers, &header::VARY);
            let vary_note = if vary.is_empty() {
                "has no `Vary` header".to_owned()
            } else {
                format!("has `Vary: {}` but not `Origin`", vary.join(", "))
            };
            format!(
                "Access-Control-Allow-Origin depends on the request's Origin (the response to \
                 `{o}` echoes it), but the response {vary_note}. Browser and shared caches may \
                 then store the response made for one origin and serve it to another. {risk} \
                 Fix: send `Vary: Origin` on every response whose CORS headers depend on the \
                 Origin, including the responses that omit them."
            )
        }
        Id::PreflightReflectsAnything => {
            let g = grant(headers, o);
            let who = if g == Grant::Exact {
                format!("the untrusted origin `{o}`")
            } else {
                "every origin (`*`)".to_owned()
            };
            let danger = if g == Grant::Exact && creds {
                "any site can send PUT, DELETE and custom-header requests (including \
                 `Authorization` and anti-CSRF headers) with the victim's cookies and read the \
                 answers"
            } else if g == Grant::Exact {
                "any site can send arbitrary methods and headers (including `Authorization`) \
                 from the victim's browser and read the answers"
            } else {
                "any site can send arbitrary methods and custom headers without credentials; \
                 harmless for a truly public API, but it is a blanket approval rather than a \
                 policy"
            };
            format!(
                "A preflight from {who} asking for the made-up method `{PROBE_METHOD}` and the \
                 headers `{PROBE_REQUEST_HEADERS}` was approved: the server echoes what the \
                 preflight asks for instead of checking it, so {danger}. Fix: answer \
                 preflights only for allow-listed origins, with a fixed list of methods and \
                 request headers."
            )
        }
    }
}

// ---------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------

/// The result of one audit run.
struct Report {
    url: String,
    target: Origin,
    trusted: Vec<Origin>,
    probes: usize,
    findings: Vec<Finding>,
    errors: Vec<(Probe, String)>,
    notes: Vec<String>,
}

/// The command entry point.
pub fn run(args: crate::AuditArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&args, &format!("could not start the async runtime: {e}")),
    };
    match runtime.block_on(audit(&args)) {
        Ok(report) => {
            match args.format {
                crate::Format::Text => out!("{}", render_text(&report)),
                crate::Format::Json => outln!("{}", render_json(&report)),
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

fn fail(args: &crate::AuditArgs, message: &str) -> ExitCode {
    eprintln!("corsair audit: error: {message}");
    if args.format == Format::Json {
        outln!("{}", json!({ "url": args.url, "error": message }));
    }
    ExitCode::from(2)
}

async fn audit(args: &crate::AuditArgs) -> Result<Report, String> {
    let uri = client::parse_url(&args.url).map_err(|e| e.to_string())?;
    let target = Origin::of_url(&uri).map_err(|e| format!("invalid URL `{}`: {e}", args.url))?;
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
    let probes = derive_probes(&trusted);
    let client = Client::new()
        .map_err(|e| e.to_string())?
        .with_timeout(REQUEST_TIMEOUT)
        .with_max_body(BODY_LIMIT);

    let mut raw: Vec<Option<Result<client::Response, String>>> = vec![None; probes.len()];
    // the first probe alone: if the target is unreachable, stop with an error
    let Some(first_probe) = probes.first() else {
        return Err("no probes to send".to_owned());
    };
    let first = send_probe(&client, &url, first_probe).await;
    if let Err(e) = &first {
        return Err(e.clone());
    }
    raw[0] = Some(first);

    let mut set = tokio::task::JoinSet::new();
    let limit = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    for (i, probe) in probes.iter().enumerate().skip(1) {
        let (client, url, probe, limit) = (client.clone(), url.clone(), probe.clone(), limit.clone());
        set.spawn(async move {
            let _permit = limit.acquire_owned().await;
            (i, send_probe(&client, &url, &probe).await)
        });
    }
    let deadline = tokio::time::sleep(TOTAL_BUDGET);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            next = set.join_next() => match next {
                None => break,
                Some(Ok((i, result))) => {
                    if let Some(slot) = raw.get_mut(i) {
                        *slot = Some(result);
                    }
                }
                Some(Err(e)) => tracing::debug!("probe task failed: {e}"),
            },
            () = &mut deadline => {
                set.abort_all();
                break;
            }
        }
    }

    let mut results: Vec<Option<Observed>> = Vec::with_capacity(probes.len());
    let mut errors = Vec::new();
    for (probe, r) in probes.iter().zip(raw) {
        match r {
            Some(Ok(resp)) => results.push(Some(Observed {
                status: resp.status.as_u16(),
                headers: resp.headers,
            })),
            Some(Err(e)) => {
                errors.push((probe.clone(), e));
                results.push(None);
            }
            None => {
                errors.push((
                    probe.clone(),
                    format!("not completed within the {} s audit budget", TOTAL_BUDGET.as_secs()),
                ));
                results.push(None);
            }
        }
    }
    if probes.len() > 1 && errors.len() == probes.len() - 1 {
        let why = errors.first().map(|(_, e)| e.as_str()).unwrap_or("unknown");
        return Err(format!("every probe after the first failed (e.g. {why})"));
    }

    let mut notes = Vec::new();
    for (probe, obs) in probes.iter().zip(&results) {
        if probe.kind != ProbeKind::Baseline {
            continue;
        }
        if let Some(obs) = obs {
            if (300..400).contains(&obs.status) {
                let location = obs
                    .headers
                    .get(header::LOCATION)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .unwrap_or_else(|| "(no Location)".to_owned());
                notes.push(format!(
                    "the target answered {} with Location: {location}; redirects are not                      followed, so audit the final URL too",
                    obs.status
                ));
            }
            match grant(&obs.headers, &probe.origin) {
                Grant::Exact | Grant::Wildcard => {}
                Grant::None => notes.push(format!(
                    "the trusted origin {} got no Access-Control-Allow-Origin (status {}); \
                     look-alike probes are only meaningful for an origin the server trusts, \
                     pass it with --origin",
                    probe.origin, obs.status
                )),
                Grant::Other => notes.push(format!(
                    "the trusted origin {} got an Access-Control-Allow-Origin a browser rejects: {}",
                    probe.origin,
                    relevant_headers(&obs.headers)
                        .first()
                        .map(|(_, v)| v.as_str())
                        .unwrap_or("")
                )),
            }
        }
    }

    let findings = analyze(&target, &probes, &results);
    Ok(Report {
        url,
        target,
        trusted,
        probes: probes.len(),
        findings,
        errors,
        notes,
    })
}

async fn send_probe(client: &Client, url: &str, probe: &Probe) -> Result<client::Response, String> {
    let headers = probe.headers()?;
    client
        .send(&probe.method(), url, &headers)
        .await
        .map_err(|e: ClientError| e.to_string())
}

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

/// Header pairs serialized as a JSON object, in their order.
struct Pairs<'a>(&'a [(String, String)]);

impl Serialize for Pairs<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    url: &'a str,
    target_origin: String,
    trusted_origins: Vec<String>,
    findings: Vec<JsonFinding<'a>>,
    summary: JsonSummary,
    notes: &'a [String],
    probe_errors: Vec<JsonProbeError<'a>>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    id: &'static str,
    severity: &'static str,
    probe_origin: &'a str,
    imitates: Option<&'a str>,
    request: JsonRequest<'a>,
    response_status: u16,
    response_headers: Pairs<'a>,
    credentials: bool,
    also_granted: &'a [String],
    implied_by: Option<&'static str>,
    explanation: &'a str,
}

#[derive(Serialize)]
struct JsonRequest<'a> {
    method: &'a str,
    headers: Pairs<'a>,
}

#[derive(Serialize)]
struct JsonSummary {
    total: usize,
    high: usize,
    medium: usize,
    low: usize,
    probes: usize,
    failed_probes: usize,
}

#[derive(Serialize)]
struct JsonProbeError<'a> {
    probe: &'static str,
    probe_origin: &'a str,
    error: &'a str,
}

fn counts(findings: &[Finding]) -> (usize, usize, usize) {
    let n = |s| findings.iter().filter(|f| f.severity == s).count();
    (n(Severity::High), n(Severity::Medium), n(Severity::Low))
}

fn render_json(r: &Report) -> String {
    let (high, medium, low) = counts(&r.findings);
    let doc = JsonReport {
        url: &r.url,
        target_origin: r.target.serialize(),
        trusted_origins: r.trusted.iter().map(Origin::serialize).collect(),
        findings: r
            .findings
            .iter()
            .map(|f| JsonFinding {
                id: f.id.as_str(),
                severity: f.severity.as_str(),
                probe_origin: &f.probe_origin,
                imitates: f.imitates.as_deref(),
                request: JsonRequest {
                    method: f.method.as_str(),
                    headers: Pairs(&f.request_headers),
                },
                response_status: f.status,
                response_headers: Pairs(&f.response_headers),
                credentials: f.credentials,
                also_granted: &f.also_granted,
                implied_by: f.implied_by.map(Id::as_str),
                explanation: &f.explanation,
            })
            .collect(),
        summary: JsonSummary {
            total: r.findings.len(),
            high,
            medium,
            low,
            probes: r.probes,
            failed_probes: r.errors.len(),
        },
        notes: &r.notes,
        probe_errors: r
            .errors
            .iter()
            .map(|(p, e)| JsonProbeError {
                probe: match p.kind {
                    ProbeKind::Baseline => "baseline",
                    ProbeKind::Origin(id) => id.as_str(),
                    ProbeKind::Preflight => Id::PreflightReflectsAnything.as_str(),
                },
                probe_origin: &p.origin,
                error: e,
            })
            .collect(),
    };
    serde_json::to_string_pretty(&doc)
        .unwrap_or_else(|e| json!({ "url": r.url, "error": format!("could not render JSON: {e}") }).to_string())
}

/// Greedy word wrap of one paragraph.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

fn render_text(r: &Report) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let trusted: Vec<String> = r.trusted.iter().map(Origin::serialize).collect();
    let _ = writeln!(s, "corsair audit {}", r.url);
    let _ = writeln!(s, "  target origin:   {}", r.target);
    let _ = writeln!(s, "  trusted origins: {}", trusted.join(", "));
    let _ = writeln!(s, "  probes:          {} sent, {} failed", r.probes, r.errors.len());
    for note in &r.notes {
        s.push('\n');
        s.push_str(&wrap(&format!("note: {note}"), 86, "  "));
    }

    let main: Vec<&Finding> = r.findings.iter().filter(|f| f.implied_by.is_none()).collect();
    for f in &main {
        s.push('\n');
        let _ = writeln!(s, "[{}] {}", f.severity.as_str().to_ascii_uppercase(), f.id);
        let _ = writeln!(s, "  probe origin: {}", f.probe_origin);
        if let Some(t) = &f.imitates {
            let _ = writeln!(s, "  imitates:     {t}");
        }
        let _ = writeln!(s, "  request:      {} {}", f.method, r.url);
        for (k, v) in &f.request_headers {
            if k == "origin" || k.starts_with("access-control-") {
                let _ = writeln!(s, "                {k}: {v}");
            }
        }
        let _ = writeln!(s, "  response:     {}", f.status);
        if f.response_headers.is_empty() {
            let _ = writeln!(s, "                (no CORS headers)");
        }
        for (k, v) in &f.response_headers {
            let _ = writeln!(s, "                {k}: {v}");
        }
        if !f.also_granted.is_empty() {
            let _ = writeln!(s, "  also granted: {}", f.also_granted.join(", "));
        }
        s.push_str(&wrap(&f.explanation, 86, "  "));
    }
    let implied: Vec<&Finding> = r.findings.iter().filter(|f| f.implied_by.is_some()).collect();
    if !implied.is_empty() {
        s.push('\n');
        let _ = writeln!(s, "Also firing, with the same root cause as a finding above:");
        for f in implied {
            let _ = writeln!(
                s,
                "  [{}] {} (implied by {}): {}",
                f.severity.as_str().to_ascii_uppercase(),
                f.id,
                f.implied_by.map(Id::as_str).unwrap_or(""),
                f.probe_origin
            );
        }
    }
    if !r.errors.is_empty() {
        s.push('\n');
    }
    const SHOWN_ERRORS: usize = 5;
    for (p, e) in r.errors.iter().take(SHOWN_ERRORS) {
        let _ = writeln!(s, "probe failed (Origin: {}): {e}", p.origin);
    }
    if r.errors.len() > SHOWN_ERRORS {
        let _ = writeln!(
            s,
            "... and {} more failed probes (see --format json)",
            r.errors.len() - SHOWN_ERRORS
        );
    }
    s.push('\n');
    let (high, medium, low) = counts(&r.findings);
    if r.findings.is_empty() {
        let _ = writeln!(s, "summary: no findings");
    } else {
        let _ = writeln!(
            s,
            "summary: {} finding{}: {high} high, {medium} medium, {low} low",
            r.findings.len(),
            if r.findings.len() == 1 { "" } else { "s" }
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(s: &str) -> Origin {
        Origin::parse(s).unwrap()
    }

    fn probes_of(probes: &[Probe], id: Id) -> Vec<String> {
        probes
            .iter()
            .filter(|p| p.kind == ProbeKind::Origin(id))
            .map(|p| p.origin.clone())
            .collect()
    }

    #[test]
    fn target_origin_from_url() {
        let o = |u: &str| Origin::of_url(&u.parse::<Uri>().unwrap()).unwrap().serialize();
        assert_eq!(o("https://API.Example.com/v1/users?x=1"), "https://api.example.com");
        assert_eq!(o("https://example.com:443/"), "https://example.com");
        assert_eq!(o("http://example.com:80"), "http://example.com");
        assert_eq!(o("http://127.0.0.1:8080/x"), "http://127.0.0.1:8080");
        assert_eq!(o("https://example.com:8443/"), "https://example.com:8443");
        assert_eq!(o("http://[::1]:3000/"), "http://[::1]:3000");
    }

    #[test]
    fn trusted_origin_parsing() {
        assert_eq!(origin("https://Example.COM/").serialize(), "https://example.com");
        assert_eq!(origin("http://localhost:3000").serialize(), "http://localhost:3000");
        for bad in [
            "example.com",
            "null",
            "*",
            "ftp://example.com",
            "https://example.com/path",
            "https://example.com?q",
            "https://user@example.com",
            "https://",
            "https://example.com:",
            "https://exa mple.com",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable_domain("example.com"), Some("example.com"));
        assert_eq!(registrable_domain("www.example.com"), Some("example.com"));
        assert_eq!(registrable_domain("a.b.example.co.uk"), Some("example.co.uk"));
        assert_eq!(registrable_domain("me.github.io"), Some("me.github.io"));
        assert_eq!(registrable_domain("co.uk"), None);
        assert_eq!(registrable_domain("localhost"), None);
        assert_eq!(registrable_domain("127.0.0.1"), None);
        assert_eq!(registrable_domain("[::1]"), None);
    }

    #[test]
    fn unescaped_dot_hosts() {
        assert_eq!(
            unescaped_dot_host("www.example.com").as_deref(),
            Some("wwwxexample.com")
        );
        assert_eq!(
            unescaped_dot_host("api.www.example.co.uk").as_deref(),
            Some("api.wwwxexample.co.uk")
        );
        assert_eq!(unescaped_dot_host("example.com"), None);
        assert_eq!(unescaped_dot_host("10.0.0.1"), None);
    }

    #[test]
    fn probes_for_www_example_com() {
        let t = origin("https://www.example.com");
        let probes = derive_probes(std::slice::from_ref(&t));
        assert_eq!(probes[0].kind, ProbeKind::Baseline);
        assert_eq!(probes[0].origin, "https://www.example.com");
        assert_eq!(
            probes_of(&probes, Id::ReflectAnyOrigin),
            ["https://corsair-probe.evil.example"]
        );
        assert_eq!(probes_of(&probes, Id::NullOrigin), ["null"]);
        assert_eq!(
            probes_of(&probes, Id::PrefixMatch),
            ["https://www.example.com.evil.net"]
        );
        assert_eq!(probes_of(&probes, Id::SuffixMatch), ["https://evilexample.com"]);
        assert_eq!(probes_of(&probes, Id::UnescapedDot), ["https://wwwxexample.com"]);
        assert_eq!(probes_of(&probes, Id::InsecureScheme), ["http://www.example.com"]);
        assert_eq!(
            probes_of(&probes, Id::AnySubdomain),
            ["https://corsair-probe.www.example.com"]
        );
        let special = probes_of(&probes, Id::SpecialChars);
        for want in [
            "https://www.example.com_.evil.net",
            "https://www.example.com-.evil.net",
            "https://www.example.com`.evil.net",
            "https://www.example.com%60.evil.net",
            "https://www.example.com!.evil.net",
            "https://www.example.com{.evil.net",
            "https://www.example.com}.evil.net",
        ] {
            assert!(special.iter().any(|s| s == want), "missing {want}");
        }
        let third = probes_of(&probes, Id::ThirdPartyHost);
        assert!(third.iter().any(|s| s == "https://corsair-probe.github.io"));
        assert!(third.iter().any(|s| s == "https://codepen.io"));
        assert!(third.iter().any(|s| s == "https://jsfiddle.net"));
        let pre: Vec<&Probe> = probes.iter().filter(|p| p.kind == ProbeKind::Preflight).collect();
        assert_eq!(pre.len(), 1);
        assert_eq!(pre[0].method(), Method::OPTIONS);
        // every probe origin must be sendable as a header value
        for p in &probes {
            assert!(p.headers().is_ok(), "{}", p.origin);
        }
    }

    #[test]
    fn probes_keep_ports_and_skip_meaningless_ones() {
        let t = origin("http://127.0.0.1:8080");
        let probes = derive_probes(std::slice::from_ref(&t));
        assert_eq!(probes_of(&probes, Id::PrefixMatch), ["http://127.0.0.1.evil.net:8080"]);
        assert!(probes_of(&probes, Id::SuffixMatch).is_empty());
        assert!(probes_of(&probes, Id::UnescapedDot).is_empty());
        assert!(probes_of(&probes, Id::AnySubdomain).is_empty());
        assert!(probes_of(&probes, Id::InsecureScheme).is_empty()); // already http

        let t = origin("https://app.example.com:8443");
        let probes = derive_probes(std::slice::from_ref(&t));
        assert_eq!(probes_of(&probes, Id::InsecureScheme), ["http://app.example.com:8443"]);
        assert_eq!(probes_of(&probes, Id::SuffixMatch), ["https://evilexample.com:8443"]);
    }

    #[test]
    fn trusted_origins_are_never_probes() {
        let a = origin("https://example.com");
        let b = origin("http://example.com");
        let c = origin("https://codepen.io");
        let probes = derive_probes(&[a, b, c]);
        // http://example.com is trusted explicitly, so only codepen's twin is probed
        assert_eq!(probes_of(&probes, Id::InsecureScheme), ["http://codepen.io"]);
        assert!(!probes_of(&probes, Id::ThirdPartyHost).contains(&"https://codepen.io".to_owned()));
        // no duplicate (method, origin) pairs
        let mut seen = BTreeSet::new();
        for p in &probes {
            assert!(seen.insert((p.method().to_string(), p.origin.clone())), "{}", p.origin);
        }
    }

    fn obs(status: u16, pairs: &[(&str, &str)]) -> Option<Observed> {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        Some(Observed { status, headers })
    }

    /// Simulate a server over the derived probes.
    fn simulate(trusted: &str, server: impl Fn(&Probe) -> Option<Observed>) -> Vec<Finding> {
        let t = origin(trusted);
        let probes = derive_probes(std::slice::from_ref(&t));
        let results: Vec<Option<Observed>> = probes.iter().map(server).collect();
        analyze(&t, &probes, &results)
    }

    #[test]
    fn correct_allow_list_has_no_findings() {
        let f = simulate("https://example.com", |p| {
            if p.origin == "https://example.com" {
                obs(
                    200,
                    &[
                        ("access-control-allow-origin", "https://example.com"),
                        ("access-control-allow-credentials", "true"),
                        ("vary", "Origin"),
                    ],
                )
            } else {
                obs(200, &[("vary", "Origin")])
            }
        });
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn reflection_marks_lookalikes_as_implied() {
        let f = simulate("https://www.example.com", |p| {
            obs(
                200,
                &[
                    ("access-control-allow-origin", &p.origin),
                    ("access-control-allow-credentials", "true"),
                    ("vary", "Origin"),
                ],
            )
        });
        let reflect = f.iter().find(|f| f.id == Id::ReflectAnyOrigin).unwrap();
        assert_eq!(reflect.severity, Severity::High);
        assert!(reflect.credentials);
        assert_eq!(reflect.implied_by, None);
        let prefix = f.iter().find(|f| f.id == Id::PrefixMatch).unwrap();
        assert_eq!(prefix.implied_by, Some(Id::ReflectAnyOrigin));
        let null = f.iter().find(|f| f.id == Id::NullOrigin).unwrap();
        assert_eq!(null.implied_by, None);
        assert!(!f.iter().any(|f| f.id == Id::MissingVary));
        // implied findings sort last
        let first_implied = f.iter().position(|f| f.implied_by.is_some()).unwrap();
        assert!(f[first_implied..].iter().all(|f| f.implied_by.is_some()));
    }

    #[test]
    fn wildcard_alone_is_not_a_finding_but_with_credentials_is() {
        let f = simulate("https://example.com", |_| {
            obs(200, &[("access-control-allow-origin", "*")])
        });
        assert!(f.is_empty(), "{f:?}");
        let f = simulate("https://example.com", |_| {
            obs(
                200,
                &[
                    ("access-control-allow-origin", "*"),
                    ("access-control-allow-credentials", "true"),
                ],
            )
        });
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].id, Id::WildcardWithCredentials);
        assert_eq!(f[0].severity, Severity::Medium);
    }

    #[test]
    fn two_acao_lines_are_not_a_grant() {
        let f = simulate("https://example.com", |p| {
            obs(
                200,
                &[
                    ("access-control-allow-origin", &p.origin),
                    ("access-control-allow-origin", &p.origin),
                    ("vary", "Origin"),
                ],
            )
        });
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn static_acao_without_vary_is_fine() {
        let f = simulate("https://example.com", |_| {
            obs(200, &[("access-control-allow-origin", "https://example.com")])
        });
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn missing_vary_severity() {
        let f = simulate("https://example.com", |p| {
            if p.origin == "https://example.com" {
                obs(200, &[("access-control-allow-origin", "https://example.com")])
            } else {
                obs(200, &[])
            }
        });
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].id, f[0].severity), (Id::MissingVary, Severity::Low));
    }

    #[test]
    fn preflight_with_star_without_credentials_is_low() {
        let f = simulate("https://example.com", |p| {
            if p.kind == ProbeKind::Preflight {
                obs(
                    204,
                    &[
                        ("access-control-allow-origin", "*"),
                        ("access-control-allow-methods", "*"),
                        ("access-control-allow-headers", "*"),
                    ],
                )
            } else {
                obs(200, &[])
            }
        });
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].id, f[0].severity), (Id::PreflightReflectsAnything, Severity::Low));
    }

    #[test]
    fn severity_rule() {
        assert_eq!(severity_for(Id::ReflectAnyOrigin, false), Severity::High);
        assert_eq!(severity_for(Id::ThirdPartyHost, false), Severity::High);
        assert_eq!(severity_for(Id::InsecureScheme, true), Severity::High);
        assert_eq!(severity_for(Id::InsecureScheme, false), Severity::Low);
        assert_eq!(severity_for(Id::AnySubdomain, true), Severity::High);
        assert_eq!(severity_for(Id::AnySubdomain, false), Severity::Low);
        assert_eq!(severity_for(Id::WildcardWithCredentials, true), Severity::Medium);
    }

    #[test]
    fn wrap_keeps_words() {
        let w = wrap("aaa bbb ccc ddd", 7, "> ");
        assert_eq!(w, "> aaa bbb\n> ccc ddd\n");
    }
}
