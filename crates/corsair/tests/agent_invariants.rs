//! Property tests of the user-agent half, and of the two halves together.
//!
//! `tests/invariants.rs` covers the server half against its reference; this
//! file adds what it lacks:
//! - (a) the user-agent engine never declares allowed a response that the
//!   CORS check must fail, nor fails one that must pass: `cors_check` and
//!   `check_preflight` agree with a naive reading of the Fetch Standard
//!   written here, over generated requests and hostile response headers;
//! - (b) scripts never see `Set-Cookie` or a header that was not exposed;
//! - (c) end to end: a generated browser request runs through a generated
//!   server `Policy` (preflight, then the actual request) and the agent's
//!   verdict is exactly the policy's intent — the agent lets a script read
//!   the response if and only if the policy allows that origin, method,
//!   headers and credentials mode.

use corsair::agent::{
    check_preflight, cors_check, exposed_headers, CredentialsMode, Request, SAFELISTED_RESPONSE_HEADERS,
};
use corsair::{Policy, PolicyConfig};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::Method;
use proptest::prelude::*;

const URL: &str = "https://api.example.com/r";

// ---------------------------------------------------------------------------
// The naive reference (Fetch Standard, "CORS check" and "CORS-preflight fetch")
// ---------------------------------------------------------------------------

