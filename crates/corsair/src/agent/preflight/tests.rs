//! Preflight responses checked against the Fetch Standard's vectors
//! (numbered as in the reference notes).

use super::*;
use crate::agent::request::Request;
use crate::agent::trace::{Failure, FailureKind, Trace};
use crate::agent::CredentialsMode;
use http::header::{ACCESS_CONTROL_MAX_AGE, LOCATION};
use http::{HeaderMap, HeaderName, HeaderValue};

const O: &str = "https://app.example";
const T: &str = "https://api.example/r";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (n, v) in pairs {
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(n.as_bytes()), HeaderValue::from_str(v)) {
            h.append(n, v);
        }
    }
    h
}

fn request(method: &str, hs: &[(&str, &str)], cred: bool) -> Request {
    let mut b = Request::builder(O, T).method(method);
    for (n, v) in hs {
        b = b.header(*n, *v);
    }
    if cred {
        b = b.credentials(CredentialsMode::Include);
    }
    b.build().unwrap()
}

/// The response WPT's preflight.py gives: ACAO `*`, or O + ACAC for credentials.
fn wpt(cred: bool, acam: Option<&str>, acah: Option<&str>) -> HeaderMap {
    let mut pairs = if cred {
        vec![
            ("access-control-allow-origin", O),
            ("access-control-allow-credentials", "true"),
        ]
    } else {
        vec![("access-control-allow-origin", "*")]
    };
    if let Some(m) = acam {
        pairs.push(("access-control-allow-methods", m));
    }
    if let Some(h) = acah {
        pairs.push(("access-control-allow-headers", h));
    }
    headers(&pairs)
}

fn kind(r: Result<PreflightOk, Failure>) -> Option<FailureKind> {
    r.err().map(|f| f.kind)
}

#[test]
fn vector_11_allow_headers_joined_with_space_comma() {
    let names = [
        "x-test-header1",
        "x-test-header2",
        "X-test-header3",
        "x-test-header-b",
        "x-test-header-D",
        "x-test-header-C",
        "x-test-header-a",
        "Content-Type",
    ];
    let hs: Vec<(&str, &str)> = names
        .iter()
        .map(|n| (*n, if *n == "Content-Type" { "allowedOrRefused" } else { "v" }))
        .chain([("Accept", "*"), ("Accept-Language", "bzh"), ("Content-Language", "eu")])
        .collect();
    let req = request("GET", &hs, false);
    let acah = names.join(" ,");
    let ok = check_preflight(&req, 200, &wpt(false, Some("GET"), Some(&acah))).unwrap();
    assert_eq!(ok.headers.len(), 8);
}

#[test]
fn vector_12_13_method_needs_acam() {
    for m in ["PUT", "DELETE", "PATCH", "NEW"] {
        let req = request(m, &[], false);
        assert!(check_preflight(&req, 200, &wpt(false, Some(m), None)).is_ok(), "{m}");
        let f = check_preflight(&req, 200, &wpt(false, None, None)).unwrap_err();
        assert_eq!(f.kind, FailureKind::MethodNotAllowed);
        assert!(f.fix.contains(&format!("add `{m}` to Access-Control-Allow-Methods")));
        assert!(
            f.explanation.contains("no Access-Control-Allow-Methods"),
            "{}",
            f.explanation
        );
    }
    let req = request("PUT", &[("Accept-Language", "fr")], false);
    assert!(check_preflight(&req, 204, &wpt(false, Some("PUT"), None)).is_ok());
}

#[test]
fn vector_14_15_16_header_lists() {
    let req = request("GET", &[("x-print", "unicorn")], false);
    assert!(check_preflight(&req, 200, &wpt(false, None, Some("x-print"))).is_ok());
    let req = request("GET", &[("x-print", "a"), ("y-print", "b")], false);
    let f = check_preflight(&req, 200, &wpt(false, None, Some("x-print"))).unwrap_err();
    assert_eq!(f.kind, FailureKind::HeaderNotAllowed);
    assert_eq!(f.fix, "add `y-print` to Access-Control-Allow-Headers");
    assert!(check_preflight(&req, 200, &wpt(false, None, Some(",y-lol,x-PriNT, ,,,Y-PRINT"))).is_ok());
}

