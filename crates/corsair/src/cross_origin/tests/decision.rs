//! The decision's branches: methods, `Sec-Fetch-Site` values, trust.

use http::header::{HeaderMap, HeaderValue};
use http::Method;

use super::super::check::origin_matches_authority;
use super::super::*;
use super::*;

#[test]
fn every_method_but_get_head_options_is_checked() {
    let p = CrossOriginProtection::new();
    let pol = trusted_only();
    let h = headers("cross-site", "https://attacker.example");
    for m in ["GET", "HEAD", "OPTIONS"] {
        assert_eq!(outcome(&p, &pol, m, "/", &h), "safe_method", "{m}");
    }
    // TRACE is safe for RFC 9110 but not exempt (as Go); methods compare
    // exactly, so a lowercase `get` is checked too.
    for m in [
        "POST", "PUT", "PATCH", "DELETE", "TRACE", "post", "get", "CONNECT", "X-CUSTOM",
    ] {
        assert_eq!(outcome(&p, &pol, m, "/", &h), "cross_origin_request", "{m}");
    }
}

#[test]
fn disabled_protection_passes_every_request() {
    let p = CrossOriginProtection::disabled();
    assert!(!p.is_enabled());
    let pol = trusted_only();
    assert_eq!(
        outcome(
            &p,
            &pol,
            "POST",
            "/",
            &headers("cross-site", "https://attacker.example")
        ),
        "disabled"
    );
    assert_eq!(outcome(&p, &pol, "GET", "/", &headers("cross-site", "")), "safe_method");
    assert!(CrossOriginProtection::new().is_enabled());
    assert!(CrossOriginProtection::default().is_enabled());
}

#[test]
fn sec_fetch_site_values() {
    let p = CrossOriginProtection::new();
    let pol = trusted_only();
    let o = "https://attacker.example";
    assert_eq!(
        outcome(&p, &pol, "POST", "/", &headers("same-origin", o)),
        "same_origin"
    );
    assert_eq!(outcome(&p, &pol, "POST", "/", &headers("none", o)), "user_initiated");
    // Anything else is another origin: the exact lowercase values only.
    for v in [
        "same-site",
        "cross-site",
        "Same-Origin",
        "NONE",
        "same-origin ",
        "whatever",
    ] {
        assert_eq!(
            outcome(&p, &pol, "POST", "/", &headers(v, o)),
            "cross_origin_request",
            "{v:?}"
        );
        assert_eq!(
            outcome(&p, &pol, "POST", "/", &headers(v, "https://trusted.example")),
            "trusted_origin",
            "{v:?}"
        );
    }
    // Empty is absent: the Origin-vs-Host fallback decides.
    let mut h = headers("", "https://example.com");
    h.insert(SEC_FETCH_SITE, HeaderValue::from_static(""));
    assert_eq!(outcome(&p, &pol, "POST", "/", &h), "origin_matches_host");
    h.insert("origin", HeaderValue::from_static(o));
    assert_eq!(outcome(&p, &pol, "POST", "/", &h), "origin_host_mismatch");
}

#[test]
fn several_sec_fetch_site_lines_are_another_origin() {
    let p = CrossOriginProtection::new();
    let pol = trusted_only();
    for (a, b) in [
        ("same-origin", "same-origin"),
        ("none", "cross-site"),
        ("", "same-origin"),
    ] {
        let mut h = headers("", "https://example.com");
        h.append(SEC_FETCH_SITE, HeaderValue::from_static(a));
        h.append(SEC_FETCH_SITE, HeaderValue::from_static(b));
        let r = p.check(&pol, &Method::POST, "/", Some(HOST), &h).unwrap_err();
        assert_eq!(r.code(), "cross_origin_request");
        assert!(r.to_string().contains("several Sec-Fetch-Site"), "{r}");
        // A trusted origin still passes.
        h.insert("origin", HeaderValue::from_static("https://trusted.example"));
        assert_eq!(outcome(&p, &pol, "POST", "/", &h), "trusted_origin");
    }
}

#[test]
fn trusted_origins_are_the_policys_patterns_included() {
    let p = CrossOriginProtection::new();
    let pol = policy(&["https://*.example.com", "http://localhost:*", "https://app.test:8443"]);
    for o in [
        "https://a.example.com",
        "https://a.b.example.com",
        "http://localhost",
        "http://localhost:3000",
        "https://app.test:8443",
    ] {
        assert_eq!(
            outcome(&p, &pol, "POST", "/", &headers("cross-site", o)),
            "trusted_origin",
            "{o}"
        );
        assert_eq!(outcome(&p, &pol, "POST", "/", &headers("", o)), "trusted_origin", "{o}");
    }
    for o in [
        "https://sub.example.net",
        "https://a.example.com.evil.net",
        "http://a.example.com",
        "https://localhost:3000",
        "https://app.test",
        "https://A.example.com",
    ] {
        assert_eq!(
            outcome(&p, &pol, "POST", "/", &headers("cross-site", o)),
            "cross_origin_request",
            "{o}"
        );
        assert_eq!(
            outcome(&p, &pol, "POST", "/", &headers("", o)),
            "origin_host_mismatch",
            "{o}"
        );
    }
}

