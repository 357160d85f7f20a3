//! Property tests of the engine's security invariants, over generated
//! policies and generated (mostly hostile) requests.
//!
//! Every allow/deny expectation is computed by a deliberately naive reference
//! written here from the spec (issue 2), by plain string operations on the
//! configured patterns — never by asking the engine.
//!
//! Invariants:
//! - (a) no `Access-Control-Allow-Origin` for an origin the reference denies
//!   (preflight answers, and `apply` on actual and non-CORS responses);
//! - (b) never `ACAO: *` together with `ACAC: true`;
//! - (c) `Vary` names `Origin` (or is `*`) on every response of a non-public
//!   policy;
//! - (d) a rejected preflight is 403 without any `access-control-*` header
//!   (debug off);
//! - (e) `Policy::allows_origin` agrees with the reference matcher;
//! - (f) `evaluate` / `preflight_response` / `apply` never panic, whatever
//!   the header bytes;
//! - (g) upstream `access-control-*` headers never survive `apply`;
//! - plus soundness of accepted preflights (nothing is granted that the
//!   policy does not list) and liveness (an allowed origin is answered).

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use proptest::prelude::*;
use proptest::sample::select;

use corsair::{Decision, Policy, PolicyConfig, RequestKind};

// ---------------------------------------------------------------------------
// Generated policies
// ---------------------------------------------------------------------------

/// Registrable domains (none is a public suffix) the generated policies use.
const DOMAINS: &[&str] = &[
    "example.com",
    "example.co.uk",
    "api.example.org",
    "corp-1.example.net",
    "a_b.example.io",
    "xn--bcher-kva.example",
    "localhost",
    "dev.localhost",
];

/// Hosts for exact and any-port patterns that are not domains.
const IP_HOSTS: &[&str] = &["127.0.0.1", "127.8.9.10", "[::1]", "10.0.0.7"];

const METHODS: &[&str] = &["PUT", "DELETE", "PATCH", "patch", "purge", "OPTIONS", "GET", "X-Custom"];
const HEADERS: &[&str] = &["content-type", "x-request-id", "authorization", "X-Api-Key", "x_under"];
const EXPOSE: &[&str] = &["x-request-id", "etag", "X-Total"];

/// A policy as configured, kept alongside the compiled one so the reference
/// can read the configuration directly.
#[derive(Debug, Clone)]
struct Gen {
    origins: Vec<String>,
    methods: Vec<String>,
    headers: Vec<String>,
    expose: Vec<String>,
    credentials: bool,
    max_age: Option<i64>,
    private_network: bool,
    insecure: bool,
    debug: bool,
}

impl Gen {
    fn config(&self) -> PolicyConfig {
        let mut c = PolicyConfig::new()
            .allow_origins(self.origins.clone())
            .allow_methods(self.methods.clone())
            .allow_headers(self.headers.clone())
            .expose_headers(self.expose.clone())
            .allow_credentials(self.credentials)
            .allow_private_network(self.private_network)
            .allow_insecure_origins(self.insecure)
            .debug(self.debug);
        if let Some(n) = self.max_age {
            c = c.max_age(n);
        }
        c
    }

    fn build(&self) -> Policy {
        match self.config().build() {
            Ok(p) => p,
            Err(e) => panic!("a sound generated policy was refused: {e}\n{self:#?}"),
        }
    }

    fn is_public(&self) -> bool {
        self.origins.iter().any(|o| o == "*")
    }
}

fn default_port(scheme: &str) -> u16 {
    if scheme == "https" {
        443
    } else {
        80
    }
}

fn non_default_port(scheme: &'static str) -> impl Strategy<Value = u16> {
    prop_oneof![select(vec![3000u16, 8080, 8443, 1, 65535, 443, 80]), 1u16..=65535,].prop_map(move |p| {
        if p == default_port(scheme) {
            8443
        } else {
            p
        }
    })
}

#[derive(Debug, Clone, Copy)]
enum PortChoice {
    Default,
    Port(u16),
    Any,
}

fn port_choice(scheme: &'static str) -> impl Strategy<Value = PortChoice> {
    prop_oneof![
        3 => Just(PortChoice::Default),
        2 => non_default_port(scheme).prop_map(PortChoice::Port),
        1 => Just(PortChoice::Any),
    ]
}

fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        select(vec!["app", "a", "www", "x-1", "eu_west", "0", "xn--p1ai"]).prop_map(str::to_owned),
        "[a-z0-9][a-z0-9_-]{0,10}",
    ]
}

