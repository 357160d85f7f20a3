//! Go's `net/http/csrf_test.go` tables, ported.

use super::*;

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
