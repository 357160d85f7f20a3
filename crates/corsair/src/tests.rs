//! Unit tests of the decisions, rule by rule.

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};

use crate::{Policy, PolicyConfig, RequestKind};

const APP: &str = "https://app.example.com";

fn private() -> Policy {
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

fn public() -> Policy {
    PolicyConfig::new()
        .allow_origins(["*"])
        .allow_methods(["*"])
        .allow_headers(["*"])
        .expose_headers(["x-total"])
        .build()
        .unwrap()
}

fn req(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_bytes(v.as_bytes()).unwrap(),
        );
    }
    h
}

fn preflight(p: &Policy, pairs: &[(&str, &str)]) -> (StatusCode, HeaderMap, crate::Decision) {
    let d = p.evaluate(&Method::OPTIONS, &req(pairs));
    assert_eq!(d.kind(), RequestKind::Preflight);
    let (s, h) = p.preflight_response(&d).unwrap();
    (s, h, d)
}

fn actual(p: &Policy, method: Method, pairs: &[(&str, &str)], resp: &[(&str, &str)]) -> (HeaderMap, crate::Decision) {
    let d = p.evaluate(&method, &req(pairs));
    assert!(p.preflight_response(&d).is_none());
    let mut h = req(resp);
    p.apply(&d, &mut h);
    (h, d)
}

fn no_cors_headers(h: &HeaderMap) -> bool {
    h.keys().all(|k| !k.as_str().starts_with("access-control-"))
}

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
fn actual_requests_from_allowed_origins() {
    let (h, d) = actual(
        &private(),
        Method::DELETE,
        &[("origin", "https://deep.sub.example.net")],
        &[
            ("vary", "Accept-Encoding"),
            ("access-control-allow-origin", "*"),
            ("access-control-allow-methods", "GET"),
        ],
    );
    assert!(d.is_allowed(), "methods are not checked on actual requests");
    assert_eq!(h["access-control-allow-origin"], "https://deep.sub.example.net");
    assert_eq!(h.get_all("access-control-allow-origin").iter().count(), 1);
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-expose-headers"], "x-request-id, etag");
    assert!(
        h.get("access-control-allow-methods").is_none(),
        "upstream CORS headers are removed"
    );
    assert_eq!(
        h.get_all("vary").iter().collect::<Vec<_>>(),
        ["Accept-Encoding", "Origin"]
    );
}

#[test]
fn every_upstream_access_control_header_is_removed_however_many() {
    let names: Vec<String> = (0..20).map(|i| format!("access-control-x-{i}")).collect();
    let mut resp: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "1")).collect();
    resp.extend([
        ("access-control-allow-origin", "*"),
        ("access-control-allow-origin", "https://evil.example"),
        ("access-control-allow-credentials", "true"),
        ("access-control-max-age", "86400"),
        ("x-kept", "yes"),
    ]);
    for origin in ["https://deep.sub.example.net", "https://evil.example"] {
        let (h, _) = actual(&private(), Method::GET, &[("origin", origin)], &resp);
        let left: Vec<&str> = h
            .keys()
            .map(|k| k.as_str())
            .filter(|k| k.starts_with("access-control-"))
            .collect();
        let ours: &[&str] = if origin == "https://evil.example" {
            &[]
        } else {
            &[
                "access-control-allow-origin",
                "access-control-allow-credentials",
                "access-control-expose-headers",
            ]
        };
        assert_eq!(left.len(), ours.len(), "{origin}: {left:?}");
        assert!(left.iter().all(|k| ours.contains(k)), "{origin}: {left:?}");
        assert_eq!(
            h.get_all("access-control-allow-origin").iter().count(),
            ours.len().min(1)
        );
        assert_eq!(h["x-kept"], "yes");
    }
}