/// One `allow_origins` entry (never `*`).
fn pattern() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![3 => Just("https"), 1 => Just("http")];
    scheme.prop_flat_map(|scheme| {
        let exact_host = prop_oneof![
            3 => select(DOMAINS).prop_map(str::to_owned),
            2 => (label(), select(DOMAINS)).prop_map(|(l, d)| format!("{l}.{d}")),
            1 => select(IP_HOSTS).prop_map(str::to_owned),
        ];
        prop_oneof![
            // Exact, or any-port when the port choice is `*`.
            4 => (exact_host, port_choice(scheme)).prop_map(move |(h, p)| match p {
                PortChoice::Default => format!("{scheme}://{h}"),
                PortChoice::Port(n) => format!("{scheme}://{h}:{n}"),
                PortChoice::Any => format!("{scheme}://{h}:*"),
            }),
            // Subdomains of a registrable domain.
            3 => (select(DOMAINS), port_choice(scheme)).prop_map(move |(d, p)| match p {
                PortChoice::Default => format!("{scheme}://*.{d}"),
                PortChoice::Port(n) => format!("{scheme}://*.{d}:{n}"),
                PortChoice::Any => format!("{scheme}://*.{d}:*"),
            }),
        ]
    })
}

fn is_loopback_pattern(p: &str) -> bool {
    let rest = p.split_once("://").map_or(p, |(_, r)| r);
    let host = if rest.starts_with('[') {
        &rest[..rest.find(']').map_or(rest.len(), |i| i + 1)]
    } else {
        rest.split(':').next().unwrap_or(rest)
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host.starts_with("127.")
        || host == "[::1]"
        || host == "*.localhost"
}

fn subset(pool: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(pool, 0..=pool.len()).prop_map(|v| v.into_iter().map(str::to_owned).collect())
}

fn gen_policy() -> impl Strategy<Value = Gen> {
    (
        any::<bool>(),                                  // credentials
        prop_oneof![8 => Just(false), 1 => Just(true)], // public
        proptest::collection::vec(pattern(), 1..6),
        (subset(METHODS), any::<bool>()),
        (subset(HEADERS), any::<bool>()),
        (subset(EXPOSE), any::<bool>()),
        proptest::option::of(prop_oneof![Just(0i64), Just(86_400), 0i64..=86_400]),
        (
            any::<bool>(),
            any::<bool>(),
            prop_oneof![4 => Just(false), 1 => Just(true)],
        ),
    )
        .prop_map(
            |(
                credentials,
                public,
                patterns,
                (mut methods, mstar),
                (mut headers, hstar),
                (mut expose, estar),
                max_age,
                (pna, insecure_flag, debug),
            )| {
                let public = public && !credentials;
                let mut origins: Vec<String> = Vec::new();
                if public {
                    origins.push("*".into());
                } else {
                    for p in patterns {
                        if !origins.contains(&p) {
                            origins.push(p);
                        }
                    }
                }
                let insecure = insecure_flag
                    || origins
                        .iter()
                        .any(|o| o.starts_with("http://") && !is_loopback_pattern(o));
                if !credentials {
                    if mstar {
                        methods.push("*".into());
                    }
                    if hstar {
                        headers.push("*".into());
                    }
                    if estar {
                        expose.push("*".into());
                    }
                }
                Gen {
                    origins,
                    methods,
                    headers,
                    expose,
                    credentials,
                    max_age,
                    private_network: pna,
                    insecure,
                    debug,
                }
            },
        )
}

// ---------------------------------------------------------------------------
// The naive reference
// ---------------------------------------------------------------------------

/// A canonical, explicitly written, non-default port.
fn ref_port_ok(p: &str, scheme: &str) -> Option<u16> {
    if p.is_empty() || p.len() > 5 || p.starts_with('0') || !p.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let n: u32 = p.parse().ok()?;
    if n == 0 || n > 65535 || n == u32::from(default_port(scheme)) {
        return None;
    }
    Some(n as u16)
}

fn ref_label_ok(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Whether one configured pattern admits `origin`, by naive string work.
fn ref_pattern_allows(pattern: &str, origin: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if origin == "null" {
        return false;
    }
    if let Some((scheme, rest)) = pattern.split_once("://*.") {
        // `scheme://*.domain[:port|:*]`
        let (domain, pport) = match rest.split_once(':') {
            Some((d, p)) => (d, Some(p)),
            None => (rest, None),
        };
        let Some(orest) = origin.strip_prefix(&format!("{scheme}://")) else {
            return false;
        };
        if orest.contains('[') {
            return false;
        }
        let parts: Vec<&str> = orest.split(':').collect();
        let (host, oport) = match parts.as_slice() {
            [h] => (*h, None),
            [h, p] => (*h, Some(*p)),
            _ => return false,
        };
        let port_ok = match (pport, oport) {
            (_, Some(p)) if ref_port_ok(p, scheme).is_none() => false,
            (Some("*"), _) => true,
            (None, None) => true,
            (Some(pp), Some(op)) => pp == op,
            _ => false,
        };
        let suffix = ".".to_owned() + domain;
        return port_ok && host.ends_with(&suffix) && host.split('.').all(ref_label_ok);
    }
    if let Some(base) = pattern.strip_suffix(":*") {
        // `scheme://host:*`
        if origin == base {
            return true;
        }
        let scheme = base.split("://").next().unwrap_or("");
        return origin
            .strip_prefix(base)
            .and_then(|r| r.strip_prefix(':'))
            .is_some_and(|p| ref_port_ok(p, scheme).is_some());
    }
    pattern == origin
}

/// Whether the policy admits the origin (an allowed CORS request).
fn ref_allows(g: &Gen, origin: &str) -> bool {
    g.origins.iter().any(|p| ref_pattern_allows(p, origin))
}

/// What `Policy::allows_origin` should say: a public (`*`) policy answers
/// `*` to everyone, `null` included; any other policy never allows `null`.
fn ref_allows_origin(g: &Gen, origin: &str) -> bool {
    g.origins.iter().any(|p| p == "*") || (origin != "null" && ref_allows(g, origin))
}

const NORMALIZED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];

fn ref_method_allowed(g: &Gen, m: &str) -> bool {
    if matches!(m, "GET" | "HEAD" | "POST") || g.methods.iter().any(|x| x == "*") {
        return true;
    }
    g.methods.iter().any(|x| {
        let norm = NORMALIZED
            .iter()
            .find(|n| n.eq_ignore_ascii_case(x))
            .map_or(x.as_str(), |n| n);
        norm == m
    })
}

fn ref_header_allowed(g: &Gen, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let listed = |n: &str| g.headers.iter().any(|h| h.eq_ignore_ascii_case(n));
    listed(&lower) || (listed("*") && (lower != "authorization" || listed("authorization")))
}

/// The names a browser-style reading of the ACRH lines yields.
fn ref_acrh_names(lines: &[Vec<u8>]) -> Vec<String> {
    let mut out = Vec::new();
    for l in lines {
        for e in String::from_utf8_lossy(l).split(',') {
            let e = e.trim_matches([' ', '\t']);
            if !e.is_empty() {
                out.push(e.to_ascii_lowercase());
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Generated requests
// ---------------------------------------------------------------------------

/// Origins that a policy's patterns admit (before any mutation), and a few
/// that it probably does not.
fn seeds(g: &Gen) -> (Vec<String>, Vec<String>) {
    let mut admitted = Vec::new();
    let mut others = vec![
        "https://example.com".to_owned(),
        "https://evil.example".to_owned(),
        "http://localhost:3000".to_owned(),
    ];
    for p in &g.origins {
        if p == "*" {
            continue;
        }
        if let Some((scheme, rest)) = p.split_once("://*.") {
            let (domain, port) = match rest.split_once(':') {
                Some((d, "*")) => (d, ":8443".to_owned()),
                Some((d, n)) => (d, format!(":{n}")),
                None => (rest, String::new()),
            };
            admitted.push(format!("{scheme}://a.{domain}{port}"));
            admitted.push(format!("{scheme}://x-1.eu_west.{domain}{port}"));
            others.push(format!("{scheme}://{domain}{port}"));
            if rest.ends_with(":*") {
                admitted.push(format!("{scheme}://b.{domain}"));
            }
        } else if let Some(base) = p.strip_suffix(":*") {
            admitted.push(base.to_owned());
            admitted.push(format!("{base}:3000"));
        } else {
            admitted.push(p.clone());
        }
    }
    if admitted.is_empty() {
        admitted.push("https://app.example.com".to_owned());
    }
    (admitted, others)
}

/// Where the host sits in an origin-ish string.
fn host_range(s: &str) -> (usize, usize) {
    let start = s.find("://").map_or(0, |i| i + 3);
    let rest = &s[start..];
    let len = if rest.starts_with('[') {
        rest.find(']').map_or(rest.len(), |i| i + 1)
    } else {
        rest.find([':', '/']).unwrap_or(rest.len())
    };
    (start, start + len)
}

/// Mutates an origin towards look-alikes, non-canonical forms and garbage.
fn mutate(s: &str, kind: u8, param: u32, junk: &[u8]) -> Vec<u8> {
    let (hs, he) = host_range(s);
    let mut s = s.to_owned();
    match kind {
        0 => {}
        1 => s.insert_str(hs, "evil"),
        2 => s.insert_str(he, ".evil.net"),
        3 => {
            let schemes = ["http", "https", "wss", "chrome-extension", "HTTPS", "file", ""];
            let rest = s.split_once("://").map_or(s.as_str(), |(_, r)| r).to_owned();
            s = format!("{}://{rest}", schemes[param as usize % schemes.len()]);
        }
        4 => {
            let ports = [
                String::new(),
                ":".to_owned(),
                ":443".to_owned(),
                ":80".to_owned(),
                ":0".to_owned(),
                ":08443".to_owned(),
                ":65536".to_owned(),
                ":+1".to_owned(),
                format!(":{}", param % 70_000),
            ];
            let p = &ports[(param / 7) as usize % ports.len()];
            let end = s[he..].find('/').map_or(s.len(), |i| he + i);
            s.replace_range(he..end, p);
        }
        5 => {
            if param % 2 == 0 {
                s = s.to_ascii_uppercase();
            } else if he > hs {
                let i = hs + param as usize % (he - hs);
                let mut b = s.into_bytes();
                b[i] = b[i].to_ascii_uppercase();
                return b;
            }
        }
        6 => s.push('/'),
        7 => {
            if param % 2 == 0 {
                s.push('.');
            } else {
                s.insert(he, '.');
            }
        }
        8 => s = "null".to_owned(),
        9 => return junk.to_vec(),
        10 => {
            // The apex: drop the first label.
            if let Some(dot) = s[hs..he].find('.') {
                s.replace_range(hs..hs + dot + 1, "");
            }
        }
        11 => s.insert_str(hs, ["a.", "A.", "-.", "a b.", "é."][param as usize % 5]),
        12 => {
            if param % 2 == 0 {
                s.insert(hs, '.');
            } else if let Some(dot) = s[hs..he].find('.') {
                s.insert(hs + dot, '.');
            }
        }
        13 => {
            let ws = [" ", "\t", "  "][param as usize % 3];
            if param % 2 == 0 {
                s.insert_str(0, ws);
            } else {
                s.push_str(ws);
            }
        }
        14 => s.insert_str(hs, "user@"),
        15 => s.push_str(["/x", "?q", "#f", "/../", "\\"][param as usize % 5]),
        16 => {
            s.insert(hs, '[');
            s.insert(he + 1, ']');
        }
        17 => s.insert_str(he, &"x".repeat(param as usize % 80)),
        _ => s.push_str(&String::from_utf8_lossy(junk)),
    }
    s.into_bytes()
}

/// Makes any bytes a valid header value (no control characters but tab).
fn sanitize(mut b: Vec<u8>) -> Vec<u8> {
    for c in &mut b {
        if (*c < 0x20 && *c != b'\t') || *c == 0x7f {
            *c = b'~';
        }
    }
    b
}

fn hv(b: &[u8]) -> HeaderValue {
    HeaderValue::from_bytes(b).expect("sanitized")
}

fn junk_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40),
        "[ -~]{0,40}".prop_map(String::into_bytes),
    ]
    .prop_map(sanitize)
}

fn origin_value(g: &Gen) -> impl Strategy<Value = Vec<u8>> {
    let (admitted, others) = seeds(g);
    let all: Vec<String> = admitted.iter().chain(&others).cloned().collect();
    let mutated = (
        select(all),
        proptest::collection::vec((0u8..=18, any::<u32>()), 1..=2),
        junk_bytes(),
    )
        .prop_map(|(seed, muts, junk)| {
            let mut v = seed.into_bytes();
            for (k, p) in muts {
                v = mutate(&String::from_utf8_lossy(&v), k, p, &junk);
            }
            sanitize(v)
        });
    prop_oneof![
        4 => select(admitted).prop_map(String::into_bytes),
        5 => mutated,
        1 => select(others).prop_map(String::into_bytes),
    ]
}

fn token() -> impl Strategy<Value = String> {
    "[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}"
}

fn acrm_value(g: &Gen) -> impl Strategy<Value = Vec<u8>> {
    let mut pool: Vec<String> = g.methods.clone();
    pool.extend(
        [
            "GET", "HEAD", "POST", "PUT", "put", "get", "DELETE", "PATCH", "CONNECT", "*",
        ]
        .map(str::to_owned),
    );
    prop_oneof![
        6 => select(pool).prop_map(String::into_bytes),
        1 => token().prop_map(String::into_bytes),
        1 => select(vec!["GET, PUT", "PUT,DELETE", "", " PUT", "PUT ", "P UT"]).prop_map(|s| s.as_bytes().to_vec()),
        1 => junk_bytes(),
    ]
}

fn acrh_name(g: &Gen) -> impl Strategy<Value = String> {
    let mut listed: Vec<String> = g.headers.iter().filter(|h| *h != "*").cloned().collect();
    if listed.is_empty() {
        listed.push("content-type".to_owned());
    }
    let others = vec![
        "authorization",
        "Authorization",
        "content-type",
        "x-other",
        "cookie",
        "X-Request-ID",
    ];
    let case = |(n, up): (String, bool)| if up { n.to_ascii_uppercase() } else { n };
    prop_oneof![
        8 => (select(listed), any::<bool>()).prop_map(case),
        3 => (select(others).prop_map(str::to_owned), any::<bool>()).prop_map(case),
        2 => token(),
        1 => select(vec!["a b", "x;y", "é", "\"q\"", "x/y", "a=b"]).prop_map(str::to_owned),
        1 => Just("h".repeat(129)),
    ]
}

fn separator() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(",".to_owned()),
        2 => ("[ \t]{0,3}", 1usize..=3, "[ \t]{0,3}").prop_map(|(a, n, b)| format!("{a}{}{b}", ",".repeat(n))),
        1 => (0usize..=40).prop_map(|n| ",".repeat(n)),
    ]
}

