//! Every branch of the decision, Go's `csrf_test.go` tables first (ported
//! where the semantics agree; where they do not, the difference is named).

use http::header::{HeaderMap, HeaderValue};
use http::{Method, StatusCode};

use super::check::origin_matches_authority;
use super::*;
use crate::{Policy, PolicyConfig};

const HOST: &[u8] = b"example.com";

fn policy(origins: &[&str]) -> Policy {
    PolicyConfig::new()
        .allow_origins(origins.iter().copied())
        .allow_insecure_origins(true)
        .build()
        .unwrap()
}

/// A policy trusting `https://trusted.example` only (Go's tests use none or
/// that one; a corsair policy always lists one).
fn trusted_only() -> Policy {
    policy(&["https://trusted.example"])
}

fn headers(site: &str, origin: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    if !site.is_empty() {
        h.insert(SEC_FETCH_SITE, HeaderValue::from_str(site).unwrap());
    }
    if !origin.is_empty() {
        h.insert("origin", HeaderValue::from_str(origin).unwrap());
    }
    h
}

fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).unwrap()
}

/// The outcome as a code: the pass's or the rejection's.
fn outcome(p: &CrossOriginProtection, pol: &Policy, m: &str, path: &str, h: &HeaderMap) -> &'static str {
    match p.check(pol, &method(m), path, Some(HOST), h) {
        Ok(pass) => pass.code(),
        Err(r) => r.code(),
    }
}

fn allowed(p: &CrossOriginProtection, pol: &Policy, m: &str, path: &str, h: &HeaderMap) -> bool {
    p.check(pol, &method(m), path, Some(HOST), h).is_ok()
}

/// Go: `TestCrossOriginProtectionSecFetchSite` (request `https://example.com/`).
#[test]
fn go_sec_fetch_site_table() {
    let p = CrossOriginProtection::new();
    let pol = trusted_only();
    let table: &[(&str, &str, &str, &str, bool)] = &[
        ("same-origin allowed", "POST", "same-origin", "", true),
        ("none allowed", "POST", "none", "", true),
        ("cross-site blocked", "POST", "cross-site", "", false),
        ("same-site blocked", "POST", "same-site", "", false),
        ("no header with no origin", "POST", "", "", true),
        (
            "no header with matching origin",
            "POST",
            "",
            "https://example.com",
            true,
        ),
        (
            "no header with mismatched origin",
            "POST",
            "",
            "https://attacker.example",
            false,
        ),
        ("no header with null origin", "POST", "", "null", false),
        ("GET allowed", "GET", "cross-site", "", true),
        ("HEAD allowed", "HEAD", "cross-site", "", true),
        ("OPTIONS allowed", "OPTIONS", "cross-site", "", true),
        ("PUT blocked", "PUT", "cross-site", "", false),
    ];
    for (name, m, site, origin, ok) in table {
        assert_eq!(allowed(&p, &pol, m, "/", &headers(site, origin)), *ok, "{name}");
    }
}

/// Go: `TestCrossOriginProtectionTrustedOriginBypass`; the trusted origin is
/// the policy's.
#[test]
fn go_trusted_origin_table() {
    let p = CrossOriginProtection::new();
    let pol = trusted_only();
    let table: &[(&str, &str, &str, bool)] = &[
        (
            "trusted origin without sec-fetch-site",
            "https://trusted.example",
            "",
            true,
        ),
        (
            "trusted origin with cross-site",
            "https://trusted.example",
            "cross-site",
            true,
        ),
        (
            "untrusted origin without sec-fetch-site",
            "https://attacker.example",
            "",
            false,
        ),
        (
            "untrusted origin with cross-site",
            "https://attacker.example",
            "cross-site",
            false,
        ),
    ];
    for (name, origin, site, ok) in table {
        assert_eq!(allowed(&p, &pol, "POST", "/", &headers(site, origin)), *ok, "{name}");
    }
}

