//! Unit tests of the comparison and the report.

use std::time::{Duration, UNIX_EPOCH};

use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};

use super::*;
use crate::PolicyConfig;

const APP: &str = "https://app.example.com";
const EVIL: &str = "https://evil.example";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_bytes(v.as_bytes()).unwrap(),
        );
    }
    h
}

fn strict() -> Policy {
    PolicyConfig::new()
        .allow_origins([APP])
        .allow_methods(["PUT"])
        .allow_headers(["content-type"])
        .allow_credentials(true)
        .build()
        .unwrap()
}

/// What a service that reflects any origin with credentials answers.
fn reflecting(req: &HeaderMap) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Some(o) = req.get("origin") {
        h.insert("access-control-allow-origin", o.clone());
        h.insert("access-control-allow-credentials", HeaderValue::from_static("true"));
    }
    if let Some(m) = req.get("access-control-request-method") {
        h.insert("access-control-allow-methods", m.clone());
    }
    if let Some(v) = req.get("access-control-request-headers") {
        h.insert("access-control-allow-headers", v.clone());
    }
    h
}

fn cmp(p: &Policy, method: Method, req: &HeaderMap, status: u16, resp: &HeaderMap) -> Comparison {
    let d = p.evaluate(&method, req);
    compare(p, &d, &method, req, StatusCode::from_u16(status).unwrap(), resp)
}

fn disagreement(c: Comparison) -> (ShadowVerdict, &'static str, String) {
    match c {
        Comparison::Disagree(d) => (d.verdict, d.reason, d.detail),
        other => panic!("expected a disagreement, got {other:?}"),
    }
}

#[test]
fn actual_requests_against_a_reflecting_service() {
    let p = strict();
    let app = headers(&[("origin", APP), ("cookie", "s=1")]);
    assert_eq!(
        cmp(&p, Method::GET, &app, 200, &reflecting(&app)),
        Comparison::Agree { allowed: true }
    );
    let evil = headers(&[("origin", EVIL), ("cookie", "s=1")]);
    let (v, reason, detail) = disagreement(cmp(&p, Method::GET, &evil, 200, &reflecting(&evil)));
    assert_eq!((v, reason), (ShadowVerdict::WouldReject, "origin_not_allowed"));
    assert!(detail.contains(EVIL), "{detail}");
    // The service's status does not matter for an actual request.
    let (_, reason, _) = disagreement(cmp(&p, Method::DELETE, &evil, 500, &reflecting(&evil)));
    assert_eq!(reason, "origin_not_allowed");
    // Both refuse.
    assert_eq!(
        cmp(&p, Method::GET, &evil, 200, &HeaderMap::new()),
        Comparison::Agree { allowed: false }
    );
}

#[test]
fn would_allow_names_why_the_browser_refuses_the_service() {
    let p = strict();
    let app = headers(&[("origin", APP)]);
    let (v, reason, _) = disagreement(cmp(&p, Method::GET, &app, 200, &HeaderMap::new()));
    assert_eq!((v, reason), (ShadowVerdict::WouldAllow, "missing_allow_origin"));
    // `*` is refused for a request with cookies; the policy echoes the origin.
    let with_cookie = headers(&[("origin", APP), ("cookie", "s=1")]);
    let star = headers(&[("access-control-allow-origin", "*")]);
    let (v, reason, _) = disagreement(cmp(&p, Method::GET, &with_cookie, 200, &star));
    assert_eq!(
        (v, reason),
        (ShadowVerdict::WouldAllow, "wildcard_origin_with_credentials")
    );
    // Without cookies `*` passes for the service, and the policy's answer too.
    assert_eq!(
        cmp(&p, Method::GET, &app, 200, &star),
        Comparison::Agree { allowed: true }
    );
}

#[test]
fn a_public_policy_is_judged_by_its_answer() {
    let public = PolicyConfig::new().allow_origins(["*"]).build().unwrap();
    let with_cookie = headers(&[("origin", EVIL), ("cookie", "s=1")]);
    // The policy's `*` fails a credentialed request the reflecting service
    // served.
    let (v, reason, _) = disagreement(cmp(&public, Method::GET, &with_cookie, 200, &reflecting(&with_cookie)));
    assert_eq!(
        (v, reason),
        (ShadowVerdict::WouldReject, "wildcard_origin_with_credentials")
    );
    let plain = headers(&[("origin", EVIL)]);
    assert_eq!(
        cmp(&public, Method::GET, &plain, 200, &reflecting(&plain)),
        Comparison::Agree { allowed: true }
    );
}

