//! Unit tests of the parent module and its parts.

use corsair::PolicyConfig;
use http::header::{HeaderMap, HeaderValue};
use http::Method;

use super::handshake::{check, is_key, Kind};
use super::origin::{decide, same_origin, Allowed};
use super::*;

#[test]
fn accept_key_is_rfc_6455s_example() {
    // RFC 6455 §1.3.
    assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

#[test]
fn base64_pads_as_rfc_4648_says() {
    // RFC 4648 §10.
    for (raw, b64) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(raw.as_bytes()), b64);
    }
}

#[test]
fn new_keys_are_valid_and_differ() {
    let a = new_key().unwrap();
    let b = new_key().unwrap();
    assert!(is_key(a.as_bytes()), "{a}");
    assert_ne!(a, b);
}

#[test]
fn keys_are_the_canonical_base64_of_16_bytes() {
    assert!(is_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
    for bad in [
        &b""[..],
        b"dGhlIHNhbXBsZSBub25jZQ=",             // short
        b"dGhlIHNhbXBsZSBub25jZQ===",           // long
        b"dGhlIHNhbXBsZSBub25jZR==",            // bits past the 128th
        b"dGhlIHNhbXBsZSBub25j*Q==",            // not base64
        b"dGhlIHNhbXBsZSBub25jZQAA",            // no padding
        b"dGhlIHNhbXBsZSBub25jZQ==dGhlIHNhbXB", // two keys glued
    ] {
        assert!(!is_key(bad), "{}", String::from_utf8_lossy(bad));
    }
}

fn headers(fields: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in fields {
        h.append(
            http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

const GOOD: &[(&str, &str)] = &[
    ("upgrade", "websocket"),
    ("connection", "keep-alive, Upgrade"),
    ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("sec-websocket-version", "13"),
];

fn without(name: &str) -> Vec<(&'static str, &'static str)> {
    GOOD.iter().filter(|(k, _)| *k != name).copied().collect()
}

fn with(name: &'static str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut v = without(name);
    v.push((name, value));
    v
}

#[test]
fn a_handshake_needs_both_upgrade_and_the_connection_option() {
    use super::handshake::asks_for_websocket;
    assert!(asks_for_websocket(&headers(GOOD)));
    assert!(asks_for_websocket(&headers(&with("upgrade", "WebSocket"))));
    assert!(!asks_for_websocket(&headers(&without("connection"))));
    assert!(!asks_for_websocket(&headers(&with("connection", "keep-alive, x-drop"))));
    assert!(!asks_for_websocket(&headers(&without("upgrade"))));
    assert!(!asks_for_websocket(&headers(&with("upgrade", "h2c"))));
}

#[test]
fn every_rule_of_an_http1_handshake_refuses_on_its_own() {
    let get = Method::GET;
    assert_eq!(check(Kind::Http1, &get, &headers(GOOD), false), Ok(()));
    type Case = (Vec<(&'static str, &'static str)>, Method, bool, Refusal);
    let cases: Vec<Case> = vec![
        (GOOD.to_vec(), Method::POST, false, Refusal::Method),
        (GOOD.to_vec(), get.clone(), true, Refusal::Body),
        (without("sec-websocket-key"), get.clone(), false, Refusal::Key),
        (with("sec-websocket-key", "short=="), get.clone(), false, Refusal::Key),
        (
            [GOOD, &[("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")]].concat(),
            get.clone(),
            false,
            Refusal::Key,
        ),
        (
            without("sec-websocket-version"),
            get.clone(),
            false,
            Refusal::VersionMissing,
        ),
        (
            with("sec-websocket-version", "8"),
            get.clone(),
            false,
            Refusal::VersionUnsupported,
        ),
        (
            [GOOD, &[("sec-websocket-version", "13")]].concat(),
            get.clone(),
            false,
            Refusal::VersionUnsupported,
        ),
    ];
    for (fields, method, body, want) in cases {
        assert_eq!(
            check(Kind::Http1, &method, &headers(&fields), body),
            Err(want),
            "{method} {fields:?} body={body}"
        );
        assert!(want.code().starts_with("websocket_"));
    }
    assert_eq!(Refusal::VersionUnsupported.status(), http::StatusCode::UPGRADE_REQUIRED);
    assert_eq!(Refusal::Key.status(), http::StatusCode::BAD_REQUEST);
}

#[test]
fn an_http2_handshake_is_a_connect_with_a_version_and_no_key() {
    let h = headers(&[("sec-websocket-version", "13")]);
    assert_eq!(check(Kind::Http2, &Method::CONNECT, &h, false), Ok(()));
    assert_eq!(check(Kind::Http2, &Method::GET, &h, false), Err(Refusal::Method));
    assert_eq!(
        check(Kind::Http2, &Method::CONNECT, &HeaderMap::new(), false),
        Err(Refusal::VersionMissing)
    );
    assert_eq!(
        check(
            Kind::Http2,
            &Method::CONNECT,
            &headers(&[("sec-websocket-version", "7")]),
            false
        ),
        Err(Refusal::VersionUnsupported)
    );
}

#[test]
fn same_origin_compares_host_and_port_with_the_scheme_default() {
    for (origin, authority, same) in [
        ("https://api.example", "api.example", true),
        ("https://API.example", "api.example", true),
        ("http://api.example", "api.example", true),
        ("https://api.example", "api.example:443", true),
        ("http://api.example", "api.example:80", true),
        ("http://api.example:80", "api.example", true),
        ("https://api.example", "api.example:80", false),
        ("https://api.example:8443", "api.example:8443", true),
        ("https://api.example:8443", "api.example", false),
        ("http://127.0.0.1:3000", "127.0.0.1:3000", true),
        ("http://[::1]:3000", "[::1]:3000", true),
        ("http://[::1]", "[::1]:3000", false),
        ("https://evil.example", "api.example", false),
        ("https://api.example.evil", "api.example", false),
        ("https://api.example/x", "api.example", false),
        ("https://u@api.example", "api.example", false),
        ("https://api.example:99999", "api.example:99999", false),
        ("ftp://api.example", "api.example", false),
        ("null", "api.example", false),
        ("https://", "", false),
    ] {
        assert_eq!(
            same_origin(origin.as_bytes(), authority.as_bytes()),
            same,
            "{origin} vs {authority}"
        );
    }
}

fn policy(origins: &[&str]) -> corsair::Policy {
    PolicyConfig {
        allow_origins: origins.iter().map(|s| (*s).to_owned()).collect(),
        ..PolicyConfig::default()
    }
    .build()
    .unwrap()
}

#[test]
fn the_origin_decision_covers_every_branch() {
    let listed = policy(&["https://app.example", "https://*.trusted.example"]);
    let public = policy(&["*"]);
    let auth = Some(&b"api.example"[..]);
    let o = |v: &str| headers(&[("origin", v)]);
    // No Origin: a non-browser client, allowed everywhere.
    assert_eq!(decide(&HeaderMap::new(), auth, Some(&listed)), Ok(Allowed::NoOrigin));
    assert_eq!(decide(&HeaderMap::new(), auth, None), Ok(Allowed::NoOrigin));
    // Listed (exactly, or by a pattern).
    assert_eq!(
        decide(&o("https://app.example"), auth, Some(&listed)),
        Ok(Allowed::Policy)
    );
    assert_eq!(
        decide(&o("https://a.trusted.example"), auth, Some(&listed)),
        Ok(Allowed::Policy)
    );
    // The request's own origin, listed or not, covered or not.
    assert_eq!(
        decide(&o("https://api.example"), auth, Some(&listed)),
        Ok(Allowed::SameOrigin)
    );
    assert_eq!(decide(&o("https://api.example"), auth, None), Ok(Allowed::SameOrigin));
    // Unlisted.
    assert_eq!(
        decide(&o("https://evil.example"), auth, Some(&listed)),
        Err(Refusal::OriginNotAllowed)
    );
    assert_eq!(
        decide(&o("https://app.example.evil"), auth, Some(&listed)),
        Err(Refusal::OriginNotAllowed)
    );
    // null: refused, unless the policy is public.
    assert_eq!(decide(&o("null"), auth, Some(&listed)), Err(Refusal::NullOrigin));
    assert_eq!(decide(&o("null"), auth, None), Err(Refusal::NullOrigin));
    assert_eq!(decide(&o("null"), auth, Some(&public)), Ok(Allowed::Policy));
    // Public: anybody.
    assert_eq!(
        decide(&o("https://evil.example"), auth, Some(&public)),
        Ok(Allowed::Policy)
    );
    // Uncovered: only the same origin.
    assert_eq!(
        decide(&o("https://app.example"), auth, None),
        Err(Refusal::CrossOriginUncovered)
    );
    // No authority to compare with (HTTP/1.0 has none).
    assert_eq!(
        decide(&o("https://api.example"), None, None),
        Err(Refusal::CrossOriginUncovered)
    );
    // Two Origin lines: ambiguous.
    let two = headers(&[("origin", "https://app.example"), ("origin", "https://evil.example")]);
    assert_eq!(decide(&two, auth, Some(&listed)), Err(Refusal::MultipleOrigins));
    // Not UTF-8: never listed.
    let mut bin = HeaderMap::new();
    bin.insert("origin", HeaderValue::from_bytes(b"https://\xffapp.example").unwrap());
    assert_eq!(decide(&bin, auth, Some(&listed)), Err(Refusal::OriginNotAllowed));
}

#[test]
fn every_refusal_has_a_code_a_status_and_a_detail() {
    let mut codes = std::collections::HashSet::new();
    for r in Refusal::ALL {
        assert!(codes.insert(r.code()), "duplicate {}", r.code());
        assert!(!r.to_string().is_empty());
        assert_eq!(r.is_origin(), r.status() == http::StatusCode::FORBIDDEN);
    }
}