#[test]
fn a_public_policy_trusts_every_origin_but_null() {
    let p = CrossOriginProtection::new();
    let pol = policy(&["*"]);
    for o in ["https://attacker.example", "http://anything:1", "not-an-origin"] {
        assert_eq!(
            outcome(&p, &pol, "POST", "/", &headers("cross-site", o)),
            "trusted_origin",
            "{o}"
        );
    }
    assert_eq!(
        outcome(&p, &pol, "POST", "/", &headers("cross-site", "null")),
        "cross_origin_request"
    );
    assert_eq!(
        outcome(&p, &pol, "POST", "/", &headers("", "null")),
        "origin_host_mismatch"
    );
    // Cross-site without any Origin: nothing to trust.
    assert_eq!(
        outcome(&p, &pol, "POST", "/", &headers("cross-site", "")),
        "cross_origin_request"
    );
}

#[test]
fn null_and_several_origins_are_never_trusted() {
    let p = CrossOriginProtection::new();
    let pol = policy(&["https://trusted.example"]);
    let r = p
        .check(&pol, &Method::POST, "/", Some(HOST), &headers("cross-site", "null"))
        .unwrap_err();
    assert!(r.to_string().contains("`null`, which is never trusted"), "{r}");
    for site in ["cross-site", ""] {
        let mut h = headers(site, "https://trusted.example");
        h.append("origin", HeaderValue::from_static("https://trusted.example"));
        let r = p.check(&pol, &Method::POST, "/", Some(HOST), &h).unwrap_err();
        assert!(r.to_string().contains("several Origin headers"), "{r}");
        // Even when both name the request's own host.
        let mut h = headers(site, "https://example.com");
        h.append("origin", HeaderValue::from_static("https://example.com"));
        assert!(p.check(&pol, &Method::POST, "/", Some(HOST), &h).is_err());
    }
}

#[test]
fn requests_without_browser_headers_pass() {
    let p = CrossOriginProtection::new();
    let pol = trusted_only();
    assert_eq!(outcome(&p, &pol, "POST", "/", &HeaderMap::new()), "not_browser");
    assert_eq!(outcome(&p, &pol, "DELETE", "/x", &headers("", "")), "not_browser");
    // An empty Origin is no Origin.
    let mut h = HeaderMap::new();
    h.insert("origin", HeaderValue::from_static(""));
    assert_eq!(outcome(&p, &pol, "POST", "/", &h), "not_browser");
    // But cross-site with an empty Origin is refused.
    h.insert(SEC_FETCH_SITE, HeaderValue::from_static("cross-site"));
    assert_eq!(outcome(&p, &pol, "POST", "/", &h), "cross_origin_request");
}

#[test]
fn origin_vs_host_compares_host_and_port_not_scheme() {
    let t: &[(&str, &str, bool)] = &[
        ("https://example.com", "example.com", true),
        ("http://example.com", "example.com", true),
        // A request authority's explicit default port is the origin's implied one.
        ("https://example.com", "example.com:443", true),
        ("http://example.com", "example.com:80", true),
        ("http://example.com", "example.com:443", false),
        ("https://example.com", "example.com:80", false),
        ("http://example.com:8080", "example.com:8080", true),
        ("https://example.com:8080", "example.com:8080", true),
        ("http://example.com:8080", "example.com", false),
        ("http://example.com", "example.com:8080", false),
        ("http://example.com:8080", "example.com:8081", false),
        ("http://example.com:08080", "example.com:8080", true),
        // Hosts compare case-insensitively (a layer passes the raw Host).
        ("https://example.com", "EXAMPLE.com", true),
        ("https://example.com", "example.com.", false),
        ("https://example.com.", "example.com.", true),
        ("https://sub.example.com", "example.com", false),
        ("https://example.com", "sub.example.com", false),
        ("https://example.com.evil.net", "example.com", false),
        ("http://[::1]:3000", "[::1]:3000", true),
        ("http://[::1]", "[::1]", true),
        ("http://[::1]:3000", "[::1]:3001", false),
        ("http://127.0.0.1:3000", "127.0.0.1:3000", true),
        // Only http(s) origins; malformed ones never match.
        ("ws://example.com", "example.com", false),
        ("chrome-extension://example.com", "example.com", false),
        ("null", "example.com", false),
        ("https://", "", false),
        ("https://example.com/", "example.com", false),
        ("https://example.com:", "example.com", true),
        ("https://example.com:x", "example.com", false),
        ("https://example.com:99999", "example.com:99999", false),
        ("https://user@example.com", "example.com", false),
        ("https://[::1", "[::1", false),
        ("example.com", "example.com", false),
        ("https://example.com", "example.com:abc", false),
    ];
    for (origin, authority, ok) in t {
        assert_eq!(
            origin_matches_authority(origin.as_bytes(), authority.as_bytes()),
            *ok,
            "{origin} vs {authority}"
        );
    }
}

#[test]
fn the_fallback_needs_an_authority() {
    let p = CrossOriginProtection::new();
    let pol = trusted_only();
    let h = headers("", "https://example.com");
    assert_eq!(
        p.check(&pol, &Method::POST, "/", Some(HOST), &h),
        Ok(Passed::OriginMatchesHost)
    );
    let r = p.check(&pol, &Method::POST, "/", None, &h).unwrap_err();
    assert_eq!(r.code(), "origin_host_mismatch");
    // Sec-Fetch-Site decides alone when present: a cross-site request whose
    // Origin happens to name the host is still refused.
    let h = headers("cross-site", "https://example.com");
    assert_eq!(outcome(&p, &pol, "POST", "/", &h), "cross_origin_request");
}
