//! Preflight answers: what is granted, what is refused and how.

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};

use super::*;

#[test]
fn accepted_preflight_has_exact_headers() {
    let (s, h, d) = preflight(
        &private(),
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type,x-request-id"),
        ],
    );
    assert!(d.is_allowed());
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(h["access-control-allow-origin"], APP);
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-allow-methods"], "PUT");
    assert_eq!(h["access-control-allow-headers"], "content-type,x-request-id");
    assert_eq!(h["access-control-max-age"], "600");
    assert!(h.get("access-control-expose-headers").is_none());
    assert!(h.get("access-control-allow-private-network").is_none());
    let vary = h["vary"].to_str().unwrap();
    assert!(vary.starts_with("Origin, Access-Control-Request-Method"), "{vary}");
}

#[test]
fn rejected_preflights_are_403_without_cors_headers() {
    let p = private();
    for (pairs, code) in [
        (
            vec![
                ("origin", "https://evil.example"),
                ("access-control-request-method", "PUT"),
            ],
            "origin_not_allowed",
        ),
        (
            vec![("origin", APP), ("access-control-request-method", "POST, DELETE")],
            "invalid_method",
        ),
        (
            vec![("origin", APP), ("access-control-request-method", "OPTIONS")],
            "method_not_allowed",
        ),
        (
            vec![("origin", APP), ("access-control-request-method", "patch")],
            "method_not_allowed",
        ),
        (
            vec![("origin", APP), ("access-control-request-method", "put")],
            "method_not_allowed",
        ),
        (
            vec![
                ("origin", APP),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "x-other"),
            ],
            "header_not_allowed",
        ),
        (
            vec![
                ("origin", APP),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "a b"),
            ],
            "invalid_headers",
        ),
        (
            vec![("origin", "null"), ("access-control-request-method", "PUT")],
            "null_origin",
        ),
        (
            vec![
                ("origin", APP),
                ("origin", APP),
                ("access-control-request-method", "PUT"),
            ],
            "multiple_origins",
        ),
        (
            vec![
                ("origin", APP),
                ("access-control-request-method", "PUT"),
                ("access-control-request-method", "PUT"),
            ],
            "invalid_method",
        ),
    ] {
        let (s, h, d) = preflight(&p, &pairs);
        assert_eq!(d.rejection().map(|r| r.code()), Some(code), "{pairs:?}");
        assert_eq!(s, StatusCode::FORBIDDEN, "{pairs:?}");
        assert!(no_cors_headers(&h), "{pairs:?}: {h:?}");
        assert!(h["vary"].to_str().unwrap().contains("Origin"));
    }
}

#[test]
fn safelisted_methods_always_pass_a_preflight() {
    let p = PolicyConfig::new()
        .allow_origins([APP])
        .allow_headers(["x-foo"])
        .build()
        .unwrap();
    for m in ["GET", "HEAD", "POST"] {
        let (s, h, _) = preflight(
            &p,
            &[
                ("origin", APP),
                ("access-control-request-method", m),
                ("access-control-request-headers", "x-foo"),
            ],
        );
        assert_eq!(s, StatusCode::NO_CONTENT, "{m}");
        assert_eq!(h["access-control-allow-headers"], "x-foo");
    }
}

#[test]
fn method_lists_in_acrm_are_never_echoed() {
    let (s, h, _) = preflight(
        &public(),
        &[("origin", APP), ("access-control-request-method", "GET, DELETE")],
    );
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(h.get("access-control-allow-methods").is_none());
}

#[test]
fn acrh_spans_lines_and_tolerates_whitespace_and_case() {
    let (s, h, _) = preflight(
        &private(),
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "Authorization ,content-type"),
            ("access-control-request-headers", "X-Request-Id"),
        ],
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        h["access-control-allow-headers"],
        "Authorization ,content-type,X-Request-Id"
    );
}

