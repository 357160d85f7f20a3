//! The Origin-vs-Host fallback, exempt paths, the request form and the refusals.

use http::header::{HeaderMap, HeaderValue};
use http::{Method, StatusCode};

use super::super::*;
use super::*;

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
