//! Shared pieces of the corsair fuzz targets: a deliberately naive
//! reference origin matcher, pools of interesting values, and the response
//! invariants every server-side target asserts. The targets depend on the
//! workspace's crates (`corsair`, `corsair-gateway`) like any user.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::StatusCode;

// ---------------------------------------------------------------------------
// The naive reference matcher
// ---------------------------------------------------------------------------

fn default_port(scheme: &str) -> Option<&'static str> {
    match scheme {
        "http" => Some("80"),
        "https" => Some("443"),
        _ => None,
    }
}

/// A port a browser would write: 1-65535, no leading zero, not the scheme's default.
fn ref_port(p: &str, scheme: &str) -> bool {
    !p.is_empty()
        && p.len() <= 5
        && p.bytes().all(|b| b.is_ascii_digit())
        && !p.starts_with('0')
        && p.parse::<u32>().is_ok_and(|n| (1..=65535).contains(&n))
        && default_port(scheme) != Some(p)
}

/// A DNS label as browsers serialize it (lowercase, ASCII).
fn ref_label(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// Whether one (valid) `allow_origins` entry admits `origin`, by plain string
/// work on the pattern as written: `*`, an exact origin, `scheme://host:*`,
/// `scheme://*.domain`, `scheme://*.domain:port`, `scheme://*.domain:*`.
pub fn ref_pattern_allows(pattern: &str, origin: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if !pattern.contains('*') {
        return origin == pattern;
    }
    let (scheme, rest) = pattern.split_once("://").expect("a valid pattern");
    let Some(orest) = origin.strip_prefix(scheme).and_then(|r| r.strip_prefix("://")) else {
        return false;
    };
    // The pattern's port part: none, `:n` or `:*`.
    let (phost, pport): (&str, Option<&str>) = match rest.rsplit_once(':') {
        Some((h, p)) if p == "*" || p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
        _ => (rest, None),
    };
    // The origin's host and port.
    let (ohost, oport): (&str, Option<&str>) = if orest.starts_with('[') {
        match orest.find(']') {
            Some(i) => {
                let (h, after) = orest.split_at(i + 1);
                match after {
                    "" => (h, None),
                    _ => match after.strip_prefix(':') {
                        Some(p) => (h, Some(p)),
                        None => return false,
                    },
                }
            }
            None => return false,
        }
    } else {
        match orest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (orest, None),
        }
    };
    let port_ok = match (pport, oport) {
        (None, None) => true,
        (None, Some(_)) => false,
        (Some("*"), None) => true,
        (Some("*"), Some(p)) => ref_port(p, scheme),
        (Some(want), Some(p)) => want == p,
        (Some(_), None) => false,
    };
    if !port_ok {
        return false;
    }
    match phost.strip_prefix("*.") {
        None => ohost == phost,
        Some(domain) => match ohost.strip_suffix(domain).and_then(|s| s.strip_suffix('.')) {
            Some(sub) => sub.split('.').all(ref_label),
            None => false,
        },
    }
}

/// Whether a list of (valid) patterns admits `origin` (`null` never).
pub fn ref_allows(patterns: &[String], origin: &str) -> bool {
    origin != "null" && patterns.iter().any(|p| ref_pattern_allows(p, origin))
}

// ---------------------------------------------------------------------------
// Pools
// ---------------------------------------------------------------------------

/// Patterns the generated policies draw from (all valid, none `*`).
pub const PATTERN_POOL: &[&str] = &[
    "https://app.example.com",
    "https://*.example.org",
    "http://localhost:*",
    "https://*.admin.example.net:*",
    "http://127.0.0.1:8080",
    "https://*.example.co.uk:8443",
    "http://[::1]:*",
    "chrome-extension://abcdefghijklmnop",
    "https://api.example.com:8443",
    "http://*.localhost",
    "https://example.com",
    "https://*.b.example.com",
];

/// Origins near the pool's patterns: allowed ones, look-alikes, garbage.
pub const ORIGIN_POOL: &[&str] = &[
    "https://app.example.com",
    "https://a.example.org",
    "https://a.b.example.org",
    "https://example.org",
    "http://localhost",
    "http://localhost:3000",
    "http://localhost:80",
    "https://localhost:3000",
    "https://x.admin.example.net",
    "https://x.admin.example.net:9000",
    "https://x.admin.example.net:443",
    "http://127.0.0.1:8080",
    "https://a.example.co.uk:8443",
    "https://a.example.co.uk",
    "http://[::1]",
    "http://[::1]:5173",
    "chrome-extension://abcdefghijklmnop",
    "https://api.example.com:8443",
    "http://dev.localhost",
    "https://example.com",
    "https://c.b.example.com",
    "null",
    "https://evil.example",
    "https://app.example.com.evil.net",
    "https://APP.example.com",
    "https://app.example.com/",
    "https://app.example.com:443",
    "",
    "*",
];