fn trim(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

/// "Get" a header: every line, normalized, joined with `, `.
fn get(h: &HeaderMap, n: &HeaderName) -> Option<Vec<u8>> {
    let lines: Vec<&[u8]> = h.get_all(n).iter().map(|v| trim(v.as_bytes())).collect();
    (!lines.is_empty()).then(|| lines.join(&b", "[..]))
}

fn is_token(b: &[u8]) -> bool {
    !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

/// "Extract header list values": `None` when absent, `Some(None)` on failure.
fn list(h: &HeaderMap, n: &HeaderName) -> Option<Option<Vec<String>>> {
    if !h.contains_key(n) {
        return None;
    }
    let mut out = Vec::new();
    for v in h.get_all(n) {
        for e in v.as_bytes().split(|&b| b == b',') {
            let e = trim(e);
            if e.is_empty() {
                continue;
            }
            if !is_token(e) {
                return Some(None);
            }
            out.push(String::from_utf8_lossy(e).into_owned());
        }
    }
    Some(Some(out))
}

fn ref_cors_check(req: &Request, h: &HeaderMap) -> bool {
    let Some(origin) = get(h, &header::ACCESS_CONTROL_ALLOW_ORIGIN) else {
        return false;
    };
    let cred = req.credentials() == CredentialsMode::Include;
    if !cred && origin == b"*" {
        return true;
    }
    if origin != req.origin().as_bytes() {
        return false;
    }
    !cred || get(h, &header::ACCESS_CONTROL_ALLOW_CREDENTIALS).as_deref() == Some(b"true")
}

fn ref_preflight(req: &Request, status: u16, h: &HeaderMap) -> bool {
    if !ref_cors_check(req, h) || !(200..=299).contains(&status) {
        return false;
    }
    let methods = match list(h, &header::ACCESS_CONTROL_ALLOW_METHODS) {
        Some(None) => return false,
        Some(Some(m)) => m,
        None if req.use_cors_preflight_flag() => vec![req.method().to_owned()],
        None => Vec::new(),
    };
    let names = match list(h, &header::ACCESS_CONTROL_ALLOW_HEADERS) {
        Some(None) => return false,
        Some(Some(n)) => n,
        None => Vec::new(),
    };
    let cred = req.credentials() == CredentialsMode::Include;
    let m = req.method();
    if !methods.iter().any(|x| x == m)
        && !matches!(m, "GET" | "HEAD" | "POST")
        && (cred || !methods.iter().any(|x| x == "*"))
    {
        return false;
    }
    let listed = |n: &str| names.iter().any(|x| x.eq_ignore_ascii_case(n));
    if req
        .headers()
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        && !listed("authorization")
    {
        return false;
    }
    let star = names.iter().any(|x| x == "*");
    req.unsafe_header_names().iter().all(|n| listed(n) || (!cred && star))
}

// ---------------------------------------------------------------------------
// Generated requests and responses
// ---------------------------------------------------------------------------

const ORIGINS: &[&str] = &[
    "https://app.example.com",
    "https://a.example.org",
    "http://localhost:3000",
    "https://evil.example",
    "null",
    "https://api.example.com",
];

const METHODS: &[&str] = &["GET", "POST", "HEAD", "PUT", "put", "patch", "PATCH", "DELETE", "PURGE"];

const REQUEST_HEADERS: &[(&str, &str)] = &[
    ("Content-Type", "application/json"),
    ("Content-Type", "text/plain"),
    ("X-Token", "1"),
    ("Authorization", "Bearer x"),
    ("Accept", "*/*"),
    ("X-Api-Key", "k"),
    ("Content-Language", "en"),
];

fn credentials() -> impl Strategy<Value = CredentialsMode> {
    prop_oneof![
        Just(CredentialsMode::Omit),
        Just(CredentialsMode::SameOrigin),
        Just(CredentialsMode::Include)
    ]
}

fn gen_request() -> impl Strategy<Value = Request> {
    (
        proptest::sample::select(ORIGINS),
        proptest::sample::select(METHODS),
        proptest::sample::subsequence(REQUEST_HEADERS, 0..=3),
        credentials(),
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(origin, method, headers, cred, flag)| {
            let mut b = Request::builder(origin, URL)
                .method(method)
                .credentials(cred)
                .use_cors_preflight(flag);
            for (n, v) in headers {
                b = b.header(n, v);
            }
            b.build().expect("generated requests are valid")
        })
}

const ACAC_VALUES: &[&[u8]] = &[b"true", b"TRUE", b" true", b"false", b"", b"true, true"];

/// Values near what a server might send for each CORS response header.
fn response_value(name: &'static str, origin: String) -> BoxedStrategy<Vec<u8>> {
    let near_origin = prop_oneof![
        Just(origin.clone().into_bytes()),
        Just(format!(" {origin}\t").into_bytes()),
        Just(format!("{origin}/").into_bytes()),
        Just(origin.to_ascii_uppercase().into_bytes()),
        Just(format!("{origin}, {origin}").into_bytes()),
        Just(b"*".to_vec()),
        Just(b" * ".to_vec()),
        Just(b"null".to_vec()),
        Just(b"".to_vec()),
        Just(b"https://app.example.com".to_vec()),
        "[ -~]{0,12}".prop_map(String::into_bytes),
    ];
    match name {
        "access-control-allow-origin" => near_origin.boxed(),
        "access-control-allow-credentials" => proptest::sample::select(ACAC_VALUES).prop_map(<[u8]>::to_vec).boxed(),
        "access-control-allow-methods" => prop_oneof![
            proptest::sample::subsequence(METHODS, 0..=3).prop_map(|m| m.join(", ").into_bytes()),
            Just(b"*".to_vec()),
            Just(b"PUT, *".to_vec()),
            Just(b"\"PUT\"".to_vec()),
            Just(b",,PATCH,".to_vec()),
            "[ -~]{0,12}".prop_map(String::into_bytes),
        ]
        .boxed(),
        "access-control-allow-headers" | "access-control-expose-headers" => prop_oneof![
            proptest::sample::subsequence(
                &[
                    "content-type",
                    "X-Token",
                    "authorization",
                    "x-api-key",
                    "*",
                    "Set-Cookie",
                    "x-request-id"
                ][..],
                0..=4
            )
            .prop_map(|m| m.join(",").into_bytes()),
            Just(b"x-token x-api-key".to_vec()),
            "[ -~]{0,12}".prop_map(String::into_bytes),
        ]
        .boxed(),
        _ => "[ -~]{0,8}".prop_map(String::into_bytes).boxed(),
    }
}

const RESPONSE_NAMES: &[&str] = &[
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
    "set-cookie",
    "x-request-id",
    "content-type",
];

fn gen_response(origin: String) -> impl Strategy<Value = HeaderMap> {
    proptest::collection::vec(
        proptest::sample::select(RESPONSE_NAMES).prop_flat_map(move |n| (Just(n), response_value(n, origin.clone()))),
        0..8,
    )
    .prop_map(|pairs| {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            if let Ok(v) = HeaderValue::from_bytes(&v) {
                h.append(HeaderName::from_static(n), v);
            }
        }
        h
    })
}

fn request_and_response() -> impl Strategy<Value = (Request, u16, HeaderMap)> {
    gen_request().prop_flat_map(|req| {
        let origin = req.origin().to_owned();
        (
            Just(req),
            proptest::sample::select(&[200u16, 204, 299, 301, 302, 400, 403, 500][..]),
            gen_response(origin),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// (a) and (b): the agent's checks are exactly the reference's.
    #[test]
    fn agent_checks_agree_with_the_fetch_reference((req, status, h) in request_and_response()) {
        let cross = !req.is_same_origin();
        let cc = cors_check(&req, &h);
        if cross {
            prop_assert!(
                cc.is_err() || ref_cors_check(&req, &h),
                "cors_check allowed what the CORS check must fail: {req:?} {h:?}"
            );
            prop_assert_eq!(cc.is_ok(), ref_cors_check(&req, &h), "cors_check {:?} on {:?}", cc, h);
        } else {
            prop_assert!(cc.is_ok());
        }
        let pf = check_preflight(&req, status, &h);
        prop_assert!(
            pf.is_err() || ref_preflight(&req, status, &h),
            "check_preflight allowed what must fail: {req:?} {status} {h:?}"
        );
        prop_assert_eq!(pf.is_ok(), ref_preflight(&req, status, &h), "check_preflight {:?}", pf);

        let ex = exposed_headers(&req, &h);
        let aceh = list(&h, &header::ACCESS_CONTROL_EXPOSE_HEADERS).flatten();
        for n in &ex.visible {
            prop_assert!(n != "set-cookie" && n != "set-cookie2", "script sees {}", n);
            if cross {
                let listed = aceh.as_ref().is_some_and(|l| {
                    l.iter().any(|x| x.eq_ignore_ascii_case(n))
                        || (!req.is_credentialed() && l.iter().any(|x| x == "*"))
                });
                prop_assert!(
                    SAFELISTED_RESPONSE_HEADERS.contains(&n.as_str()) || listed,
                    "script sees unexposed {}", n
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------
// (c) The two halves together
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Gen {
    origins: Vec<&'static str>,
    methods: Vec<&'static str>,
    headers: Vec<&'static str>,
    credentials: bool,
    debug: bool,
}

impl Gen {
    fn build(&self) -> Option<Policy> {
        PolicyConfig::new()
            .allow_origins(self.origins.iter().copied())
            .allow_methods(self.methods.iter().copied())
            .allow_headers(self.headers.iter().copied())
            .expose_headers(["x-request-id"])
            .allow_credentials(self.credentials)
            .debug(self.debug)
            .build()
            .ok()
    }

    fn public(&self) -> bool {
        self.origins == ["*"]
    }

    /// The policy's intent for a browser request, read off the config.
    fn intends_to_allow(&self, req: &Request) -> bool {
        // A public resource is for everyone, opaque origins included.
        let origin_ok = self.public()
            || (req.origin() != "null"
                && self.origins.iter().any(|p| match p.strip_prefix("https://*.") {
                    Some(domain) => req
                        .origin()
                        .strip_prefix("https://")
                        .and_then(|h| h.strip_suffix(domain))
                        .is_some_and(|sub| {
                            sub.len() > 1 && sub.ends_with('.') && !sub[..sub.len() - 1].contains(['.', ':'])
                        }),
                    None => match p.strip_suffix(":*") {
                        Some(host) => {
                            req.origin() == host
                                || req
                                    .origin()
                                    .strip_prefix(host)
                                    .and_then(|r| r.strip_prefix(':'))
                                    .is_some_and(|port| {
                                        !port.is_empty()
                                            && !port.starts_with('0')
                                            && port.bytes().all(|b| b.is_ascii_digit())
                                    })
                        }
                        None => req.origin() == *p,
                    },
                }));
        if !origin_ok {
            return false;
        }
        if req.is_credentialed() && (!self.credentials || self.public()) {
            return false;
        }
        if !req.needs_preflight() {
            return true;
        }
        let m = req.method();
        let method_ok = matches!(m, "GET" | "HEAD" | "POST") || self.methods.iter().any(|x| *x == "*" || *x == m);
        let star = self.headers.contains(&"*");
        let header_ok = |n: &str| {
            self.headers.iter().any(|h| h.eq_ignore_ascii_case(n)) || (star && !n.eq_ignore_ascii_case("authorization"))
        };
        method_ok && req.unsafe_header_names().iter().all(|n| header_ok(n))
    }
}

fn gen_policy() -> impl Strategy<Value = Gen> {
    (
        prop_oneof![
            1 => Just(vec!["*"]),
            4 => proptest::sample::subsequence(
                &["https://app.example.com", "https://*.example.org", "http://localhost:*"][..],
                1..=3
            ),
        ],
        proptest::sample::subsequence(&["PUT", "PATCH", "DELETE", "*"][..], 0..=3),
        proptest::sample::subsequence(&["content-type", "x-token", "authorization", "*"][..], 0..=3),
        any::<bool>(),
        proptest::bool::weighted(0.2),
    )
        .prop_map(|(origins, methods, headers, credentials, debug)| Gen {
            origins,
            methods,
            headers,
            credentials,
            debug,
        })
}

fn header_map(pairs: &[(String, Vec<u8>)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (n, v) in pairs {
        h.append(
            HeaderName::from_bytes(n.as_bytes()).expect("name"),
            HeaderValue::from_bytes(v).expect("value"),
        );
    }
    h
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// (c) A script reads the response if and only if the policy means it to.
    #[test]
    fn agent_and_policy_agree_end_to_end(g in gen_policy(), req in gen_request(), hostile in any::<bool>()) {
        let Some(policy) = g.build() else {
            return Ok(()); // an insecure combination the builder refuses
        };
        if req.is_same_origin() {
            return Ok(()); // CORS does not apply
        }
        let intended = g.intends_to_allow(&req);

        // The preflight, when the browser sends one.
        let mut passed = true;
        if let Some(pf) = req.preflight() {
            let d = policy.evaluate(&Method::OPTIONS, &pf.header_map());
            let (status, h) = policy.preflight_response(&d).expect("a preflight");
            passed = check_preflight(&req, status.as_u16(), &h).is_ok();
            if passed {
                prop_assert!(d.is_allowed(), "the agent passed a preflight the policy rejected: {:?}", d.rejection());
            }
        }
        // The actual request, if the preflight passed.
        if passed {
            let method = Method::from_bytes(req.method().as_bytes()).expect("method");
            let d = policy.evaluate(&method, &header_map(&req.actual_headers()));
            let mut resp = HeaderMap::new();
            resp.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
            resp.insert("x-request-id", HeaderValue::from_static("7"));
            if hostile {
                // An upstream that answers CORS itself, wrongly.
                resp.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
                resp.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
            }
            policy.apply(&d, &mut resp);
            passed = cors_check(&req, &resp).is_ok();
            if passed {
                let ex = exposed_headers(&req, &resp);
                prop_assert!(ex.visible.iter().any(|n| n == "x-request-id"), "exposed header hidden: {ex:?}");
            }
        }
        prop_assert_eq!(
            passed,
            intended,
            "agent verdict vs the policy's intent for {:?} under {:?}",
            req,
            g
        );
    }
}

/// Regression (found by `agent_and_policy_agree_end_to_end`): debug mode
/// used to answer a preflight rejected for its method with 204 and
/// `Access-Control-Allow-Origin` only. For a request with the
/// use-CORS-preflight flag (an XHR upload listener, a streaming body), the
/// Fetch Standard reads a missing `Access-Control-Allow-Methods` as "the
/// request's own method", so the browser passed the preflight, sent the
/// `PUT`, and the script read the response: `allow_methods` was not
/// enforced. The debug answer now lists the configured methods.
#[test]
fn debug_mode_method_rejection_holds_for_flagged_requests() {
    let policy = PolicyConfig::new()
        .allow_origins(["https://app.example.com"])
        .allow_methods(["DELETE"])
        .debug(true)
        .build()
        .unwrap();
    let req = Request::builder("https://app.example.com", URL)
        .method("PUT")
        .use_cors_preflight(true)
        .build()
        .unwrap();
    let pf = req.preflight().expect("a preflight");
    let d = policy.evaluate(&Method::OPTIONS, &pf.header_map());
    assert_eq!(d.rejection().map(|r| r.code()), Some("method_not_allowed"));
    let (status, h) = policy.preflight_response(&d).unwrap();
    assert!(
        check_preflight(&req, status.as_u16(), &h).is_err(),
        "the browser passes a preflight the policy rejected: {status} {h:?}"
    );
}