#[test]
fn actual_requests_from_other_origins_get_no_cors_headers_but_vary() {
    let p = private();
    for origin in [
        "https://evil.example",
        "null",
        "https://example.net",
        "https://evilexample.net",
        "https://app.example.com.evil.net",
        "http://app.example.com",
        "https://APP.example.com",
        "https://app.example.com:443",
        "https://app.example.com/",
    ] {
        let (h, d) = actual(
            &p,
            Method::GET,
            &[("origin", origin)],
            &[("access-control-allow-origin", origin)],
        );
        assert!(!d.is_allowed(), "{origin}");
        assert!(no_cors_headers(&h), "{origin}: {h:?}");
        assert_eq!(h["vary"], "Origin");
    }
    let (h, d) = actual(&p, Method::GET, &[("origin", APP), ("origin", APP)], &[]);
    assert_eq!(d.rejection().unwrap().code(), "multiple_origins");
    assert!(no_cors_headers(&h));
}

#[test]
fn non_cors_requests_get_vary_only() {
    let (h, d) = actual(
        &private(),
        Method::GET,
        &[],
        &[("access-control-allow-origin", "*"), ("vary", "*")],
    );
    assert_eq!(d.outcome(), "not_cors");
    assert!(no_cors_headers(&h));
    assert_eq!(h.get_all("vary").iter().collect::<Vec<_>>(), ["*"], "Vary: * is kept");
}

#[test]
fn public_policies_answer_star_without_vary() {
    let p = public();
    for pairs in [vec![], vec![("origin", APP)], vec![("origin", "null")]] {
        let (h, _) = actual(&p, Method::GET, &pairs, &[]);
        assert_eq!(h["access-control-allow-origin"], "*");
        assert_eq!(h["access-control-expose-headers"], "x-total");
        assert!(h.get("vary").is_none());
        assert!(h.get("access-control-allow-credentials").is_none());
    }
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

/// The headers of a map in order, with their values.
fn ordered(h: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    h.iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect()
}

#[test]
fn write_preflight_answers_as_insertions_do() {
    let plain = PolicyConfig::new().allow_origins([APP]).build().unwrap();
    let debug = PolicyConfig::new()
        .allow_origins([APP])
        .allow_methods(["PUT"])
        .allow_headers(["x-a"])
        .debug(true)
        .build()
        .unwrap();
    let requests: &[&[(&str, &str)]] = &[
        &[("origin", APP), ("access-control-request-method", "PUT")],
        &[("origin", APP), ("access-control-request-method", "GET")],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type,x-request-id"),
        ],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "X-Request-Id"),
            ("access-control-request-headers", "content-type"),
            ("access-control-request-private-network", "true"),
        ],
        &[
            ("origin", "https://a.example.net"),
            ("access-control-request-method", "DELETE"),
            ("access-control-request-private-network", "true"),
        ],
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "PUT"),
        ],
        &[("origin", APP), ("access-control-request-method", "MOVE")],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "x-b"),
        ],
        &[("origin", APP), ("access-control-request-method", "PUT,GET")],
        &[("origin", "null"), ("access-control-request-method", "PUT")],
    ];
    for p in [private(), public(), plain, debug] {
        for r in requests {
            let d = p.evaluate(&Method::OPTIONS, &req(r));
            let mut expected = HeaderMap::new();
            let status = p.insert_preflight(&d, &mut expected);

            let mut h = HeaderMap::new();
            assert_eq!(p.write_preflight(&d, &mut h), Some(status), "{r:?}");
            assert_eq!(ordered(&h), ordered(&expected), "{r:?}");
            let (s, h) = p.preflight_response(&d).unwrap();
            assert_eq!(s, status);
            assert_eq!(ordered(&h), ordered(&expected), "{r:?}");

            // Into a map that has headers already: the answer's names are
            // replaced, the others kept.
            let mut h = req(&[("server", "x"), ("vary", "Accept"), ("access-control-max-age", "1")]);
            assert_eq!(p.write_preflight(&d, &mut h), Some(status), "{r:?}");
            assert_eq!(h["server"], "x");
            assert_eq!(h.get_all("vary").iter().collect::<Vec<_>>(), [&expected["vary"]]);
            for (k, _) in expected.iter() {
                assert_eq!(h.get_all(k).iter().collect::<Vec<_>>(), [&expected[k]], "{r:?} {k}");
            }
            let stale_max_age = !expected.contains_key("access-control-max-age");
            assert_eq!(h.len(), expected.len() + 1 + usize::from(stale_max_age), "{r:?}");
        }
        // Not a preflight: nothing written.
        let d = p.evaluate(&Method::PUT, &req(&[("origin", APP)]));
        let mut h = req(&[("server", "x")]);
        assert_eq!(p.write_preflight(&d, &mut h), None);
        assert_eq!(ordered(&h), ordered(&req(&[("server", "x")])));
    }
}