/// Go: `TestCrossOriginProtectionPatternBypass`, with exact paths. Go's
/// `/bypass/` pattern exempts `/bypass/` and everything under it, and before
/// 1.25.1 also `/bypass` and `/foo/../bypass/bar` (redirected by `ServeMux`:
/// CVE-2025-47910); `/only/{foo}` exempts one segment. corsair exempts the
/// listed path alone: every other spelling is protected.
#[test]
fn go_bypass_table_with_exact_paths() {
    let p = CrossOriginProtection::new()
        .exempt_paths(["/bypass/", "/only/123"])
        .unwrap();
    let pol = trusted_only();
    let table: &[(&str, &str, &str, bool)] = &[
        ("bypass path without sec-fetch-site", "/bypass/", "", true),
        ("bypass path with cross-site", "/bypass/", "cross-site", true),
        ("non-bypass path without sec-fetch-site", "/api/", "", false),
        ("non-bypass path with cross-site", "/api/", "cross-site", false),
        // Go 1.25.1 refuses these too (no more exemption by redirect).
        ("redirect to bypass path without ..", "/foo/../bypass/bar", "", false),
        ("redirect to bypass path with trailing slash", "/bypass", "", false),
        ("redirect to non-bypass path with ..", "/foo/../api/bar", "", false),
        ("redirect to non-bypass path with trailing slash", "/api", "", false),
        // Go exempts `/only/{foo}`: corsair lists `/only/123` itself.
        ("exact path", "/only/123", "", true),
        ("below the exact path", "/only/123/foo", "", false),
        ("another segment", "/only/124", "", false),
        // Go's `/bypass/` covers its subtree; an exact path does not.
        ("under an exempt path", "/bypass/bar", "", false),
    ];
    for (name, path, site, ok) in table {
        let h = headers(site, "https://attacker.example");
        assert_eq!(allowed(&p, &pol, "POST", path, &h), *ok, "{name}");
    }
}

/// Go: `TestCrossOriginProtectionServer` (request to the server's own URL).
#[test]
fn go_server_table() {
    let p = CrossOriginProtection::new().exempt_paths(["/bypass/"]).unwrap();
    let pol = trusted_only();
    let table: &[(&str, &str, &str, &str, bool)] = &[
        ("cross-site", "/", "https://attacker.example", "cross-site", false),
        ("same-origin", "/", "", "same-origin", true),
        ("origin matches host", "/", "http://example.com", "", true),
        ("trusted origin", "/", "https://trusted.example", "", true),
        ("untrusted origin", "/", "https://attacker.example", "", false),
        ("bypass path", "/bypass/", "https://attacker.example", "", true),
    ];
    for (name, path, origin, site, ok) in table {
        assert_eq!(allowed(&p, &pol, "POST", path, &headers(site, origin)), *ok, "{name}");
    }
}

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

#[test]
fn exempt_paths_are_exact() {
    let p = CrossOriginProtection::new()
        .exempt_paths(["/oauth/callback", "/pay/return/"])
        .unwrap();
    assert_eq!(p.exempt().collect::<Vec<_>>(), ["/oauth/callback", "/pay/return/"]);
    let pol = trusted_only();
    for site in ["cross-site", ""] {
        let h = headers(site, "https://idp.example");
        assert_eq!(outcome(&p, &pol, "POST", "/oauth/callback", &h), "exempt_path");
        assert_eq!(outcome(&p, &pol, "POST", "/pay/return/", &h), "exempt_path");
        for other in [
            "/oauth/callback/",
            "/oauth/callback/x",
            "/oauth/Callback",
            "/oauth//callback",
            "/oauth/%63allback",
            "/oauth",
            "/pay/return",
            "/",
        ] {
            assert!(!allowed(&p, &pol, "POST", other, &h), "{other} {site}");
        }
    }
    // Trusted origins and same-origin requests are reported as such, not
    // as exempt.
    let h = headers("cross-site", "https://trusted.example");
    assert_eq!(outcome(&p, &pol, "POST", "/oauth/callback", &h), "trusted_origin");
    assert!(!CrossOriginProtection::new().is_exempt("/"));
    assert!(CrossOriginProtection::new().exempt_paths(["/"]).unwrap().is_exempt("/"));
}

