//! Unit tests of the decisions, rule by rule: shared fixtures here, then
//! one file per part of the answer.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};

use crate::{Policy, PolicyConfig, RequestKind};

pub(super) const APP: &str = "https://app.example.com";

pub(super) fn private() -> Policy {
    PolicyConfig::new()
        .allow_origins([APP, "https://*.example.net", "http://localhost:*"])
        .allow_methods(["PUT", "DELETE", "PATCH"])
        .allow_headers(["content-type", "x-request-id", "authorization"])
        .expose_headers(["x-request-id", "etag"])
        .allow_credentials(true)
        .max_age(600)
        .allow_private_network(true)
        .build()
        .unwrap()
}

pub(super) fn public() -> Policy {
    PolicyConfig::new()
        .allow_origins(["*"])
        .allow_methods(["*"])
        .allow_headers(["*"])
        .expose_headers(["x-total"])
        .build()
        .unwrap()
}

pub(super) fn req(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_bytes(v.as_bytes()).unwrap(),
        );
    }
    h
}

pub(super) fn preflight(p: &Policy, pairs: &[(&str, &str)]) -> (StatusCode, HeaderMap, crate::Decision) {
    let d = p.evaluate(&Method::OPTIONS, &req(pairs));
    assert_eq!(d.kind(), RequestKind::Preflight);
    let (s, h) = p.preflight_response(&d).unwrap();
    (s, h, d)
}

pub(super) fn actual(
    p: &Policy,
    method: Method,
    pairs: &[(&str, &str)],
    resp: &[(&str, &str)],
) -> (HeaderMap, crate::Decision) {
    let d = p.evaluate(&method, &req(pairs));
    assert!(p.preflight_response(&d).is_none());
    let mut h = req(resp);
    p.apply(&d, &mut h);
    (h, d)
}

pub(super) fn no_cors_headers(h: &HeaderMap) -> bool {
    h.keys().all(|k| !k.as_str().starts_with("access-control-"))
}

mod apply;
mod fast_paths;
mod preflight;

#[test]
fn classification() {
    let p = private();
    assert_eq!(p.evaluate(&Method::GET, &req(&[])).kind(), RequestKind::NotCors);
    assert_eq!(p.evaluate(&Method::OPTIONS, &req(&[])).kind(), RequestKind::NotCors);
    assert_eq!(
        p.evaluate(&Method::OPTIONS, &req(&[("origin", APP)])).kind(),
        RequestKind::Actual,
        "OPTIONS without ACRM goes to the inner service"
    );
    assert_eq!(
        p.evaluate(
            &Method::OPTIONS,
            &req(&[("origin", APP), ("access-control-request-method", "PUT")])
        )
        .kind(),
        RequestKind::Preflight
    );
    assert_eq!(
        p.evaluate(
            &Method::POST,
            &req(&[("origin", APP), ("access-control-request-method", "PUT")])
        )
        .kind(),
        RequestKind::Actual
    );
}