/// Methods for `allow_methods` and `Access-Control-Request-Method`.
pub const METHOD_POOL: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "patch", "put", "OPTIONS", "PURGE", "QUERY",
];

/// Header names for `allow_headers`, `expose_headers` and ACRH.
pub const HEADER_POOL: &[&str] = &[
    "content-type",
    "authorization",
    "x-request-id",
    "X-Api-Key",
    "x-b3-traceid",
    "accept",
    "if-match",
    "x-custom",
];

/// Picks from a pool by an index.
pub fn pick<'a>(pool: &[&'a str], i: u8) -> &'a str {
    pool[usize::from(i) % pool.len()]
}

/// The members of a pool a bit mask selects.
pub fn subset(pool: &[&str], mask: u16) -> Vec<String> {
    pool.iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << (i % 16)) != 0)
        .map(|(_, s)| (*s).to_owned())
        .collect()
}

// ---------------------------------------------------------------------------
// Header helpers
// ---------------------------------------------------------------------------

/// The `access-control-*` header names present.
pub fn cors_names(h: &HeaderMap) -> Vec<String> {
    h.keys()
        .map(HeaderName::as_str)
        .filter(|n| n.starts_with("access-control-"))
        .map(str::to_owned)
        .collect()
}

/// Every value of a header, as bytes.
pub fn values<'a>(h: &'a HeaderMap, name: &HeaderName) -> Vec<&'a [u8]> {
    h.get_all(name).iter().map(HeaderValue::as_bytes).collect()
}

/// Whether `Vary` names `Origin` (or is `*`).
pub fn vary_names_origin(h: &HeaderMap) -> bool {
    h.get_all(header::VARY).iter().any(|v| {
        v.as_bytes().split(|&b| b == b',').any(|item| {
            let item = item.trim_ascii();
            item == b"*" || item.eq_ignore_ascii_case(b"origin")
        })
    })
}

/// Splits a comma-separated list of tokens naively (empty elements dropped).
pub fn naive_list(v: &[u8]) -> Vec<String> {
    v.split(|&b| b == b',')
        .map(|e| String::from_utf8_lossy(e.trim_ascii()).into_owned())
        .filter(|e| !e.is_empty())
        .collect()
}

// ---------------------------------------------------------------------------
// Server-side invariants
// ---------------------------------------------------------------------------

mod liveness;
pub use liveness::{check_allowed_preflight, BrowserPreflight};

/// Fetch §2.2.1 "normalize", written here from the standard (never the
/// engine's): the six methods `fetch()` uppercases, every other as is.
pub fn ref_normalize_method(m: &str) -> String {
    for n in ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"] {
        if n.eq_ignore_ascii_case(m) {
            return n.to_owned();
        }
    }
    m.to_owned()
}

/// What the policy was configured with, as the reference reads it.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `allow_origins` (`["*"]` for a public policy).
    pub origins: Vec<String>,
    /// `allow_methods`, as configured (the reference normalizes them
    /// itself; reading them back from the policy would mirror a
    /// normalization bug).
    pub methods: Vec<String>,
    /// `allow_headers`.
    pub headers: Vec<String>,
    /// `allow_credentials`.
    pub credentials: bool,
    /// `debug`.
    pub debug: bool,
}

impl Spec {
    /// The reference's reading of a configuration (the one the policy was
    /// built from, as written).
    pub fn of(c: &corsair::PolicyConfig) -> Spec {
        Spec {
            origins: c.allow_origins.clone(),
            methods: c.allow_methods.clone(),
            headers: c.allow_headers.clone(),
            credentials: c.allow_credentials,
            debug: c.debug,
        }
    }

    fn public(&self) -> bool {
        self.origins.iter().any(|o| o == "*")
    }

    fn method_allowed(&self, m: &str) -> bool {
        matches!(m, "GET" | "HEAD" | "POST") || self.methods.iter().any(|x| x == "*" || ref_normalize_method(x) == m)
    }

    /// A listed name, or, under `*` (with or without credentials), any
    /// name a script can set but `Authorization`, which must be listed
    /// itself.
    fn header_allowed(&self, name: &str) -> bool {
        let listed = self.headers.iter().any(|h| h.eq_ignore_ascii_case(name));
        let star = self.headers.iter().any(|h| h == "*");
        listed || (star && !name.eq_ignore_ascii_case("authorization") && !ref_forbidden_header_name(name))
    }
}

/// Fetch §2.2.2 "forbidden request-header", steps 1 and 2: the names no
/// script can set, whatever the value (written out from the standard, not
/// read from the engine).
pub fn ref_forbidden_header_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    ]
    .contains(&lower.as_str())
        || lower.starts_with("proxy-")
        || lower.starts_with("sec-")
}