#[test]
fn preflights_are_judged_with_their_status() {
    let p = strict();
    let pf = |origin: &str, acrh: &str| {
        headers(&[
            ("origin", origin),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", acrh),
        ])
    };
    let ok = pf(APP, "content-type");
    assert_eq!(
        cmp(&p, Method::OPTIONS, &ok, 204, &reflecting(&ok)),
        Comparison::Agree { allowed: true }
    );
    let extra = pf(APP, "content-type,x-token");
    let (v, reason, detail) = disagreement(cmp(&p, Method::OPTIONS, &extra, 200, &reflecting(&extra)));
    assert_eq!((v, reason), (ShadowVerdict::WouldReject, "header_not_allowed"));
    assert!(detail.contains("x-token"), "{detail}");
    let evil = pf(EVIL, "content-type");
    let (_, reason, _) = disagreement(cmp(&p, Method::OPTIONS, &evil, 204, &reflecting(&evil)));
    assert_eq!(reason, "origin_not_allowed");
    // A reflecting answer with a 403 is refused by the browser: both refuse.
    assert_eq!(
        cmp(&p, Method::OPTIONS, &evil, 403, &reflecting(&evil)),
        Comparison::Agree { allowed: false }
    );
    // The service has no OPTIONS route: 404 without CORS headers.
    let (v, reason, _) = disagreement(cmp(&p, Method::OPTIONS, &ok, 404, &HeaderMap::new()));
    assert_eq!((v, reason), (ShadowVerdict::WouldAllow, "missing_allow_origin"));
    // The service answers with CORS headers but a 405.
    let (v, reason, _) = disagreement(cmp(&p, Method::OPTIONS, &ok, 405, &reflecting(&ok)));
    assert_eq!((v, reason), (ShadowVerdict::WouldAllow, "preflight_status"));
    // The service lists methods without PUT.
    let mut resp = reflecting(&ok);
    resp.insert("access-control-allow-methods", HeaderValue::from_static("GET, POST"));
    let (v, reason, _) = disagreement(cmp(&p, Method::OPTIONS, &ok, 204, &resp));
    assert_eq!((v, reason), (ShadowVerdict::WouldAllow, "method_not_allowed"));
}

#[test]
fn the_null_origin_is_compared() {
    let p = strict();
    let null = headers(&[("origin", "null")]);
    let (v, reason, _) = disagreement(cmp(&p, Method::GET, &null, 200, &reflecting(&null)));
    assert_eq!((v, reason), (ShadowVerdict::WouldReject, "null_origin"));
}

#[test]
fn requests_no_browser_sends_or_checks_are_skipped() {
    let p = strict();
    let skip = |method: Method, req: HeaderMap| cmp(&p, method, &req, 200, &reflecting(&req));
    assert_eq!(skip(Method::GET, headers(&[])), Comparison::Skipped(Skip::NotCors));
    assert_eq!(
        skip(
            Method::POST,
            headers(&[("origin", EVIL), ("sec-fetch-site", "same-origin")])
        ),
        Comparison::Skipped(Skip::SameOrigin)
    );
    for req in [
        headers(&[("origin", APP), ("origin", EVIL)]),
        headers(&[("origin", "https://APP.example.com")]),
        headers(&[("origin", "https://app.example.com:443")]),
        headers(&[("origin", "https://app.example.com/")]),
    ] {
        assert_eq!(
            skip(Method::GET, req.clone()),
            Comparison::Skipped(Skip::NotFromBrowser),
            "{req:?}"
        );
    }
    assert_eq!(
        skip(Method::TRACE, headers(&[("origin", EVIL)])),
        Comparison::Skipped(Skip::NotFromBrowser)
    );
    for (acrm, acrh) in [
        ("put", ""),
        ("CONNECT", ""),
        ("PUT", "cookie"),
        ("PUT", "x:y"),
        ("GET, PUT", ""),
    ] {
        let mut req = headers(&[("origin", APP), ("access-control-request-method", acrm)]);
        if !acrh.is_empty() {
            req.insert("access-control-request-headers", HeaderValue::from_str(acrh).unwrap());
        }
        assert_eq!(
            skip(Method::OPTIONS, req),
            Comparison::Skipped(Skip::NotFromBrowser),
            "{acrm} {acrh}"
        );
    }
}

#[test]
fn every_failure_kind_has_a_snake_case_code() {
    use crate::agent::FailureKind as K;
    for k in [
        K::PreflightRedirect,
        K::PreflightStatus,
        K::MissingAllowOrigin,
        K::MultipleAllowOrigin,
        K::AllowOriginMismatch,
        K::WildcardOriginWithCredentials,
        K::MissingAllowCredentials,
        K::InvalidAllowCredentials,
        K::InvalidAllowMethods,
        K::InvalidAllowHeaders,
        K::MethodNotAllowed,
        K::HeaderNotAllowed,
        K::AuthorizationNotAllowed,
        K::InvalidRedirect,
        K::RedirectWithCredentials,
        K::RedirectScheme,
        K::TooManyRedirects,
    ] {
        assert_eq!(failure_code(k), k.code().replace('-', "_"));
    }
}