#[test]
fn vector_17_18_parse_failures() {
    let req = request("GET", &[("x-force-preflight", "")], false);
    let r = check_preflight(
        &req,
        200,
        &wpt(false, None, Some("x-force-preflight,header name with space")),
    );
    assert_eq!(kind(r), Some(FailureKind::InvalidAllowHeaders));
    let r = check_preflight(
        &req,
        200,
        &wpt(false, Some("Bad method name"), Some("x-force-preflight")),
    );
    assert_eq!(kind(r), Some(FailureKind::InvalidAllowMethods));
    // A bad element on a second line fails the whole header too.
    let mut h = wpt(false, None, Some("x-force-preflight"));
    h.append("access-control-allow-headers", HeaderValue::from_static("no no"));
    assert_eq!(
        kind(check_preflight(&req, 200, &h)),
        Some(FailureKind::InvalidAllowHeaders)
    );
}

#[test]
fn vector_19_20_21_status() {
    let req = request("GET", &[("x-did-preflight", "1")], false);
    let h = wpt(false, None, Some("x-did-preflight"));
    for s in [200, 201, 202, 203, 204, 205, 206, 299] {
        assert!(check_preflight(&req, s, &h).is_ok(), "{s}");
    }
    for s in [300, 304, 400, 401, 403, 404, 405, 417, 500, 505, 680, 790, 100, 0] {
        let k = kind(check_preflight(&req, s, &h));
        let expect = if (300..400).contains(&s) {
            FailureKind::PreflightRedirect
        } else {
            FailureKind::PreflightStatus
        };
        assert_eq!(k, Some(expect), "{s}");
    }
    for s in [301, 302, 303, 307, 308] {
        let mut h = h.clone();
        h.insert(LOCATION, HeaderValue::from_static("https://api.example/r/"));
        let f = check_preflight(&req, s, &h).unwrap_err();
        assert_eq!(f.kind, FailureKind::PreflightRedirect);
        assert!(f.explanation.contains("https://api.example/r/"));
    }
}

#[test]
fn preflight_needs_cors_check_first() {
    let req = request("PUT", &[], false);
    let h = headers(&[("access-control-allow-methods", "PUT")]);
    assert_eq!(
        kind(check_preflight(&req, 404, &h)),
        Some(FailureKind::MissingAllowOrigin)
    );
    let mut trace = Trace::new();
    let _ = check_preflight_traced(&req, 204, &h, &mut trace);
    assert_eq!(
        trace.first_failure().map(|s| s.name.as_str()),
        Some("preflight-allow-origin")
    );
}

/// Section C: cors-preflight-star.any.js.
#[test]
fn vectors_22_to_34_wildcards_and_case() {
    // (succeeds, cred, ACAM, ACAH, method, header)
    type Case<'a> = (bool, bool, &'a str, &'a str, &'a str, Option<(&'a str, &'a str)>);
    let cases: [Case; 22] = [
        (true, false, "get", "x-test", "GET", Some(("X-Test", "1"))),
        (true, false, "*", "x-test", "SUPER", Some(("X-Test", "1"))),
        (true, false, "*", "*", "OK", Some(("X-Test", "1"))),
        (false, true, "*", "*", "OK", Some(("X-Test", "1"))),
        (false, true, "*", "", "PUT", None),
        (false, true, "get", "*", "GET", Some(("X-Test", "1"))),
        (true, true, "*", "*", "*", Some(("*", "1"))),
        (true, true, "get", "*", "get", None),
        (true, true, "GET", "*", "GET", None),
        (true, true, "get", "*", "head", None),
        (true, true, "get", "*", "post", None),
        (true, true, "PUT", "*", "put", None),
        (true, true, "PUT", "*", "PUT", None),
        (false, true, "put", "*", "PUT", None),
        (false, true, "put", "*", "put", None),
        (false, true, "PATCH", "*", "patch", None),
        (true, true, "patch", "*", "patch", None),
        (false, true, "patch", "*", "PATCH", None),
        (false, false, "*", "*", "POST", Some(("Authorization", "123"))),
        (
            true,
            false,
            "*",
            "*, Authorization",
            "POST",
            Some(("Authorization", "123")),
        ),
        (
            true,
            false,
            "*",
            "authorization",
            "POST",
            Some(("Authorization", "123")),
        ),
        (
            true,
            true,
            "*",
            "*, Authorization",
            "POST",
            Some(("Authorization", "123")),
        ),
    ];
    for (i, (ok, cred, acam, acah, method, header)) in cases.into_iter().enumerate() {
        let hs: Vec<(&str, &str)> = header.into_iter().collect();
        let req = request(method, &hs, cred);
        let r = check_preflight(&req, 200, &wpt(cred, Some(acam), Some(acah)));
        assert_eq!(r.is_ok(), ok, "case {i}: {:?}", r.err().map(|f| f.to_string()));
    }
}