/// Small OPTIONS requests are scanned once for their CORS headers, larger
/// ones looked up by name (`SCAN_MAX`): both give the same decision, on
/// every shape of request, whatever order the headers come in.
#[test]
fn scanned_and_looked_up_requests_decide_alike() {
    let cases: &[&[(&str, &str)]] = &[
        &[("origin", APP), ("access-control-request-method", "PUT")],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type, x-request-id"),
        ],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "content-type"),
            ("access-control-request-headers", "X-Request-ID"),
        ],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "x-other"),
        ],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "a,,b("),
        ],
        &[
            ("origin", APP),
            ("origin", APP),
            ("access-control-request-method", "PUT"),
        ],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-method", "PUT"),
        ],
        &[("origin", APP), ("access-control-request-method", "PUT, DELETE")],
        &[("origin", APP), ("access-control-request-method", "TRACE")],
        &[
            ("origin", "https://evil.example"),
            ("access-control-request-method", "PUT"),
        ],
        &[("origin", "null"), ("access-control-request-method", "PUT")],
        &[
            ("origin", "https://a.b.example.net"),
            ("access-control-request-method", "GET"),
            ("access-control-request-private-network", "true"),
        ],
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-private-network", "true"),
            ("access-control-request-private-network", "false"),
        ],
        &[("origin", APP), ("access-control-request-private-network", "true")],
        &[("access-control-request-method", "PUT")],
        &[],
    ];
    for p in [private(), public()] {
        for case in cases {
            for reversed in [false, true] {
                let mut pairs: Vec<(&str, &str)> = case.to_vec();
                if reversed {
                    pairs.reverse();
                }
                let small = req(&pairs);
                let mut large = small.clone();
                for i in 0..20 {
                    large.append(
                        header::HeaderName::from_bytes(format!("x-filler-{i}").as_bytes()).unwrap(),
                        HeaderValue::from_static("1"),
                    );
                }
                assert!(small.len() <= 16 && large.len() > 16);
                let (a, b) = (
                    p.evaluate(&Method::OPTIONS, &small),
                    p.evaluate(&Method::OPTIONS, &large),
                );
                assert_eq!(format!("{a:?}"), format!("{b:?}"), "{pairs:?}");
            }
        }
    }
}

/// The one-pass check of the usual `Access-Control-Request-Headers` line
/// (`all_listed`) never contradicts the full check: when it decides, the
/// full check decides the same; otherwise the full check runs. Every line
/// of up to four elements from pieces chosen to hit each limit.
#[test]
fn the_fast_header_check_agrees_with_the_full_one() {
    let pieces = [
        "content-type",
        "x-request-id",
        "Content-Type",
        "x-other",
        "",
        " ",
        "\t",
        "   ",
        " etag ",
        "a(b",
        "authorization",
    ];
    let mut lines = vec![String::new()];
    for _ in 0..4 {
        let mut next = Vec::new();
        for l in &lines {
            for p in pieces {
                next.push(if l.is_empty() { p.to_owned() } else { format!("{l},{p}") });
            }
        }
        lines.extend(next);
    }
    lines.push(",".repeat(40));
    let mut decided = 0;
    for p in [private(), public()] {
        for line in &lines {
            let v = HeaderValue::from_str(line).unwrap();
            let full = p.check_request_headers(|| std::iter::once(&v));
            match p.all_listed(line.as_bytes()) {
                Some(true) => assert_eq!(full, Ok(Some(v.clone())), "{line:?}"),
                Some(false) => assert_eq!(full, Ok(None), "{line:?}"),
                None => continue,
            }
            decided += 1;
        }
    }
    assert!(decided > 1000, "the fast path decided only {decided} lines");
}