fn acrh_line(g: &Gen) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        12 => (
            proptest::collection::vec((acrh_name(g), separator()), 0..5),
            "[ \t]{0,3}",
            "[ \t]{0,3}",
        )
            .prop_map(|(items, lead, trail)| {
                let mut s = lead;
                for (i, (name, sep)) in items.iter().enumerate() {
                    if i > 0 {
                        s.push_str(sep);
                    }
                    s.push_str(name);
                }
                s.push_str(&trail);
                sanitize(s.into_bytes())
            }),
        // Adversarial comma runs, up to the 60 KB of the spec.
        1 => (20_000usize..=61_440).prop_map(|n| ",".repeat(n).into_bytes()),
        1 => (1usize..=2_000).prop_map(|n| ", ".repeat(n).into_bytes()),
        1 => junk_bytes(),
    ]
}

/// Response headers an inner service might have set.
fn upstream() -> impl Strategy<Value = Vec<(&'static str, Vec<u8>)>> {
    let name = select(vec![
        "access-control-allow-origin",
        "access-control-allow-credentials",
        "access-control-allow-methods",
        "access-control-allow-headers",
        "access-control-expose-headers",
        "access-control-max-age",
        "access-control-allow-private-network",
        "vary",
        "vary",
        "content-type",
    ]);
    let value = prop_oneof![
        select(vec![
            "*",
            "true",
            "https://evil.example",
            "Origin",
            "origin",
            "Accept-Encoding",
            "Accept-Encoding, Origin",
            "Originx",
            "GET"
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        junk_bytes(),
    ];
    proptest::collection::vec((name, value), 0..5)
}

#[derive(Debug, Clone)]
struct Req {
    method: Method,
    origins: Vec<Vec<u8>>,
    acrm: Vec<Vec<u8>>,
    acrh: Vec<Vec<u8>>,
    pna: Option<&'static str>,
    upstream: Vec<(&'static str, Vec<u8>)>,
}

impl Req {
    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        for o in &self.origins {
            h.append(header::ORIGIN, hv(o));
        }
        for m in &self.acrm {
            h.append(header::ACCESS_CONTROL_REQUEST_METHOD, hv(m));
        }
        for l in &self.acrh {
            h.append(header::ACCESS_CONTROL_REQUEST_HEADERS, hv(l));
        }
        if let Some(v) = self.pna {
            h.append(
                corsair::ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK,
                HeaderValue::from_static(v),
            );
        }
        h
    }

    fn response(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in &self.upstream {
            h.append(HeaderName::from_static(n), hv(v));
        }
        h
    }

    /// The single Origin as a string, if there is exactly one.
    fn origin(&self) -> Option<String> {
        match self.origins.as_slice() {
            [o] => Some(String::from_utf8_lossy(o).into_owned()),
            _ => None,
        }
    }
}

fn gen_request(g: &Gen) -> impl Strategy<Value = Req> {
    let origin = origin_value(g).boxed();
    let origins = prop_oneof![
        1 => Just(Vec::new()),
        8 => origin.clone().prop_map(|o| vec![o]),
        1 => proptest::collection::vec(origin, 2..=3),
    ];
    let method = prop_oneof![
        6 => Just(Method::OPTIONS),
        2 => select(vec![Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::HEAD]),
        1 => token().prop_map(|t| Method::from_bytes(t.as_bytes()).expect("a token is a method")),
    ];
    (
        method,
        origins,
        prop_oneof![1 => Just(Vec::new()), 8 => acrm_value(g).prop_map(|m| vec![m]), 1 => proptest::collection::vec(acrm_value(g), 2..=2)],
        prop_oneof![3 => Just(Vec::new()), 6 => acrh_line(g).prop_map(|l| vec![l]), 2 => proptest::collection::vec(acrh_line(g), 2..=3)],
        proptest::option::of(select(vec!["true", "false", "TRUE"])),
        upstream(),
    )
        .prop_map(|(method, origins, acrm, acrh, pna, upstream)| Req {
            method,
            origins,
            acrm: acrm.into_iter().map(sanitize).collect(),
            acrh,
            pna,
            upstream,
        })
}

/// Well-formed preflights from admitted origins, asking for listed and
/// unlisted methods and headers: where a grant can be too generous.
fn gen_preflight(g: &Gen) -> impl Strategy<Value = Req> {
    let (admitted, _) = seeds(g);
    let mut methods: Vec<String> = g.methods.iter().filter(|m| *m != "*").cloned().collect();
    methods.extend(["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "patch", "purge", "get"].map(str::to_owned));
    let line = (
        proptest::collection::vec((acrh_name(g), prop_oneof![4 => Just(","), 1 => Just(", ")]), 1..4),
        any::<bool>(),
    )
        .prop_map(|(items, pad)| {
            let mut s = String::from(if pad { " " } else { "" });
            for (i, (name, sep)) in items.iter().enumerate() {
                if i > 0 {
                    s.push_str(sep);
                }
                s.push_str(name);
            }
            sanitize(s.into_bytes())
        });
    (
        select(admitted),
        select(methods),
        proptest::collection::vec(line, 0..=2),
        proptest::option::of(select(vec!["true", "false"])),
    )
        .prop_map(|(origin, method, acrh, pna)| Req {
            method: Method::OPTIONS,
            origins: vec![origin.into_bytes()],
            acrm: vec![method.into_bytes()],
            acrh,
            pna,
            upstream: Vec::new(),
        })
}

fn policy_and_requests() -> impl Strategy<Value = (Gen, Vec<Req>)> {
    gen_policy().prop_flat_map(|g| {
        let reqs = proptest::collection::vec(gen_request(&g), 1..=4);
        (Just(g), reqs)
    })
}

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

fn values<'a>(h: &'a HeaderMap, n: &str) -> Vec<&'a [u8]> {
    h.get_all(n).iter().map(HeaderValue::as_bytes).collect()
}

fn cors_headers(h: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = h
        .iter()
        .filter(|(k, _)| k.as_str().starts_with("access-control-"))
        .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect();
    v.sort();
    v
}

fn vary_names_origin(h: &HeaderMap) -> bool {
    h.get_all(header::VARY).iter().any(|v| {
        v.as_bytes().split(|&b| b == b',').any(|item| {
            let item = item.trim_ascii();
            item == b"*" || item.eq_ignore_ascii_case(b"origin")
        })
    })
}

/// (a), (b), (c): what must hold of every response corsair shapes.
fn check_response(g: &Gen, r: &Req, h: &HeaderMap, what: &str) -> Result<(), TestCaseError> {
    let acao = values(h, "access-control-allow-origin");
    let acac = values(h, "access-control-allow-credentials");
    prop_assert!(acao.len() <= 1, "{what}: several ACAO: {h:?}");
    prop_assert!(acac.len() <= 1, "{what}: several ACAC: {h:?}");
    if let Some(&a) = acao.first() {
        if g.is_public() {
            prop_assert_eq!(a, b"*", "{}: a public policy answers `*`", what);
        } else {
            let origin = r.origin();
            prop_assert!(
                origin.is_some(),
                "{what}: ACAO without exactly one Origin: {r:?} -> {h:?}"
            );
            let origin = origin.unwrap_or_default();
            prop_assert!(
                ref_allows(g, &origin),
                "{what}: ACAO for an origin the reference denies: {origin:?} under {:?} -> {h:?}",
                g.origins
            );
            prop_assert_eq!(a, origin.as_bytes(), "{}: ACAO is not the request's origin", what);
        }
    }
    // (b)
    prop_assert!(
        !(acao.first() == Some(&&b"*"[..]) && acac.first() == Some(&&b"true"[..])),
        "{what}: `*` with credentials: {h:?}"
    );
    if let Some(&c) = acac.first() {
        prop_assert_eq!(c, b"true");
        prop_assert!(g.credentials, "{what}: ACAC from a policy without credentials");
        prop_assert!(!acao.is_empty(), "{what}: ACAC without ACAO");
    }
    // (c)
    if !g.is_public() {
        prop_assert!(vary_names_origin(h), "{what}: no `Vary: Origin`: {r:?} -> {h:?}");
    }
    Ok(())
}

/// (a)-(d) and (g) for one request under one policy.
fn check_request(g: &Gen, p: &Policy, r: &Req) -> Result<(), TestCaseError> {
    let req = r.headers();
    let d = p.evaluate(&r.method, &req);
    let is_preflight = r.method == Method::OPTIONS && !r.origins.is_empty() && !r.acrm.is_empty();
    let expected_kind = match (r.origins.is_empty(), is_preflight) {
        (true, _) => RequestKind::NotCors,
        (false, true) => RequestKind::Preflight,
        (false, false) => RequestKind::Actual,
    };
    prop_assert_eq!(d.kind(), expected_kind);

    let origin_ok = r.origin().is_some_and(|o| ref_allows(g, &o)) || (g.is_public() && !r.origins.is_empty());
    if d.is_allowed() {
        prop_assert!(origin_ok, "allowed decision for a denied origin: {r:?}");
    }

    match p.preflight_response(&d) {
        Some((status, h)) => {
            prop_assert!(is_preflight);
            check_response(g, r, &h, "preflight")?;
            // Expose-Headers belongs to actual responses only.
            prop_assert!(h.get("access-control-expose-headers").is_none());
            if d.is_allowed() {
                prop_assert_eq!(status, StatusCode::NO_CONTENT);
                check_granted(g, r, &h)?;
            } else {
                let origin_rejected = d.rejection().is_some_and(|x| !x.origin_was_allowed());
                if !g.debug || origin_rejected {
                    // (d)
                    prop_assert_eq!(status, StatusCode::FORBIDDEN, "rejected preflight: {:?}", d.rejection());
                    prop_assert!(
                        cors_headers(&h).is_empty(),
                        "rejected preflight leaks CORS headers: {:?} -> {h:?}",
                        d.rejection()
                    );
                } else {
                    // Debug mode: 204 with ACAO (and ACAC); for a method
                    // rejection also the configured method list, which must
                    // not grant the requested method.
                    prop_assert_eq!(status, StatusCode::NO_CONTENT);
                    let method_rejected = matches!(
                        d.rejection().map(|x| x.code()),
                        Some("method_not_allowed" | "invalid_method")
                    );
                    prop_assert!(cors_headers(&h).iter().all(|(k, _)| k == "access-control-allow-origin"
                        || k == "access-control-allow-credentials"
                        || (method_rejected && k == "access-control-allow-methods")));
                    if let Some(acam) = h.get("access-control-allow-methods") {
                        if let (Ok(list), [m]) = (acam.to_str(), r.acrm.as_slice()) {
                            let m = String::from_utf8_lossy(m);
                            prop_assert!(
                                !list.split(',').any(|x| x.trim() == m.trim()),
                                "debug ACAM {list:?} grants {m:?}"
                            );
                        }
                    }
                }
            }
        }
        None => {
            prop_assert!(!is_preflight);
            let mut h = r.response();
            p.apply(&d, &mut h);
            check_response(g, r, &h, "apply")?;
            // (g): the upstream's CORS headers are gone; the policy's answer
            // is exactly what it writes onto an empty response.
            let mut clean = HeaderMap::new();
            p.apply(&d, &mut clean);
            prop_assert_eq!(
                cors_headers(&h),
                cors_headers(&clean),
                "upstream CORS headers survived: {:?}",
                r.upstream
            );
            // Vary: * is kept, never joined by Origin; the upstream's Vary
            // values are kept.
            let upstream_vary: Vec<&[u8]> = r
                .upstream
                .iter()
                .filter(|(n, _)| *n == "vary")
                .map(|(_, v)| v.as_slice())
                .collect();
            let vary = values(&h, "vary");
            prop_assert!(vary.starts_with(&upstream_vary), "upstream Vary lost: {vary:?}");
            prop_assert!(vary.len() <= upstream_vary.len() + 1);
            // Liveness: one allowed origin on an actual request is answered.
            if d.kind() == RequestKind::Actual && origin_ok {
                prop_assert!(d.is_allowed(), "allowed origin rejected: {r:?} -> {:?}", d.rejection());
                prop_assert!(h.contains_key("access-control-allow-origin"));
            }
        }
    }
    Ok(())
}

/// An accepted preflight grants only what the policy lists.
fn check_granted(g: &Gen, r: &Req, h: &HeaderMap) -> Result<(), TestCaseError> {
    prop_assert_eq!(r.acrm.len(), 1);
    let m = String::from_utf8_lossy(&r.acrm[0]).into_owned();
    prop_assert!(ref_method_allowed(g, &m), "method {m:?} granted under {:?}", g.methods);
    prop_assert_eq!(values(h, "access-control-allow-methods"), vec![m.as_bytes()]);
    let asked = ref_acrh_names(&r.acrh);
    for n in &asked {
        prop_assert!(ref_header_allowed(g, n), "header {n:?} granted under {:?}", g.headers);
    }
    let granted: Vec<String> = h
        .get_all("access-control-allow-headers")
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .split(',')
                .map(|e| e.trim_matches([' ', '\t']).to_ascii_lowercase())
                .filter(|e| !e.is_empty())
                .collect::<Vec<_>>()
        })
        .collect();
    prop_assert_eq!(granted, asked, "ACAH does not cover exactly what was asked");
    let pna = h.get("access-control-allow-private-network");
    prop_assert_eq!(pna.is_some(), g.private_network && r.pna == Some("true"));
    prop_assert_eq!(
        h.get("access-control-max-age").map(|v| v.as_bytes().to_vec()),
        g.max_age.map(|n| n.to_string().into_bytes())
    );
    Ok(())
}

