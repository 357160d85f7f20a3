//! The user-agent half on arbitrary response headers: arbitrary bytes for
//! ACAO, ACAC, ACAM, ACAH, ACEH, max-age and others, with an arbitrary
//! status, into `check_preflight`, `cors_check`, `exposed_headers` and the
//! preflight cache, for a fixed set of requests. No panic; both checks agree
//! exactly with a naive reading of the Fetch Standard written here (so the
//! agent never declares allowed a response the CORS check must fail, nor
//! the reverse); scripts never see `Set-Cookie` or an unexposed header.
//! What the reference needs of each request (its serialized origin,
//! normalized method, unsafe header names, same-origin) is written by hand
//! from the standard, and the engine's own reading is checked against it.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use corsair::agent::{
    check_preflight, check_preflight_traced, cors_check, cors_check_traced, exposed_headers, BrowserProfile,
    CredentialsMode, MaxAge, PreflightCache, Request, Trace,
};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

/// A request as written here, with what the Fetch Standard says of it,
/// worked out by hand (the oracle never asks the engine: a bug in
/// `unsafe_header_names` or `is_same_origin` would otherwise be mirrored).
struct Case {
    req: Request,
    /// The page origin, serialized.
    origin: &'static str,
    /// The method as normalized (Fetch §2.2.1).
    method: &'static str,
    credentialed: bool,
    flag: bool,
    /// Same origin with the URL (Fetch §4.1 step 12): no CORS at all.
    same_origin: bool,
    /// Whether the header list holds `Authorization`.
    authorization: bool,
    /// The CORS-unsafe request-header names (Fetch §2.2.2); `Accept: */*`,
    /// which the browser adds, is safelisted.
    unsafe_names: &'static [&'static str],
}

fn cases() -> &'static [Case] {
    static C: OnceLock<Vec<Case>> = OnceLock::new();
    C.get_or_init(|| {
        let o = "https://app.example";
        let u = "https://api.example/r";
        let case = |req: Request,
                    origin,
                    method,
                    credentialed,
                    flag,
                    same_origin,
                    authorization,
                    unsafe_names: &'static [&'static str]| Case {
            req,
            origin,
            method,
            credentialed,
            flag,
            same_origin,
            authorization,
            unsafe_names,
        };
        let cases = vec![
            case(
                Request::builder(o, u).build().unwrap(),
                o,
                "GET",
                false,
                false,
                false,
                false,
                &[],
            ),
            case(
                Request::builder(o, u)
                    .method("PUT")
                    .header("X-Token", "1")
                    .header("Content-Type", "application/json")
                    .credentials(CredentialsMode::Include)
                    .build()
                    .unwrap(),
                o,
                "PUT",
                true,
                false,
                false,
                false,
                &["content-type", "x-token"],
            ),
            case(
                Request::builder(o, u)
                    .method("DELETE")
                    .header("Authorization", "Bearer x")
                    .credentials(CredentialsMode::Omit)
                    .build()
                    .unwrap(),
                o,
                "DELETE",
                false,
                false,
                false,
                true,
                &["authorization"],
            ),
            case(
                Request::builder("null", u)
                    .method("patch")
                    .header("x-a", "1")
                    .build()
                    .unwrap(),
                "null",
                "patch",
                false,
                false,
                false,
                false,
                &["x-a"],
            ),
            case(
                Request::builder("https://api.example", u)
                    .method("PUT")
                    .build()
                    .unwrap(),
                "https://api.example",
                "PUT",
                false,
                false,
                true,
                false,
                &[],
            ),
            case(
                Request::builder(o, u)
                    .method("POST")
                    .use_cors_preflight(true)
                    .credentials(CredentialsMode::Include)
                    .build()
                    .unwrap(),
                o,
                "POST",
                true,
                true,
                false,
                false,
                &[],
            ),
            case(
                Request::builder("http://localhost:3000", "http://127.0.0.1:8080/x")
                    .method("PATCH")
                    .header("X-B", "2")
                    .header("Authorization", "Basic y")
                    .build()
                    .unwrap(),
                "http://localhost:3000",
                "PATCH",
                false,
                false,
                false,
                true,
                &["authorization", "x-b"],
            ),
        ];
        // The engine's reading of each request agrees with the hand-made one.
        for c in &cases {
            assert_eq!(c.req.origin(), c.origin);
            assert_eq!(c.req.method(), c.method);
            assert_eq!(c.req.is_credentialed(), c.credentialed);
            assert_eq!(c.req.is_same_origin(), c.same_origin);
            assert_eq!(c.req.unsafe_header_names(), c.unsafe_names);
        }
        cases
    })
}

/// Fetch §2.2.2 "CORS-safelisted response-header name" (the fixed part).
const SAFELISTED_RESPONSE: [&str; 7] = [
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
];

const NAMES: &[&str] = &[
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
    "location",
    "set-cookie",
    "x-request-id",
    "content-type",
    "set-cookie2",
    "x-token",
];

fn trim_ws(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r' | b'\n', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r' | b'\n'] = b {
        b = rest;
    }
    b
}

/// Fetch's "get": every line, normalized, joined with `, `.
fn get(h: &HeaderMap, n: &HeaderName) -> Option<Vec<u8>> {
    let lines: Vec<&[u8]> = h.get_all(n).iter().map(|v| trim_ws(v.as_bytes())).collect();
    if lines.is_empty() {
        None
    } else {
        Some(lines.join(&b", "[..]))
    }
}

fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// "Extract header list values" for a `#token` header: `None` when absent,
/// `Some(Err(()))` on failure.
fn list(h: &HeaderMap, n: &HeaderName) -> Option<Result<Vec<String>, ()>> {
    if !h.contains_key(n) {
        return None;
    }
    let mut out = Vec::new();
    for v in h.get_all(n) {
        for e in v.as_bytes().split(|&b| b == b',') {
            let e = trim_ws(e);
            if e.is_empty() {
                continue;
            }
            if !e.iter().all(|&b| tchar(b)) {
                return Some(Err(()));
            }
            out.push(String::from_utf8_lossy(e).into_owned());
        }
    }
    Some(Ok(out))
}

/// The CORS check, read naively off the Fetch Standard.
fn ref_cors_check(c: &Case, h: &HeaderMap) -> bool {
    let Some(origin) = get(h, &header::ACCESS_CONTROL_ALLOW_ORIGIN) else {
        return false;
    };
    let cred = c.credentialed;
    if !cred && origin == b"*" {
        return true;
    }
    if origin != c.origin.as_bytes() {
        return false;
    }
    if !cred {
        return true;
    }
    get(h, &header::ACCESS_CONTROL_ALLOW_CREDENTIALS).as_deref() == Some(b"true")
}

/// The CORS-preflight fetch's checks on the response, read naively.
fn ref_preflight(c: &Case, status: u16, h: &HeaderMap) -> bool {
    if !ref_cors_check(c, h) || !(200..=299).contains(&status) {
        return false;
    }
    let methods = match list(h, &header::ACCESS_CONTROL_ALLOW_METHODS) {
        Some(Err(())) => return false,
        Some(Ok(m)) => m,
        None if c.flag => vec![c.method.to_owned()],
        None => Vec::new(),
    };
    let names = match list(h, &header::ACCESS_CONTROL_ALLOW_HEADERS) {
        Some(Err(())) => return false,
        Some(Ok(n)) => n,
        None => Vec::new(),
    };
    let cred = c.credentialed;
    let m = c.method;
    let safelisted = matches!(m, "GET" | "HEAD" | "POST");
    if !methods.iter().any(|x| x == m) && !safelisted && (cred || !methods.iter().any(|x| x == "*")) {
        return false;
    }
    let listed = |n: &str| names.iter().any(|x| x.eq_ignore_ascii_case(n));
    if c.authorization && !listed("authorization") {
        return false;
    }
    let star = names.iter().any(|x| x == "*");
    c.unsafe_names.iter().all(|n| listed(n) || (!cred && star))
}

fuzz_target!(|data: &[u8]| {
    let [sel, s0, s1, rest @ ..] = data else {
        return;
    };
    let c = &cases()[usize::from(*sel) % 7];
    let req = &c.req;
    let status = u16::from_le_bytes([*s0, *s1]) % 1000;
    let mut h = HeaderMap::new();
    // Lines: a name selector byte, then the value up to the next NUL.
    for line in rest.split(|&b| b == 0).take(12) {
        let Some((&n, v)) = line.split_first() else {
            continue;
        };
        let name = HeaderName::from_static(NAMES[usize::from(n) % NAMES.len()]);
        if let Ok(v) = HeaderValue::from_bytes(v) {
            h.append(name, v);
        }
    }

    let cross = !c.same_origin;
    let cc = cors_check(req, &h);
    let mut t = Trace::new();
    assert_eq!(cc.is_ok(), cors_check_traced(req, &h, &mut t).is_ok());
    if cross {
        assert_eq!(cc.is_ok(), ref_cors_check(c, &h), "cors_check {cc:?} on {h:?}");
    } else {
        assert!(cc.is_ok());
    }
    if cc.is_ok() && cross {
        let acao: Vec<&[u8]> = h
            .get_all(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        assert_eq!(acao.len(), 1, "allowed with {} ACAO lines", acao.len());
        let v = trim_ws(acao[0]);
        assert!(v == c.origin.as_bytes() || (v == b"*" && !c.credentialed));
    }

    let pf = check_preflight(req, status, &h);
    let mut t = Trace::new();
    assert_eq!(pf.is_ok(), check_preflight_traced(req, status, &h, &mut t).is_ok());
    assert_eq!(
        pf.is_ok(),
        ref_preflight(c, status, &h),
        "check_preflight {pf:?} on {status} {h:?}"
    );
    if let Ok(ok) = &pf {
        let mut cache = PreflightCache::new(BrowserProfile::Chromium);
        let now = Duration::from_secs(100);
        let _ = cache.store(req, ok, now);
        let _ = cache.lookup(req, now);
        let _ = cache.explain(req, now + Duration::from_secs(3));
    }
    let _ = MaxAge::from_headers(&h).effective_seconds(7200);

    let ex = exposed_headers(req, &h);
    assert_eq!(ex.visible.len() + ex.hidden.len(), h.keys_len());
    let aceh = list(&h, &header::ACCESS_CONTROL_EXPOSE_HEADERS);
    for n in &ex.visible {
        assert!(n != "set-cookie" && n != "set-cookie2", "script sees {n}");
        if cross {
            let listed = match &aceh {
                Some(Ok(l)) => {
                    l.iter().any(|x| x.eq_ignore_ascii_case(n)) || (!c.credentialed && l.iter().any(|x| x == "*"))
                }
                _ => false,
            };
            assert!(
                SAFELISTED_RESPONSE.contains(&n.as_str()) || listed,
                "script sees unexposed {n}"
            );
        }
    }
});