#[test]
fn exempt_path_validation() {
    let ok = [
        "/",
        "/oauth/callback",
        "/a/b/",
        "/%C3%A9t%C3%A9",
        "/a;b",
        "/a:b@c",
        "/~user/.well-known/x",
        "/a..b",
    ];
    for p in ok {
        assert!(CrossOriginProtection::new().exempt_paths([p]).is_ok(), "{p}");
    }
    let bad = [
        ("", "starts with `/`"),
        ("oauth/callback", "starts with `/`"),
        ("https://a.example/cb", "starts with `/`"),
        ("/cb?x=1", "no query"),
        ("/cb#f", "no query"),
        ("/api/*", "never patterns"),
        ("/only/{id}", "never patterns"),
        ("/a b", "cannot be in a path"),
        ("/caf\u{e9}", "cannot be in a path"),
        ("/a\tb", "cannot be in a path"),
        ("/a\\b", "`\\`"),
        ("/a/../b", "dot segment"),
        ("/a/./b", "dot segment"),
        ("/a/..", "dot segment"),
        ("/a/%2e%2E/b", "dot segment"),
        ("/a/.%2e", "dot segment"),
        ("/a%2", "two hex digits"),
        ("/a%zz", "two hex digits"),
        ("/a`b", "percent-encodes"),
        ("/a\"b", "percent-encodes"),
    ];
    for (p, why) in bad {
        let errs = CrossOriginProtection::new().exempt_paths(["/fine", p]).unwrap_err();
        assert_eq!(errs.len(), 1, "{p}");
        let e = errs.iter().next().unwrap();
        assert_eq!(e.code(), "invalid_exempt_path", "{p}");
        assert_eq!(e.key, "protect_unsafe_requests_exempt[1]");
        assert_eq!(e.value.as_deref(), Some(p));
        assert!(e.message.contains(why), "{p}: {}", e.message);
    }
    let errs = CrossOriginProtection::new()
        .exempt_paths(["/a", "/b", "/a", "x"])
        .unwrap_err();
    let codes: Vec<(&str, &str)> = errs.iter().map(|e| (e.key.as_str(), e.code())).collect();
    assert_eq!(
        codes,
        [
            ("protect_unsafe_requests_exempt[2]", "duplicate"),
            ("protect_unsafe_requests_exempt[3]", "invalid_exempt_path")
        ]
    );
}

#[test]
fn check_request_finds_the_authority() {
    let p = CrossOriginProtection::new();
    let pol = trusted_only();
    let req = |uri: &str, hosts: &[&str]| {
        let mut b = http::Request::post(uri).header("origin", "https://example.com");
        for h in hosts {
            b = b.header("host", *h);
        }
        b.body(()).unwrap()
    };
    let code = |r: &http::Request<()>| match p.check_request(&pol, r) {
        Ok(x) => x.code(),
        Err(e) => e.code(),
    };
    assert_eq!(code(&req("/x", &["example.com"])), "origin_matches_host");
    assert_eq!(code(&req("/x", &["EXAMPLE.COM:443"])), "origin_matches_host");
    assert_eq!(code(&req("/x", &["other.example"])), "origin_host_mismatch");
    // The absolute-form (or HTTP/2 :authority) authority wins over Host.
    assert_eq!(
        code(&req("https://example.com/x", &["other.example"])),
        "origin_matches_host"
    );
    assert_eq!(
        code(&req("https://other.example/x", &["example.com"])),
        "origin_host_mismatch"
    );
    // No Host, or several: no authority.
    assert_eq!(code(&req("/x", &[])), "origin_host_mismatch");
    assert_eq!(
        code(&req("/x", &["example.com", "example.com"])),
        "origin_host_mismatch"
    );
    // The path is the URI's, without the query.
    let p = CrossOriginProtection::new().exempt_paths(["/cb"]).unwrap();
    let r = http::Request::post("/cb?code=1")
        .header("origin", "https://idp.example")
        .header("sec-fetch-site", "cross-site")
        .body(())
        .unwrap();
    assert_eq!(p.check_request(&pol, &r), Ok(Passed::ExemptPath));
}