fn exercise(p: &Policy, d: &Decision, resp: &mut HeaderMap) {
    let _ = (d.kind(), d.outcome(), d.is_allowed(), d.is_preflight());
    if let Some(r) = d.rejection() {
        let _ = (r.code(), r.to_string(), r.header_name(), r.origin_was_allowed());
    }
    let _ = p.preflight_response(d);
    p.apply(d, resp);
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// (a), (b), (c), (d), (g), soundness and liveness.
    #[test]
    fn responses_respect_the_policy((g, reqs) in policy_and_requests()) {
        let p = g.build();
        prop_assert_eq!(p.is_public(), g.is_public());
        prop_assert_eq!(p.allows_credentials(), g.credentials);
        for r in &reqs {
            check_request(&g, &p, r)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Accepted preflights grant only what the policy lists (and (a)-(d)).
    #[test]
    fn preflights_grant_only_what_is_listed(
        (g, reqs) in gen_policy().prop_flat_map(|g| {
            let r = proptest::collection::vec(gen_preflight(&g), 1..=4);
            (Just(g), r)
        })
    ) {
        let p = g.build();
        for r in &reqs {
            check_request(&g, &p, r)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// (e) The engine's matcher agrees with the naive reference.
    #[test]
    fn matcher_agrees_with_reference(
        (g, origins) in gen_policy().prop_flat_map(|g| {
            let o = proptest::collection::vec(origin_value(&g), 1..=8);
            (Just(g), o)
        })
    ) {
        let p = g.build();
        for o in &origins {
            let s = String::from_utf8_lossy(o);
            prop_assert_eq!(
                p.allows_origin(&s),
                ref_allows_origin(&g, &s),
                "origin {:?} under {:?}", s, g.origins
            );
        }
    }
}

fn any_name() -> impl Strategy<Value = HeaderName> {
    prop_oneof![
        4 => select(vec![
            header::ORIGIN,
            header::ACCESS_CONTROL_REQUEST_METHOD,
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            corsair::ACCESS_CONTROL_REQUEST_PRIVATE_NETWORK,
            header::VARY,
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
        ]),
        1 => "[a-z0-9-]{1,20}".prop_map(|n| HeaderName::from_bytes(n.as_bytes()).expect("a token")),
    ]
}

fn any_value() -> impl Strategy<Value = HeaderValue> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200).prop_map(sanitize),
        // Long values: a short random motif repeated (cheap to generate).
        (proptest::collection::vec(any::<u8>(), 1..8), 0usize..2_000).prop_map(|(motif, n)| sanitize(motif.repeat(n))),
    ]
    .prop_map(|b| hv(&b))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// (f) Nothing panics on arbitrary header bytes, and the invariants that
    /// need no reference still hold.
    #[test]
    fn arbitrary_bytes_never_panic(
        g in gen_policy(),
        method in prop_oneof![Just(Method::OPTIONS), token().prop_map(|t| Method::from_bytes(t.as_bytes()).expect("token"))],
        req in proptest::collection::vec((any_name(), any_value()), 0..8),
        resp in proptest::collection::vec((any_name(), any_value()), 0..4),
    ) {
        let p = g.build();
        let mut rh = HeaderMap::new();
        for (n, v) in req {
            rh.append(n, v);
        }
        let mut out = HeaderMap::new();
        for (n, v) in resp {
            out.append(n, v);
        }
        let d = p.evaluate(&method, &rh);
        exercise(&p, &d, &mut out);
        let origins: Vec<&[u8]> = rh.get_all(header::ORIGIN).iter().map(HeaderValue::as_bytes).collect();
        let responses = p.preflight_response(&d).map(|(_, h)| h).into_iter().chain(std::iter::once(out));
        for h in responses {
            if let Some(a) = h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
                if !g.is_public() {
                    prop_assert_eq!(origins.len(), 1);
                    let o = String::from_utf8_lossy(origins[0]);
                    prop_assert!(ref_allows(&g, &o), "ACAO for {o:?}");
                    prop_assert_eq!(a.as_bytes(), origins[0]);
                }
            }
            if !g.is_public() {
                prop_assert!(vary_names_origin(&h));
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Fixed cases the generators may hit rarely
// ---------------------------------------------------------------------------

fn fixed() -> Gen {
    Gen {
        origins: vec![
            "https://app.example.com".into(),
            "https://*.example.co.uk:*".into(),
            "http://localhost:*".into(),
        ],
        methods: vec!["PUT".into()],
        headers: vec!["content-type".into()],
        expose: vec!["etag".into()],
        credentials: true,
        max_age: Some(600),
        private_network: false,
        insecure: false,
        debug: false,
    }
}

#[test]
fn reference_matcher_sanity() {
    let g = fixed();
    for (o, want) in [
        ("https://app.example.com", true),
        ("https://app.example.com:443", false),
        ("https://evilapp.example.com", false),
        ("https://app.example.com.evil.net", false),
        ("https://a.example.co.uk", true),
        ("https://a.b.example.co.uk:8443", true),
        ("https://example.co.uk", false),
        ("https://a.example.co.uk:443", false),
        ("https://a..example.co.uk", false),
        ("https://.example.co.uk", false),
        ("https://A.example.co.uk", false),
        ("https://a.example.co.uk.", false),
        ("http://localhost", true),
        ("http://localhost:3000", true),
        ("http://localhost:80", false),
        ("http://localhost:03000", false),
        ("null", false),
    ] {
        assert_eq!(ref_allows_origin(&g, o), want, "reference: {o}");
        assert_eq!(g.build().allows_origin(o), want, "engine: {o}");
    }
}

/// (g) for header names outside the seven the engine knows: the spec makes
/// the middleware "the single authority" over every `Access-Control-*`
/// response header of the inner service.
#[test]
fn unknown_access_control_headers_do_not_survive_apply() {
    let g = fixed();
    let p = g.build();
    let mut req = HeaderMap::new();
    req.insert(header::ORIGIN, HeaderValue::from_static("https://app.example.com"));
    let d = p.evaluate(&Method::GET, &req);
    let mut resp = HeaderMap::new();
    for n in [
        "access-control-allow-local-network",
        "access-control-request-method",
        "access-control-allow-foo",
    ] {
        resp.insert(HeaderName::from_static(n), HeaderValue::from_static("*"));
    }
    p.apply(&d, &mut resp);
    let left: Vec<&str> = resp
        .keys()
        .map(HeaderName::as_str)
        .filter(|k| k.starts_with("access-control-"))
        .filter(|k| {
            !matches!(
                *k,
                "access-control-allow-origin" | "access-control-allow-credentials" | "access-control-expose-headers"
            )
        })
        .collect();
    assert!(left.is_empty(), "upstream headers survived apply: {left:?}");
}