/// The request's single `Origin`, when it has exactly one that is text.
fn single_origin(req: &HeaderMap) -> Option<&str> {
    let mut it = req.get_all(header::ORIGIN).iter();
    let first = it.next()?;
    if it.next().is_some() {
        return None;
    }
    first.to_str().ok()
}

/// Checks the CORS headers of any response the policy decorated or produced.
fn check_cors_headers(spec: &Spec, req: &HeaderMap, h: &HeaderMap, what: &str) {
    let acao = values(h, &header::ACCESS_CONTROL_ALLOW_ORIGIN);
    let acac = values(h, &header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
    assert!(acao.len() <= 1, "{what}: several ACAO lines {acao:?}");
    assert!(acac.len() <= 1, "{what}: several ACAC lines {acac:?}");
    if let Some(v) = acao.first() {
        if *v == b"*" {
            assert!(spec.public(), "{what}: ACAO * from a non-public policy");
            assert!(acac.is_empty(), "{what}: ACAO * together with ACAC");
        } else {
            let origin =
                single_origin(req).unwrap_or_else(|| panic!("{what}: ACAO {v:?} without a single text Origin"));
            assert_eq!(*v, origin.as_bytes(), "{what}: ACAO is not the request's origin");
            assert!(
                ref_allows(&spec.origins, origin),
                "{what}: ACAO for {origin:?}, which the reference denies under {:?}",
                spec.origins
            );
        }
    }
    if !acac.is_empty() {
        assert_eq!(acac[0], b"true", "{what}: ACAC not `true`");
        assert!(spec.credentials, "{what}: ACAC from a policy without credentials");
        assert!(!acao.is_empty(), "{what}: ACAC without ACAO");
    }
    if !spec.public() {
        assert!(
            vary_names_origin(h),
            "{what}: Vary lacks Origin for a non-public policy"
        );
    }
}

/// Runs `evaluate`, `preflight_response` and `apply` on one request under
/// the policy built from `c`, and asserts the engine's invariants against
/// the reference's reading of `c`.
pub fn check_request(
    p: &corsair::Policy,
    c: &corsair::PolicyConfig,
    method: &http::Method,
    req: &HeaderMap,
    upstream: &HeaderMap,
) {
    let spec = Spec::of(c);
    let d = p.evaluate(method, req);
    let has_origin = req.contains_key(header::ORIGIN);
    let is_pf =
        method == http::Method::OPTIONS && has_origin && req.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    assert_eq!(d.is_preflight(), is_pf, "preflight classification");
    if d.is_allowed() && !spec.public() {
        let o = single_origin(req).expect("an allowed non-public request has one text Origin");
        assert!(
            ref_allows(&spec.origins, o),
            "allowed origin {o:?} denied by the reference"
        );
        assert!(p.allows_origin(o));
    }
    let _ = d.outcome();
    if let Some(r) = d.rejection() {
        let _ = (r.to_string(), r.code(), r.header_name());
    }

    match p.preflight_response(&d) {
        None => assert!(!is_pf, "a preflight got no preflight response"),
        Some((status, h)) => {
            assert!(is_pf, "a preflight response for a non-preflight");
            assert!(vary_names_origin(&h), "preflight response without Vary: Origin");
            check_cors_headers(&spec, req, &h, "preflight");
            match d.rejection() {
                None => {
                    assert_eq!(status, StatusCode::NO_CONTENT);
                    assert!(
                        h.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
                        "allowed preflight lacks ACAO"
                    );
                    let acrm = req
                        .get(header::ACCESS_CONTROL_REQUEST_METHOD)
                        .and_then(|v| v.to_str().ok())
                        .expect("an allowed preflight has a text ACRM");
                    assert!(spec.method_allowed(acrm), "method {acrm:?} granted but not allowed");
                    assert_eq!(
                        h.get(header::ACCESS_CONTROL_ALLOW_METHODS).map(HeaderValue::as_bytes),
                        Some(acrm.as_bytes())
                    );
                    let asked: Vec<String> = req
                        .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
                        .iter()
                        .flat_map(|v| naive_list(v.as_bytes()))
                        .collect();
                    for n in &asked {
                        assert!(spec.header_allowed(n), "header {n:?} granted but not allowed");
                    }
                    let granted: Vec<String> = h
                        .get_all(header::ACCESS_CONTROL_ALLOW_HEADERS)
                        .iter()
                        .flat_map(|v| naive_list(v.as_bytes()))
                        .collect();
                    assert_eq!(granted, asked, "ACAH is not the requested list");
                }
                Some(r) if spec.debug && r.origin_was_allowed() => {
                    // Debug mode: 204 with ACAO (and ACAC) so the console
                    // names the cause, plus, for a method rejection, the
                    // configured methods — never the one asked for, or a
                    // browser would pass the preflight — and, for a rejection
                    // of the headers (listed or malformed), the requested
                    // method (which passed, being checked first), so that the
                    // console names the headers; never a header.
                    assert_eq!(status, StatusCode::NO_CONTENT);
                    let method_rejection = r.code() == "method_not_allowed";
                    for n in cors_names(&h) {
                        assert!(
                            n == "access-control-allow-origin"
                                || n == "access-control-allow-credentials"
                                || n == "access-control-allow-methods",
                            "debug rejection {r:?} carries {n}"
                        );
                    }
                    if !method_rejection {
                        let granted: Vec<&[u8]> = values(&h, &header::ACCESS_CONTROL_ALLOW_METHODS);
                        let asked: Vec<&[u8]> = values(req, &header::ACCESS_CONTROL_REQUEST_METHOD);
                        assert!(
                            granted.is_empty() || granted == asked,
                            "debug header rejection grants {granted:?}, asked {asked:?}"
                        );
                    }
                    if method_rejection {
                        let asked = req
                            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
                            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                            .unwrap_or_default();
                        let listed: Vec<String> = h
                            .get_all(header::ACCESS_CONTROL_ALLOW_METHODS)
                            .iter()
                            .flat_map(|v| naive_list(v.as_bytes()))
                            .collect();
                        assert!(
                            !listed.iter().any(|m| *m == asked || m == "*"),
                            "debug method rejection lists {listed:?} for {asked:?}"
                        );
                        assert!(
                            h.contains_key(header::ACCESS_CONTROL_ALLOW_METHODS),
                            "debug method rejection without an explicit method list"
                        );
                    }
                }
                Some(r) => {
                    assert_eq!(status, StatusCode::FORBIDDEN, "rejection {r:?}");
                    assert!(
                        cors_names(&h).is_empty(),
                        "rejected preflight carries {:?}",
                        cors_names(&h)
                    );
                }
            }
        }
    }

    let mut resp = upstream.clone();
    p.apply(&d, &mut resp);
    if !is_pf {
        check_cors_headers(&spec, req, &resp, "apply");
        for n in [
            header::ACCESS_CONTROL_ALLOW_METHODS,
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            header::ACCESS_CONTROL_MAX_AGE,
        ] {
            assert!(!resp.contains_key(&n), "apply left {n}");
        }
        if !d.is_allowed() && !spec.public() {
            assert!(
                !resp.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN),
                "apply added ACAO to a rejected or non-CORS request"
            );
        }
    }
}