#[test]
fn adversarial_acrh_is_rejected_quickly() {
    let commas = ",".repeat(60 * 1024);
    let (s, _, d) = preflight(
        &public(),
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", &commas),
        ],
    );
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(d.rejection().unwrap().code(), "invalid_headers");
    let many: Vec<(&str, &str)> = std::iter::once(("origin", APP))
        .chain(std::iter::once(("access-control-request-method", "PUT")))
        .chain(std::iter::repeat_n(("access-control-request-headers", ""), 1024))
        .collect();
    let (s, _, _) = preflight(&public(), &many);
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[test]
fn header_wildcard_excludes_authorization() {
    let p = public();
    let (s, h, _) = preflight(
        &p,
        &[
            ("origin", APP),
            ("access-control-request-method", "PATCH"),
            ("access-control-request-headers", "x-anything"),
        ],
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(h["access-control-allow-origin"], "*");
    assert_eq!(h["access-control-allow-methods"], "PATCH");
    assert!(h.get("access-control-allow-credentials").is_none());
    let (s, _, d) = preflight(
        &p,
        &[
            ("origin", APP),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "authorization"),
        ],
    );
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(d.rejection().unwrap().header_name(), Some("authorization"));

    let p = PolicyConfig::new()
        .allow_origins(["*"])
        .allow_headers(["*", "Authorization"])
        .build()
        .unwrap();
    let (s, _, _) = preflight(
        &p,
        &[
            ("origin", APP),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "authorization,x-y"),
        ],
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
}

#[test]
fn header_wildcard_with_credentials_reflects_the_requested_names() {
    let p = PolicyConfig::new()
        .allow_origins([APP])
        .allow_methods(["PUT"])
        .allow_headers(["*"])
        .allow_credentials(true)
        .build()
        .unwrap();
    let (s, h, _) = preflight(
        &p,
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type,x-anything"),
        ],
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(h["access-control-allow-origin"], APP);
    assert_eq!(h["access-control-allow-credentials"], "true");
    // Reflected, never `*`, which a credentialed request reads literally.
    assert_eq!(h["access-control-allow-headers"], "content-type,x-anything");

    // `Authorization` is not covered by `*` (as without credentials)...
    let (s, h, d) = preflight(
        &p,
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "authorization,x-a"),
        ],
    );
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(no_cors_headers(&h));
    assert_eq!(d.rejection().unwrap().header_name(), Some("authorization"));
    // ...nor is a forbidden request-header name, which no script can set.
    for forbidden in ["cookie", "Sec-Fetch-Mode", "proxy-x", "host"] {
        let (s, _, d) = preflight(
            &p,
            &[
                ("origin", APP),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", &format!("x-a,{forbidden}")),
            ],
        );
        assert_eq!(s, StatusCode::FORBIDDEN, "{forbidden}");
        assert_eq!(d.rejection().unwrap().header_name(), Some(forbidden));
    }
    // A disallowed origin gets nothing, whatever it asks for.
    let (s, h, _) = preflight(
        &p,
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "x-a"),
        ],
    );
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(no_cors_headers(&h));

    // Listing `Authorization` next to `*` allows it, reflected.
    let p = PolicyConfig::new()
        .allow_origins([APP])
        .allow_headers(["*", "authorization"])
        .allow_credentials(true)
        .build()
        .unwrap();
    let (s, h, _) = preflight(
        &p,
        &[
            ("origin", APP),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "authorization,x-y"),
        ],
    );
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(h["access-control-allow-headers"], "authorization,x-y");
}

#[test]
fn header_wildcard_never_covers_forbidden_names_without_credentials_either() {
    let (s, _, d) = preflight(
        &public(),
        &[
            ("origin", APP),
            ("access-control-request-method", "GET"),
            ("access-control-request-headers", "x-a,cookie"),
        ],
    );
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(d.rejection().unwrap().code(), "header_not_allowed");
    assert_eq!(d.rejection().unwrap().header_name(), Some("cookie"));
}