#[test]
fn rejections_have_codes_details_and_a_fixed_answer() {
    let p = CrossOriginProtection::new();
    let pol = trusted_only();
    let evil = "https://attacker.example";
    let a = p
        .check(&pol, &Method::POST, "/", Some(HOST), &headers("cross-site", evil))
        .unwrap_err();
    let b = p
        .check(&pol, &Method::POST, "/", Some(HOST), &headers("", evil))
        .unwrap_err();
    assert_eq!(
        a.to_string(),
        "Sec-Fetch-Site is `cross-site`: a page of another origin sent this request, and its origin \
         `https://attacker.example` is not in allow_origins"
    );
    assert_eq!(
        b.to_string(),
        "no Sec-Fetch-Site, the Origin names another host or port than the request's, and its origin \
         `https://attacker.example` is not in allow_origins"
    );
    let c = p
        .check(&pol, &Method::POST, "/", Some(HOST), &headers("same-site", ""))
        .unwrap_err();
    assert_eq!(
        c.to_string(),
        "Sec-Fetch-Site is `same-site`: a page of another origin sent this request, and it carries no Origin to trust"
    );
    assert_eq!(c.origin(), None);
    assert_eq!(a.origin().map(HeaderValue::as_bytes), Some(evil.as_bytes()));
    for (r, code) in [(&a, "cross_origin_request"), (&b, "origin_host_mismatch")] {
        assert_eq!(r.code(), code);
        assert!(CrossOriginRejection::CODES.contains(&code));
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert!(r.body().contains(code) && r.body().ends_with('\n'));
        assert!(!r.body().contains("attacker"), "the body repeats no header value");
        let mut h = HeaderMap::new();
        r.write_headers(&mut h);
        assert_eq!(h["content-type"], "text/plain; charset=utf-8");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h.keys().all(|k| !k.as_str().starts_with("access-control-")));
    }
    // Control bytes in a header value are escaped in the detail.
    let mut h = HeaderMap::new();
    h.insert(SEC_FETCH_SITE, HeaderValue::from_bytes(b"x\ty").unwrap());
    h.insert("origin", HeaderValue::from_bytes(b"https://e\t.example\xff").unwrap());
    let r = p.check(&pol, &Method::POST, "/", Some(HOST), &h).unwrap_err();
    assert!(
        r.to_string().contains("`x\\ty`") && r.to_string().contains("`https://e\\t.example\u{fffd}`"),
        "{r}"
    );
}

#[test]
fn codes_are_distinct_snake_case() {
    let mut all: Vec<&str> = Passed::ALL.iter().map(|p| p.code()).collect();
    all.extend(CrossOriginRejection::CODES);
    for (i, c) in all.iter().enumerate() {
        assert!(c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'), "{c}");
        assert!(!all[i + 1..].contains(c), "{c} twice");
    }
    for p in Passed::ALL {
        assert!(!p.to_string().is_empty());
    }
    // No protection code collides with a CORS rejection code.
    for c in [
        "origin_not_allowed",
        "null_origin",
        "multiple_origins",
        "allowed",
        "not_cors",
    ] {
        assert!(!all.contains(&c), "{c}");
    }
}

#[test]
fn equality_is_by_setting() {
    let a = CrossOriginProtection::new().exempt_paths(["/a"]).unwrap();
    assert_eq!(a, CrossOriginProtection::new().exempt_paths(["/a"]).unwrap());
    assert_ne!(a, CrossOriginProtection::new());
    assert_ne!(CrossOriginProtection::new(), CrossOriginProtection::disabled());
}