/// Cross-origin protection on one request under the policy built from `c`
/// (protection on, no exempt path), with its own `Sec-Fetch-Site` lines and
/// once more with `Sec-Fetch-Site: cross-site` added: never a panic; GET,
/// HEAD and OPTIONS always pass; a request passes as trusted only with one
/// `Origin` the reference admits (any but `null` under `*`); a refusal
/// happens only to an unsafe method whose origin the reference does not
/// admit, and names its code in the body.
pub fn check_protection(policy: &corsair::Policy, c: &corsair::PolicyConfig, method: &http::Method, req: &HeaderMap) {
    use corsair::cross_origin::{CrossOriginProtection, Passed, SEC_FETCH_SITE};

    let protection = CrossOriginProtection::new();
    let public = c.allow_origins.iter().any(|o| o == "*");
    let origins = values(req, &header::ORIGIN);
    let trusted_by_reference = match origins.as_slice() {
        [o] if !o.is_empty() => {
            let o = String::from_utf8_lossy(o);
            o != "null" && (public || ref_allows(&c.allow_origins, &o))
        }
        _ => false,
    };
    let safe = *method == http::Method::GET || *method == http::Method::HEAD || *method == http::Method::OPTIONS;
    let mut cross = req.clone();
    cross.append(SEC_FETCH_SITE, HeaderValue::from_static("cross-site"));
    for h in [req, &cross] {
        let got = protection.check(policy, method, "/", Some(b"api.example.com"), h);
        if safe {
            assert_eq!(got, Ok(Passed::SafeMethod));
        }
        match &got {
            Ok(Passed::TrustedOrigin) => {
                assert!(trusted_by_reference, "trusted {origins:?} under {:?}", c.allow_origins)
            }
            Err(r) => {
                assert!(!safe && !trusted_by_reference, "refused {origins:?}: {r}");
                assert!(r.body().contains(r.code()));
            }
            Ok(_) => {}
        }
    }
    // A request a browser marks cross-site passes only with a trusted origin.
    if !safe {
        let got = protection.check(policy, method, "/", Some(b"api.example.com"), &cross);
        assert_eq!(
            got.is_ok(),
            trusted_by_reference,
            "{origins:?} under {:?}: {got:?}",
            c.allow_origins
        );
    }
}