#[test]
fn private_network_only_for_allowed_origins_that_ask() {
    let p = private();
    let (_, h, _) = preflight(
        &p,
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-private-network", "true"),
        ],
    );
    assert_eq!(h["access-control-allow-private-network"], "true");
    assert!(h["vary"]
        .to_str()
        .unwrap()
        .contains("Access-Control-Request-Private-Network"));
    let (s, h, _) = preflight(
        &p,
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-private-network", "true"),
        ],
    );
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(h.get("access-control-allow-private-network").is_none());
    let (_, h, _) = preflight(
        &public(),
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-private-network", "true"),
        ],
    );
    assert!(
        h.get("access-control-allow-private-network").is_none(),
        "policy does not allow PNA"
    );
}

#[test]
fn max_age_zero_is_sent_and_unset_is_omitted() {
    let p0 = PolicyConfig::new().allow_origins([APP]).max_age(0).build().unwrap();
    let (_, h, _) = preflight(&p0, &[("origin", APP), ("access-control-request-method", "GET")]);
    assert_eq!(h["access-control-max-age"], "0");
    let pn = PolicyConfig::new().allow_origins([APP]).build().unwrap();
    let (_, h, _) = preflight(&pn, &[("origin", APP), ("access-control-request-method", "GET")]);
    assert!(h.get("access-control-max-age").is_none());
}

#[test]
fn debug_mode_names_the_cause() {
    let p = PolicyConfig::new().allow_origins([APP]).debug(true).build().unwrap();
    let (s, h, d) = preflight(&p, &[("origin", APP), ("access-control-request-method", "PUT")]);
    assert_eq!(d.rejection().unwrap().code(), "method_not_allowed");
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(h["access-control-allow-origin"], APP);
    assert_eq!(h["access-control-allow-methods"], "", "an explicit list without PUT");
    // A refused header with an allowed method: the method is granted, so that the
    // browser's check stops at the header, and names it.
    let p = PolicyConfig::new()
        .allow_origins([APP])
        .allow_methods(["PUT"])
        .debug(true)
        .build()
        .unwrap();
    let (s, h, d) = preflight(
        &p,
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "x-secret"),
        ],
    );
    assert_eq!(d.rejection().unwrap().code(), "header_not_allowed");
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(h["access-control-allow-methods"], "PUT");
    assert!(h.get("access-control-allow-headers").is_none());
    let req = crate::agent::Request::builder(APP, "https://api.example/r")
        .method("PUT")
        .header("X-Secret", "1")
        .build()
        .unwrap();
    let failure = crate::agent::check_preflight(&req, 204, &h).unwrap_err();
    assert_eq!(failure.kind, crate::agent::FailureKind::HeaderNotAllowed);
    let (s, h, _) = preflight(
        &p,
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "PUT"),
        ],
    );
    assert_eq!(s, StatusCode::FORBIDDEN, "debug never helps a disallowed origin");
    assert!(no_cors_headers(&h));
}

#[test]
fn rejection_messages_are_human() {
    let (_, _, d) = preflight(
        &private(),
        &[("origin", APP), ("access-control-request-method", "PURGE")],
    );
    assert_eq!(
        d.rejection().unwrap().to_string(),
        "method `PURGE` is not in allow_methods (methods are case-sensitive)"
    );
    let (_, _, d) = preflight(
        &private(),
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type, x-secret"),
        ],
    );
    assert_eq!(
        d.rejection().unwrap().to_string(),
        "request header `x-secret` is not in allow_headers"
    );
}

#[test]
fn non_utf8_origins_are_not_allowed_and_do_not_panic() {
    let p = private();
    let mut h = HeaderMap::new();
    h.insert(
        header::ORIGIN,
        HeaderValue::from_bytes(b"https://app.example.com\xff").unwrap(),
    );
    let d = p.evaluate(&Method::GET, &h);
    assert_eq!(d.rejection().unwrap().code(), "origin_not_allowed");
    h.insert(
        header::ACCESS_CONTROL_REQUEST_METHOD,
        HeaderValue::from_bytes(b"P\xffT").unwrap(),
    );
    assert!(!p.evaluate(&Method::OPTIONS, &h).is_allowed());
}