// ---------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------

fn at(secs: u64) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn reject(reason: &'static str) -> Disagreement {
    Disagreement {
        verdict: ShadowVerdict::WouldReject,
        reason,
        detail: format!("detail of {reason}"),
    }
}

#[test]
fn one_entry_per_policy_verdict_reason_and_origin() {
    let mut r = ShadowReport::new();
    let a = headers(&[("origin", "https://a.example")]);
    let b = headers(&[("origin", "https://b.example")]);
    let sample = |h| Sample {
        kind: RequestKind::Actual,
        method: &Method::GET,
        path: "/x",
        headers: h,
    };
    r.record("api", &reject("origin_not_allowed"), &sample(&a), at(30));
    r.record("api", &reject("origin_not_allowed"), &sample(&a), at(10));
    r.record("api", &reject("origin_not_allowed"), &sample(&a), at(20));
    r.record("api", &reject("origin_not_allowed"), &sample(&b), at(5));
    r.record("api", &reject("null_origin"), &sample(&a), at(5));
    r.record("web", &reject("origin_not_allowed"), &sample(&a), at(5));
    let allow = Disagreement {
        verdict: ShadowVerdict::WouldAllow,
        reason: "missing_allow_origin",
        detail: String::new(),
    };
    r.record("api", &allow, &sample(&a), at(5));
    let e = r.entries();
    let keys: Vec<(&str, &str, &str, &str, u64)> = e
        .iter()
        .map(|e| {
            (
                e.policy.as_str(),
                e.verdict.as_str(),
                e.reason,
                e.origin.as_str(),
                e.count,
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            ("api", "would_reject", "null_origin", "https://a.example", 1),
            ("api", "would_reject", "origin_not_allowed", "https://a.example", 3),
            ("api", "would_reject", "origin_not_allowed", "https://b.example", 1),
            ("api", "would_allow", "missing_allow_origin", "https://a.example", 1),
            ("web", "would_reject", "origin_not_allowed", "https://a.example", 1),
        ]
    );
    assert_eq!((e[1].first_seen, e[1].last_seen), (at(10), at(30)));
    assert_eq!(e[1].detail, "detail of origin_not_allowed");
    assert_eq!((r.len(), r.total()), (5, 7));
    assert!(r.other_origins().is_empty());
    r.clear();
    assert!(r.is_empty());
}

#[test]
fn origins_beyond_the_limit_are_counted_not_kept() {
    let mut r = ShadowReport::with_origin_limit(3);
    let d = reject("origin_not_allowed");
    for i in 0..10u64 {
        let h = headers(&[("origin", &format!("https://o{i}.example"))]);
        let s = Sample {
            kind: RequestKind::Actual,
            method: &Method::GET,
            path: "/",
            headers: &h,
        };
        r.record("api", &d, &s, at(i));
        r.record("api", &d, &s, at(i));
    }
    // The first three origins are kept (and keep counting); the others are
    // counted together.
    let e = r.entries();
    assert_eq!(
        e.iter().map(|e| (e.origin.as_str(), e.count)).collect::<Vec<_>>(),
        [
            ("https://o0.example", 2),
            ("https://o1.example", 2),
            ("https://o2.example", 2)
        ]
    );
    let o = r.other_origins();
    assert_eq!(o.len(), 1);
    assert_eq!((o[0].count, o[0].first_seen, o[0].last_seen), (14, at(3), at(9)));
    // An overlong origin is never kept by name, even below the limit.
    let mut r = ShadowReport::new();
    let long = format!("https://{}.example", "a".repeat(400));
    let h = headers(&[("origin", &long)]);
    let s = Sample {
        kind: RequestKind::Actual,
        method: &Method::GET,
        path: "/",
        headers: &h,
    };
    r.record("api", &d, &s, at(1));
    assert!(r.entries().is_empty());
    assert_eq!(r.other_origins()[0].count, 1);
}

#[test]
fn the_example_is_the_first_request_cut_to_its_bounds() {
    let mut r = ShadowReport::new();
    let names: Vec<String> = (0..40).map(|i| format!("x-{i}-{}", "n".repeat(80))).collect();
    let h = headers(&[
        ("origin", APP),
        ("access-control-request-method", "PUT"),
        ("access-control-request-headers", &names[..20].join(",")),
        ("access-control-request-headers", &names[20..].join(" , ")),
    ]);
    let path = format!("/é{}", "p".repeat(400));
    let s = Sample {
        kind: RequestKind::Preflight,
        method: &Method::OPTIONS,
        path: &path,
        headers: &h,
    };
    r.record("api", &reject("header_not_allowed"), &s, at(1));
    let other = headers(&[("origin", APP)]);
    let later = Sample {
        kind: RequestKind::Actual,
        method: &Method::GET,
        path: "/later",
        headers: &other,
    };
    r.record("api", &reject("header_not_allowed"), &later, at(2));
    let ex = &r.entries()[0].example;
    assert_eq!(ex.kind, RequestKind::Preflight);
    assert_eq!(ex.method, "OPTIONS");
    assert_eq!(ex.requested_method.as_deref(), Some("PUT"));
    assert_eq!(ex.path.len(), 256);
    assert!(path.starts_with(&ex.path));
    assert_eq!(ex.requested_headers.len(), 32);
    assert!(ex.requested_headers.iter().all(|n| n.len() == 64));
    assert!(names[31].starts_with(&ex.requested_headers[31]));
}

#[test]
fn the_json_has_the_documented_shape() {
    let mut r = ShadowReport::new();
    let h = headers(&[
        ("origin", "https://old.example.com"),
        ("access-control-request-method", "PUT"),
        ("access-control-request-headers", "content-type"),
    ]);
    let s = Sample {
        kind: RequestKind::Preflight,
        method: &Method::OPTIONS,
        path: "/items/1",
        headers: &h,
    };
    let d = Disagreement {
        verdict: ShadowVerdict::WouldReject,
        reason: "origin_not_allowed",
        detail: "origin `https://old.example.com` is not in allow_origins".into(),
    };
    r.record("api", &d, &s, at(1_746_093_600));
    r.record("api", &d, &s, at(1_746_093_899));
    let mut small = ShadowReport::with_origin_limit(0);
    small.record("api", &d, &s, at(1_746_093_660));
    let json = serde_json::to_value(&r).unwrap();
    let want = serde_json::json!({
        "origin_limit": 1000,
        "entries": [{
            "policy": "api",
            "verdict": "would_reject",
            "reason": "origin_not_allowed",
            "origin": "https://old.example.com",
            "count": 2,
            "first_seen": "2025-05-01T10:00:00Z",
            "last_seen": "2025-05-01T10:04:59Z",
            "detail": "origin `https://old.example.com` is not in allow_origins",
            "example": {
                "kind": "preflight",
                "method": "OPTIONS",
                "path": "/items/1",
                "requested_method": "PUT",
                "requested_headers": ["content-type"]
            }
        }],
        "other_origins": []
    });
    assert_eq!(json, want);
    let json = serde_json::to_value(&small).unwrap();
    assert_eq!(
        json["other_origins"],
        serde_json::json!([{
            "policy": "api",
            "verdict": "would_reject",
            "reason": "origin_not_allowed",
            "count": 1,
            "first_seen": "2025-05-01T10:01:00Z",
            "last_seen": "2025-05-01T10:01:00Z"
        }])
    );
}

#[test]
fn reports_kept_apart_merge_into_one() {
    let d = reject("origin_not_allowed");
    let record = |r: &mut ShadowReport, origin: &str, path: &str, t: u64| {
        let h = headers(&[("origin", origin)]);
        let s = Sample {
            kind: RequestKind::Actual,
            method: &Method::GET,
            path,
            headers: &h,
        };
        r.record("api", &d, &s, at(t));
    };
    let mut a = ShadowReport::with_origin_limit(2);
    record(&mut a, "https://x.example", "/late", 50);
    record(&mut a, "https://y.example", "/y", 5);
    let mut b = ShadowReport::new();
    record(&mut b, "https://x.example", "/early", 10);
    record(&mut b, "https://x.example", "/early", 60);
    record(&mut b, "https://z.example", "/z", 7);
    a.merge(&b);
    let e = a.entries();
    assert_eq!(
        e.iter().map(|e| (e.origin.as_str(), e.count)).collect::<Vec<_>>(),
        [("https://x.example", 3), ("https://y.example", 1)]
    );
    // The earlier request is the example; the times widen.
    assert_eq!(
        (e[0].example.path.as_str(), e[0].first_seen, e[0].last_seen),
        ("/early", at(10), at(60))
    );
    // z is beyond a's limit of 2 origins: counted, not named.
    let o = a.other_origins();
    assert_eq!((o[0].count, o[0].first_seen), (1, at(7)));
    assert_eq!(a.total(), 5);
}