#[test]
fn failure_messages_name_the_change() {
    let req = request("GET", &[], true);
    let req_auth = Request::builder(O, T)
        .method("POST")
        .header("Authorization", "123")
        .build()
        .unwrap();
    let f = check_preflight(&req_auth, 200, &wpt(false, Some("*"), Some("*"))).unwrap_err();
    assert_eq!(f.kind, FailureKind::AuthorizationNotAllowed);
    assert!(f.explanation.contains("never covers"), "{f}");
    assert!(f.fix.contains("add `Authorization`"));
    let put = request("put", &[], true);
    let f = check_preflight(&put, 200, &wpt(true, Some("put"), None)).unwrap_err();
    assert!(f.explanation.contains("case-sensitively"), "{f}");
    let f = check_preflight(&put, 200, &wpt(true, Some("*"), None)).unwrap_err();
    assert!(f.explanation.contains("literal"), "{f}");
    let xt = request("GET", &[("X-Test", "1")], true);
    let f = check_preflight(&xt, 200, &wpt(true, None, Some("*"))).unwrap_err();
    assert!(f.explanation.contains("literal"), "{f}");
    assert_eq!(f.fix, "add `x-test` to Access-Control-Allow-Headers");
    // Credentialed preflight without ACAC fails the CORS check.
    let h = headers(&[("access-control-allow-origin", O)]);
    assert_eq!(
        kind(check_preflight(&req, 200, &h)),
        Some(FailureKind::MissingAllowCredentials)
    );
}

#[test]
fn acam_absent_with_flag_allows_own_method() {
    let req = Request::builder(O, T)
        .method("POST")
        .use_cors_preflight(true)
        .build()
        .unwrap();
    let ok = check_preflight(&req, 200, &wpt(false, None, None)).unwrap();
    assert_eq!(ok.methods, ["POST"]);
}

#[test]
fn max_age_parsing() {
    let parse = |v: &[&str]| {
        let mut h = HeaderMap::new();
        for v in v {
            h.append(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_str(v).unwrap());
        }
        MaxAge::from_headers(&h)
    };
    assert_eq!(parse(&[]), MaxAge::Absent);
    assert_eq!(parse(&[""]), MaxAge::Absent);
    assert_eq!(parse(&["12000"]), MaxAge::Seconds(12000));
    assert_eq!(parse(&[" 1 "]), MaxAge::Seconds(1));
    assert_eq!(parse(&["0"]), MaxAge::Seconds(0));
    assert_eq!(parse(&["99999999999999999999999"]), MaxAge::Seconds(u64::MAX));
    assert_eq!(parse(&["-1"]), MaxAge::Invalid("-1".into()));
    assert_eq!(parse(&["1.5"]), MaxAge::Invalid("1.5".into()));
    assert_eq!(parse(&["5", "6"]), MaxAge::Invalid("5, 6".into()));
    assert_eq!(MaxAge::Absent.effective_seconds(7200), Some(5));
    assert_eq!(MaxAge::Seconds(0).effective_seconds(7200), None);
    assert_eq!(MaxAge::Seconds(12000).effective_seconds(7200), Some(7200));
    assert_eq!(MaxAge::Seconds(12000).effective_seconds(86400), Some(12000));
    assert_eq!(MaxAge::Invalid("-1".into()).effective_seconds(600), None);
}

#[test]
fn trace_of_success() {
    let req = request("PUT", &[("X-A", "1")], false);
    let mut trace = Trace::new();
    let h = wpt(false, Some("PUT"), Some("x-a"));
    check_preflight_traced(&req, 204, &h, &mut trace).unwrap();
    let names: Vec<&str> = trace.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "preflight-allow-origin",
            "preflight-status",
            "allow-methods",
            "allow-headers",
            "max-age"
        ]
    );
    assert!(trace.is_ok());
}

#[test]
fn header_map_round_trip() {
    let req = request("PUT", &[("X-A", "1")], false);
    let pf = req.preflight().unwrap();
    let map = pf.header_map();
    assert_eq!(map.len(), 4);
    assert_eq!(map.get("access-control-request-headers").unwrap(), "x-a");
}
