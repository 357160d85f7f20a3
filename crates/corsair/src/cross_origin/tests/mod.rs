//! Every branch of the decision: Go's `csrf_test.go` tables ([`go`], ported
//! where the semantics agree; where they do not, the difference is named),
//! the decision's branches ([`decision`]), and the fallback, exempt paths,
//! the request form and the refusals ([`inputs`]).

mod decision;
mod go;
mod inputs;

use http::header::{HeaderMap, HeaderValue};
use http::Method;

use super::*;
use crate::{Policy, PolicyConfig};

pub(super) const HOST: &[u8] = b"example.com";

pub(super) fn policy(origins: &[&str]) -> Policy {
    PolicyConfig::new()
        .allow_origins(origins.iter().copied())
        .allow_insecure_origins(true)
        .build()
        .unwrap()
}

/// A policy trusting `https://trusted.example` only (Go's tests use none or
/// that one; a corsair policy always lists one).
pub(super) fn trusted_only() -> Policy {
    policy(&["https://trusted.example"])
}

pub(super) fn headers(site: &str, origin: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    if !site.is_empty() {
        h.insert(SEC_FETCH_SITE, HeaderValue::from_str(site).unwrap());
    }
    if !origin.is_empty() {
        h.insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    h
}

pub(super) fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).unwrap()
}

/// The outcome as a code: the pass's or the rejection's.
pub(super) fn outcome(p: &CrossOriginProtection, pol: &Policy, m: &str, path: &str, h: &HeaderMap) -> &'static str {
    match p.check(pol, &method(m), path, Some(HOST), h) {
        Ok(pass) => pass.code(),
        Err(r) => r.code(),
    }
}

pub(super) fn allowed(p: &CrossOriginProtection, pol: &Policy, m: &str, path: &str, h: &HeaderMap) -> bool {
    p.check(pol, &method(m), path, Some(HOST), h).is_ok()
}
